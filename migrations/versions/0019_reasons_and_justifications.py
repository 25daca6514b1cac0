"""The school's reasons for absences, absences known ahead, families' justifications, files
joined to liaison notes, and a reminder a day for a note

Revision ID: a3eb83d8e2fb
Revises: f6d4c3e0a518
Create Date: 2026-12-07 18:44:12.006386

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3eb83d8e2fb'
down_revision = 'f6d4c3e0a518'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('absence_reason',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('families_choose', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_absence_reason_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_absence_reason')),
    sa.UniqueConstraint('school_id', 'label', name=op.f('uq_absence_reason_school_id_label'))
    )
    op.create_table('absence_excuse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pupil_id'], ['user_account.id'], name=op.f('fk_absence_excuse_pupil_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_absence_excuse_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_absence_excuse'))
    )
    with op.batch_alter_table('absence_excuse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_absence_excuse_pupil_id'), ['pupil_id'], unique=False)

    op.create_table('justification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=True),
    sa.Column('mark_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('reason_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=100), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.String(length=500), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_justification_attachment_id_attachment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_justification_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['guardian_id'], ['user_account.id'], name=op.f('fk_justification_guardian_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mark_id'], ['attendance_mark.id'], name=op.f('fk_justification_mark_id_attendance_mark'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pupil_id'], ['user_account.id'], name=op.f('fk_justification_pupil_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reason_id'], ['absence_reason.id'], name=op.f('fk_justification_reason_id_absence_reason'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_justification_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_justification'))
    )
    with op.batch_alter_table('justification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_justification_mark_id'), ['mark_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_justification_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_justification_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_justification_school_id'), ['school_id'], unique=False)

    op.create_table('liaison_note_file',
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_liaison_note_file_attachment_id_attachment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['note_id'], ['liaison_note.id'], name=op.f('fk_liaison_note_file_note_id_liaison_note'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('note_id', 'attachment_id', name=op.f('pk_liaison_note_file'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attached_at', sa.DateTime(), nullable=True))
    # Files already joined to a message (or a draft) are no longer pending.
    op.execute("UPDATE attachment SET attached_at = created_at WHERE message_id IS NOT NULL")

    with op.batch_alter_table('attendance_mark', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_attendance_mark_reason_id_absence_reason'), 'absence_reason', ['reason_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('liaison_note', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_on', sa.Date(), nullable=True))


    _default_reasons()


#: The list each school starts with (portal/attendance/reasons.py, DEFAULTS), as it was then.
DEFAULT_REASONS = {
    "fr": (
        ("Maladie", True), ("Rendez-vous médical", True), ("Raison familiale", True),
        ("Problème de transport", True), ("Convocation officielle", True),
        ("Sortie ou voyage scolaire", False), ("Exclusion", False),
        ("Motif non recevable", False),
    ),
    "en": (
        ("Illness", True), ("Medical appointment", True), ("Family reason", True),
        ("Transport problem", True), ("Official summons", True), ("School trip", False),
        ("Exclusion", False), ("Reason not accepted", False),
    ),
}


def _default_reasons():
    connection = op.get_bind()
    reason = sa.table(
        "absence_reason",
        sa.column("school_id", sa.Integer), sa.column("label", sa.String),
        sa.column("families_choose", sa.Boolean), sa.column("position", sa.Integer),
    )
    schools = connection.execute(sa.text("SELECT id, default_language FROM school")).all()
    rows = [
        {"school_id": school_id, "label": label, "families_choose": families, "position": position}
        for school_id, language in schools
        for position, (label, families) in enumerate(DEFAULT_REASONS.get(language, DEFAULT_REASONS["fr"]))
    ]
    if rows:
        op.bulk_insert(reason, rows)


def downgrade():
    with op.batch_alter_table('liaison_note', schema=None) as batch_op:
        batch_op.drop_column('reminded_on')

    with op.batch_alter_table('attendance_mark', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attendance_mark_reason_id_absence_reason'), type_='foreignkey')
        batch_op.drop_column('reason_id')

    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('attached_at')

    op.drop_table('liaison_note_file')
    with op.batch_alter_table('justification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_justification_school_id'))
        batch_op.drop_index(batch_op.f('ix_justification_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_justification_outcome'))
        batch_op.drop_index(batch_op.f('ix_justification_mark_id'))

    op.drop_table('justification')
    with op.batch_alter_table('absence_excuse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_absence_excuse_pupil_id'))

    op.drop_table('absence_excuse')
    op.drop_table('absence_reason')

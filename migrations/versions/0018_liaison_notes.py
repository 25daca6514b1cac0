"""The carnet de liaison: notes to the guardians of some pupils, their confirmations and
answers, and whether a school asks both guardians to reply

Revision ID: f6d4c3e0a518
Revises: e5c3b2d9f417
Create Date: 2026-12-07 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6d4c3e0a518'
down_revision = 'e5c3b2d9f417'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('liaison_both_guardians', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('liaison_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('asks', sa.String(length=12), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('answer_until', sa.DateTime(), nullable=True),
    sa.Column('pupils_see', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_liaison_note_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_liaison_note_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_liaison_note'))
    )
    with op.batch_alter_table('liaison_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_liaison_note_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_liaison_note_school_id'), ['school_id'], unique=False)

    op.create_table('liaison_note_pupil',
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['liaison_note.id'], name=op.f('fk_liaison_note_pupil_note_id_liaison_note'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pupil_id'], ['user_account.id'], name=op.f('fk_liaison_note_pupil_pupil_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('note_id', 'pupil_id', name=op.f('pk_liaison_note_pupil'))
    )
    with op.batch_alter_table('liaison_note_pupil', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_liaison_note_pupil_pupil_id'), ['pupil_id'], unique=False)

    op.create_table('liaison_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('replied_at', sa.DateTime(), nullable=False),
    sa.Column('choice', sa.Integer(), nullable=True),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['guardian_id'], ['user_account.id'], name=op.f('fk_liaison_reply_guardian_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['note_id'], ['liaison_note.id'], name=op.f('fk_liaison_reply_note_id_liaison_note'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pupil_id'], ['user_account.id'], name=op.f('fk_liaison_reply_pupil_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_liaison_reply')),
    sa.UniqueConstraint('note_id', 'pupil_id', 'guardian_id', name=op.f('uq_liaison_reply_note_id_pupil_id_guardian_id'))
    )
    with op.batch_alter_table('liaison_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_liaison_reply_guardian_id'), ['guardian_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_liaison_reply_note_id'), ['note_id'], unique=False)


def downgrade():
    with op.batch_alter_table('liaison_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_liaison_reply_note_id'))
        batch_op.drop_index(batch_op.f('ix_liaison_reply_guardian_id'))
    op.drop_table('liaison_reply')
    with op.batch_alter_table('liaison_note_pupil', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_liaison_note_pupil_pupil_id'))
    op.drop_table('liaison_note_pupil')
    with op.batch_alter_table('liaison_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_liaison_note_school_id'))
        batch_op.drop_index(batch_op.f('ix_liaison_note_author_id'))
    op.drop_table('liaison_note')
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('liaison_both_guardians')

"""Single sign-on: identity providers (a school's or the platform's), the identifiers that link
people to them, the profiles that log in only through them, trusting a provider's second factor, and the
provider an import's identifiers are linked to

Revision ID: 61a8dc736418
Revises: fa6336b195bc
Create Date: 2026-12-07 22:12:05.664312

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '61a8dc736418'
down_revision = 'fa6336b195bc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('secret', sa.String(length=500), nullable=False),
    sa.Column('secret_hint', sa.String(length=4), nullable=False),
    sa.Column('identifier_attribute', sa.String(length=80), nullable=False),
    sa.Column('profile_attribute', sa.String(length=80), nullable=False),
    sa.Column('profile_values', sa.JSON(), nullable=False),
    sa.Column('metadata_xml', sa.Text(), server_default='', nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_identity_provider_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_provider'))
    )
    with op.batch_alter_table('identity_provider', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_provider_school_id'), ['school_id'], unique=False)

    op.create_table('external_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('linked_by', sa.String(length=10), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_provider.id'], name=op.f('fk_external_identity_provider_id_identity_provider'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_external_identity_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_identity')),
    sa.UniqueConstraint('provider_id', 'subject', name=op.f('uq_external_identity_provider_id_subject')),
    sa.UniqueConstraint('provider_id', 'user_id', name=op.f('uq_external_identity_provider_id_user_id'))
    )
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identity_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_import_run_provider_id_identity_provider'), 'identity_provider', ['provider_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_off', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('trust_provider_mfa', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_import_run_provider_id_identity_provider'), type_='foreignkey')
        batch_op.drop_column('provider_id')

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('trust_provider_mfa')
        batch_op.drop_column('password_off')

    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identity_user_id'))

    op.drop_table('external_identity')
    with op.batch_alter_table('identity_provider', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_provider_school_id'))

    op.drop_table('identity_provider')

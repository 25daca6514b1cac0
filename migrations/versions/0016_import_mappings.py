"""Imports say what they read: the headings a school mapped to a field, what each column of an
import was taken as, warnings per line, and a pupil's register number (SIECLE's 'N° Interne')

Revision ID: d4b2a1c8e316
Revises: c3a1f0e7b215
Create Date: 2026-12-07 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4b2a1c8e316'
down_revision = 'c3a1f0e7b215'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('shape', sa.String(length=30), nullable=False),
    sa.Column('heading_key', sa.String(length=200), nullable=False),
    sa.Column('heading', sa.String(length=200), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_import_mapping_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_import_mapping_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mapping')),
    sa.UniqueConstraint('school_id', 'shape', 'heading_key', name=op.f('uq_import_mapping_school_id_shape_heading_key'))
    )
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('columns', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('register_number', sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_school_id_register_number'), ['school_id', 'register_number'])


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_school_id_register_number'), type_='unique')
        batch_op.drop_column('register_number')
    with op.batch_alter_table('import_row', schema=None) as batch_op:
        batch_op.drop_column('warnings')
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.drop_column('columns')
    op.drop_table('import_mapping')

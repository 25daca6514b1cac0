"""Groups the direction makes: descriptions, deletion, rule-defined broadcast lists, saved
recipient lists, and a school setting letting staff manage groups

Revision ID: e5c3b2d9f417
Revises: d4b2a1c8e316
Create Date: 2026-12-07 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5c3b2d9f417'
down_revision = 'd4b2a1c8e316'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('members_changed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('list_defined', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('list_rank', sa.Integer(), nullable=True))

    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_manage_groups', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('list_source',
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['school_group.id'], name=op.f('fk_list_source_group_id_school_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['school_group.id'], name=op.f('fk_list_source_list_id_school_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('list_id', 'group_id', name=op.f('pk_list_source'))
    )
    with op.batch_alter_table('list_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_source_group_id'), ['group_id'], unique=False)

    op.create_table('saved_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_saved_list_owner_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_list')),
    sa.UniqueConstraint('owner_id', 'name', name=op.f('uq_saved_list_owner_id_name'))
    )
    with op.batch_alter_table('saved_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_list_owner_id'), ['owner_id'], unique=False)

    op.create_table('saved_list_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('saved_list_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(user_id IS NULL) <> (group_id IS NULL)', name=op.f('ck_saved_list_entry_one_member')),
    sa.ForeignKeyConstraint(['group_id'], ['school_group.id'], name=op.f('fk_saved_list_entry_group_id_school_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_list_id'], ['saved_list.id'], name=op.f('fk_saved_list_entry_saved_list_id_saved_list'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_saved_list_entry_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_list_entry'))
    )
    with op.batch_alter_table('saved_list_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_list_entry_saved_list_id'), ['saved_list_id'], unique=False)


def downgrade():
    with op.batch_alter_table('saved_list_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_list_entry_saved_list_id'))
    op.drop_table('saved_list_entry')
    with op.batch_alter_table('saved_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_list_owner_id'))
    op.drop_table('saved_list')
    with op.batch_alter_table('list_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_source_group_id'))
    op.drop_table('list_source')
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('staff_manage_groups')
    with op.batch_alter_table('school_group', schema=None) as batch_op:
        batch_op.drop_column('list_rank')
        batch_op.drop_column('list_defined')
        batch_op.drop_column('members_changed_at')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('description')

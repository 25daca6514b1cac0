"""A school's registers open a set number of minutes before their session

Revision ID: c3a1f0e7b215
Revises: 9cd77f9b2e72
Create Date: 2026-12-07 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a1f0e7b215'
down_revision = '9cd77f9b2e72'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('register_opens_minutes', sa.Integer(), nullable=False, server_default='10')
        )


def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('register_opens_minutes')

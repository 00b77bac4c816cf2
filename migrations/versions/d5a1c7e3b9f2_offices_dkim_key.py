"""offices.dkim_selector, offices.dkim_private_key: an office's emails signed where its relay does not sign

Revision ID: d5a1c7e3b9f2
Revises: d5a1f0c2e7b4
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd5a1c7e3b9f2'
down_revision = 'd5a1f0c2e7b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dkim_selector', sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column('dkim_private_key', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.drop_column('dkim_private_key')
        batch_op.drop_column('dkim_selector')

"""offices.dkim_selector, offices.dkim_private_key: an office's emails signed where its relay does not sign

Revision ID: d5a1c7e3b9f2
Revises: b8e41d2c6f30
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd5a1c7e3b9f2'
down_revision = 'b8e41d2c6f30'
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

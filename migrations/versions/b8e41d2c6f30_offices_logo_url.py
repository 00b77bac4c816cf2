"""offices.logo_url: an image shown atop the office's emails; none by default

Revision ID: b8e41d2c6f30
Revises: b8e4d2f6a913
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b8e41d2c6f30'
down_revision = 'b8e4d2f6a913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_url', sa.String(length=2000), nullable=True))


def downgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.drop_column('logo_url')

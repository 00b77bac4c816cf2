"""staff roles: admin, or an office's manager, campaigner or viewer (every office account so far is a manager)

Revision ID: f3a9c1d27b40
Revises: e2b7c4a9d1f3
Create Date: 2026-12-02 04:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'f3a9c1d27b40'
down_revision = 'e2b7c4a9d1f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), server_default='manager', nullable=False))
    op.execute("UPDATE staff SET role = CASE WHEN is_admin THEN 'admin' ELSE 'manager' END")
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('is_admin')


def downgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_admin', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE staff SET is_admin = (role = 'admin')")
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('role')

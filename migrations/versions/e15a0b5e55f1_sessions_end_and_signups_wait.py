"""sessions that end (staff.session_version); a sign-up's name and language held with its request

Revision ID: e15a0b5e55f1
Revises: c3d9e2a4b517
Create Date: 2026-12-01 13:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e15a0b5e55f1'
down_revision = 'c3d9e2a4b517'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('profile', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_column('profile')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('session_version')

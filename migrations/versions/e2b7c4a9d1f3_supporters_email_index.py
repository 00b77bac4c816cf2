"""supporters.email indexed: reports by address find it in every office

Revision ID: e2b7c4a9d1f3
Revises: d5a1c7e3f920
Create Date: 2026-12-02 02:00:00

"""
from alembic import op


revision = 'e2b7c4a9d1f3'
down_revision = 'd5a1c7e3f920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.create_index('ix_supporters_email', ['email'], unique=False)


def downgrade():
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.drop_index('ix_supporters_email')

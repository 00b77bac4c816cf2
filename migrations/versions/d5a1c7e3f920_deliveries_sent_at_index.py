"""deliveries.sent_at indexed: an office's reputation reads its last 30 days of sends

Revision ID: d5a1c7e3f920
Revises: d5a1c7e3b9f2
Create Date: 2026-12-02 01:00:00

"""
from alembic import op


revision = 'd5a1c7e3f920'
down_revision = 'd5a1c7e3b9f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_sent_at', ['sent_at', 'supporter_id'], unique=False)


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_sent_at')

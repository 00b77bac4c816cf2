"""deliveries: claims, deferrals; mailings: pauses

A claimed delivery names its claim (whose lease lives in Redis), so deliveries left `sending` by a
killed worker can be found and recovered. A relay's temporary refusal counts an attempt and sets the
earliest retry. A mailing paused by a relay outage, its hourly limit or too many errors says why.
The (mailing, status) index gains the id: claims take a batch's queued ids in order.

Revision ID: 7b2f4c9e1d08
Revises: 5d1e0c3b7a21
Create Date: 2026-11-23 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b2f4c9e1d08'
down_revision = '5d1e0c3b7a21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('retry_at', sa.DateTime(), nullable=True))
        batch_op.drop_index('ix_deliveries_mailing_status')
        batch_op.create_index('ix_deliveries_mailing_status_id', ['mailing_id', 'status', 'id'], unique=False)
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('paused_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_column('paused_until')
        batch_op.drop_column('pause_reason')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_mailing_status_id')
        batch_op.create_index('ix_deliveries_mailing_status', ['mailing_id', 'status'], unique=False)
        batch_op.drop_column('retry_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('claim')

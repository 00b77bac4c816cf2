"""send core: paused and deferred as states, claims with their lease and journal in the database, failures per mailing

Revision ID: c3d9e2a4b517
Revises: 7b2f4c9e1d08
Create Date: 2026-12-01 11:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3d9e2a4b517'
down_revision = '7b2f4c9e1d08'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'send_claims',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('mailing_id', sa.Integer(), nullable=False),
        sa.Column('lease_until', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['mailing_id'], ['mailings.id'], name=op.f('fk_send_claims_mailing_id_mailings')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_send_claims')),
    )
    with op.batch_alter_table('send_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_send_claims_lease_until'), ['lease_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_send_claims_mailing_id'), ['mailing_id'], unique=False)
    op.create_table(
        'sent_marks',
        sa.Column('claim', sa.String(length=32), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
    )
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emailed_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_consent_changes_unemailed', ['at'], unique=False,
                              postgresql_where=sa.text("change = 'requested' AND emailed_at IS NULL"),
                              sqlite_where=sa.text("change = 'requested' AND emailed_at IS NULL"))
    # Sign-up requests from before: their confirmation emails were RQ's to retry, and are taken as done.
    op.execute("UPDATE consent_changes SET emailed_at = at WHERE change = 'requested'")
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_claim', ['claim'], unique=False,
                              postgresql_where=sa.text('claim IS NOT NULL'), sqlite_where=sa.text('claim IS NOT NULL'))
    # The states that were implied by other columns become states of their own. Claims held in Redis by the
    # workers of the version before are let go (stop the workers before migrating).
    op.execute("UPDATE mailings SET status = 'paused' WHERE status = 'sending' AND pause_reason IS NOT NULL")
    op.execute("UPDATE deliveries SET status = 'deferred' WHERE status = 'queued' AND retry_at IS NOT NULL")
    op.execute("UPDATE deliveries SET status = 'queued', claim = NULL WHERE status = 'sending'")


def downgrade():
    op.execute("UPDATE deliveries SET status = 'queued' WHERE status = 'deferred'")
    op.execute("UPDATE mailings SET status = 'sending' WHERE status = 'paused'")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_claim')
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('failures')
    with op.batch_alter_table('send_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_send_claims_mailing_id'))
        batch_op.drop_index(batch_op.f('ix_send_claims_lease_until'))
    op.drop_table('send_claims')
    op.drop_table('sent_marks')
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_changes_unemailed')
        batch_op.drop_column('emailed_at')

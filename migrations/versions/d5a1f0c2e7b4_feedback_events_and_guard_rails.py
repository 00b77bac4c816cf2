"""Reports from providers and inbound mail recorded once each; bounces know their mailing and source; a mailing's
guard-rail baseline

Revision ID: d5a1f0c2e7b4
Revises: b8e41d2c6f30
Create Date: 2026-12-02 01:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd5a1f0c2e7b4'
down_revision = 'b8e41d2c6f30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feedback_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_events')),
        sa.UniqueConstraint('source', 'key', name=op.f('uq_feedback_events_source_key')),
    )
    with op.batch_alter_table('feedback_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_events_created_at'), ['created_at'], unique=False)
    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mailing_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_bounces_mailing_id'), ['mailing_id'], unique=False)
        batch_op.create_foreign_key('fk_bounces_mailing_id_mailings', 'mailings', ['mailing_id'], ['id'])
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guard_baseline', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_column('guard_baseline')
    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.drop_constraint('fk_bounces_mailing_id_mailings', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bounces_mailing_id'))
        batch_op.drop_column('source')
        batch_op.drop_column('mailing_id')
    with op.batch_alter_table('feedback_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_events_created_at'))
    op.drop_table('feedback_events')

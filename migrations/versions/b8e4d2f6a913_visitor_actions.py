"""visitor_actions: a visitor of the public case page asking to act, and whether they confirmed

Revision ID: b8e4d2f6a913
Revises: 3a7c5e9b2d14
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b8e4d2f6a913'
down_revision = '3a7c5e9b2d14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'visitor_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('email_digest', sa.String(length=64), nullable=False),
        sa.Column('counted_digest', sa.String(length=64), nullable=True),
        sa.Column('first_name', sa.String(length=200), nullable=False),
        sa.Column('wants_to_join', sa.Boolean(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('network', sa.String(length=64), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('emailed_at', sa.DateTime(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_visitor_actions_case_id_cases')),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_visitor_actions_office_id_offices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visitor_actions')),
        sa.UniqueConstraint('case_id', 'office_id', 'counted_digest',
                            name=op.f('uq_visitor_actions_case_id_office_id_counted_digest')),
    )
    op.create_index('ix_visitor_actions_digest_requested', 'visitor_actions', ['email_digest', 'requested_at'])
    op.create_index('ix_visitor_actions_unemailed', 'visitor_actions', ['requested_at'],
                    postgresql_where=sa.text('emailed_at IS NULL'), sqlite_where=sa.text('emailed_at IS NULL'))
    op.create_index('ix_visitor_actions_addressed', 'visitor_actions', ['requested_at'],
                    postgresql_where=sa.text('email IS NOT NULL'), sqlite_where=sa.text('email IS NOT NULL'))


def downgrade():
    op.drop_index('ix_visitor_actions_addressed', table_name='visitor_actions')
    op.drop_index('ix_visitor_actions_unemailed', table_name='visitor_actions')
    op.drop_index('ix_visitor_actions_digest_requested', table_name='visitor_actions')
    op.drop_table('visitor_actions')

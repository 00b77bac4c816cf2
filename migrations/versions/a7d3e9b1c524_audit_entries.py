"""audit trail: who did what, when, to what and from which network, kept AUDIT_RETENTION_DAYS

Revision ID: a7d3e9b1c524
Revises: f3a9c1d27b40
Create Date: 2026-12-02 04:45:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'a7d3e9b1c524'
down_revision = 'f3a9c1d27b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=320), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=50), nullable=False),
        sa.Column('subject', sa.String(length=320), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('network', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_audit_entries_office_id_offices')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_audit_entries_staff_id_staff'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_action'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_office_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
    op.drop_table('audit_entries')

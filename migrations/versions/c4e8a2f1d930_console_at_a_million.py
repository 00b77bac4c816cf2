"""Console pages at a million supporters: a trigram index for the search (PostgreSQL), an index of statuses for
audiences and counts, and each finished mailing's sends per day and domain kept for the reputation page

Revision ID: c4e8a2f1d930
Revises: db31c82ecd8d
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e8a2f1d930'
down_revision = 'db31c82ecd8d'
branch_labels = None
depends_on = None


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        # pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index('ix_supporters_search_text', 'supporters', ['search_text'], unique=False,
                        postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.create_index('ix_supporters_status_office', ['status', 'office_id', 'language'], unique=False,
                              postgresql_include=['id'])
    op.create_table(
        'mailing_sends',
        sa.Column('mailing_id', sa.Integer(), nullable=False),
        sa.Column('days', sa.JSON(), nullable=False),
        sa.Column('counted_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['mailing_id'], ['mailings.id'], name=op.f('fk_mailing_sends_mailing_id_mailings')),
        sa.PrimaryKeyConstraint('mailing_id', name=op.f('pk_mailing_sends')),
    )


def downgrade():
    op.drop_table('mailing_sends')
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.drop_index('ix_supporters_status_office')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_supporters_search_text', table_name='supporters')

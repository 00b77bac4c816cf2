"""the preference centre: what supporters choose (regions, themes, how many emails, a pause), the themes of a
case and those an office offers, and since when an office's emails link to the page

Revision ID: a7d3e9b2c615
Revises: a7d3e9b2c014
Create Date: 2026-12-02 17:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'a7d3e9b2c615'
down_revision = 'a7d3e9b2c014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('themes', sa.JSON(), server_default='[]', nullable=False))
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('themes', sa.JSON(), nullable=True))
        # Existing offices: their emails link to the page from this migration on.
        batch_op.add_column(
            sa.Column('preferences_since', sa.DateTime(), server_default=sa.func.now(), nullable=False)
        )
    op.create_table(
        'preferences',
        sa.Column('supporter_id', sa.Integer(), nullable=False),
        sa.Column('frequency', sa.String(length=16), nullable=False),
        sa.Column('pause_until', sa.Date(), nullable=True),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('supporter_id'),
    )
    op.create_table(
        'preference_choices',
        sa.Column('supporter_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('value', sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('supporter_id', 'kind', 'value'),
    )


def downgrade():
    op.drop_table('preference_choices')
    op.drop_table('preferences')
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.drop_column('preferences_since')
        batch_op.drop_column('themes')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('themes')

"""consent history, bounces, erasure

Revision ID: af652f306612
Revises: 99be9a391867
Create Date: 2026-11-23 01:50:57.171678

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'af652f306612'
down_revision = '99be9a391867'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consent_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('network', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_consent_changes_supporter_id_supporters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_changes'))
    )
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_changes_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('bounces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_bounces_delivery_id_deliveries')),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_bounces_supporter_id_supporters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bounces'))
    )
    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounces_supporter_id'), ['supporter_id'], unique=False)

    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=320),
               nullable=True)



def downgrade():
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=320),
               nullable=False)
        batch_op.drop_column('erased_at')

    with op.batch_alter_table('bounces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bounces_supporter_id'))

    op.drop_table('bounces')
    with op.batch_alter_table('consent_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_changes_supporter_id'))

    op.drop_table('consent_changes')

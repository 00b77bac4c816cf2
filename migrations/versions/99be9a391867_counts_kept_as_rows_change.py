"""counts kept as rows change: mailing and drive counters, first-time marks per delivery and per drive supporter

A database with drives from before this revision: run `flask --app app stats recount` once after it.
Revision ID: 99be9a391867
Revises: a104b798618b
Create Date: 2026-11-23 01:20:31.411444

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '99be9a391867'
down_revision = 'a104b798618b'
branch_labels = None
depends_on = None


COUNTS = ("recipients", "sent", "failed", "bounced", "opened", "opened_human", "clicked", "acted", "unsubscribed")


def counters():
    return [sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS]


def upgrade():
    op.create_table('action_days',
    sa.Column('drive_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('actions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['drive_id'], ['drives.id'], name=op.f('fk_action_days_drive_id_drives')),
    sa.PrimaryKeyConstraint('drive_id', 'day', name=op.f('pk_action_days'))
    )
    op.create_table('drive_counts',
    sa.Column('drive_id', sa.Integer(), nullable=False),
    *counters(),
    sa.ForeignKeyConstraint(['drive_id'], ['drives.id'], name=op.f('fk_drive_counts_drive_id_drives')),
    sa.PrimaryKeyConstraint('drive_id', name=op.f('pk_drive_counts'))
    )
    op.create_table('drive_supporters',
    sa.Column('drive_id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=False),
    sa.Column('emailed_at', sa.DateTime(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('opened_human_at', sa.DateTime(), nullable=True),
    sa.Column('clicked_at', sa.DateTime(), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['drive_id'], ['drives.id'], name=op.f('fk_drive_supporters_drive_id_drives')),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_drive_supporters_supporter_id_supporters')),
    sa.PrimaryKeyConstraint('drive_id', 'supporter_id', name=op.f('pk_drive_supporters'))
    )
    op.create_table('mailing_counts',
    sa.Column('mailing_id', sa.Integer(), nullable=False),
    *counters(),
    sa.ForeignKeyConstraint(['mailing_id'], ['mailings.id'], name=op.f('fk_mailing_counts_mailing_id_mailings')),
    sa.PrimaryKeyConstraint('mailing_id', name=op.f('pk_mailing_counts'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('opened_human_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('clicked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('unsubscribed_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('unsubscribed_at')
        batch_op.drop_column('clicked_at')
        batch_op.drop_column('opened_human_at')
        batch_op.drop_column('opened_at')

    op.drop_table('mailing_counts')
    op.drop_table('drive_supporters')
    op.drop_table('drive_counts')
    op.drop_table('action_days')

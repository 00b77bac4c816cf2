"""supporters and tags: no indexes that no query uses (status alone, tag alone)

Every query of a supporter's status also names the office, and every tag filter is per supporter:
the (office_id, email) index and the tags' primary key serve them. The two indexes only cost each
imported row.

Revision ID: 5d1e0c3b7a21
Revises: 64c918a51007
Create Date: 2026-11-23 03:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d1e0c3b7a21'
down_revision = '64c918a51007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supporters_status'))
    with op.batch_alter_table('supporter_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supporter_tags_tag'))


def downgrade():
    with op.batch_alter_table('supporter_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporter_tags_tag'), ['tag'], unique=False)
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporters_status'), ['status'], unique=False)

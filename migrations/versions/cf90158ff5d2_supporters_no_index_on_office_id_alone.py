"""supporters: no index on office_id alone

Revision ID: cf90158ff5d2
Revises: af652f306612
Create Date: 2026-11-23 02:04:30.272410

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cf90158ff5d2'
down_revision = 'af652f306612'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supporters_office_id'))



def downgrade():
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporters_office_id'), ['office_id'], unique=False)


"""drives: audience by language

Revision ID: 64c918a51007
Revises: cf90158ff5d2
Create Date: 2026-11-23 02:14:33.017706

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '64c918a51007'
down_revision = 'cf90158ff5d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drives', schema=None) as batch_op:
        # Existing drives reach every language, as they did.
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))



def downgrade():
    with op.batch_alter_table('drives', schema=None) as batch_op:
        batch_op.drop_column('languages')


"""supporters.search_text: the folded name and address, so a search ignores accents and case

Revision ID: 3a7c5e9b2d14
Revises: a16c7e0f1b2d
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

from mobilise.supporters.models import search_text_of


revision = '3a7c5e9b2d14'
down_revision = 'a16c7e0f1b2d'
branch_labels = None
depends_on = None

# Rows read and rewritten at a time: a list of a million is backfilled without holding it in memory.
BATCH = 5000

supporters = sa.table(
    'supporters',
    sa.column('id', sa.Integer), sa.column('email', sa.String), sa.column('first_name', sa.String),
    sa.column('last_name', sa.String), sa.column('search_text', sa.Text),
)


def upgrade():
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    # Neither database can fold text (PostgreSQL's unaccent is an extension, SQLite has nothing), so the
    # text is made in Python by the function the app writes it with, in batches by id. Erased supporters
    # (no address, no name) get None, as the app gives them.
    connection = op.get_bind()
    rewrite = supporters.update().where(supporters.c.id == sa.bindparam('supporter_id')).values(
        search_text=sa.bindparam('text'))
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(supporters.c.id, supporters.c.first_name, supporters.c.last_name, supporters.c.email)
            .where(supporters.c.id > last_id).order_by(supporters.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(rewrite, [
            {'supporter_id': row.id, 'text': search_text_of(row.first_name, row.last_name, row.email)} for row in rows
        ])
        last_id = rows[-1].id


def downgrade():
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.drop_column('search_text')

"""a case translated whole: pronoun, the target's title and salutation per language; people as a list of names;
the target's email address; an update's words per language

Revision ID: a16c7e0f1b2d
Revises: e15a0b5e55f1
Create Date: 2026-12-01 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a16c7e0f1b2d'
down_revision = 'e15a0b5e55f1'
branch_labels = None
depends_on = None

cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('people', sa.Text))


def upgrade():
    bind = op.get_bind()
    # One string was one name: it becomes a list of one; no name, an empty list.
    named = bind.execute(sa.select(cases.c.id, cases.c.people)).all()
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_email', sa.String(length=320), nullable=True))
        batch_op.alter_column('people', type_=sa.JSON(), existing_type=sa.Text(), postgresql_using='NULL::json')
    as_json = sa.table('cases', sa.column('id', sa.Integer), sa.column('people', sa.JSON))
    for case_id, people in named:
        names = [people.strip()] if people and people.strip() else []
        bind.execute(sa.update(as_json).where(as_json.c.id == case_id).values(people=names))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('people', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('case_translations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pronoun', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('target_title', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('target_salutation', sa.String(length=300), nullable=True))
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_translations', sa.JSON(), server_default='{}', nullable=False))


def downgrade():
    bind = op.get_bind()
    as_json = sa.table('cases', sa.column('id', sa.Integer), sa.column('people', sa.JSON))
    named = bind.execute(sa.select(as_json.c.id, as_json.c.people).where(as_json.c.people.isnot(None))).all()
    with op.batch_alter_table('mailings', schema=None) as batch_op:
        batch_op.drop_column('body_translations')
    with op.batch_alter_table('case_translations', schema=None) as batch_op:
        batch_op.drop_column('target_salutation')
        batch_op.drop_column('target_title')
        batch_op.drop_column('pronoun')
    # NULL allowed first: the change of type empties the column before the names are written back.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('people', existing_type=sa.JSON(), nullable=True)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('people', type_=sa.Text(), existing_type=sa.JSON(), postgresql_using='NULL::text')
        batch_op.drop_column('target_email')
    for case_id, people in named:
        bind.execute(sa.update(cases).where(cases.c.id == case_id).values(people=", ".join(people or []) or None))

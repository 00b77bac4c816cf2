"""Uploaded CSVs wait for their worker in the database, in parts, not on the web's disk: the web and the worker
may be on different hosts with no disk in common

Revision ID: a7d3e9b2c014
Revises: c4e8a2f1d930
Create Date: 2026-12-02 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7d3e9b2c014'
down_revision = 'c4e8a2f1d930'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_parts',
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_parts_import_id_imports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('import_id', 'number', name=op.f('pk_import_parts')),
    )
    # An import still waiting for its worker had its upload on the web's disk: its worker finds no part, and
    # fails it saying the file is gone.
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('path')


def downgrade():
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('path', sa.String(length=500), nullable=True))
    op.drop_table('import_parts')

"""The migrations make exactly the schema the models describe, on both databases: a column or an index added to a
model without its migration (or the other way round) fails here, not on an office's server after an upgrade."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mobilise.extensions import db
from mobilise.sql import made_on


def test_the_migrated_schema_is_the_models_schema(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": made_on(connection.dialect.name)})
        differences = compare_metadata(context, db.metadata)
    assert differences == []

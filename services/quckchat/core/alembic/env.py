"""The one Alembic environment every service shares; run through quckchat.core.migrations."""

from alembic import context

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=config.attributes["metadata"],
    version_table=config.attributes["version_table"],
    # Batch mode lets SQLite alter tables the way MySQL and PostgreSQL do natively.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

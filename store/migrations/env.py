"""Alembic environment of the assistant's store (its own version table: it may share a database)."""

from alembic import context

from store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  version_table="store_alembic_version")
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: runs migrations on a connection that livify hands over.

`livify.platform.migrate` opens the async connection and passes it in
`config.attributes["connection"]`, so Alembic never builds its own engine or
reads a URL from a file.
"""

from __future__ import annotations

from alembic import context

from livify.platform.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    msg = "run migrations with `livify migrate`, which supplies the connection"
    raise RuntimeError(msg)

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()

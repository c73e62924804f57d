"""Alembic environment: runs nbtrack's migrations on the connection handed over by nbtrack.store.migrate."""

from __future__ import annotations

from alembic import context

from nbtrack.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs `alembic` by hand
    raise RuntimeError("run nbtrack migrations through nbtrack (e.g. `nbtrack doctor`), not alembic")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

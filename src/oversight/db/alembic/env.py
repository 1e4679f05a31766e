"""Alembic environment: runs on the connection that ``oversight.db.migrate`` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from oversight.db.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:  # pragma: no cover - only when run by the alembic command itself
    from oversight.db.engine import make_engine

    with make_engine(context.config.get_main_option("sqlalchemy.url") or "").connect() as c:
        _run(c)
else:
    _run(_connection)

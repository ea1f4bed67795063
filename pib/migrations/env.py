"""Alembic environment: the tables of every package, on the database of the settings (or the URL given)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from crawlers.store.db import get_engine
from crawlers.store.search import include_name
from pib.models import import_all_models

import_all_models()
config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    connectable = config.attributes.get("connection")
    if connectable is None:
        with get_engine(url).connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "sqlite":
        # A batch migration rebuilds a table (copy, drop, rename): with foreign keys enforced, dropping it would
        # cascade to every row that points at it. SQLite ignores this pragma inside a transaction, so set it first.
        if connection.in_transaction():
            connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # the search index's FTS5 table and tsvector are not models
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # the pooled connection goes back as it came


run_migrations()

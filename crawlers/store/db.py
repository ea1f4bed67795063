"""Engines for the notice store: SQLite by default, PostgreSQL by `PIB_DATABASE_URL`."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.sql.dml import Insert


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@cache
def get_engine(url: str) -> Engine:
    """One engine per database URL; an SQLite file's folder is created on first use."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return sa.create_engine(url, pool_pre_ping=True)


_MIGRATION_LOCK = 7_305_042_010
"""The PostgreSQL advisory lock key held while migrating (any constant the service uses for nothing else)."""


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Processes that start at once on a new database migrate it one after the other, not each half of it:
    PostgreSQL holds an advisory lock, SQLite an exclusive lock on the database's folder (a lock on the file
    itself would be released under SQLite's own locks when closed)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        with get_engine(url).connect() as connection:
            connection.execute(sa.select(sa.func.pg_advisory_lock(_MIGRATION_LOCK)))
            try:
                yield
            finally:
                connection.execute(sa.select(sa.func.pg_advisory_unlock(_MIGRATION_LOCK)))
    elif parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)
    else:
        yield


def among(connection: sa.Connection, column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`: one parameter rather than one per value, which
    psycopg would otherwise find again in the statement's text at every batch (a third of linking's time)."""
    if connection.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def set_by_id(connection: sa.Connection, column: sa.Column[Any], values: Mapping[int, Any]) -> None:
    """`UPDATE table SET column = values[id]` for each id in `values`. On PostgreSQL one statement joins two
    arrays (`unnest`): a `CASE` of hundreds of values is a statement psycopg parses anew at each batch, the
    first cost of linking there. Elsewhere, `CASE` by chunks of 300 ids (SQLite's parameter limit)."""
    if not values:
        return
    table: sa.Table = column.table  # type: ignore[assignment]
    identifier = table.c.id
    if connection.dialect.name == "postgresql":
        pairs = (
            sa.func.unnest(
                sa.bindparam(None, list(values), type_=postgresql.ARRAY(identifier.type)),
                sa.bindparam(None, list(values.values()), type_=postgresql.ARRAY(column.type)),
            )
            .table_valued("id", "value")
            .render_derived(with_types=False)
        )
        connection.execute(table.update().where(identifier == pairs.c.id).values({column.name: pairs.c.value}))
        return
    ids = list(values)
    for start in range(0, len(ids), 300):
        part = {key: values[key] for key in ids[start : start + 300]}
        connection.execute(
            table.update().where(identifier.in_(list(part))).values({column.name: sa.case(part, value=identifier)})
        )


def _driver_rows(table: sa.Table, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as psycopg takes them: JSON columns wrapped as `Jsonb` (SQLAlchemy does it for its statements)."""
    json_names = [name for name in rows[0] if isinstance(table.c[name].type, sa.JSON)]
    if not json_names:
        return list(rows)
    return [row | {name: Jsonb(row[name]) for name in json_names} for row in rows]


def insert_rows(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows, all with the same keys: streamed by `COPY ... FROM STDIN` on PostgreSQL (no statement
    per row to bind: lots twice as fast as executemany), executemany elsewhere."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(table.insert(), rows)
        return
    names = list(rows[0])
    quote = connection.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(map(quote, names))}) FROM STDIN"
    try:
        with (
            connection.connection.driver_connection.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(statement) as copy,
        ):
            for row in _driver_rows(table, rows):
                copy.write_row([row[name] for name in names])
    except psycopg.IntegrityError as error:  # as SQLAlchemy raises it for its own statements
        raise sa.exc.IntegrityError(statement, None, error) from error


def insert_returning(connection: sa.Connection, statement: Insert, rows: Sequence[dict[str, Any]]) -> list[Any]:
    """The rows an `INSERT ... RETURNING` of many rows returns (none for a row skipped by ON CONFLICT DO NOTHING).

    On PostgreSQL, psycopg's executemany (one prepared statement, the rows sent in a pipeline) rather than
    SQLAlchemy's statements of many VALUES, which psycopg parses anew for each batch: 2.3x faster for notices.
    """
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        return list(connection.execute(statement, rows))
    table: sa.Table = statement.table  # type: ignore[assignment]
    sql = str(statement.compile(dialect=connection.dialect, column_keys=list(rows[0])))
    found = []
    with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.executemany(sql, _driver_rows(table, rows), returning=True)
        while True:
            found.extend(cursor.fetchall())
            if not cursor.nextset():
                return found

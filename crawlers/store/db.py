"""Engines for the notice store: SQLite by default, PostgreSQL by `PIB_DATABASE_URL`."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url


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

"""The database of the service: migrations (Alembic, on SQLite and PostgreSQL) and the engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from config.settings import get_settings
from crawlers.store.db import get_engine, migration_lock

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    with migration_lock(url):  # two commands started at once on a new database: one migrates, the other waits
        command.upgrade(alembic_config(url), revision)


def ready_engine(url: str | None = None) -> Engine:
    """The engine of the configured database, migrated to the latest schema (zero set-up on first use)."""
    url = url or get_settings().database_url
    upgrade(url)
    return get_engine(url)

"""Test databases: every test that asks for `engine` runs on SQLite and, when
PIB_TEST_POSTGRES_URL is set (`make test` sets it), on PostgreSQL too. Each test gets empty tables."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from config.settings import get_settings
from crawlers.store.db import get_engine
from pib.db import upgrade

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("PIB_TEST_POSTGRES_URL")
os.environ["PIB_ENVIRONMENT"] = "test"  # the fixed test key: no secret file written under var/ by a test run


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated once; each test copies it."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()  # closing the last connection folds the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test session, migrated once, dropped at the end."""
    assert POSTGRES_URL, "PIB_TEST_POSTGRES_URL is not set"
    name = f"pib_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    get_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_tables(engine: Engine) -> None:
    existing = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    with engine.begin() as connection:
        names = ", ".join(f'"{name}"' for name in sorted(existing))
        connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


ON_POSTGRES = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="PIB_TEST_POSTGRES_URL is not set (`make test` sets it)"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=ON_POSTGRES)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "pib.sqlite"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
        yield url
        get_engine(url).dispose()
    else:
        url = request.getfixturevalue("postgres_url")
        _empty_tables(get_engine(url))
        yield url


@pytest.fixture
def engine(database_url: str) -> Engine:
    return get_engine(database_url)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[None]:
    """The process settings pointed at the test database and a temporary outbox."""
    monkeypatch.setenv("PIB_DATABASE_URL", database_url)
    monkeypatch.setenv("PIB_OUTBOX_DIR", str(tmp_path / "outbox"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()

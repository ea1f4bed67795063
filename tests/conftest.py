"""Test databases: every test that asks for `engine` runs on SQLite and, when
PIB_TEST_POSTGRES_URL is set (`make test` sets it), on PostgreSQL too. Each test gets empty tables."""

from __future__ import annotations

import logging
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


@pytest.fixture(autouse=True)
def _root_logging_kept() -> Iterator[None]:
    """A command that logs to stderr (`pib notify`, `pib cpv retrain`) points the root logger at the stderr of
    the CliRunner, closed after the test: the records of later tests' server threads then fail with "I/O
    operation on closed file". The handler it added goes with its test; pytest's own handlers stay."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)


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


# CPV classifier: a small one, trained in about a second on a slice of the shipped corpus ---------------------

CPV_TEST_DIVISIONS = ("45", "72", "90", "33", "79", "71", "34", "15")
"""Divisions of the slice: works, IT services, environment, medical, business services, architecture,
vehicles, food (no software packages, 48, which IT services texts are easily taken for on so few examples)."""


@pytest.fixture(scope="session")
def cpv_examples() -> list:  # type: ignore[type-arg]
    """A slice of the shipped corpus: French, English and Dutch examples of a few divisions (60 each)."""
    from collections import Counter

    from watch.cpv.corpus import shipped_examples

    taken: Counter[str] = Counter()
    found = []
    for example in shipped_examples():
        division = example.codes[0][:2]
        if division in CPV_TEST_DIVISIONS and example.lang in ("fr", "en", "nl") and taken[division] < 60:
            taken[division] += 1
            found.append(example)
    return found


@pytest.fixture(scope="session")
def cpv_classifier(cpv_examples: list):  # type: ignore[no-untyped-def,type-arg]
    """The small classifier, trained once per session."""
    from watch.cpv.model import CpvClassifier

    return CpvClassifier.train(cpv_examples)


@pytest.fixture(autouse=True)
def _small_cpv_training(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """A test that makes the service train a CPV model (routing with no model stored, the retrain job) gets the
    small classifier at once, never minutes of training on the whole shipped corpus."""
    import watch.cpv.registry

    monkeypatch.setattr(
        watch.cpv.registry,
        "train_classifier",
        lambda examples, *, progress: request.getfixturevalue("cpv_classifier"),
    )

"""Crawls for real: each spider runs in a process of its own (`python -m crawlers.crawl`, exactly as the
scheduler runs it), over HTTP, against the replay server this test process starts on 127.0.0.1.

A subprocess rather than an in-process CrawlerProcess: Scrapy's Twisted reactor cannot be restarted,
so a second crawl in the pytest process would fail; a fresh process per crawl also proves the
checkpoint and the health record survive between runs, through the database only.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.crawl import CrawlReport, crawl_in_subprocess
from crawlers.crawl.models import CrawlRun
from crawlers.parsers import parse_bytes
from crawlers.replay import ReplayServer, start_replay_server
from crawlers.replay.catalog import Record
from crawlers.store.db import get_engine
from crawlers.store.service import export_notices
from tests.conftest import FIXTURES

SINCE = date(2006, 1, 1)
UNTIL = date(2026, 6, 30)

Key = tuple[str, str]


@pytest.fixture
def replay() -> Iterator[Callable[..., ReplayServer]]:
    """Start replay servers over the recorded fixtures (options: faults, scale, be_token...)."""
    servers: list[ReplayServer] = []

    def start(**options: Any) -> ReplayServer:
        server = start_replay_server(FIXTURES, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@dataclass
class Crawler:
    database_url: str

    @property
    def engine(self) -> Engine:
        return get_engine(self.database_url)

    def __call__(
        self,
        source: str,
        server: ReplayServer,
        *,
        since: date | None = SINCE,
        until: date | None = UNTIL,
        **settings: Any,
    ) -> CrawlReport:
        """Crawl `source` from `server`; keyword settings become PIB_* variables (`ted_countries=[]`)."""
        env = {
            "PIB_DATABASE_URL": self.database_url,
            "PIB_CONFIG_FILE": "",
            "PIB_TED_API_URL": server.base_url,
            "PIB_BOAMP_API_URL": server.base_url,
            "PIB_BE_API_URL": server.base_url,
            "PIB_DECP_API_URL": server.base_url,
            "PIB_DOWNLOAD_DELAY": "0",
            "PIB_AUTOTHROTTLE": "false",
            "PIB_CONCURRENT_REQUESTS": "4",
            "PIB_RETRY_BACKOFF_SECONDS": "0.05",
            "PIB_DOWNLOAD_TIMEOUT": "5",
        }
        for name, value in settings.items():
            env[f"PIB_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
        return crawl_in_subprocess(source=source, since=since, until=until, env=env, timeout=180)


@pytest.fixture
def crawl(database_url: str) -> Crawler:
    """Crawls into the test database (SQLite, and PostgreSQL when PIB_TEST_POSTGRES_URL is set)."""
    return Crawler(database_url)


def _sqlite(tmp_path: Path, template: Path, name: str) -> Iterator[Crawler]:
    path = tmp_path / f"{name}.sqlite"
    shutil.copy(template, path)
    crawler = Crawler(f"sqlite:///{path}")
    yield crawler
    crawler.engine.dispose()


@pytest.fixture
def crawl_sqlite(tmp_path: Path, sqlite_template: Path) -> Iterator[Crawler]:
    """Crawls into an SQLite database of its own (the fault tests, cheaper on one database)."""
    yield from _sqlite(tmp_path, sqlite_template, "crawl")


@pytest.fixture
def crawl_other(tmp_path: Path, sqlite_template: Path) -> Iterator[Crawler]:
    """A second, separate SQLite database, for comparing two crawls."""
    yield from _sqlite(tmp_path, sqlite_template, "other")


def notices_of(bodies: Iterable[bytes]) -> dict[Key, dict[str, Any]]:
    """What parsing the documents directly gives, keyed like the store."""
    expected: dict[Key, dict[str, Any]] = {}
    for body in bodies:
        for parsed in parse_bytes(body).notices:
            data = parsed.notice.to_json_dict()
            expected[(str(data["source"]), str(data["source_id"]))] = data
    return expected


def expected_ted(
    server: ReplayServer, *, since: date = SINCE, until: date = UNTIL, countries: Iterable[str] = ("BEL", "FRA")
) -> dict[Key, dict[str, Any]]:
    wanted = set(countries)
    return notices_of(
        document.body
        for document in server.catalog.ted
        if since <= document.published <= until and (not wanted or wanted & set(document.countries))
    )


def expected_records(records: Iterable[Record]) -> dict[Key, dict[str, Any]]:
    return notices_of(json.dumps(dict(record.data)).encode() for record in records)


def stored(engine: Engine, source: str | None = None) -> dict[Key, dict[str, Any]]:
    return {(data["source"], data["source_id"]): data for data in export_notices(engine, source=source)}


def runs(engine: Engine) -> list[dict[str, Any]]:
    table = CrawlRun.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(table).order_by(table.c.id)).mappings()]


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one())

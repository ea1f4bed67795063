"""Checkpoints, run records and source health, on the database; the `pib crawl` and `pib sources` commands."""

from __future__ import annotations

import doctest
import importlib
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from config.settings import Settings
from crawlers.crawl.context import CrawlContext, Window, read_checkpoint, write_checkpoint
from crawlers.crawl.health import source_health
from crawlers.crawl.runner import CrawlError, open_run, run_table
from crawlers.store.db import get_engine
from crawlers.store.service import store_notices
from pib.cli import app
from tests.factories import incoming, make_notice

from .conftest import runs

TODAY = date(2026, 3, 20)


def _context(engine: Engine, *, checkpoint: date | None = None, found: int = 0) -> CrawlContext:
    context = CrawlContext(
        source="boamp",
        engine=engine,
        settings=Settings(),
        since=date(2026, 3, 1),
        until=TODAY,
        today=TODAY,
        run_id=open_run(engine, source="boamp", values={}),
        checkpoint=checkpoint,
    )
    context.found = found
    return context


def test_the_checkpoint_moves_over_complete_windows_only_forward_and_without_gaps(engine: Engine) -> None:
    write_checkpoint(engine, source="boamp", done_through=date(2026, 3, 5), run_id=None)
    context = _context(engine, checkpoint=date(2026, 3, 5), found=10)

    context.window_done(Window(date(2026, 3, 1), date(2026, 3, 4)))  # behind: nothing to move
    assert read_checkpoint(engine, "boamp") == date(2026, 3, 5)
    context.window_done(Window(date(2026, 3, 3), date(2026, 3, 10)))
    assert read_checkpoint(engine, "boamp") == date(2026, 3, 10)
    context.window_done(Window(date(2026, 3, 13), date(2026, 3, 15)))  # a gap after the 10th
    assert read_checkpoint(engine, "boamp") == date(2026, 3, 10)
    broken = Window(date(2026, 3, 11), date(2026, 3, 12), failures=["http://x/: HTTP 500"])
    context.window_done(broken)
    context.window_done(Window(date(2026, 3, 13), date(2026, 4, 30)))  # after a failed window: never
    assert read_checkpoint(engine, "boamp") == date(2026, 3, 10)
    assert context.errors == ["http://x/: HTTP 500"]


def test_the_checkpoint_waits_for_the_first_notice_and_stops_at_today(engine: Engine) -> None:
    context = _context(engine)

    context.window_done(Window(date(2026, 3, 1), date(2026, 3, 8)))
    assert read_checkpoint(engine, "boamp") is None
    context.found = 3
    context.window_done(Window(date(2026, 3, 9), date(2026, 12, 31)))
    assert read_checkpoint(engine, "boamp") == TODAY == context.checkpoint
    assert context.checkpoint_before is None


def test_window_halves_cover_the_window_and_one_day_cannot_split() -> None:
    first, second = Window(date(2026, 3, 1), date(2026, 3, 10)).halves()

    assert (first.start, first.end, second.start, second.end) == (
        date(2026, 3, 1),
        date(2026, 3, 5),
        date(2026, 3, 6),
        date(2026, 3, 10),
    )
    assert Window(date(2026, 3, 1), date(2026, 3, 1)).days == 1


def test_a_run_left_running_by_a_dead_process_is_closed_and_a_live_one_blocks(engine: Engine) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = open_run(engine, source="ted", values={})
    with engine.begin() as connection:
        connection.execute(run_table.update().where(run_table.c.id == stale).values(pid=int(dead.stdout)))

    fresh = open_run(engine, source="ted", values={})

    by_id = {run["id"]: run for run in runs(engine)}
    assert by_id[stale]["status"] == "failed"
    assert "killed or crashed" in by_id[stale]["errors"][0]
    assert by_id[fresh]["status"] == "running" and by_id[fresh]["pid"] == os.getpid()
    with pytest.raises(CrawlError, match="already running"):
        open_run(engine, source="ted", values={})
    assert open_run(engine, source="boamp", values={})  # other sources are free


def _run(engine: Engine, source: str, status: str, ended: datetime, errors: list[str] | None = None) -> None:
    run_id = open_run(engine, source=source, values={})
    with engine.begin() as connection:
        connection.execute(
            run_table.update()
            .where(run_table.c.id == run_id)
            .values(status=status, started_at=ended - timedelta(minutes=5), ended_at=ended, errors=errors or [])
        )


def _publish(engine: Engine, source: str, per_week: list[int]) -> None:
    notices = []
    for week, amount in enumerate(per_week):
        day = TODAY - timedelta(days=7 * (len(per_week) - week))
        notices += [
            make_notice(source=source, source_id=f"{week}-{n}", published=day.isoformat()) for n in range(amount)
        ]
    store_notices(engine, [incoming(notice) for notice in notices])


def test_source_health_says_last_good_crawl_notices_per_day_and_warnings(engine: Engine) -> None:
    now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    _run(engine, "ted", "ok", now - timedelta(hours=3))
    _publish(engine, "ted", [70, 70, 70, 70])
    _run(engine, "boamp", "ok", now - timedelta(days=5))
    _run(engine, "boamp", "failed", now - timedelta(hours=1), ["suspicious empty answer: boamp listed no notice"])
    _publish(engine, "boamp", [140, 140, 140, 7])
    _publish(engine, "feed:namur", [7, 0, 0, 0])

    ted, boamp, be, feeds = source_health(
        engine, sources=["ted", "boamp", "be", "feeds"], today=TODAY, now=now, feed_names=["namur"]
    )

    assert (ted.per_day, ted.warnings, ted.last_status) == ([10.0, 10.0, 10.0, 10.0], [], "ok")
    assert ted.last_good == now - timedelta(hours=3)
    assert boamp.per_day == [20.0, 20.0, 20.0, 1.0]
    assert boamp.warnings == [
        "last run failed (#3): suspicious empty answer: boamp listed no notice",
        "no good crawl since 2026-03-15 12:00",
        "quiet: 1.0 notices a day last week, about 20.0 before",
    ]
    assert be.warnings == ["never crawled"]
    assert feeds.per_day == [1.0, 0.0, 0.0, 0.0]
    assert "quiet: nothing published in the last 7 days (about 0.3 a day before)" in feeds.warnings


def test_pib_sources_prints_each_source(settings_env: None, engine: Engine) -> None:
    _run(engine, "ted", "failed", datetime.now(UTC), ["http://x/: HTTP 500"])

    result = CliRunner().invoke(app, ["sources"])
    as_json = CliRunner().invoke(app, ["sources", "--json"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("source")
    assert any(line.startswith("ted ") and "failed" in line for line in lines)
    assert "! last run failed (#1): http://x/: HTTP 500" in result.output
    assert "! never crawled" in result.output
    rows = [json.loads(line) for line in as_json.output.splitlines()]
    assert [row["source"] for row in rows] == ["ted", "boamp", "be", "decp", "feeds"]


def test_pib_crawl_runs_a_spider_in_its_own_process(database_url: str, replay, tmp_path: Path) -> None:
    server = replay()
    pib = Path(sys.executable).with_name("pib")
    env: dict[str, Any] = {
        **os.environ,
        "PIB_DATABASE_URL": database_url,
        "PIB_CONFIG_FILE": "",
        "PIB_BOAMP_API_URL": server.base_url,
        "PIB_DOWNLOAD_DELAY": "0",
    }
    command = [str(pib), "crawl", "boamp", "--since", "2006-07-01", "--until", "2006-07-31", "--json"]

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    unknown = subprocess.run([str(pib), "crawl", "tenders"], env=env, capture_output=True, text=True, cwd=tmp_path)
    bad_date = subprocess.run(
        [str(pib), "crawl", "ted", "--since", "yesterday"], env=env, capture_output=True, text=True, cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["status"], report["stored"], report["source"]) == ("ok", 20, "boamp")
    assert "boamp 2006-07-01..2006-07-31: ok" in done.stderr
    assert unknown.returncode == 2 and "unknown source 'tenders'" in unknown.stderr
    assert bad_date.returncode == 2 and "--since: not a date" in bad_date.stderr
    assert [run["status"] for run in runs(get_engine(database_url))] == ["ok"]


@pytest.mark.parametrize(
    "name",
    [
        "crawlers.crawl.context",
        "crawlers.crawl.middlewares",
        "crawlers.crawl.runner",
        "crawlers.parsers.feeds",
        "crawlers.replay.catalog",
        "crawlers.spiders.ted",
    ],
)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0

"""The service: its jobs and their ids in the database, a failing job not stopping the others, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from crawlers.crawl.runner import run_table
from crawlers.replay import start_replay_server
from pib import scheduler as service
from pib.scheduler import JobSpec, build_scheduler, job_specs, schedule_first_crawls
from tests.conftest import FIXTURES
from tests.notifications.test_senders import free_port

ROOT = Path(__file__).resolve().parents[2]
ticks = threading.Semaphore(0)
booms: list[int] = []


def tick() -> None:
    ticks.release()


def boom() -> None:
    booms.append(1)
    raise RuntimeError("this job always fails")


def stored_jobs(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT id FROM apscheduler_jobs")).scalars())


def test_job_specs_have_stable_ids_and_settings_override_them() -> None:
    ids = [spec.id for spec in job_specs(Settings())]
    assert ids == [
        "crawl:ted",
        "crawl:boamp",
        "crawl:be",
        "crawl:decp",
        "link",
        "match",
        "cpv-retrain",
        "digests:instant",
        "digests:daily",
        "digests:weekly",
        "followups",
        "reveals",
        "outbox",
    ]
    custom = job_specs(
        Settings(
            schedules={"crawl:ted": "0 5 * * *", "digests:weekly": "off"},
            feeds=[{"name": "wallonie", "url": "https://feeds.example/rss"}],
        )
    )
    by_id = {spec.id: spec for spec in custom}
    assert by_id["crawl:ted"].cron == "0 5 * * *"
    assert "digests:weekly" not in by_id
    assert by_id["crawl:feeds"].args == ("feeds",)
    assert by_id["digests:daily"].reference == "pib.scheduler:digests_job"
    with pytest.raises(ValueError, match="unknown jobs: crawl:nowhere"):
        job_specs(Settings(schedules={"crawl:nowhere": "0 5 * * *"}))
    with pytest.raises(ValueError):
        job_specs(Settings(schedules={"crawl:ted": "every day"}))


def test_jobs_are_kept_in_the_database_replaced_and_pruned(engine: Engine) -> None:
    specs = job_specs(Settings())
    scheduler = build_scheduler(engine, specs)
    scheduler.shutdown()
    assert stored_jobs(engine) == sorted(spec.id for spec in specs)

    fewer = [spec for spec in specs if spec.id != "link"]
    changed = [JobSpec(s.id, s.func, s.args, "0 3 * * *" if s.id == "outbox" else s.cron) for s in fewer]
    scheduler = build_scheduler(engine, changed)
    assert str(scheduler.get_job("outbox").trigger) == str(CronTrigger.from_crontab("0 3 * * *"))
    scheduler.shutdown()
    assert stored_jobs(engine) == sorted(spec.id for spec in fewer)


def test_a_failing_job_does_not_stop_the_others(engine: Engine) -> None:
    scheduler = build_scheduler(engine, [])
    scheduler.add_job(f"{__name__}:boom", "interval", seconds=0.2, id="boom")
    scheduler.add_job(f"{__name__}:tick", "interval", seconds=0.2, id="tick")
    scheduler.resume()
    try:
        for _ in range(3):
            assert ticks.acquire(timeout=20), "the healthy job stopped running"
    finally:
        scheduler.shutdown()
    assert len(booms) >= 1


def test_serve_stops_cleanly_on_sigterm(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    # no live host in a test, no training
    off = {job: "off" for job in ("crawl:ted", "crawl:boamp", "crawl:be", "crawl:decp", "cpv-retrain")}
    env = {
        **os.environ,
        "PIB_DATABASE_URL": database_url,
        "PIB_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PIB_WEB_PORT": str(port),
        "PIB_SCHEDULES": json.dumps(off),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from pib.cli import app; app()", "serve"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        for line in process.stderr:
            lines.append(line)
            if "scheduler started" in line:
                break
        assert any("scheduler started" in line for line in lines), "".join(lines)
        for _ in range(50):  # the web thread may take a moment to accept
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                    assert answer.read() == b"ok\n"
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the links server never answered")
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, "".join(lines) + rest
    assert "SIGTERM received: stopping" in rest
    assert "stopped cleanly" in rest


def record_run(engine: Engine, source: str, started: datetime) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.insert(run_table).values(
                source=source,
                status="ok",
                started_at=started,
                ended_at=started,
            )
        )


def test_a_fresh_start_crawls_each_source_within_the_first_minutes(engine: Engine) -> None:
    now = datetime.now(UTC)
    record_run(engine, "boamp", now - timedelta(minutes=20))  # just crawled: waits for its schedule
    record_run(engine, "be", now - timedelta(hours=5))  # crawled long ago: crawled at start
    specs = job_specs(Settings(feeds=[{"name": "wallonie", "url": "https://feeds.example/rss"}]))
    scheduler = build_scheduler(engine, specs)
    try:
        on_schedule = {job.id: job.next_run_time for job in scheduler.get_jobs()}
        moved = schedule_first_crawls(scheduler, engine, now=now)
        after = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    firsts = {
        job_id: when - now for job_id, when in after.items() if job_id in {"crawl:ted", "crawl:be", "crawl:feeds"}
    }
    assert len(firsts) == 3
    assert all(timedelta(0) < delay <= timedelta(minutes=2) for delay in firsts.values()), firsts
    assert len(set(firsts.values())) == 3, "the first crawls are staggered, not all at once"
    assert after["crawl:boamp"] == on_schedule["crawl:boamp"]
    assert {job_id: when for job_id, when in after.items() if not job_id.startswith("crawl:")} == {
        job_id: when for job_id, when in on_schedule.items() if not job_id.startswith("crawl:")
    }
    # every source not crawled lately is moved, unless its crontab runs it within these minutes anyway (crawl:be
    # at 9:30 in Brussels when the test runs then); boamp, crawled lately, is not
    moved_sources = {source for source, _ in moved}
    for source in ("be", "decp", "feeds", "ted"):
        assert source in moved_sources or on_schedule[f"crawl:{source}"] <= now + timedelta(minutes=2), source
    assert "boamp" not in moved_sources and len(moved_sources) >= 3  # no two crontabs fire this close


def test_the_service_says_what_it_crawls_and_when_next(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`pib serve` on a fresh database: the first crawl runs at once, and the log says so in plain words."""
    server = start_replay_server(FIXTURES)
    others = ("crawl:boamp", "crawl:be", "link", "match", "cpv-retrain", "digests:instant", "digests:daily")
    others += ("digests:weekly",)
    env = {
        "PIB_DATABASE_URL": database_url,
        "PIB_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PIB_TED_API_URL": server.base_url,
        "PIB_DOWNLOAD_DELAY": "0",
        "PIB_AUTOTHROTTLE": "false",
        "PIB_CRAWL_INITIAL_DAYS": "20000",
        "PIB_SCHEDULES": json.dumps({job: "off" for job in (*others, "crawl:decp", "followups", "reveals", "outbox")}),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(service, "FIRST_CRAWL_AFTER", timedelta(seconds=0.5))
    get_settings.cache_clear()
    caplog.set_level("INFO", logger="pib.serve")
    stop = threading.Event()
    thread = threading.Thread(target=service.serve, kwargs={"web": False, "stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not any("next crawl at" in r.getMessage() for r in caplog.records):
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=120)
        server.stop()
        get_settings.cache_clear()
    messages = [record.getMessage() for record in caplog.records if record.name == "pib.serve"]
    said = "\n".join(messages)
    assert "ted: first crawl at " in said
    assert "crawling ted…" in said
    done = next(message for message in messages if message.startswith("ted: ") and "next crawl at" in message)
    new = int(done.removeprefix("ted: ").split()[0])
    assert new > 0, done
    with service.get_engine(database_url).connect() as connection:
        stored = connection.execute(sa.text("SELECT count(*) FROM notice WHERE source = 'ted'")).scalar_one()
    assert stored == new
    next_crawl = datetime.strptime(done.rsplit("next crawl at ", 1)[1], "%Y-%m-%d %H:%M:%S%z")
    assert next_crawl > datetime.now(UTC), "the next crawl is on the schedule, with the offset of its zone"

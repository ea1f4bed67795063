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
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from config.settings import Settings
from pib.scheduler import JobSpec, build_scheduler, job_specs
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
        "link",
        "match",
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
    off = {job: "off" for job in ("crawl:ted", "crawl:boamp", "crawl:be")}  # never a live host in a test
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

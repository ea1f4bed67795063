"""Running one crawl: its dates, its health record, and Scrapy in a process of its own.

Scrapy's reactor cannot be restarted in a process, so a crawl is a process: `pib crawl SOURCE`, or
`python -m crawlers.crawl SOURCE` for the scheduler, through `crawl_in_subprocess()`. `run_crawl()`
runs in the calling process and may be called once per process; it forks the crawl's parsing process
(`worker.py`), which parses and stores what the spider fetches.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings

from ..parsers.fields import BRUSSELS
from ..store.db import get_engine
from ..store.models import utcnow
from .context import SOURCES, CrawlContext, has_passed_working_day, read_checkpoint
from .models import CrawlRun
from .worker import ParseWorker

run_table: sa.Table = CrawlRun.__table__  # type: ignore[attr-defined]

STALE_AFTER = timedelta(hours=24)
"""A run `running` for longer than this on another host is taken as dead."""


class CrawlError(Exception):
    """A crawl that could not start or whose process gave no report; the message says why."""


@dataclass
class CrawlReport:
    """What a run did, as recorded in its health record (`crawl_run`)."""

    run_id: int
    source: str
    status: str
    since: date
    until: date
    backfill: bool
    started_at: datetime
    ended_at: datetime
    checkpoint_before: date | None
    checkpoint_after: date | None
    found: int = 0
    fetched: int = 0
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    failed: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        seconds = (self.ended_at - self.started_at).total_seconds()
        moved = (
            f"checkpoint {self.checkpoint_before} → {self.checkpoint_after}"
            if self.checkpoint_after != self.checkpoint_before
            else f"checkpoint stays {self.checkpoint_before}"
        )
        lines = [
            f"{self.source} {self.since}..{self.until}: {self.status} in {seconds:.1f} s, {self.requests} requests, "
            f"{self.found} listed, {self.fetched} parsed: {self.stored} stored, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.failed} set aside; {moved} (run #{self.run_id})"
        ]
        lines += [f"  error: {message}" for message in self.errors]
        lines += [f"  warning: {message}" for message in self.warnings]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CrawlReport:
        values = dict(data)
        for key in ("since", "until", "checkpoint_before", "checkpoint_after"):
            values[key] = date.fromisoformat(values[key]) if values.get(key) else None
        for key in ("started_at", "ended_at"):
            values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


def brussels_today() -> date:
    return datetime.now(BRUSSELS).date()


def plan_dates(
    *, since: date | None, until: date | None, checkpoint: date | None, settings: Settings, today: date
) -> tuple[date, date]:
    """The dates of a run: given ones (a backfill), else from the checkpoint minus the overlap to today.

    >>> from config.settings import Settings
    >>> plan_dates(since=None, until=None, checkpoint=date(2026, 3, 5), settings=Settings(), today=date(2026, 3, 9))
    (datetime.date(2026, 3, 2), datetime.date(2026, 3, 9))
    >>> plan_dates(since=None, until=None, checkpoint=None, settings=Settings(), today=date(2026, 3, 9))
    (datetime.date(2026, 3, 2), datetime.date(2026, 3, 9))
    """
    end = until or today
    if since is not None:
        start = since
    elif checkpoint is not None:
        start = checkpoint - timedelta(days=settings.crawl_overlap_days)
    else:
        start = today - timedelta(days=settings.crawl_initial_days)
    if start > end:
        raise CrawlError(f"nothing to crawl: the first day {start} is after the last day {end}")
    return start, end


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_run(engine: Engine, *, source: str, values: dict[str, Any]) -> int:
    """Record a new run; close the runs of the source left `running` by dead processes, and refuse to
    start beside a live one (two crawls of one source would race on its checkpoint)."""
    host, now = socket.gethostname(), utcnow()
    with engine.begin() as connection:
        running = connection.execute(
            sa.select(run_table.c.id, run_table.c.host, run_table.c.pid, run_table.c.started_at).where(
                run_table.c.source == source, run_table.c.status == "running"
            )
        ).all()
        for run_id, run_host, pid, started_at in running:
            started = started_at if started_at.tzinfo else started_at.replace(tzinfo=now.tzinfo)
            alive = _process_alive(pid) if run_host == host and pid else now - started < STALE_AFTER
            if alive:
                raise CrawlError(f"a crawl of {source} is already running: run #{run_id} (pid {pid} on {run_host})")
            connection.execute(
                run_table.update()
                .where(run_table.c.id == run_id)
                .values(
                    status="failed",
                    ended_at=now,
                    errors=["the process ended without finishing its run (killed or crashed)"],
                )
            )
        inserted = connection.execute(
            run_table.insert()
            .values(source=source, status="running", started_at=now, host=host, pid=os.getpid(), **values)
            .returning(run_table.c.id)
        )
        return int(inserted.scalar_one())


def _finish(context: CrawlContext, *, reason: str | None, requests: int, started_at: datetime) -> CrawlReport:
    errors = list(context.errors)
    warnings = context.warnings()
    windowed = context.source != "feeds"
    quiet = reason == "finished" and windowed and context.found == 0 and not errors
    if quiet and has_passed_working_day(context.since, context.until, today=context.today):
        errors.append(
            f"suspicious empty answer: {context.source} listed no notice for {context.since}..{context.until}, "
            "which has working days; the source or the query may be broken"
        )
    if errors or context.store_failed:
        status = "failed"
    elif reason != "finished":
        status = "interrupted"
        warnings.insert(0, f"stopped ({reason}) after {requests} requests; the next run continues from the checkpoint")
    else:
        status = "ok"
    report = CrawlReport(
        run_id=context.run_id,
        source=context.source,
        status=status,
        since=context.since,
        until=context.until,
        backfill=context.backfill,
        started_at=started_at,
        ended_at=utcnow(),
        checkpoint_before=context.checkpoint_before,
        checkpoint_after=context.checkpoint,
        found=context.found,
        fetched=context.fetched,
        stored=context.stored,
        updated=context.updated,
        unchanged=context.unchanged,
        older=context.older,
        failed=context.failed,
        requests=requests,
        errors=errors,
        warnings=warnings,
    )
    with context.engine.begin() as connection:
        connection.execute(
            run_table.update()
            .where(run_table.c.id == context.run_id)
            .values(
                status=report.status,
                ended_at=report.ended_at,
                checkpoint_after=report.checkpoint_after,
                found=report.found,
                fetched=report.fetched,
                stored=report.stored,
                updated=report.updated,
                unchanged=report.unchanged,
                older=report.older,
                failed=report.failed,
                requests=report.requests,
                errors=report.errors,
                warnings=report.warnings,
            )
        )
    return report


def run_crawl(
    *,
    source: str,
    since: date | None = None,
    until: date | None = None,
    settings: Settings | None = None,
    today: date | None = None,
) -> CrawlReport:
    """Run one spider to its end in this process and record its health; the database must be migrated.

    Without dates, an incremental crawl: from the checkpoint minus `crawl_overlap_days` (or
    `crawl_initial_days` ago for a first crawl) to today. With dates, a backfill: the checkpoint moves
    only if the backfill joins it, and never backwards.
    """
    from scrapy.crawler import CrawlerProcess

    from ..scrapy_settings import scrapy_settings
    from ..spiders import SPIDERS

    if source not in SOURCES:
        raise CrawlError(f"unknown source {source!r}: one of {', '.join(SOURCES)}")
    settings = settings or get_settings()
    today = today or brussels_today()
    engine = get_engine(settings.database_url)
    checkpoint = read_checkpoint(engine, source) if source != "feeds" else None
    start, end = plan_dates(since=since, until=until, checkpoint=checkpoint, settings=settings, today=today)
    if source == "feeds":
        start = end = today
    backfill = since is not None or until is not None
    started_at = utcnow()
    run_id = open_run(
        engine,
        source=source,
        values={"since": start, "until": end, "backfill": backfill, "checkpoint_before": checkpoint},
    )
    context = CrawlContext(
        source=source,
        engine=engine,
        settings=settings,
        since=start,
        until=end,
        today=today,
        run_id=run_id,
        checkpoint=checkpoint,
        backfill=backfill,
    )
    if source == "feeds" and backfill:
        context.warn("feeds have no date filter: --since and --until are ignored")
    reason: str | None = None
    if source != "feeds":  # feeds are parsed as they are read, with their own options
        context.worker = ParseWorker(settings.database_url)  # forked before Scrapy starts its reactor
    try:
        process = CrawlerProcess(settings=scrapy_settings(settings))
        crawler = process.create_crawler(SPIDERS[source])
        process.crawl(crawler, context=context)
        process.start()
        if crawler.stats is not None:
            reason = crawler.stats.get_value("finish_reason")
    except Exception as error:
        context.error(f"the crawl stopped on an unexpected error: {type(error).__name__}: {error}")
        raise
    finally:
        if context.worker is not None:
            context.worker.stop()
        report = _finish(context, reason=reason, requests=context.requests, started_at=started_at)
    return report


def crawl_in_subprocess(
    *,
    source: str,
    since: date | None = None,
    until: date | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> CrawlReport:
    """Run `python -m crawlers.crawl` and return its report: how the scheduler (and the tests) crawl.

    `env` is added to this process's environment (settings are `PIB_*` variables).
    """
    command = [sys.executable, "-m", "crawlers.crawl", source, "--json"]
    if since is not None:
        command += ["--since", since.isoformat()]
    if until is not None:
        command += ["--until", until.isoformat()]
    completed = subprocess.run(
        command, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
        raise CrawlError(f"crawl of {source} ended with code {completed.returncode} and no report:\n{tail}")
    return CrawlReport.from_json(json.loads(lines[-1]))

"""The service: APScheduler 3.x runs the jobs (crawl, link, match, CPV retrain, digests, follow-ups, reveal
emails, outbox retries).

Jobs are importable functions with serializable arguments and stable ids, kept in the database of the
service (SQLAlchemyJobStore, table `apscheduler_jobs` of migration 0007). At start every job
of `job_specs` is (re)written with `replace_existing`, and jobs of older versions are removed. A failing
job is logged with its id and never stops the others (APScheduler isolates each run). A crawl runs in a
subprocess (Scrapy's reactor cannot restart in a long-lived process), and so does a CPV retrain (minutes of
CPU that would slow the web side). SIGTERM or SIGINT stops the service cleanly: no new runs, running crawls
are asked to stop, running jobs finish, the job store is left intact.

At start, each source not crawled in the last hour is crawled within the first two minutes, one after the
other (`schedule_first_crawls`), so a new installation has notices at once, not at the next scheduled time;
then each job follows its crontab. Without any CPV model, the first one is trained in the first seconds
(`schedule_first_retrain`), and a match job that comes before it is ready waits for it. The service says
what it does in plain words ("crawling ted…", "ted: 124 new notices, 3 updated; next crawl at …"), every
time in local time with offset (`pib.logging_setup`).
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from crawlers.crawl.runner import CrawlReport, run_table
from crawlers.store.db import get_engine
from pib import job_results
from pib.job_store import job_store
from pib.logging_setup import local_time

log = logging.getLogger("pib.serve")

BRUSSELS = ZoneInfo("Europe/Brussels")
CRAWL_TIMEOUT = 3 * 3600
"""A crawl that runs longer is stopped (checkpoints make the next one resume)."""
STOP_GRACE = 30
FIRST_CRAWL_AFTER = timedelta(seconds=15)
"""At start, the first source is crawled this soon (the web side and the job store are up by then)..."""
FIRST_CRAWL_STAGGER = timedelta(seconds=30)
"""...and each next one this much later, so the sources are not all fetched and stored at once."""
RETRAIN_TIMEOUT = 2 * 3600
"""A CPV retrain that runs longer is stopped (the active version stays)."""
FIRST_RETRAIN_AFTER = timedelta(seconds=5)
"""At start without any CPV model, the first one is trained this soon."""
RECENT_CRAWL = timedelta(hours=1)
"""A source whose last crawl started less than this before the start waits for its schedule (a restart
does not crawl everything again)."""

_children: set[subprocess.Popen[str]] = set()
_children_lock = threading.Lock()


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    cron: str
    """Five-field crontab in Europe/Brussels time."""

    @property
    def reference(self) -> str:
        return f"{self.func.__module__}:{self.func.__name__}"


# Jobs -------------------------------------------------------------------------------------------------------


def _engine() -> Engine:
    return get_engine(get_settings().database_url)


def crawl_job(source: str) -> CrawlReport:
    """One source's crawl in its own process (`python -m crawlers.crawl SOURCE --json`), waited for; its
    report is returned, for the line that says what it brought (`_on_executed`)."""
    log.info("crawling %s…", source)
    command = [sys.executable, "-m", "crawlers.crawl", source, "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    with _children_lock:
        _children.add(process)
    try:
        out, _ = process.communicate(timeout=CRAWL_TIMEOUT)
    except subprocess.TimeoutExpired:
        _end(process)
        raise RuntimeError(f"crawl {source}: stopped after {CRAWL_TIMEOUT} s") from None
    finally:
        with _children_lock:
            _children.discard(process)
    reports = [line for line in out.splitlines() if line.startswith("{")]
    if not reports:
        raise RuntimeError(f"crawl {source}: `{' '.join(command[1:])}` exited with {process.returncode}, no report")
    report = CrawlReport.from_json(json.loads(reports[-1]))
    if not report.ok:
        reason = (report.errors or report.warnings or ["no reason recorded"])[0]
        raise RuntimeError(f"crawl {source} {report.status} (run #{report.run_id}): {reason}")
    return report


def link_job() -> None:
    """Link new publications into procedures (so change alerts and reminders follow the procedure), then resolve
    the winners of the new award notices into organisations."""
    from crawlers.store.procedures import link_procedures

    log.info("link procedures: %s", link_procedures(_engine()).describe())
    from watch.organisations import resolve_awards  # the award notices just linked: their winners' organisations

    summary = resolve_awards(_engine())
    if summary.notices or summary.links_confirmed or summary.links_proposed or summary.failed:
        log.info("organisations: %s", summary.describe())


def match_job() -> None:
    """Route the new notices to the members' profiles; on a fresh installation, the first CPV model is trained
    first (in its own process), so that notices without codes are routed with inferred ones."""
    from watch.cpv.registry import active_version
    from watch.routing import route_new

    engine = _engine()
    if active_version(engine) is None:
        try:
            cpv_retrain_job()
        except Exception:  # routing goes on: keywords still match, and it trains in-process as a last resort
            log.exception("match: the first CPV model could not be trained in its own process")
    log.info("match: %s", route_new(engine).describe())


_retraining = threading.Lock()
"""One retrain at a time: the scheduled job and a match job that found no model wait for each other."""


def cpv_retrain_job() -> None:
    """Retrain the CPV classifier if the store gained `cpv_retrain_min_new` coded notices since the active
    version (or there is none): `python -m pib.cli_cpv_admin --json` in its own process, waited for, so that
    training does not slow the web side. Its progress goes to the service's log; then one summary line."""
    from watch.cpv.registry import RetrainSummary

    with _retraining:
        command = [sys.executable, "-m", "pib.cli_cpv_admin", "--json"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        with _children_lock:
            _children.add(process)
        try:
            out, _ = process.communicate(timeout=RETRAIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            _end(process)
            raise RuntimeError(f"CPV retrain: stopped after {RETRAIN_TIMEOUT} s") from None
        finally:
            with _children_lock:
                _children.discard(process)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode or not lines:
        raise RuntimeError(f"CPV retrain: `{' '.join(command[1:])}` exited with {process.returncode}")
    log.info("%s", RetrainSummary(**json.loads(lines[-1])).describe())


def digests_job(frequency: str) -> None:
    from notifications.digests import send_digests
    from notifications.senders import sender_from_settings

    summary = send_digests(_engine(), frequency=frequency, sender=sender_from_settings(get_settings()))
    log.info("%s", summary.describe())


def followups_job() -> None:
    from notifications.reminders import send_followups
    from notifications.senders import sender_from_settings

    log.info("%s", send_followups(_engine(), sender=sender_from_settings(get_settings())).describe())


def reveals_job() -> None:
    """Tell firms of the reveal requests made to them, and both firms of a reveal they agreed to."""
    from notifications.senders import sender_from_settings
    from pib.jobs import send_reveal_emails

    summary = send_reveal_emails(_engine(), sender=sender_from_settings(get_settings()))
    if summary.anything:
        log.info("%s", summary.describe())


def outbox_job() -> None:
    """Retries due in the outbox, emails a dead process left half-sent, and old contents forgotten."""
    from crawlers.store.models import utcnow
    from notifications.outbox import KEEP_CONTENTS, deliver, forget_contents
    from notifications.senders import sender_from_settings

    engine = _engine()
    summary = deliver(engine, sender=sender_from_settings(get_settings()))
    if summary.sent or summary.failed or summary.recovered or summary.cancelled:
        log.info("outbox: %s", summary.describe())
    if forgotten := forget_contents(engine, before=utcnow() - KEEP_CONTENTS):
        log.info("outbox: the text of %s emails older than %s days forgotten", forgotten, KEEP_CONTENTS.days)


# Schedule ---------------------------------------------------------------------------------------------------

SOURCES_CRON = {
    "ted": "10 6-22/4 * * *",
    "boamp": "20 */3 * * *",
    "be": "30 */3 * * *",
    "decp": "50 5 * * *",
    "feeds": "40 * * * *",
}
"""TED publishes once a working day, BOAMP twice, BE all day, DECP (awarded contracts) once a day; feeds are
cheap to poll."""


def job_specs(settings: Settings) -> list[JobSpec]:
    """Every job of the service; `PIB_SCHEDULES` ({"id": "crontab" or "off"}) replaces a default."""
    specs = [
        JobSpec(f"crawl:{source}", crawl_job, (source,), cron)
        for source, cron in SOURCES_CRON.items()
        if source != "feeds" or settings.feeds
    ]
    specs += [
        JobSpec("link", link_job, (), "5,20,35,50 * * * *"),
        JobSpec("match", match_job, (), "7,22,37,52 * * * *"),
        JobSpec("cpv-retrain", cpv_retrain_job, (), "30 2 * * *"),
        JobSpec("digests:instant", digests_job, ("instant",), "9,24,39,54 * * * *"),
        JobSpec("digests:daily", digests_job, ("daily",), "0 7 * * *"),
        JobSpec("digests:weekly", digests_job, ("weekly",), "0 7 * * mon"),
        JobSpec("followups", followups_job, (), "15 7-20 * * *"),
        JobSpec("reveals", reveals_job, (), "2-59/5 * * * *"),
        JobSpec("outbox", outbox_job, (), "*/5 * * * *"),
    ]
    unknown = set(settings.schedules) - {spec.id for spec in specs}
    if unknown:
        raise ValueError(f"PIB_SCHEDULES names unknown jobs: {', '.join(sorted(unknown))}")
    chosen = []
    for spec in specs:
        cron = settings.schedules.get(spec.id, spec.cron).strip()
        if cron == "off":
            continue
        CronTrigger.from_crontab(cron, timezone=BRUSSELS)  # a bad expression fails here, with the job's id
        chosen.append(JobSpec(spec.id, spec.func, spec.args, cron))
    return chosen


def recent_crawls(engine: Engine, *, since: datetime) -> dict[str, datetime]:
    """When each source's last crawl started, for the sources crawled after `since`."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(run_table.c.source, sa.func.max(run_table.c.started_at))
            .where(run_table.c.started_at >= since.astimezone(UTC))
            .group_by(run_table.c.source)
        ).all()
    return {source: started if started.tzinfo else started.replace(tzinfo=UTC) for source, started in rows}


def schedule_first_crawls(scheduler: BaseScheduler, engine: Engine, *, now: datetime) -> list[tuple[str, datetime]]:
    """Move each crawl job's next run to the first minutes after `now`, staggered, unless its source was
    crawled in the last `RECENT_CRAWL`; after that run the job follows its crontab again. Returns the moves."""
    recent = recent_crawls(engine, since=now - RECENT_CRAWL)
    moved: list[tuple[str, datetime]] = []
    for job in sorted(scheduler.get_jobs(), key=lambda job: job.id):
        source = job.id.removeprefix("crawl:")
        if not job.id.startswith("crawl:") or source in recent:
            continue
        when = now + FIRST_CRAWL_AFTER + len(moved) * FIRST_CRAWL_STAGGER
        if job.next_run_time is None or when < job.next_run_time:
            job.modify(next_run_time=when)
            moved.append((source, when))
    for source, started in sorted(recent.items()):
        log.info("%s was crawled at %s: next crawl on schedule", source, local_time(started))
    return moved


def schedule_first_retrain(scheduler: BaseScheduler, engine: Engine, *, now: datetime) -> datetime | None:
    """Without any CPV model (a fresh installation), move the `cpv-retrain` job's next run to the first
    seconds after `now`; returns when, or None when a model exists (or the job is off)."""
    from watch.cpv_tables import CpvModelRecord

    job = scheduler.get_job("cpv-retrain")
    if job is None:
        return None
    models: sa.Table = CpvModelRecord.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        if connection.execute(sa.select(models.c.id).limit(1)).first() is not None:
            return None
    when = now + FIRST_RETRAIN_AFTER
    job.modify(next_run_time=when)
    return when


def _next_run(store: BaseJobStore, job_id: str) -> str:
    """Read from the job store itself: the scheduler's `get_job` waits for the lock that `shutdown` holds while it
    joins the executor's threads, this listener's among them (a deadlock)."""
    job = store.lookup_job(job_id)
    return local_time(job.next_run_time) if job is not None and job.next_run_time is not None else "never"


def _on_event(store: BaseJobStore, event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        log.warning("job %s missed its run at %s", event.job_id, local_time(event.scheduled_run_time))
    elif event.code == EVENT_JOB_EXECUTED:
        if isinstance(event.retval, CrawlReport):
            report = event.retval
            log.info(
                "%s: %s new notices, %s updated, %s set aside; next crawl at %s",
                report.source,
                report.stored,
                report.updated,
                report.failed,
                _next_run(store, event.job_id),
            )
    else:
        log.error(
            "job %s failed: %s; next run at %s",
            event.job_id,
            event.exception,
            _next_run(store, event.job_id),
            exc_info=None if isinstance(event.exception, RuntimeError) else event.exception,
        )


def build_scheduler(engine: Engine, specs: list[JobSpec]) -> BackgroundScheduler:
    """A started (paused) scheduler on the database's job store, holding exactly the jobs of `specs`."""
    store = job_store(engine)
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(8)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=BRUSSELS,
    )
    scheduler.add_listener(
        lambda event: _on_event(store, event), EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_EXECUTED
    )
    scheduler.add_listener(job_results.listener(engine), EVENT_JOB_ERROR | EVENT_JOB_EXECUTED)  # for the dashboard
    scheduler.start(paused=True)
    wanted = {spec.id for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            log.info("job %s removed (no longer part of the service)", job.id)
            job.remove()
    for spec in specs:
        scheduler.add_job(
            spec.reference,
            CronTrigger.from_crontab(spec.cron, timezone=BRUSSELS),
            args=list(spec.args),
            id=spec.id,
            name=spec.id,
            replace_existing=True,
        )
    return scheduler


def _end(process: subprocess.Popen[str]) -> None:
    """SIGTERM (a crawl stops at its next checkpoint), then SIGKILL after STOP_GRACE seconds."""
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stop_children() -> None:
    with _children_lock:
        children = list(_children)
    for child in children:
        _end(child)


def serve(*, settings: Settings | None = None, web: bool = True, stop: threading.Event | None = None) -> None:
    """Run the service until SIGTERM or SIGINT (or `stop` is set), then stop cleanly."""
    from pib.db import ready_engine

    settings = settings or get_settings()
    stop = stop or threading.Event()
    engine = ready_engine(settings.database_url)
    specs = job_specs(settings)
    scheduler = build_scheduler(engine, specs)

    def on_signal(number: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(number).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, on_signal)
    server = None
    if web:
        from pib.web import start_web

        try:
            server, _thread = start_web(settings.web_host, settings.web_port, engine)
        except OSError as error:
            scheduler.shutdown(wait=False)
            where = f"{settings.web_host}:{settings.web_port}"
            raise SystemExit(f"pib serve: cannot serve the links on {where}: {error}") from None
        log.info(
            "links served on http://%s:%s/l/ (public URL %s)", settings.web_host, settings.web_port, settings.public_url
        )
    first = schedule_first_crawls(scheduler, engine, now=datetime.now(UTC))
    first_model = schedule_first_retrain(scheduler, engine, now=datetime.now(UTC))
    scheduler.resume()
    log.info("scheduler started: %s jobs", len(specs))
    for source, when in first:
        log.info("%s: first crawl at %s", source, local_time(when))
    if first_model is not None:
        log.info("cpv-retrain: no CPV model yet; the first one is trained at %s", local_time(first_model))
    for job in sorted(scheduler.get_jobs(), key=lambda job: job.next_run_time or datetime.max.replace(tzinfo=UTC)):
        if not any(job.id == f"crawl:{source}" for source, _ in first):
            log.info("%s: next run at %s", job.id, local_time(job.next_run_time))
    try:
        while not stop.wait(1):
            pass
    finally:
        scheduler.pause()
        _stop_children()
        scheduler.shutdown(wait=True)
        if server is not None:
            server.shutdown()
            server.server_close()
        log.info("stopped cleanly")

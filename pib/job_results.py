"""The scheduler's jobs as staff see them on the dashboard: next run, last result, and "run now".

APScheduler keeps each job's next run in its job store (`apscheduler_jobs`) but forgets how the last run
ended; `record_result` (a scheduler listener, see `pib.scheduler.build_scheduler`) keeps the last result of
each job in `scheduler_job_result`, one row per job, so a page in another process can show it.

"Run now" sets the job's next run time to now in the job store (`run_now`): the running service picks it up
at its next wake-up (it wakes at least every five minutes, for the outbox and reveal jobs) and runs it once,
then follows the job's crontab again. No second scheduler is started from the web side, so a job never runs
twice at once (`max_instances=1` is the running scheduler's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

from crawlers.crawl.runner import CrawlReport
from crawlers.store.models import utcnow

from .job_store import job_store

log = logging.getLogger(__name__)
SUMMARY_LENGTH = 500


class JobResult(SQLModel, table=True):
    """How a scheduler job's last run ended (`ok` false: it raised; `summary` says what it did or why)."""

    __tablename__ = "scheduler_job_result"

    job_id: str = Field(primary_key=True, max_length=191)
    finished_at: datetime = Field(default_factory=utcnow)
    ok: bool
    summary: str = Field(default="", max_length=SUMMARY_LENGTH)


def record_result(engine: Engine, *, job_id: str, ok: bool, summary: str, at: datetime | None = None) -> None:
    """Keep the last result of a job (replacing the one before)."""
    summary = " ".join(summary.split())
    summary = summary if len(summary) <= SUMMARY_LENGTH else summary[: SUMMARY_LENGTH - 1] + "…"
    with Session(engine) as session:
        row = session.get(JobResult, job_id) or JobResult(job_id=job_id, ok=ok)
        row.ok, row.summary, row.finished_at = ok, summary, at or utcnow()
        session.add(row)
        session.commit()


@dataclass(frozen=True)
class JobStatus:
    id: str
    next_run: datetime | None
    """None: paused (the job exists but will not run)."""
    last_finished: datetime | None
    last_ok: bool | None
    last_summary: str


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def job_statuses(engine: Engine) -> list[JobStatus]:
    """Every job in the store, soonest next run first, with its last result if one was recorded."""
    jobs = job_store(engine).get_all_jobs()
    with Session(engine) as session:
        results = {row.job_id: row for row in session.exec(sa.select(JobResult)).scalars()}  # type: ignore[call-overload]
    statuses = []
    for job in jobs:
        result = results.get(job.id)
        statuses.append(
            JobStatus(
                id=job.id,
                next_run=job.next_run_time,
                last_finished=_aware(result.finished_at) if result else None,
                last_ok=result.ok if result else None,
                last_summary=result.summary if result else "",
            )
        )
    return statuses


def run_now(engine: Engine, *, job_id: str, now: datetime | None = None) -> bool:
    """Make a job due now in the job store; False when no such job is stored (the service never ran it)."""
    store = job_store(engine)
    job = store.lookup_job(job_id)
    if job is None:
        return False
    job.next_run_time = (now or utcnow()).astimezone(job.trigger.timezone)
    store.update_job(job)
    return True


def listener(engine: Engine) -> Callable[[JobExecutionEvent], None]:
    """The scheduler listener that keeps each job's last result (EVENT_JOB_EXECUTED | EVENT_JOB_ERROR); a
    failure to record is logged and never stops the scheduler."""

    def on_event(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            ok, summary = False, str(event.exception) or type(event.exception).__name__
        elif event.code == EVENT_JOB_EXECUTED:
            report = event.retval
            ok = True
            summary = (
                f"{report.stored} new notices, {report.updated} updated, {report.failed} set aside"
                if isinstance(report, CrawlReport)
                else "done"
            )
        else:
            return
        try:
            record_result(engine, job_id=event.job_id, ok=ok, summary=summary)
        except Exception:  # the database may be down: the job's own log line still says what happened
            log.exception("could not record the result of job %s", event.job_id)

    return on_event

"""Source health, for staff (`pib sources`, later the portal): is each source still bringing notices?

Per source: the last good crawl, the last run and how it ended, the checkpoint, notices published per
day in each of the last weeks, and warnings: never crawled, last run failed or interrupted, no good
crawl for two days, a run that seems stuck, a source gone quiet (nothing published in the last week,
or a week under a quarter of the weeks before).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..store.service import notice_table
from .context import checkpoint_table
from .runner import run_table

WEEKS = 4
NO_GOOD_CRAWL = timedelta(days=2)
STUCK = timedelta(hours=6)


@dataclass
class SourceHealth:
    source: str
    checkpoint: date | None = None
    last_good: datetime | None = None
    last_run_id: int | None = None
    last_status: str | None = None
    last_started: datetime | None = None
    per_day: list[float] = field(default_factory=list)
    """Notices published per day in each of the last weeks, oldest week first."""
    warnings: list[str] = field(default_factory=list)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _notice_sources(source: str, feed_names: Sequence[str]) -> list[str]:
    """The `notice.source` values a crawl source stores."""
    return [f"feed:{name}" for name in feed_names] if source == "feeds" else [source]


def _weekly(engine: Engine, sources: Sequence[str], *, today: date, like_feeds: bool) -> list[float]:
    first = today - timedelta(days=7 * WEEKS)
    condition = notice_table.c.source.like("feed:%") if like_feeds else notice_table.c.source.in_(sources)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(notice_table.c.published, sa.func.count())
            .where(condition, notice_table.c.published >= first, notice_table.c.published < today)
            .group_by(notice_table.c.published)
        ).all()
    weeks = [0] * WEEKS
    for published, count in rows:
        weeks[min(WEEKS - 1, (published - first).days // 7)] += count
    return [round(count / 7, 1) for count in weeks]


def source_health(
    engine: Engine, *, sources: Sequence[str], today: date, now: datetime, feed_names: Sequence[str] = ()
) -> list[SourceHealth]:
    """The health of each crawl source; `feeds` counts the notices of every `feed:<name>` source."""
    result = []
    with engine.connect() as connection:
        checkpoints = dict(
            connection.execute(sa.select(checkpoint_table.c.source, checkpoint_table.c.done_through)).all()
        )
    for source in sources:
        health = SourceHealth(source, checkpoint=checkpoints.get(source))
        with engine.connect() as connection:
            last = (
                connection.execute(
                    sa.select(run_table).where(run_table.c.source == source).order_by(run_table.c.id.desc()).limit(1)
                )
                .mappings()
                .first()
            )
            health.last_good = _aware(
                connection.execute(
                    sa.select(sa.func.max(run_table.c.ended_at)).where(
                        run_table.c.source == source, run_table.c.status == "ok"
                    )
                ).scalar_one_or_none()
            )
        health.per_day = _weekly(engine, _notice_sources(source, feed_names), today=today, like_feeds=source == "feeds")
        if last is None:
            health.warnings.append("never crawled")
        else:
            health.last_run_id, health.last_status = last["id"], last["status"]
            health.last_started = _aware(last["started_at"])
            first_error = (last["errors"] or ["no error recorded"])[0]
            if last["status"] == "failed":
                health.warnings.append(f"last run failed (#{last['id']}): {first_error}")
            elif last["status"] == "interrupted":
                health.warnings.append(f"last run interrupted (#{last['id']}): {(last['warnings'] or [''])[0]}")
            elif last["status"] == "running" and health.last_started and now - health.last_started > STUCK:
                health.warnings.append(f"run #{last['id']} has been running since {health.last_started:%Y-%m-%d %H:%M}")
            if health.last_good is None:
                health.warnings.append("no good crawl yet")
            elif now - health.last_good > NO_GOOD_CRAWL:
                health.warnings.append(f"no good crawl since {health.last_good:%Y-%m-%d %H:%M}")
        *before, last_week = health.per_day
        usual = sum(before) / len(before) if before else 0.0
        if usual and last_week == 0:
            health.warnings.append(f"quiet: nothing published in the last 7 days (about {usual:.1f} a day before)")
        elif usual and last_week < usual / 4:
            health.warnings.append(f"quiet: {last_week:.1f} notices a day last week, about {usual:.1f} before")
        result.append(health)
    return result

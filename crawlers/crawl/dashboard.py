"""What the staff dashboard shows of the sources (issue 11 point 1): new tenders today and this week, notices
published per day over the last 30 days, the health of `pib sources`, and an alarm for a silent source.

The alarm is for the failure nobody notices: a source that usually publishes every working day and brought
nothing for the last complete working day (a changed API answering an empty page looks like a quiet day to
the crawler). "Usually" means on at least `USUAL_SHARE` of the working days of the window; today is left out
because it is not over. Working days are Monday to Friday (public holidays are rare enough to be read by staff).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..store.service import notice_table
from .health import SourceHealth, source_health

BRUSSELS = ZoneInfo("Europe/Brussels")
DAYS = 30
USUAL_SHARE = 0.6


@dataclass(frozen=True)
class Silence:
    """A source that usually publishes brought nothing on `day`, a working day."""

    day: date
    active_days: int
    """Working days of the window with at least one notice..."""
    working_days: int
    """...out of these."""


@dataclass
class SourceDashboard:
    source: str
    today: int
    """Notices first stored today (Brussels time)."""
    week: int
    """Notices first stored since Monday."""
    per_day: list[int]
    """Notices published on each of the last `DAYS` days, oldest first, today last."""
    days: list[date]
    health: SourceHealth
    silence: Silence | None = None
    warnings: list[str] = field(default_factory=list)


def _crawl_source(source: str) -> str:
    """The crawl source that stores a `notice.source`: every `feed:<name>` is the `feeds` crawl."""
    return "feeds" if source.startswith("feed:") else source


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=BRUSSELS)


def working_day(day: date) -> bool:
    """Monday to Friday.

    >>> working_day(date(2026, 12, 4)), working_day(date(2026, 12, 5))
    (True, False)
    """
    return day.weekday() < 5


def silence(per_day: Sequence[int], days: Sequence[date]) -> Silence | None:
    """The alarm: the last complete working day empty while most working days before it were not.

    >>> week = [date(2026, 11, 30) + timedelta(days=n) for n in range(8)]  # Monday to next Monday
    >>> silence([3, 4, 2, 5, 0, 0, 0, 1], week)  # Friday empty, today (Monday) not over
    Silence(day=datetime.date(2026, 12, 4), active_days=4, working_days=5)
    >>> silence([3, 4, 2, 5, 1, 0, 0, 0], week) is None  # weekends are quiet
    True
    """
    complete = [(day, count) for day, count in zip(days[:-1], per_day[:-1], strict=True) if working_day(day)]
    if not complete:
        return None
    last_day, last_count = complete[-1]
    active = sum(1 for _day, count in complete if count)
    if last_count == 0 and active >= USUAL_SHARE * len(complete):
        return Silence(last_day, active, len(complete))
    return None


def source_dashboard(
    engine: Engine, *, sources: Sequence[str], today: date, now: datetime, feed_names: Sequence[str] = ()
) -> list[SourceDashboard]:
    """Per crawl source: new notices today and this week, published per day over `DAYS` days, health, alarm."""
    healths = {
        health.source: health
        for health in source_health(engine, sources=sources, today=today, now=now, feed_names=feed_names)
    }
    first = today - timedelta(days=DAYS - 1)
    days = [first + timedelta(days=n) for n in range(DAYS)]
    monday = today - timedelta(days=today.weekday())
    published: dict[tuple[str, date], int] = {}
    today_new: dict[str, int] = {}
    week_new: dict[str, int] = {}
    with engine.connect() as connection:  # one query each over indexed columns, whatever the number of sources
        for source, day, number in connection.execute(
            sa.select(notice_table.c.source, notice_table.c.published, sa.func.count())
            .where(notice_table.c.published >= first, notice_table.c.published <= today)
            .group_by(notice_table.c.source, notice_table.c.published)
        ):
            key = (_crawl_source(source), day)
            published[key] = published.get(key, 0) + number
        is_today = notice_table.c.first_seen >= _start_of(today)
        for source, new_today, number in connection.execute(
            sa.select(notice_table.c.source, is_today, sa.func.count())
            .where(notice_table.c.first_seen >= _start_of(monday))
            .group_by(notice_table.c.source, is_today)
        ):
            name = _crawl_source(source)
            week_new[name] = week_new.get(name, 0) + number
            if new_today:
                today_new[name] = today_new.get(name, 0) + number
    result = []
    for source in sources:
        per_day = [published.get((source, day), 0) for day in days]
        result.append(
            SourceDashboard(
                source=source,
                today=today_new.get(source, 0),
                week=week_new.get(source, 0),
                per_day=per_day,
                days=days,
                health=healths[source],
                silence=silence(per_day, days),
            )
        )
    return result


def tenders_per_week(engine: Engine, *, today: date, weeks: int = 12) -> tuple[list[date], dict[str, list[int]]]:
    """Notices published in each of the last `weeks` weeks (Monday first, this week last), per source; the
    notices of every feed are counted together as `feeds`."""
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    mondays = [first + timedelta(days=7 * n) for n in range(weeks)]
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(notice_table.c.source, notice_table.c.published, sa.func.count())
            .where(notice_table.c.published >= first, notice_table.c.published <= today)
            .group_by(notice_table.c.source, notice_table.c.published)
        ).all()
    counts: dict[str, list[int]] = {}
    for source, published, number in rows:
        name = "feeds" if source.startswith("feed:") else source
        counts.setdefault(name, [0] * weeks)[(published - first).days // 7] += number
    return mondays, dict(sorted(counts.items()))

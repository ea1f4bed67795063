"""What the cluster does with the tenders, month by month, for the staff's activity charts (issue 11 point 5):
interests flagged, reveals asked and agreed, partner groups formed, submitted and won.

Counted in Python over the rows of the window (a few thousand at most), so the months are the same on
SQLite and PostgreSQL and follow Brussels time, not the database server's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .models import Interest, PartnerGroup, RevealRequest

BRUSSELS = ZoneInfo("Europe/Brussels")
interest_table: sa.Table = Interest.__table__  # type: ignore[attr-defined]
reveal_table: sa.Table = RevealRequest.__table__  # type: ignore[attr-defined]
group_table: sa.Table = PartnerGroup.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MonthlyActivity:
    months: list[date]
    """The first day of each month, oldest first, the current month last."""
    interests: list[int]
    reveals_asked: list[int]
    reveals_agreed: list[int]
    groups_formed: list[int]
    groups_submitted: list[int]
    groups_won: list[int]


def month_starts(today: date, months: int) -> list[date]:
    """The first days of the last `months` months.

    >>> month_starts(date(2026, 2, 10), 3)
    [datetime.date(2025, 12, 1), datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)]
    """
    index = today.year * 12 + today.month - 1
    return [date(n // 12, n % 12 + 1, 1) for n in range(index - months + 1, index + 1)]


def _per_month(moments: Iterable[datetime | None], months: list[date]) -> list[int]:
    position = {(month.year, month.month): n for n, month in enumerate(months)}
    counts = [0] * len(months)
    for moment in moments:
        if moment is None:
            continue
        local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(BRUSSELS)
        n = position.get((local.year, local.month))
        if n is not None:
            counts[n] += 1
    return counts


def monthly_activity(engine: Engine, *, today: date, months: int = 12) -> MonthlyActivity:
    starts = month_starts(today, months)
    since = datetime.combine(starts[0], datetime.min.time(), tzinfo=BRUSSELS)

    def moments(column: sa.Column[datetime], *where: sa.ColumnElement[bool]) -> list[datetime | None]:
        with engine.connect() as connection:
            return list(connection.execute(sa.select(column).where(column >= since, *where)).scalars())

    return MonthlyActivity(
        months=starts,
        interests=_per_month(moments(interest_table.c.created_at), starts),
        reveals_asked=_per_month(moments(reveal_table.c.created_at), starts),
        reveals_agreed=_per_month(moments(reveal_table.c.decided_at, reveal_table.c.state == "accepted"), starts),
        groups_formed=_per_month(moments(group_table.c.created_at), starts),
        groups_submitted=_per_month(moments(group_table.c.submitted_at), starts),
        groups_won=_per_month(moments(group_table.c.result_at, group_table.c.status == "won"), starts),
    )

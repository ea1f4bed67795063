"""Whether a member can still answer a notice it matched, and how many days it has left.

A match is recorded whatever the notice's deadline (`pib matches` lists it, marked closed), but an email
carries only what a member can still act on, so that a backfill of old notices does not flood anyone:

- a contract notice, prior information or other notice while its deadline is ahead (the procedure's current
  deadline, after change notices, else the notice's own) and its procedure is neither cancelled nor awarded;
  without any deadline, while it was published in the last `RECENT_DAYS` days;
- an award or change notice (news, nothing to answer; a profile receives them only when its `notice_types`
  name them) while it was published in the last `RECENT_DAYS` days.

Days are counted in Brussels calendar days, whatever the clock's zone; the clock is always passed in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

BRUSSELS = ZoneInfo("Europe/Brussels")
RECENT_DAYS = 60
"""How long a notice without a deadline to answer (award, change, or none given) is news."""
NEWS_TYPES = ("award", "change")
ENDED = ("cancelled", "awarded")
"""Procedure states in which nothing can be answered any more."""


def brussels_day(moment: datetime) -> date:
    """The calendar day in Brussels at that moment (a naive moment is taken as UTC, as the store keeps it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BRUSSELS).date()


def days_until(deadline_utc: datetime, now: datetime) -> int:
    """Whole days between today and the deadline's day, both in Brussels (a deadline tomorrow is 1).

    >>> days_until(datetime(2026, 2, 16, 11, tzinfo=UTC), datetime(2026, 2, 15, 23, 30, tzinfo=UTC))
    0
    """
    return (brussels_day(deadline_utc) - brussels_day(now)).days


def current_deadline(notice: sa.Table, procedure: sa.Table) -> sa.ColumnElement[datetime]:
    """SQL: the deadline that counts, the procedure's (it follows change notices), else the notice's."""
    return sa.func.coalesce(procedure.c.deadline_utc, notice.c.deadline_utc)


def open_condition(notice: sa.Table, procedure: sa.Table, *, now: datetime) -> sa.ColumnElement[bool]:
    """SQL, over a notice outer-joined to its procedure: the notice can still be answered (or is news) at `now`."""
    if now.tzinfo is None:
        raise ValueError(f"the clock must be timezone-aware, got {now!r}")
    recent = notice.c.published >= brussels_day(now) - timedelta(days=RECENT_DAYS)
    deadline = current_deadline(notice, procedure)
    return sa.or_(
        sa.and_(notice.c.notice_type.in_(NEWS_TYPES), recent),
        sa.and_(
            notice.c.notice_type.not_in(NEWS_TYPES),
            sa.or_(procedure.c.status.is_(None), procedure.c.status.not_in(ENDED)),
            sa.or_(deadline > now.astimezone(UTC), sa.and_(deadline.is_(None), recent)),
        ),
    )

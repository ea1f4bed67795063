"""The private calendar feed of a user: the deadlines of the tenders its firm follows, as iCalendar (issue 10,
point 7), at one secret address per user that Outlook or Google Calendar subscribe to.

"Followed" is the `interesting` verdict of `watch.feedback`, the state the deadline reminders and change alerts
read (`notifications/reminders.py`) and the tender page's "follow" button sets. The feed's address holds a
random token (32 bytes); only its SHA-256 is kept, so the address is shown once, when it is made. Making a new
one replaces the old; revoking deletes it: the old address then answers 404.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from crawlers.store.models import utcnow
from crawlers.store.procedures import Procedure
from crawlers.store.service import notice_table
from watch.models import Feedback, Member, User

from . import i18n
from .auth import digest, new_token
from .ics import Event, calendar

PAST_DAYS = 90
"""Deadlines further back than this are left out of the feed: a calendar keeps its own history."""


class CalendarFeed(SQLModel, table=True):
    """A user's secret calendar address (one at most per user); deleting the row revokes it."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="member_user.id", ondelete="CASCADE", sa_column_kwargs={"unique": True})
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


feed_table: sa.Table = CalendarFeed.__table__  # type: ignore[attr-defined]
feedback_table: sa.Table = Feedback.__table__  # type: ignore[attr-defined]
procedure_table: sa.Table = Procedure.__table__  # type: ignore[attr-defined]
user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FeedState:
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class FeedOwner:
    user_id: int
    member_id: int
    member_name: str
    language: str


def feed_path(token: str) -> str:
    return f"/calendar/{token}.ics"


def create_feed(engine: Engine, *, user_id: int, now: datetime | None = None) -> str:
    """A new secret address for the user, replacing the one it had; the token, to be shown once."""
    token = new_token()
    for attempt in range(2):  # two creations at once: the second finds the first's row and replaces it
        try:
            with engine.begin() as connection:
                connection.execute(feed_table.delete().where(feed_table.c.user_id == user_id))
                connection.execute(
                    feed_table.insert().values(user_id=user_id, token_hash=digest(token), created_at=now or utcnow())
                )
            return token
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def revoke_feed(engine: Engine, *, user_id: int) -> bool:
    """Revoke the user's address (its URL answers 404 from now on); False if it had none."""
    with engine.begin() as connection:
        return bool(connection.execute(feed_table.delete().where(feed_table.c.user_id == user_id)).rowcount)


def feed_state(engine: Engine, *, user_id: int) -> FeedState | None:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(feed_table.c.created_at, feed_table.c.last_used_at).where(feed_table.c.user_id == user_id)
        ).first()
    return None if row is None else FeedState(row.created_at, row.last_used_at)


def feed_owner(engine: Engine, *, token: str, now: datetime | None = None) -> FeedOwner | None:
    """The user of a feed address, while the address stands and the user and firm are active."""
    with engine.begin() as connection:
        row = connection.execute(
            sa.select(user_table.c.id, member_table.c.id, member_table.c.name, user_table.c.language)
            .select_from(
                feed_table.join(user_table, user_table.c.id == feed_table.c.user_id).join(
                    member_table, member_table.c.id == user_table.c.member_id
                )
            )
            .where(feed_table.c.token_hash == digest(token), user_table.c.active, member_table.c.active)
        ).first()
        if row is None:
            return None
        connection.execute(
            feed_table.update().where(feed_table.c.token_hash == digest(token)).values(last_used_at=now or utcnow())
        )
    return FeedOwner(row[0], row[1], row[2], i18n.known(row[3]) or i18n.DEFAULT_LANGUAGE)


def tender_url(public_url: str, source: str, source_id: str) -> str:
    """The tender's page on the portal (a feed's `source_id` may be a URL: every character escaped).

    >>> tender_url("http://127.0.0.1:8000/", "feed:ville", "https://x.example/a?b=1")
    'http://127.0.0.1:8000/tenders/feed%3Aville/https%3A%2F%2Fx.example%2Fa%3Fb%3D1'
    """
    return f"{public_url.rstrip('/')}/tenders/{quote(source, safe='')}/{quote(source_id, safe='')}"


def event_uid(source: str, source_id: str, host: str) -> str:
    """The same for a tender in every fetch of the feed, so a calendar updates the event instead of doubling it.

    >>> event_uid("boamp", "26-0001", "pib.example")
    'deadline-297218609541af760b2d89b8@pib.example'
    """
    key = "\0".join((source, source_id)).encode()
    return f"deadline-{hashlib.sha256(key).hexdigest()[:24]}@{host}"


def followed_deadlines(
    engine: Engine, *, owner: FeedOwner, public_url: str, now: datetime | None = None
) -> list[Event]:
    """One event per followed tender with a deadline (the procedure's current one, after change notices),
    from `PAST_DAYS` ago on; a cancelled procedure's event is marked cancelled."""
    now = now or utcnow()
    language = owner.language
    deadline = sa.func.coalesce(procedure_table.c.deadline_utc, notice_table.c.deadline_utc)
    with engine.connect() as connection:
        rows = list(
            connection.execute(
                sa.select(
                    notice_table.c.source,
                    notice_table.c.source_id,
                    notice_table.c.procedure_id,
                    notice_table.c.title,
                    notice_table.c.buyer_name,
                    procedure_table.c.status,
                    feedback_table.c.created_at,
                    deadline.label("deadline_utc"),
                )
                .select_from(
                    feedback_table.join(notice_table, notice_table.c.id == feedback_table.c.notice_id).outerjoin(
                        procedure_table, procedure_table.c.id == notice_table.c.procedure_id
                    )
                )
                .where(
                    feedback_table.c.member_id == owner.member_id,
                    feedback_table.c.verdict == "interesting",
                    deadline.is_not(None),
                    deadline >= (now - timedelta(days=PAST_DAYS)).astimezone(UTC),
                )
                .order_by(deadline, notice_table.c.id)
            )
        )
    host = urlsplit(public_url).hostname or "pib"
    events: list[Event] = []
    procedures: set[int] = set()
    for row in rows:
        if row.procedure_id is not None:
            if row.procedure_id in procedures:  # two followed publications of one procedure: one deadline
                continue
            procedures.add(row.procedure_id)
        title = " ".join((row.title or "").split()) or row.source_id
        cancelled = row.status == "cancelled"
        lines = [
            i18n.translate(language, "Buyer: %(buyer)s", buyer=row.buyer_name) if row.buyer_name else "",
            i18n.translate(language, "This procedure was cancelled.") if cancelled else "",
            i18n.translate(language, "Followed in PIB by %(firm)s.", firm=owner.member_name),
        ]
        url = tender_url(public_url, row.source, row.source_id)
        events.append(
            Event(
                uid=event_uid(row.source, row.source_id, host),
                start=row.deadline_utc,
                summary=i18n.translate(language, "Deadline: %(title)s", title=title),
                description="\n".join([line for line in lines if line] + [url]),
                url=url,
                cancelled=cancelled,
                modified=row.created_at,
            )
        )
    return events


def feed_text(engine: Engine, *, owner: FeedOwner, public_url: str, now: datetime | None = None) -> str:
    """The whole feed of a user, in its language."""
    now = now or utcnow()
    events = followed_deadlines(engine, owner=owner, public_url=public_url, now=now)
    name = i18n.translate(owner.language, "PIB deadlines of %(firm)s", firm=owner.member_name)
    return calendar(events=events, name=name, now=now)

"""Digests: for each user, the matches of their firm not yet notified, at their profiles' frequency.

A match waits (`watch_match.notified_at` null) until a digest carrying it is recorded as sent. Each user of
the firm gets the digest in their own language, reasons included (watch/reasons.py); a match goes into one
digest per user, once (the outbox's `notification_item`), even when a run is repeated or two runs overlap.

A digest carries only what the firm can still answer at the time it is composed (watch/deadlines.py): a
match whose deadline has passed stays recorded and waiting, and is never emailed unless a change notice
moves its deadline ahead again. Each tender shows the days left.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from crawlers.store.models import utcnow
from crawlers.store.procedures import Procedure
from crawlers.store.service import notice_table
from watch.deadlines import days_until, open_condition
from watch.models import Match, Profile
from watch.reasons import describe_reason

from .compose import RECIPIENT_COLUMNS, Composer, Recipient, member_table, reachable, user_table
from .i18n import days_left, format_deadline, format_money, format_place, translator
from .models import item_table
from .outbox import Composed, DeliverySummary, deliver, enqueue
from .render import short, web_url
from .senders import Sender

log = logging.getLogger(__name__)

FREQUENCIES = ("instant", "daily", "weekly")
MAX_ITEMS = 100
"""Matches per digest; more wait for the next one (a digest is read, not archived)."""
MAX_LOTS = 10
USERS_PER_BATCH = 200

match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]
procedure_table: sa.Table = Procedure.__table__  # type: ignore[attr-defined]


@dataclass
class DigestSummary:
    frequency: str
    composed: int = 0
    skipped: int = 0
    delivery: DeliverySummary = field(default_factory=DeliverySummary)

    def describe(self) -> str:
        skipped = f" ({self.skipped} already composed by another run)" if self.skipped else ""
        return f"{self.frequency} digests: {self.composed} composed{skipped}; outbox: {self.delivery.describe()}"


@dataclass(frozen=True)
class DigestInput:
    """One user's digest before rendering: who, what to render, which matches it carries."""

    recipient: Recipient
    context: dict[str, Any]
    match_ids: list[int]


def _waiting_matches(engine: Engine, frequency: str, now: datetime) -> list[Any]:
    """Matches not yet notified, of profiles at this frequency, per reachable user, not already composed,
    of notices still open at `now`."""
    already = (
        sa.select(sa.literal(1))
        .where(
            item_table.c.user_id == user_table.c.id,
            item_table.c.ref == sa.literal("match:") + sa.cast(match_table.c.id, sa.String),
        )
        .exists()
    )
    query = (
        sa.select(
            match_table.c.id.label("match_id"),
            match_table.c.notice_id,
            sa.cast(match_table.c.reasons, sa.Text).label("reasons"),
            sa.cast(match_table.c.lot_ids, sa.Text).label("lot_ids"),
            *RECIPIENT_COLUMNS,
        )
        .select_from(
            match_table.join(profile_table, profile_table.c.id == match_table.c.profile_id)
            .join(member_table, member_table.c.id == match_table.c.member_id)
            .join(user_table, user_table.c.member_id == match_table.c.member_id)
            .join(notice_table, notice_table.c.id == match_table.c.notice_id)
            .outerjoin(procedure_table, procedure_table.c.id == notice_table.c.procedure_id)
        )
        .where(
            match_table.c.notified_at.is_(None),
            profile_table.c.frequency == frequency,
            reachable(),
            ~already,
            open_condition(notice_table, procedure_table, now=now),
        )
        .order_by(user_table.c.id, match_table.c.score.desc(), match_table.c.id)
    )
    with engine.connect() as connection:
        return list(connection.execute(query))


@lru_cache(maxsize=16_384)
def _reasons(text: str | None, language: str) -> tuple[str, ...]:
    """A match's reasons (JSON text) written out in a language, once per distinct list and language; a
    reason that cannot be read is left out (and logged) rather than holding back the whole digest."""
    written = []
    for reason in _json_list(text)[:10]:
        try:
            written.append(describe_reason(reason, language))
        except (KeyError, TypeError, ValueError) as error:
            log.warning("match reason left out of a digest: %r: %s", reason, error)
    return tuple(written)


@lru_cache(maxsize=16_384)
def _json_list(text: str | None) -> tuple[Any, ...]:
    """A JSON list column read as text. Decoded here rather than through the JSON type, and once per
    distinct text (reasons and lot lists repeat across a profile's matches): most of the cost of reading
    40,000 matches otherwise."""
    value = json.loads(text) if text else None
    return tuple(value) if isinstance(value, list) else ()


def _load_notices(engine: Engine, ids: set[int]) -> dict[int, Any]:
    query = sa.select(
        notice_table.c.id,
        notice_table.c.title,
        notice_table.c.buyer_name,
        notice_table.c.deadline,
        notice_table.c.deadline_utc,
        notice_table.c.estimated_value,
        notice_table.c.currency,
        notice_table.c.data,
        procedure_table.c.deadline.label("procedure_deadline"),
        procedure_table.c.deadline_utc.label("procedure_deadline_utc"),
    ).select_from(notice_table.outerjoin(procedure_table, procedure_table.c.id == notice_table.c.procedure_id))
    found: dict[int, Any] = {}
    ordered = sorted(ids)
    with engine.connect() as connection:
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            found.update((row.id, row) for row in connection.execute(query.where(notice_table.c.id.in_(chunk))))
    return found


def notice_view(row: Any, language: str, *, now: datetime) -> dict[str, Any]:
    """How a notice is shown in an email, in one language; every value still raw text (templates escape)."""
    data = row.data or {}
    if row.procedure_deadline:  # the procedure's deadline is the current one, after change notices
        deadline, deadline_utc = row.procedure_deadline, row.procedure_deadline_utc
    else:
        deadline, deadline_utc = row.deadline, row.deadline_utc
    lots = data.get("lots") or []
    return {
        "title": short(row.title),
        "buyer": short(row.buyer_name, 200),
        "place": format_place(data.get("nuts") or [], data.get("buyer") or {}, language),
        "deadline": format_deadline(deadline, deadline_utc, language),
        "days_left": days_left(days_until(deadline_utc, now), language)
        if deadline_utc is not None and deadline_utc > now
        else None,
        "value": format_money(row.estimated_value, row.currency, language),
        "url": web_url(data.get("url")),
        "documents_url": web_url(data.get("documents_url")),
        "lots": [(short(str(lot.get("id")), 40), short(lot.get("title"), 150)) for lot in lots]
        if len(lots) > 1
        else [],
    }


def digest_inputs(engine: Engine, *, frequency: str, composer: Composer) -> Iterator[list[DigestInput]]:
    """The digests to send, a batch of users at a time (so memory stays flat however many members)."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}, got {frequency!r}")
    per_user: dict[int, list[Any]] = {}
    for row in _waiting_matches(engine, frequency, composer.now):
        rows = per_user.setdefault(row.user_id, [])
        if len(rows) < MAX_ITEMS:
            rows.append(row)
    users = list(per_user.values())
    views: dict[tuple[int, str], dict[str, Any]] = {}
    notices: dict[int, Any] = {}
    for start in range(0, len(users), USERS_PER_BATCH):
        batch = users[start : start + USERS_PER_BATCH]
        missing = {row.notice_id for rows in batch for row in rows} - notices.keys()
        notices.update(_load_notices(engine, missing))
        inputs = []
        for waiting in batch:
            rows = [row for row in waiting if row.notice_id in notices]  # a notice deleted meanwhile: skipped
            if not rows:
                continue
            recipient = Recipient.of(rows[0])
            t = translator(recipient.language)
            items = []
            for row in rows:
                key = (row.notice_id, recipient.language)
                if key not in views:
                    views[key] = notice_view(notices[row.notice_id], recipient.language, now=composer.now)
                view = views[key]
                matched = {str(lot) for lot in _json_list(row.lot_ids)} if view["lots"] else set()
                items.append(
                    {
                        **view,
                        "lots": [
                            {"id": lot_id, "title": title, "matched": lot_id in matched}
                            for lot_id, title in view["lots"][:MAX_LOTS]
                        ],
                        "lots_more": max(0, len(view["lots"]) - MAX_LOTS),
                        "reasons": list(_reasons(row.reasons, recipient.language)),
                        "interested_url": composer.link("interested", recipient.user_id, row.notice_id),
                        "not_relevant_url": composer.link("not-relevant", recipient.user_id, row.notice_id),
                    }
                )
            context = {
                "member": recipient.member_name,
                "items": items,
                "footer": t("footer.why", member=recipient.member_name, frequency=t(f"frequency.{frequency}")),
            }
            inputs.append(DigestInput(recipient, context, [row.match_id for row in rows]))
        yield inputs


def compose_digests(engine: Engine, *, frequency: str, composer: Composer) -> Iterator[list[Composed]]:
    for inputs in digest_inputs(engine, frequency=frequency, composer=composer):
        yield [
            composer.compose(
                "digest",
                one.recipient,
                one.context,
                refs=[f"match:{match_id}" for match_id in one.match_ids],
                match_ids=one.match_ids,
            )
            for one in inputs
        ]


def send_digests(
    engine: Engine,
    *,
    frequency: str,
    sender: Sender,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> DigestSummary:
    """Compose the digests of that frequency into the outbox, then deliver what the outbox holds."""
    now = now or utcnow()
    composer = Composer(settings or get_settings(), now)
    summary = DigestSummary(frequency)
    for composed in compose_digests(engine, frequency=frequency, composer=composer):
        enqueued, skipped = enqueue(engine, composed, now=now)
        summary.composed += enqueued
        summary.skipped += skipped
    summary.delivery = deliver(engine, sender=sender, now=now)
    return summary

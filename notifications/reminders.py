"""Follow-ups of the tenders a firm flagged as interesting: deadline reminders and change alerts.

Reminders go at the days before the deadline the settings list (7, 3, 1), counted in Brussels calendar
days; when a run is late, only the most urgent one due is sent. The deadline is the procedure's when the
notice is linked to one (it follows change notices), else the notice's. A reminder is keyed by the deadline
it announces, so a moved deadline gets its own reminders. Change alerts say what changed in a followed
procedure (`procedure_change`) since the firm flagged it. Each reminder and change goes to a user once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from crawlers.store.models import utcnow
from crawlers.store.procedures import Procedure, ProcedureChange
from crawlers.store.service import notice_table
from watch.deadlines import days_until
from watch.models import Feedback

from .compose import RECIPIENT_COLUMNS, Composer, Recipient, member_table, reachable, user_table
from .i18n import format_deadline, translator, when
from .models import item_table
from .outbox import Composed, DeliverySummary, deliver, enqueue
from .render import short, web_url
from .senders import Sender

feedback_table: sa.Table = Feedback.__table__  # type: ignore[attr-defined]
procedure_table: sa.Table = Procedure.__table__  # type: ignore[attr-defined]
change_table: sa.Table = ProcedureChange.__table__  # type: ignore[attr-defined]


@dataclass
class FollowUpSummary:
    reminders: int = 0
    changes: int = 0
    delivery: DeliverySummary = field(default_factory=DeliverySummary)

    def describe(self) -> str:
        return (
            f"follow-ups: {self.reminders} reminder emails, {self.changes} change alerts composed; "
            f"outbox: {self.delivery.describe()}"
        )


def _sent_refs(engine: Engine, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (user, ref) were already put in an email."""
    wanted = set(pairs)
    found: set[tuple[int, str]] = set()
    users = sorted({user for user, _ in wanted})
    with engine.connect() as connection:
        for start in range(0, len(users), 500):
            rows = connection.execute(
                sa.select(item_table.c.user_id, item_table.c.ref).where(
                    item_table.c.user_id.in_(users[start : start + 500]),
                    item_table.c.ref.in_({ref for _, ref in wanted}),
                )
            )
            found.update((row.user_id, row.ref) for row in rows)
    return found & wanted


def _group(rows: Sequence[tuple[Recipient, str, dict[str, Any]]]) -> dict[Recipient, list[tuple[str, dict[str, Any]]]]:
    grouped: dict[Recipient, list[tuple[str, dict[str, Any]]]] = {}
    for recipient, ref, item in rows:
        grouped.setdefault(recipient, []).append((ref, item))
    return grouped


def compose_reminders(engine: Engine, *, composer: Composer) -> list[Composed]:
    """One email per user listing the followed tenders whose deadline reached a reminder day."""
    now = composer.now
    days_before = sorted(set(composer.settings.reminder_days))
    deadline = sa.case(
        (notice_table.c.procedure_id.is_not(None), procedure_table.c.deadline), else_=notice_table.c.deadline
    )
    deadline_utc = sa.case(
        (notice_table.c.procedure_id.is_not(None), procedure_table.c.deadline_utc),
        else_=notice_table.c.deadline_utc,
    )
    query = (
        sa.select(
            notice_table.c.id.label("notice_id"),
            notice_table.c.procedure_id,
            notice_table.c.title,
            notice_table.c.buyer_name,
            notice_table.c.data,
            deadline.label("deadline"),
            deadline_utc.label("deadline_utc"),
            *RECIPIENT_COLUMNS,
        )
        .select_from(
            feedback_table.join(notice_table, notice_table.c.id == feedback_table.c.notice_id)
            .outerjoin(procedure_table, procedure_table.c.id == notice_table.c.procedure_id)
            .join(member_table, member_table.c.id == feedback_table.c.member_id)
            .join(user_table, user_table.c.member_id == feedback_table.c.member_id)
        )
        .where(
            feedback_table.c.verdict == "interesting",
            deadline_utc > now,
            sa.or_(procedure_table.c.status.is_(None), procedure_table.c.status == "open"),
            reachable(),
        )
        .order_by(user_table.c.id, deadline_utc, notice_table.c.id)
    )
    with engine.connect() as connection:
        rows = list(connection.execute(query))
    due: list[tuple[Recipient, str, dict[str, Any]]] = []
    seen: set[tuple[int, str]] = set()
    for row in rows:
        days = days_until(row.deadline_utc, now)
        reached = [day for day in days_before if days <= day]
        if not reached:
            continue
        tender = f"p{row.procedure_id}" if row.procedure_id else f"n{row.notice_id}"
        ref = f"reminder:{tender}:d{reached[0]}:{row.deadline_utc:%Y%m%d%H%M}"
        if (row.user_id, ref) in seen:  # two flagged publications of one procedure: one reminder
            continue
        seen.add((row.user_id, ref))
        language = row.language
        data = row.data or {}
        item = {
            "title": short(row.title),
            "short_title": short(row.title, 80),
            "buyer": short(row.buyer_name, 200),
            "deadline": format_deadline(row.deadline, row.deadline_utc, language),
            "when": when(days, language),
            "url": web_url(data.get("url")),
            "documents_url": web_url(data.get("documents_url")),
        }
        due.append((Recipient.of(row), ref, item))
    done = _sent_refs(engine, ((recipient.user_id, ref) for recipient, ref, _ in due))
    fresh = [entry for entry in due if (entry[0].user_id, entry[1]) not in done]
    composed = []
    for recipient, entries in _group(fresh).items():
        t = translator(recipient.language)
        context = {"items": [item for _, item in entries], "footer": t("footer.followed", member=recipient.member_name)}
        composed.append(composer.compose("reminder", recipient, context, refs=[ref for ref, _ in entries]))
    return composed


def _lot_text(detail: dict[str, Any]) -> str:
    lot = detail.get("lot", detail.get("new", detail.get("old")))
    if isinstance(lot, dict):
        lot_id, title = lot.get("id"), lot.get("title")
        return short(f"{lot_id} – {title}" if lot_id and title else str(title or lot_id or "?"), 200)
    return short(str(lot if lot is not None else detail.get("title") or detail.get("id") or "?"), 200)


def describe_change(kind: str, detail: dict[str, Any], language: str) -> str:
    """One sentence saying what changed, in the user's language.

    >>> describe_change("deadline-moved", {"old": "2026-02-16T12:00:00+01:00", "new": "2026-03-02"}, "en")
    'The deadline moved: 16 February 2026, 12:00 → 2 March 2026.'
    >>> describe_change("lot-added", {"lot": {"id": "3", "title": "Maintenance"}}, "fr")
    'Un lot a été ajouté : 3 – Maintenance.'
    """
    t = translator(language)
    if kind == "deadline-moved":
        unknown = t("label.not_given")
        old, new = detail.get("old"), detail.get("new")
        return t(
            "change.deadline-moved",
            old=_deadline_text(old, language) or unknown,
            new=_deadline_text(new, language) or unknown,
        )
    if kind in ("lot-added", "lot-removed"):
        return t(f"change.{kind}", lot=_lot_text(detail))
    if kind in ("cancelled", "awarded"):
        return t(f"change.{kind}")
    return t("change.modified")


def _deadline_text(value: Any, language: str) -> str | None:
    try:
        return format_deadline(value, None, language) if isinstance(value, str) else None
    except ValueError:
        return short(value, 60)


def compose_change_alerts(engine: Engine, *, composer: Composer) -> list[Composed]:
    """One email per user listing what changed in the procedures it follows since it flagged them."""
    followed = notice_table.alias("followed")
    publication = notice_table.alias("publication")
    query = (
        sa.select(
            change_table.c.id.label("change_id"),
            change_table.c.kind,
            change_table.c.detail,
            change_table.c.procedure_id,
            followed.c.title,
            followed.c.data.label("followed_data"),
            publication.c.data.label("publication_data"),
            *RECIPIENT_COLUMNS,
        )
        .select_from(
            change_table.join(followed, followed.c.procedure_id == change_table.c.procedure_id)
            .join(
                feedback_table,
                sa.and_(
                    feedback_table.c.notice_id == followed.c.id,
                    feedback_table.c.verdict == "interesting",
                    feedback_table.c.created_at <= change_table.c.created_at,
                ),
            )
            .join(publication, publication.c.id == change_table.c.notice_id)
            .join(member_table, member_table.c.id == feedback_table.c.member_id)
            .join(user_table, user_table.c.member_id == feedback_table.c.member_id)
        )
        .where(reachable())
        .order_by(user_table.c.id, change_table.c.procedure_id, change_table.c.id)
    )
    with engine.connect() as connection:
        rows = list(connection.execute(query))
    pending: dict[tuple[int, str], Any] = {}
    for row in rows:  # a firm that flagged two publications of one procedure gets each change once
        pending.setdefault((row.user_id, f"change:{row.change_id}"), row)
    done = _sent_refs(engine, pending)
    per_user: dict[Recipient, dict[int, dict[str, Any]]] = {}
    refs: dict[Recipient, list[str]] = {}
    for (user_id, ref), row in pending.items():
        if (user_id, ref) in done:
            continue
        recipient = Recipient.of(row)
        tenders = per_user.setdefault(recipient, {})
        refs.setdefault(recipient, []).append(ref)
        tender = tenders.setdefault(
            row.procedure_id,
            {
                "title": short(row.title),
                "short_title": short(row.title, 80),
                "url": web_url((row.followed_data or {}).get("url")),
                "changes": [],
            },
        )
        tender["changes"].append(
            {
                "text": describe_change(row.kind, row.detail or {}, recipient.language),
                "url": web_url((row.publication_data or {}).get("url")),
            }
        )
    composed = []
    for recipient, tenders in per_user.items():
        t = translator(recipient.language)
        context = {"items": list(tenders.values()), "footer": t("footer.followed", member=recipient.member_name)}
        composed.append(composer.compose("change", recipient, context, refs=refs[recipient]))
    return composed


def send_followups(
    engine: Engine, *, sender: Sender, now: datetime | None = None, settings: Settings | None = None
) -> FollowUpSummary:
    """Compose the due deadline reminders and change alerts into the outbox, then deliver the outbox."""
    now = now or utcnow()
    composer = Composer(settings or get_settings(), now)
    summary = FollowUpSummary()
    summary.reminders = enqueue(engine, compose_reminders(engine, composer=composer), now=now)[0]
    summary.changes = enqueue(engine, compose_change_alerts(engine, composer=composer), now=now)[0]
    summary.delivery = deliver(engine, sender=sender, now=now)
    return summary

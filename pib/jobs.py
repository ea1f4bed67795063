"""Jobs that join two stages, so they live in the app shell: the consortium's reveal emails, sent by the
notifications.

The consortium lists what is to be told (`pending_reveal_notifications`): a firm that a pseudonymous firm
asks to be put in touch with it, and both firms once they agree. Each item becomes one email per reachable
user of the firm told, put in the outbox under a key made of the item's id and the user, then the item is
marked sent in the consortium. A crash between the two finds the emails already in the outbox at the next
run (their keys are taken), so the item is marked without a second email; an item is never marked before
its emails are in the outbox, so none is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from consortium.services import mark_reveal_notifications_sent, pending_reveal_notifications
from consortium.views import RevealNotification
from crawlers.store.models import utcnow
from notifications.compose import RECIPIENT_COLUMNS, Composer, Recipient, member_table, reachable, user_table
from notifications.i18n import format_deadline, translator
from notifications.outbox import Composed, DeliverySummary, deliver, enqueue
from notifications.render import short, web_url
from notifications.senders import Sender

log = logging.getLogger(__name__)


@dataclass
class RevealEmailSummary:
    told: int = 0
    """Reveal notifications of the consortium handled (and marked sent)."""
    emails: int = 0
    """Emails put in the outbox for them."""
    unreachable: int = 0
    """Notifications whose firm has no user receiving emails (marked, with nothing sent)."""
    failed: int = 0
    """Notifications that could not be composed: logged, left for the next run."""
    delivery: DeliverySummary = field(default_factory=DeliverySummary)

    def describe(self) -> str:
        text = f"reveals: {self.told} notifications, {self.emails} emails composed"
        if self.unreachable:
            text += f", {self.unreachable} to firms no user of which receives emails"
        if self.failed:
            text += f", {self.failed} failed (left for the next run)"
        return f"{text}; outbox: {self.delivery.describe()}"

    @property
    def anything(self) -> bool:
        delivery = self.delivery
        return bool(self.told or self.failed or delivery.sent or delivery.failed or delivery.cancelled)


def _deadline(value: str | None, language: str) -> str | None:
    try:
        return format_deadline(value, None, language)
    except ValueError:
        return short(value, 60)


def reveal_context(item: RevealNotification, language: str) -> dict[str, Any]:
    """The values of the `reveal` templates: the tender, and the other firm by pseudonym, or by name once
    both agreed (the only case where `item` holds a name)."""
    tender = item.tender
    context: dict[str, Any] = {
        "kind": "requested" if item.kind == "reveal-requested" else "accepted",
        "pseudonym": item.pseudonym,
        "tender": {
            "title": short(tender.title),
            "short_title": short(tender.title, 80),
            "reference": short(tender.reference, 200),
            "buyer": short(tender.buyer, 200),
            "deadline": _deadline(tender.deadline, language),
            "url": web_url(tender.url),
        },
        "asker": None,
        "asker_pseudonym": None,
        "counterpart": None,
    }
    if item.asker is not None:
        asker = item.asker
        context["asker_pseudonym"] = asker.pseudonym
        context["asker"] = {
            "role": asker.role,
            "lots": [short(lot, 60) for lot in asker.lots],
            "brings": [*asker.brings_cpv, *asker.brings_keywords],
            "lacks": [*asker.lacks_cpv, *asker.lacks_keywords],
            "seeks_partners": asker.seeks_partners,
        }
    if item.counterpart is not None:
        other = item.counterpart
        context["counterpart"] = {
            "pseudonym": other.pseudonym,
            "name": short(other.name),
            "short_name": short(other.name, 80),
            "contacts": [contact.email for contact in other.contacts],
        }
    return context


def _recipients(engine: Engine, item: RevealNotification) -> list[Recipient]:
    """The users of the firm told who receive emails (active, subscribed, address not disabled)."""
    addresses = [contact.email for contact in item.recipients]
    if not addresses:
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(*RECIPIENT_COLUMNS)
            .join(member_table, member_table.c.id == user_table.c.member_id)
            .where(user_table.c.email.in_(addresses), reachable())
            .order_by(user_table.c.id)
        )
        return [Recipient.of(row) for row in rows]


def compose_reveal(composer: Composer, item: RevealNotification, recipients: list[Recipient]) -> list[Composed]:
    """One email per recipient, keyed by the item and the user so that it is composed once."""
    composed = []
    for recipient in recipients:
        t = translator(recipient.language)
        context = {
            **reveal_context(item, recipient.language),
            "footer": t("footer.reveal", member=recipient.member_name),
        }
        one = composer.compose("reveal", recipient, context, refs=[item.id])
        composed.append(replace(one, email=replace(one.email, key=f"{item.id}.u{recipient.user_id}")))
    return composed


def send_reveal_emails(
    engine: Engine, *, sender: Sender, now: datetime | None = None, settings: Settings | None = None
) -> RevealEmailSummary:
    """Compose the pending reveal emails into the outbox, mark them sent in the consortium, deliver."""
    now = now or utcnow()
    composer = Composer(settings or get_settings(), now)
    summary = RevealEmailSummary()
    handled: list[str] = []
    for item in pending_reveal_notifications(engine):
        if item.kind == "reveal-requested" and item.asker is None:
            # The asker has no interest left in the tender: there is nobody to name, nothing to answer.
            log.info("reveal email %s: the asker is no longer interested, nothing sent", item.id)
            handled.append(item.id)
            continue
        try:
            recipients = _recipients(engine, item)
            summary.emails += enqueue(engine, compose_reveal(composer, item, recipients), now=now)[0]
        except Exception:  # one bad item never stops the others; it is tried again at the next run
            log.exception("reveal email %s could not be composed, left for the next run", item.id)
            summary.failed += 1
            continue
        if not recipients:
            log.warning("reveal email %s: no user of the firm receives emails, nothing sent", item.id)
            summary.unreachable += 1
        handled.append(item.id)
    if handled:
        mark_reveal_notifications_sent(engine, ids=handled)
    summary.told = len(handled)
    summary.delivery = deliver(engine, sender=sender, now=now)
    return summary

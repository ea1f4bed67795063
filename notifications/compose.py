"""What every email of the service shares: the signed links, the unsubscribe headers, the outbox key.

`List-Unsubscribe` carries an https URL and a mailto, and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
(RFC 8058) tells mail clients that a POST to that URL unsubscribes without any page in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from config.settings import Settings
from watch.models import Member, User

from .links import LinkSigner, link_url
from .outbox import Composed, outbox_key
from .render import render
from .senders import Email

user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]

RECIPIENT_COLUMNS = (
    user_table.c.id.label("user_id"),
    user_table.c.email,
    user_table.c.language,
    member_table.c.id.label("member_id"),
    member_table.c.name.label("member_name"),
)


def reachable(users: sa.Table = user_table, members: sa.Table = member_table) -> sa.ColumnElement[bool]:
    """Users who receive emails: active, not unsubscribed, address not disabled, firm active."""
    return sa.and_(
        users.c.active.is_(True),
        users.c.unsubscribed_at.is_(None),
        users.c.email_disabled_reason.is_(None),
        members.c.active.is_(True),
    )


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    language: str
    member_id: int
    member_name: str

    @classmethod
    def of(cls, row: Any) -> Recipient:
        return cls(row.user_id, row.email, row.language, row.member_id, row.member_name)


class Composer:
    """Builds the emails of one run: same clock, same signer, same settings for all."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self.signer = LinkSigner(settings.secret_key.get_secret_value())
        self.link_expiry = now + timedelta(days=settings.link_ttl_days)
        self.unsubscribe_expiry = now + timedelta(days=settings.unsubscribe_ttl_days)
        domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "pib.invalid"
        self.mailto = settings.unsubscribe_mailto or f"unsubscribe@{domain}"

    def link(self, action: str, user_id: int, notice_id: int) -> str:
        token = self.signer.sign(action=action, user_id=user_id, notice_id=notice_id, expires=self.link_expiry)
        return link_url(self.settings.public_url, token)

    def compose(
        self,
        kind: str,
        recipient: Recipient,
        context: dict[str, Any],
        *,
        refs: list[str],
        match_ids: list[int] | None = None,
    ) -> Composed:
        token = self.signer.sign(
            action="unsubscribe", user_id=recipient.user_id, notice_id=None, expires=self.unsubscribe_expiry
        )
        unsubscribe_url = link_url(self.settings.public_url, token)
        mail_subject = quote(f"unsubscribe {token}")
        rendered = render(kind, {**context, "unsubscribe_url": unsubscribe_url}, language=recipient.language)
        key = outbox_key(kind, recipient.user_id, refs, self.now)
        email = Email(
            key=key,
            to=recipient.email,
            sender=self.settings.mail_from,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            category=kind,
            language=recipient.language,
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>, <mailto:{self.mailto}?subject={mail_subject}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        return Composed(email=email, kind=kind, user_id=recipient.user_id, refs=refs, match_ids=match_ids or [])

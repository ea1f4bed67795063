"""Tables of the notifications: the outbox of emails, their rendered contents, and what each email carried.

The outbox is what makes sending idempotent (the protocol is in `notifications.outbox`): every email is a
row with a unique idempotency key before anything is sent, and `notification_item` says which matches,
reminders or changes it carries, so a thing is put in one email per user, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crawlers.store.models import JSONColumn, utcnow


class OutboxMessage(SQLModel, table=True):
    """One email to one user: rendered when composed, then sent once (pending → sending → sent/failed)."""

    __tablename__ = "notification_outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    """The idempotency key: also the Message-ID's left part, the SendGrid custom_arg and the .eml name."""
    kind: str = Field(max_length=20)
    """digest | reminder | change | reveal"""
    user_id: int = Field(foreign_key="member_user.id", index=True, ondelete="CASCADE")
    state: str = Field(default="pending", max_length=10, index=True)
    """pending | sending | sent | failed | cancelled (the user unsubscribed or was disabled meanwhile)"""
    match_ids: list[int] = Field(default_factory=list, sa_type=JSONColumn)
    """Matches marked notified when (and only when) the send is recorded."""
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=32)
    claimed_at: datetime | None = None
    """When it was last claimed, so also when it was last tried."""
    claim_host: str | None = Field(default=None, max_length=255)
    """The host, process id and process start time of the sender that claimed it last: a sender starting on
    the same host takes over at once the rows of one that is gone, the lease covers the other hosts."""
    claim_pid: int | None = None
    claim_started: int | None = Field(default=None, sa_type=sa.BigInteger)
    backend: str | None = Field(default=None, max_length=20)
    """The sender that last tried it (outbox, smtp, sendgrid)."""
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None


class OutboxContent(SQLModel, table=True):
    """The rendered email of an outbox row, written once: kept apart so the row's state changes stay small."""

    __tablename__ = "notification_content"

    outbox_id: int = Field(foreign_key="notification_outbox.id", primary_key=True, ondelete="CASCADE")
    text: str = Field(sa_type=sa.Text)
    html: str = Field(sa_type=sa.Text)
    meta: dict[str, Any] = Field(sa_type=JSONColumn)
    """to, from, subject, headers, category, language (`notifications.senders.Email`)."""


class OutboxItem(SQLModel, table=True):
    """A thing an email carries to a user (`match:12`, `change:7`, `reminder:n5:d3:202602161200`,
    `reveal-4-requested`)."""

    __tablename__ = "notification_item"
    __table_args__ = (sa.UniqueConstraint("user_id", "ref", name="uq_notification_item_user_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="notification_outbox.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="member_user.id", ondelete="CASCADE")
    ref: str = Field(max_length=80)


class SpentLink(SQLModel, table=True):
    """An "interested" or "not relevant" link that has acted: it acts once, so an old link clicked again
    cannot undo a later decision. Kept until the link expires (then it is refused anyway)."""

    __tablename__ = "notification_spent_link"

    token_hash: str = Field(max_length=64, primary_key=True)
    """SHA-256 of the token, hex: the link itself is not kept."""
    user_id: int = Field(foreign_key="member_user.id", ondelete="CASCADE")
    notice_id: int | None = None
    action: str = Field(max_length=20)
    used_at: datetime = Field(default_factory=utcnow)
    expires: datetime = Field(index=True)


outbox_table: sa.Table = OutboxMessage.__table__  # type: ignore[attr-defined]
content_table: sa.Table = OutboxContent.__table__  # type: ignore[attr-defined]
item_table: sa.Table = OutboxItem.__table__  # type: ignore[attr-defined]
spent_link_table: sa.Table = SpentLink.__table__  # type: ignore[attr-defined]

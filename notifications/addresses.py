"""A member user's address that the mail server refused for good (`pib users --disabled`), enabled again by
staff once the firm has fixed it: the next digest is sent to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from watch.models import User

user_table: sa.Table = User.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Address:
    id: int
    email: str
    language: str
    active: bool
    disabled_reason: str | None
    unsubscribed_at: datetime | None


def member_addresses(engine: Engine, *, member_id: int) -> list[Address]:
    """A firm's users with their email state, active first."""
    query = (
        sa.select(
            user_table.c.id,
            user_table.c.email,
            user_table.c.language,
            user_table.c.active,
            user_table.c.email_disabled_reason,
            user_table.c.unsubscribed_at,
        )
        .where(user_table.c.member_id == member_id)
        .order_by(user_table.c.active.desc(), user_table.c.id)
    )
    with engine.connect() as connection:
        return [Address(*row) for row in connection.execute(query)]


def reenable_address(engine: Engine, *, member_id: int, user_id: int) -> str | None:
    """Clear the refusal of a firm's user's address; the address, or None when the firm has no such user."""
    with engine.begin() as connection:
        email = connection.execute(
            sa.update(user_table)
            .where(user_table.c.id == user_id, user_table.c.member_id == member_id)
            .values(email_disabled_reason=None)
            .returning(user_table.c.email)
        ).scalar_one_or_none()
    return email

"""The outbox and the refused addresses in a few numbers, for the staff dashboard (as `pib outbox` and
`pib users --disabled` print them): emails queued, sent, waiting for a retry after a failure, failed for good,
and the addresses a mail server refused for good, with its reason, so that staff can fix them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .compose import member_table, user_table
from .models import outbox_table


@dataclass(frozen=True)
class OutboxCounts:
    queued: int
    """Waiting for their first attempt, or being sent now."""
    to_retry: int
    """Tried, failed for a reason that may pass (a server down, a 4xx), waiting for their next attempt."""
    sent: int
    failed: int
    """Given up: the address was refused for good, or the retries ran out."""
    cancelled: int


@dataclass(frozen=True)
class RefusedAddress:
    member: str
    email: str
    reason: str


def outbox_counts(engine: Engine) -> OutboxCounts:
    state, attempts = outbox_table.c.state, outbox_table.c.attempts
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(
                sa.func.count().filter(sa.or_(sa.and_(state == "pending", attempts == 0), state == "sending")),
                sa.func.count().filter(state == "pending", attempts > 0),
                sa.func.count().filter(state == "sent"),
                sa.func.count().filter(state == "failed"),
                sa.func.count().filter(state == "cancelled"),
            )
        ).one()
    return OutboxCounts(*row)


def refused_addresses(engine: Engine, *, limit: int = 50) -> list[RefusedAddress]:
    """The member users whose address was disabled after a permanent refusal, by firm."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(member_table.c.name, user_table.c.email, user_table.c.email_disabled_reason)
            .join(member_table, member_table.c.id == user_table.c.member_id)
            .where(user_table.c.email_disabled_reason.is_not(None))
            .order_by(member_table.c.name, user_table.c.email)
            .limit(limit)
        ).all()
    return [RefusedAddress(*row) for row in rows]

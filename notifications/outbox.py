"""The outbox: every email is sent once, and none is dropped, even when the process dies mid-way.

The protocol, in four steps, each a committed transaction or a send:

1. Compose (`enqueue`): the rendered email becomes a `pending` row with a unique idempotency key, and the
   things it carries become `notification_item` rows, unique per (user, thing). Two composers racing for
   the same thing: the unique constraint lets one win, the other skips it.
2. Claim: a batch of due `pending` rows becomes `sending` under a claim token (`UPDATE ... WHERE
   state = 'pending'`), committed before anything is sent, so two deliverers never send the same row.
3. Send: the sender gets the email with `Message-ID: <key@domain>` (and, for SendGrid, the custom_arg
   `pib_key`), so the same email sent twice is recognisably the same email.
4. Record: one transaction marks the row `sent` and the matches it carries notified (only now; per
   batch when the sender can tell afterwards what it sent, see `deliver`). The failures (see
   `notifications.senders`) are told apart so that a server's fault costs no email and no address:
   - a server failure (5xx on DATA or MAIL FROM, relay denied, 4xx, authentication, connection) puts the
     row back to `pending` with its reason and a backoff (1, 2, 4 ... minutes, at most 6 hours), for as
     long as it takes; `STOP_AFTER` consecutive identical ones stop the run, and the emails it had not
     tried yet go back to `pending` untouched (`pib outbox` shows them and the last error);
   - a refused mailbox makes the row `failed` and disables the user's address
     (`member_user.email_disabled_reason`), logged for staff (`pib users --disabled` lists them);
   - an email the service itself refuses (`permanent`) is `failed`; any other error is retried until
     `MAX_ATTEMPTS`, then `failed`.

A crash between 3 and 4 leaves the row `sending`. The claim names its owner (host, process id, process start
time): a delivery starting on the same host takes over at once the rows of an owner that is gone (killed,
crashed); the rows of another host wait for `SENDING_LEASE`, as the process may still be at work there. The
delivery that takes a row over asks the sender whether it went out: the outbox folder knows exactly (the
`.eml` is there: it is recorded as sent, not sent again); SMTP and SendGrid cannot tell, so it is sent again
under the same Message-ID and custom_arg (at least once, never zero times). A crash between 2 and 3 takes the
same path and the email is sent. A row leaves `sending` only through a record: nothing is dropped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from crawlers.store.db import among, insert_rows
from crawlers.store.models import utcnow
from watch.models import Match, User

from .models import content_table, item_table, outbox_table
from .senders import AddressRefused, Email, Sender, SendError, ServerFailure

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
SENDING_LEASE = timedelta(minutes=15)
"""A row `sending` for longer than this was left by a process that died (a batch takes far less); it only
matters for claims of another host, since on this one a dead owner is seen at once."""
STOP_AFTER = 3
"""Consecutive identical server failures that stop a run: the next emails would fail the same way."""
BATCH_SIZE = 50
MAX_BACKOFF = timedelta(hours=6)
KEEP_CONTENTS = timedelta(days=90)
"""How long the rendered text of a finished email is kept (its outbox row stays)."""

user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
_delivering = threading.Lock()


@dataclass(frozen=True)
class Composed:
    """An email ready for the outbox, with the things it carries."""

    email: Email
    kind: str
    user_id: int
    refs: list[str]
    match_ids: list[int] = field(default_factory=list)


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    """Emails found already sent after a crash, recorded without sending them again."""
    taken_over: int = 0
    """Emails found `sending` under a dead owner or an expired lease, taken over by this run."""
    disabled: list[str] = field(default_factory=list)
    """`address: reason` of each address refused for good in this run."""
    stopped: str | None = None
    """Why the run stopped early (`STOP_AFTER` identical server failures); the emails not sent wait."""
    waiting: int = 0
    """Emails left in the outbox when the run stopped."""

    def describe(self) -> str:
        text = f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, {self.cancelled} cancelled"
        if self.taken_over:
            text += f", {self.taken_over} taken over from a sender that stopped"
        if self.recovered:
            text += f", {self.recovered} recovered after a crash"
        if self.disabled:
            text += "; addresses disabled: " + "; ".join(self.disabled)
        if self.stopped:
            text += f"; {self.stopped}; {self.waiting} emails wait in the outbox for a later run (pib outbox)"
        return text


def outbox_key(kind: str, user_id: int, refs: Iterable[str], now: datetime) -> str:
    """`digest.20260121.u12.3fa2c1d0e5b4`: readable in a folder, unique to the user and what it carries."""
    digest = hashlib.sha256("\n".join(sorted(refs)).encode()).hexdigest()[:12]
    return f"{kind}.{now:%Y%m%d}.u{user_id}.{digest}"


def _rows(composed: Sequence[Composed], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "key": c.email.key,
            "kind": c.kind,
            "user_id": c.user_id,
            "state": "pending",
            "match_ids": c.match_ids,
            "attempts": 0,
            "created_at": now,
        }
        for c in composed
    ]


def _insert(connection: Connection, composed: Sequence[Composed], now: datetime) -> None:
    inserted = connection.execute(
        sa.insert(outbox_table).returning(outbox_table.c.key, outbox_table.c.id), _rows(composed, now)
    )
    ids = {row.key: row.id for row in inserted}
    connection.execute(
        sa.insert(content_table), [{"outbox_id": ids[c.email.key], **c.email.to_content()} for c in composed]
    )
    items = [{"outbox_id": ids[c.email.key], "user_id": c.user_id, "ref": ref} for c in composed for ref in c.refs]
    insert_rows(connection, item_table, items)  # by COPY on PostgreSQL: 20 items an email, 40,000 a digest run


def enqueue(engine: Engine, composed: Sequence[Composed], *, now: datetime | None = None) -> tuple[int, int]:
    """Store the emails as `pending` (step 1); returns (enqueued, skipped because already composed)."""
    if not composed:
        return 0, 0
    now = now or utcnow()
    try:
        with engine.begin() as connection:
            _insert(connection, composed, now)
        return len(composed), 0
    except IntegrityError:
        pass  # another composer took some of these things: store the others one by one
    enqueued = 0
    for one in composed:
        try:
            with engine.begin() as connection:
                _insert(connection, [one], now)
            enqueued += 1
        except IntegrityError:
            log.info("outbox: %s already composed elsewhere, skipped", one.email.key)
    return enqueued, len(composed) - enqueued


def backoff(attempts: int) -> timedelta:
    """
    >>> backoff(1), backoff(4), backoff(20)
    (datetime.timedelta(seconds=60), datetime.timedelta(seconds=480), datetime.timedelta(seconds=21600))
    """
    return min(timedelta(minutes=2 ** min(attempts - 1, 16)), MAX_BACKOFF)


_CLAIMED = (
    outbox_table.c.id,
    outbox_table.c.key,
    outbox_table.c.kind,
    outbox_table.c.user_id,
    content_table.c.text,
    content_table.c.html,
    content_table.c.meta,
    outbox_table.c.match_ids,
    outbox_table.c.attempts,
    user_table.c.email,
    user_table.c.active,
    user_table.c.unsubscribed_at,
    user_table.c.email_disabled_reason,
)


@dataclass(frozen=True)
class Owner:
    """The process that claims rows: its host, its id and its start time (a recycled id is another process)."""

    host: str
    pid: int
    started: int | None

    @classmethod
    def this_process(cls) -> Owner:
        return cls(socket.gethostname(), os.getpid(), process_start(os.getpid()))

    def is_gone(self) -> bool:
        """Whether the process is known to be gone: only answerable on its own host."""
        if self.host != socket.gethostname():
            return False
        if Path("/proc/self/stat").exists():
            started = process_start(self.pid)
            return started is None or (self.started is not None and started != self.started)
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, under another user
            return False
        return False


def process_start(pid: int) -> int | None:
    """The start time of a process in clock ticks after boot (Linux `/proc`), None where unknown or gone
    (a zombie, killed and not yet reaped by its parent, is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # from field 3 on: the name in parentheses may hold spaces
    return None if fields[0] == "Z" else int(fields[19])


@lru_cache(maxsize=1)
def _this_process(pid: int) -> Owner:
    """Cached per process id, so a forked child does not claim under its parent's name."""
    return Owner.this_process()


def _taken_over(engine: Engine, *, now: datetime) -> sa.ColumnElement[bool]:
    """Rows `sending` whose claim can be taken: its owner on this host is gone, or its lease ran out."""
    lease_over = outbox_table.c.claimed_at < now - SENDING_LEASE
    with engine.connect() as connection:
        owners = connection.execute(
            sa.select(outbox_table.c.claim_host, outbox_table.c.claim_pid, outbox_table.c.claim_started)
            .where(
                outbox_table.c.state == "sending",
                outbox_table.c.claim_host == socket.gethostname(),
                outbox_table.c.claim_pid.is_not(None),
            )
            .distinct()
        ).all()
    gone = [
        sa.and_(
            outbox_table.c.claim_host == host,
            outbox_table.c.claim_pid == pid,
            outbox_table.c.claim_started.is_(None) if started is None else outbox_table.c.claim_started == started,
        )
        for host, pid, started in owners
        if Owner(host, pid, started).is_gone()
    ]
    return sa.and_(outbox_table.c.state == "sending", sa.or_(lease_over, *gone))


def _claim(engine: Engine, condition: sa.ColumnElement[bool], *, now: datetime, backend: str) -> list[Any]:
    """Step 2: take up to BATCH_SIZE rows matching `condition` for this delivery, committed before sending."""
    token = uuid.uuid4().hex
    owner = _this_process(os.getpid())
    with engine.begin() as connection:
        ids = (
            connection.execute(
                sa.select(outbox_table.c.id).where(condition).order_by(outbox_table.c.id).limit(BATCH_SIZE)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        connection.execute(
            sa.update(outbox_table)
            .where(outbox_table.c.id.in_(ids), condition)
            .values(
                state="sending",
                claimed_by=token,
                claimed_at=now,
                claim_host=owner.host,
                claim_pid=owner.pid,
                claim_started=owner.started,
                attempts=outbox_table.c.attempts + 1,
                backend=backend,
            )
        )
        return list(
            connection.execute(
                sa.select(*_CLAIMED)
                .join(user_table, user_table.c.id == outbox_table.c.user_id)
                .join(content_table, content_table.c.outbox_id == outbox_table.c.id)
                .where(outbox_table.c.id.in_(ids), outbox_table.c.claimed_by == token)
                .order_by(outbox_table.c.id)
            )
        )


def _finish(connection: Connection, row: Any, **values: Any) -> None:
    connection.execute(sa.update(outbox_table).where(outbox_table.c.id == row.id).values(claimed_by=None, **values))


def _record_sent(engine: Engine, rows: Sequence[Any], now: datetime) -> None:
    """Step 4: the rows are sent and the matches they carry are notified, in one transaction (the hot path of
    a large digest run: the ids go as one array on PostgreSQL, see `among`)."""
    match_ids = [match_id for row in rows for match_id in row.match_ids]
    with engine.begin() as connection:
        connection.execute(
            sa.update(outbox_table)
            .where(among(connection, outbox_table.c.id, [row.id for row in rows]))
            .values(state="sent", sent_at=now, last_error=None, claimed_by=None)
        )
        if match_ids:
            connection.execute(
                sa.update(match_table)
                .where(among(connection, match_table.c.id, match_ids), match_table.c.notified_at.is_(None))
                .values(notified_at=now)
            )


def _release(engine: Engine, rows: Sequence[Any]) -> None:
    """Rows claimed by a run that stopped before trying them: `pending` again, the attempt not counted."""
    if not rows:
        return
    with engine.begin() as connection:
        connection.execute(
            sa.update(outbox_table)
            .where(outbox_table.c.id.in_([row.id for row in rows]), outbox_table.c.state == "sending")
            .values(state="pending", claimed_by=None, attempts=outbox_table.c.attempts - 1)
        )


def _record_failure(engine: Engine, row: Any, error: Exception, now: datetime, summary: DeliverySummary) -> None:
    reason = str(error)[:1000] or type(error).__name__
    with engine.begin() as connection:
        if isinstance(error, ServerFailure):  # not the email's fault: it waits, however many attempts it takes
            _finish(connection, row, state="pending", last_error=reason, next_attempt_at=now + backoff(row.attempts))
            summary.retrying += 1
            log.warning(
                "email kept after a server failure: key=%s attempts=%s reason=%s", row.key, row.attempts, reason
            )
        elif isinstance(error, AddressRefused):
            _finish(connection, row, state="failed", last_error=reason)
            connection.execute(
                sa.update(user_table)
                .where(user_table.c.id == row.user_id, user_table.c.email_disabled_reason.is_(None))
                .values(email_disabled_reason=reason)
            )
            summary.failed += 1
            summary.disabled.append(f"{row.email}: {reason}")
            log.warning(
                "email address disabled: user=%s address=%s key=%s reason=%s", row.user_id, row.email, row.key, reason
            )
        elif (isinstance(error, SendError) and error.permanent) or row.attempts >= MAX_ATTEMPTS:
            _finish(connection, row, state="failed", last_error=reason)
            summary.failed += 1
            log.error("email failed for good: key=%s attempts=%s reason=%s", row.key, row.attempts, reason)
        else:
            _finish(connection, row, state="pending", last_error=reason, next_attempt_at=now + backoff(row.attempts))
            summary.retrying += 1
            log.warning("email not sent, will retry: key=%s attempts=%s reason=%s", row.key, row.attempts, reason)


def _send(
    engine: Engine, sender: Sender, row: Any, *, maybe_sent: bool, now: datetime, summary: DeliverySummary
) -> tuple[bool, Exception | None]:
    """Step 3 for one row: whether it went out (now or before a crash) and awaits its sent record, and the
    error that kept it from going out."""
    if not row.active or row.unsubscribed_at is not None or row.email_disabled_reason is not None:
        with engine.begin() as connection:
            _finish(connection, row, state="cancelled", last_error="the user no longer receives emails")
        summary.cancelled += 1
        return False, None
    email = replace(Email.from_content(row.key, text=row.text, html=row.html, meta=row.meta), to=row.email)
    if maybe_sent and sender.already_sent(email):
        summary.recovered += 1
        log.info("email found sent after a crash, recorded without sending again: key=%s", row.key)
        return True, None
    try:
        sender.send(email)
    except Exception as error:  # one bad email (or a bug in building it) never stops the others
        if not isinstance(error, SendError):
            log.exception("email could not be built or sent: key=%s", row.key)
        _record_failure(engine, row, error, now, summary)
        return False, error
    summary.sent += 1
    return True, None


@dataclass
class _Streak:
    """The server failures met in a row by a run, while they are the same one (`ServerFailure.signature`)."""

    signature: str | None = None
    count: int = 0

    def add(self, error: Exception | None) -> int:
        """Count one outcome; returns the length of the streak it extends (0 for anything but a server failure)."""
        if not isinstance(error, ServerFailure):
            self.signature, self.count = None, 0
        elif error.signature == self.signature:
            self.count += 1
        else:
            self.signature, self.count = error.signature, 1
        return self.count


def deliver(engine: Engine, *, sender: Sender, now: datetime | None = None) -> DeliverySummary:
    """Send every due `pending` email, after taking over the ones a gone process left `sending`.

    One delivery at a time per process (a second caller waits), so the lease only has to cover other
    processes; a batch of BATCH_SIZE emails takes far less than SENDING_LEASE. A sender that can tell
    what it sent (`confirms`, the outbox folder) has its sends recorded once per batch, since a crash
    before the record costs nothing there; the others are recorded one by one, so that a crash makes
    at most one email go out twice. `STOP_AFTER` identical server failures in a row stop the run.
    """
    now = now or utcnow()
    summary = DeliverySummary()
    due = sa.and_(
        outbox_table.c.state == "pending",
        sa.or_(outbox_table.c.next_attempt_at.is_(None), outbox_table.c.next_attempt_at <= now),
    )
    streak = _Streak()
    with _delivering:
        try:
            for condition, maybe_sent in ((_taken_over(engine, now=now), True), (due, False)):
                while not summary.stopped and (rows := _claim(engine, condition, now=now, backend=sender.backend)):
                    if maybe_sent:
                        summary.taken_over += len(rows)
                    went_out = []
                    for index, row in enumerate(rows):
                        went, error = _send(engine, sender, row, maybe_sent=maybe_sent, now=now, summary=summary)
                        if went and sender.confirms:
                            went_out.append(row)
                        elif went:
                            _record_sent(engine, [row], now)
                        if streak.add(error) >= STOP_AFTER:
                            summary.stopped = f"stopped after {streak.count} failures: {error}"
                            log.error("outbox: delivery %s", summary.stopped)
                            _release(engine, rows[index + 1 :])
                            break
                    if went_out:
                        _record_sent(engine, went_out, now)
            if summary.stopped:
                summary.waiting = _count_waiting(engine)
        finally:
            sender.close()
    return summary


def _count_waiting(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(outbox_table.c.state.in_(("pending", "sending")))
        ).scalar_one()


def forget_contents(engine: Engine, *, before: datetime) -> int:
    """Delete the rendered text of emails finished (sent, failed, cancelled) before `before`; returns how many.

    A digest weighs some 40 kB: kept for ever, 200 members would add gigabytes a year for nothing.
    """
    finished = sa.select(outbox_table.c.id).where(
        outbox_table.c.created_at < before, outbox_table.c.state.in_(("sent", "failed", "cancelled"))
    )
    with engine.begin() as connection:
        return connection.execute(sa.delete(content_table).where(content_table.c.outbox_id.in_(finished))).rowcount


@dataclass(frozen=True)
class Waiting:
    """An email not sent yet, as staff see it."""

    key: str
    to: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    tried_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class OutboxStatus:
    """What the outbox holds: counts per state, the emails waiting (oldest first), the last error met."""

    counts: dict[str, int]
    waiting: list[Waiting]
    more: int
    """Waiting emails beyond the ones listed."""
    last_error: Waiting | None

    def describe(self) -> str:
        states = ("pending", "sending", "sent", "failed", "cancelled")
        return ", ".join(f"{self.counts.get(state, 0)} {state}" for state in states)


def outbox_status(engine: Engine, *, limit: int = 50) -> OutboxStatus:
    """The staff's view of the outbox, so that emails kept after a server failure are seen with the reason."""
    columns = (
        outbox_table.c.key,
        user_table.c.email,
        outbox_table.c.state,
        outbox_table.c.attempts,
        outbox_table.c.next_attempt_at,
        outbox_table.c.claimed_at,
        outbox_table.c.last_error,
    )
    waiting = outbox_table.c.state.in_(("pending", "sending"))
    query = sa.select(*columns).join(user_table, user_table.c.id == outbox_table.c.user_id).where(waiting)
    with engine.connect() as connection:
        counted = connection.execute(sa.select(outbox_table.c.state, sa.func.count()).group_by(outbox_table.c.state))
        counts: dict[str, int] = {state: number for state, number in counted}
        rows = connection.execute(query.order_by(outbox_table.c.id).limit(limit)).all()
        last = connection.execute(
            query.where(outbox_table.c.last_error.is_not(None))
            .order_by(outbox_table.c.claimed_at.desc(), outbox_table.c.id.desc())
            .limit(1)
        ).first()
    listed = [Waiting(*row) for row in rows]
    total = counts.get("pending", 0) + counts.get("sending", 0)
    return OutboxStatus(counts, listed, total - len(listed), Waiting(*last) if last is not None else None)

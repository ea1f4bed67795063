"""The outbox protocol: a crash between send and record neither sends twice nor drops; retries back off;
a refused address is disabled and staff are told."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from notifications.compose import Composer
from notifications.digests import compose_digests, send_digests
from notifications.models import content_table
from notifications.outbox import KEEP_CONTENTS, MAX_ATTEMPTS, SENDING_LEASE, deliver, enqueue, forget_contents
from notifications.senders import AddressRefused, Email, OutboxSender, SendError
from tests.notifications.helpers import (
    NOW,
    add_firm,
    add_match,
    add_notice,
    emls,
    matches,
    outbox_rows,
    settings_for,
    user_row,
)


class Crash(BaseException):
    """The process dying: nothing below the sender gets to run."""


class CrashAfterSend(OutboxSender):
    def send(self, email: Email) -> None:
        super().send(email)
        raise Crash


class CrashBeforeSend(OutboxSender):
    def send(self, email: Email) -> None:
        raise Crash


class Counting(OutboxSender):
    def __init__(self, folder: Path, failures: list[Exception] | None = None) -> None:
        super().__init__(folder)
        self.calls = 0
        self.failures = failures or []

    def send(self, email: Email) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        super().send(email)


def test_a_crash_between_send_and_record_neither_resends_nor_drops(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    match = add_match(engine, firm, add_notice(engine))

    with pytest.raises(Crash):
        send_digests(engine, frequency="daily", sender=CrashAfterSend(settings.outbox_dir), now=NOW, settings=settings)
    [row] = outbox_rows(engine)
    assert row.state == "sending"
    assert len(emls(settings.outbox_dir)) == 1
    assert matches(engine) == {match: None}  # not recorded, so not marked notified

    early = deliver(engine, sender=Counting(settings.outbox_dir), now=NOW + SENDING_LEASE / 2)
    assert (early.sent, early.recovered) == (0, 0)  # within the lease the first process may still be at it

    later = NOW + SENDING_LEASE + timedelta(minutes=1)
    sender = Counting(settings.outbox_dir)
    summary = deliver(engine, sender=sender, now=later)
    assert (summary.recovered, summary.sent, sender.calls) == (1, 0, 0)
    assert [r.state for r in outbox_rows(engine)] == ["sent"]
    assert matches(engine) == {match: later}
    assert len(emls(settings.outbox_dir)) == 1

    again = send_digests(engine, frequency="daily", sender=sender, now=later + timedelta(days=1), settings=settings)
    assert (again.composed, again.delivery.sent, sender.calls) == (0, 0, 0)


class CrashAtSecondSend(OutboxSender):
    sends = 0

    def send(self, email: Email) -> None:
        self.sends += 1
        if self.sends == 2:
            super().send(email)
            raise Crash
        super().send(email)


def test_a_crash_inside_a_batch_recovers_every_email_once(engine: Engine, tmp_path: Path) -> None:
    """The outbox folder records its sends per batch: a crash leaves several sent and unrecorded."""
    settings = settings_for(tmp_path)
    firm = add_firm(engine, users=[(f"user{n}@alpha.example", "fr") for n in range(3)])
    match = add_match(engine, firm, add_notice(engine))

    with pytest.raises(Crash):
        send_digests(
            engine, frequency="daily", sender=CrashAtSecondSend(settings.outbox_dir), now=NOW, settings=settings
        )
    assert [r.state for r in outbox_rows(engine)] == ["sending"] * 3
    assert len(emls(settings.outbox_dir)) == 2

    later = NOW + SENDING_LEASE + timedelta(minutes=1)
    sender = Counting(settings.outbox_dir)
    summary = deliver(engine, sender=sender, now=later)

    assert (summary.recovered, summary.sent, sender.calls) == (2, 1, 1)
    assert [r.state for r in outbox_rows(engine)] == ["sent"] * 3
    assert len(emls(settings.outbox_dir)) == 3
    assert matches(engine) == {match: later}


def test_a_crash_before_the_send_sends_it_later(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    match = add_match(engine, firm, add_notice(engine))

    with pytest.raises(Crash):
        send_digests(engine, frequency="daily", sender=CrashBeforeSend(settings.outbox_dir), now=NOW, settings=settings)
    assert emls(settings.outbox_dir) == []

    later = NOW + SENDING_LEASE + timedelta(minutes=1)
    summary = deliver(engine, sender=OutboxSender(settings.outbox_dir), now=later)
    assert (summary.recovered, summary.sent) == (0, 1)
    assert len(emls(settings.outbox_dir)) == 1
    assert matches(engine) == {match: later}


def test_a_transient_failure_is_retried_with_backoff(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    match = add_match(engine, firm, add_notice(engine))
    sender = Counting(settings.outbox_dir, failures=[SendError("451 try later"), SendError("451 try later")])

    first = send_digests(engine, frequency="daily", sender=sender, now=NOW, settings=settings)
    assert (first.delivery.sent, first.delivery.retrying) == (0, 1)
    [row] = outbox_rows(engine)
    assert (row.state, row.attempts, row.next_attempt_at, row.last_error) == (
        "pending",
        1,
        NOW + timedelta(minutes=1),
        "451 try later",
    )

    assert deliver(engine, sender=sender, now=NOW + timedelta(seconds=30)).retrying == 0  # not due yet
    assert sender.calls == 1
    assert deliver(engine, sender=sender, now=NOW + timedelta(minutes=1)).retrying == 1
    assert outbox_rows(engine)[0].next_attempt_at == NOW + timedelta(minutes=3)  # then 2 minutes later
    done = deliver(engine, sender=sender, now=NOW + timedelta(minutes=3))
    assert (done.sent, sender.calls) == (1, 3)
    assert matches(engine) == {match: NOW + timedelta(minutes=3)}


def test_retries_end_after_max_attempts(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    match = add_match(engine, firm, add_notice(engine))
    sender = Counting(settings.outbox_dir, failures=[SendError("timeout")] * (MAX_ATTEMPTS + 1))

    send_digests(engine, frequency="daily", sender=sender, now=NOW, settings=settings)
    moment = NOW
    for _ in range(MAX_ATTEMPTS):
        moment += timedelta(days=1)
        deliver(engine, sender=sender, now=moment)
    assert (outbox_rows(engine)[0].state, sender.calls) == ("failed", MAX_ATTEMPTS)
    assert matches(engine) == {match: None}


def test_a_refused_address_is_disabled_and_shown_to_staff(
    engine: Engine, tmp_path: Path, settings_env: None, database_url: str
) -> None:
    from pib.cli import app

    settings = settings_for(tmp_path)
    firm = add_firm(engine, users=[("nobody@alpha.example", "fr"), ("boss@alpha.example", "fr")])
    add_match(engine, firm, add_notice(engine))
    refusal = AddressRefused("SMTP 127.0.0.1:25 refused nobody@alpha.example: 550 5.1.1 no such user")
    sender = Counting(settings.outbox_dir, failures=[refusal])

    summary = send_digests(engine, frequency="daily", sender=sender, now=NOW, settings=settings)

    assert summary.delivery.disabled == [f"nobody@alpha.example: {refusal}"]
    assert user_row(engine, firm.users["nobody@alpha.example"]).email_disabled_reason == str(refusal)
    assert user_row(engine, firm.users["boss@alpha.example"]).email_disabled_reason is None
    assert sorted(r.state for r in outbox_rows(engine)) == ["failed", "sent"]
    result = CliRunner().invoke(app, ["users", "--disabled"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Alpha Logiciels SRL\tnobody@alpha.example\tfr\tdisabled: {refusal}\n"


def test_an_email_composed_twice_is_stored_once(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    add_match(engine, firm, add_notice(engine))
    composer = Composer(settings, NOW)
    [batch] = list(compose_digests(engine, frequency="daily", composer=composer))

    assert enqueue(engine, batch, now=NOW) == (1, 0)
    assert enqueue(engine, batch, now=NOW) == (0, 1)  # e.g. a second run racing the first
    assert len(outbox_rows(engine)) == 1


def test_a_thing_already_in_another_email_keeps_that_one_email_out_and_stores_the_rest(
    engine: Engine, tmp_path: Path
) -> None:
    """Two composers racing with different emails carrying one same thing: the second email is skipped (its
    thing is unique per user), the other email of its batch stored, and nothing of the skipped one remains."""
    settings = settings_for(tmp_path)
    firm = add_firm(engine, name="École Numérique SA")
    add_match(engine, firm, add_notice(engine))
    composer = Composer(settings, NOW)
    [[first]] = list(compose_digests(engine, frequency="daily", composer=composer))
    assert enqueue(engine, [first], now=NOW) == (1, 0)
    overlapping = replace(first, email=replace(first.email, key=first.email.key + ".b"), refs=[*first.refs, "x:1"])
    other = replace(first, email=replace(first.email, key=first.email.key + ".c"), refs=["x:2"])

    assert enqueue(engine, [overlapping, other], now=NOW) == (1, 1)
    assert sorted(row.key for row in outbox_rows(engine)) == [first.email.key, other.email.key]
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(content_table)).scalar_one() == 2


def test_an_email_to_a_user_who_unsubscribed_meanwhile_is_cancelled(engine: Engine, tmp_path: Path) -> None:
    from sqlmodel import Session

    from watch.models import User

    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    match = add_match(engine, firm, add_notice(engine))
    [batch] = list(compose_digests(engine, frequency="daily", composer=Composer(settings, NOW)))
    enqueue(engine, batch, now=NOW)
    with Session(engine) as session:
        user = session.get(User, next(iter(firm.users.values())))
        assert user is not None
        user.unsubscribed_at = NOW
        session.commit()

    summary = deliver(engine, sender=OutboxSender(settings.outbox_dir), now=NOW)

    assert (summary.sent, summary.cancelled) == (0, 1)
    assert emls(settings.outbox_dir) == []
    assert matches(engine) == {match: None}


def test_old_contents_are_forgotten_once_finished(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine, users=[("a@alpha.example", "fr"), ("b@alpha.example", "fr")])
    add_match(engine, firm, add_notice(engine))
    sender = Counting(settings.outbox_dir, failures=[SendError("451 later")])
    send_digests(engine, frequency="daily", sender=sender, now=NOW, settings=settings)  # one sent, one to retry

    assert forget_contents(engine, before=NOW) == 0  # too recent
    assert forget_contents(engine, before=NOW + KEEP_CONTENTS) == 1  # the pending one is kept
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(content_table)).scalar_one() == 1
    assert deliver(engine, sender=sender, now=NOW + timedelta(hours=1)).sent == 1

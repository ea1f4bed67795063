"""A server's failure is not a recipient's refusal: against a real SMTP server answering 5xx on DATA or on
RCPT, no email is lost, no address is disabled, a run failing the same way stops and staff see why."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from crawlers.store.models import utcnow
from notifications.digests import send_digests
from notifications.outbox import MAX_ATTEMPTS, STOP_AFTER, deliver
from notifications.senders import SendGridSender, SmtpSender
from tests.notifications.helpers import (
    NOW,
    add_firm,
    add_match,
    add_notice,
    matches,
    outbox_rows,
    settings_for,
    user_row,
)
from tests.notifications.test_senders import FakeSendGrid, free_port, sendgrid_api  # noqa: F401 (a fixture)

FIRM = "École Numérique SA"
RELAY_DENIED = "554 5.7.1 relay access denied"


class Server:
    """An SMTP server whose answers a test sets: `data_reply` on DATA, `rcpt_replies` per address prefix."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.data_reply = "250 2.0.0 accepted"
        self.rcpt_replies: dict[str, str] = {}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        for prefix, reply in self.rcpt_replies.items():
            if address.startswith(prefix):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply.startswith("250"):
            message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.received.append(message)
        return self.data_reply

    def recipients(self) -> list[str]:
        return sorted(str(message["To"]) for message in self.received)


@pytest.fixture
def smtp() -> Iterator[tuple[Server, int]]:
    server = Server()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    yield server, port
    controller.stop()


def firm_of(engine: Engine, addresses: list[str]) -> list[int]:
    """One firm whose users are `addresses`, with one match waiting, open at NOW and today (for the CLI)."""
    firm = add_firm(engine, FIRM, users=[(address, "fr") for address in addresses])
    return [add_match(engine, firm, add_notice(engine, deadline=f"{utcnow() + timedelta(days=90):%Y-%m-%d}"))]


ADDRESSES = [f"user{n}@ecole-numerique.example" for n in range(5)]


def test_a_5xx_on_data_keeps_every_email_and_stops_the_run(
    engine: Engine, tmp_path: Path, smtp: tuple[Server, int]
) -> None:
    server, port = smtp
    server.data_reply = RELAY_DENIED
    [match] = firm_of(engine, ADDRESSES)
    settings = settings_for(tmp_path)

    first = send_digests(
        engine, frequency="daily", sender=SmtpSender(host="127.0.0.1", port=port), now=NOW, settings=settings
    )

    assert first.composed == 5
    assert (first.delivery.sent, first.delivery.retrying, first.delivery.failed) == (0, STOP_AFTER, 0)
    assert first.delivery.stopped == f"stopped after 3 failures: SMTP 127.0.0.1:{port} DATA: {RELAY_DENIED}"
    assert f"stopped after 3 failures: SMTP 127.0.0.1:{port} DATA: {RELAY_DENIED}; 5 emails wait" in first.describe()
    rows = outbox_rows(engine)
    assert [(row.state, row.attempts) for row in rows] == [("pending", 1)] * 3 + [("pending", 0)] * 2
    assert rows[0].last_error == f"SMTP 127.0.0.1:{port} DATA: {RELAY_DENIED}"
    assert all(user_row(engine, row.user_id).email_disabled_reason is None for row in rows)
    assert matches(engine) == {match: None}

    server.data_reply = "250 2.0.0 accepted"  # the relay is fixed
    later = NOW + timedelta(hours=1)
    second = deliver(engine, sender=SmtpSender(host="127.0.0.1", port=port), now=later)

    assert (second.sent, second.stopped) == (5, None)
    assert server.recipients() == ADDRESSES
    assert len({message["Message-ID"] for message in server.received}) == 5
    assert matches(engine) == {match: later}
    again = send_digests(
        engine, frequency="daily", sender=SmtpSender(host="127.0.0.1", port=port), now=later, settings=settings
    )
    assert (again.composed, again.delivery.sent) == (0, 0)


def test_a_refused_mailbox_between_two_good_ones_is_disabled_alone(
    engine: Engine, tmp_path: Path, smtp: tuple[Server, int]
) -> None:
    server, port = smtp
    server.rcpt_replies = {"nobody@": "550 5.1.1 <nobody@ecole-numerique.example>: Recipient address rejected"}
    addresses = ["first@ecole-numerique.example", "nobody@ecole-numerique.example", "last@ecole-numerique.example"]
    firm_of(engine, addresses)

    summary = send_digests(
        engine,
        frequency="daily",
        sender=SmtpSender(host="127.0.0.1", port=port),
        now=NOW,
        settings=settings_for(tmp_path),
    )

    assert (summary.delivery.sent, summary.delivery.failed, summary.delivery.stopped) == (2, 1, None)
    assert server.recipients() == [addresses[0], addresses[2]]
    refused = [row for row in outbox_rows(engine) if row.state == "failed"]
    assert user_row(engine, refused[0].user_id).email == addresses[1]
    assert "550 5.1.1" in user_row(engine, refused[0].user_id).email_disabled_reason


def test_a_relay_denied_on_rcpt_disables_no_address(
    engine: Engine, tmp_path: Path, smtp: tuple[Server, int], settings_env: None
) -> None:
    from pib.cli import app

    server, port = smtp
    server.rcpt_replies = {"user": "554 5.7.1 <user@ecole-numerique.example>: Relay access denied"}
    firm_of(engine, ADDRESSES)

    summary = send_digests(
        engine,
        frequency="daily",
        sender=SmtpSender(host="127.0.0.1", port=port),
        now=NOW,
        settings=settings_for(tmp_path),
    )

    assert summary.delivery.failed == 0 and summary.delivery.disabled == []
    assert summary.delivery.stopped is not None and "RCPT TO" in summary.delivery.stopped
    assert "554 5.7.1" in summary.delivery.stopped
    assert all(user_row(engine, row.user_id).email_disabled_reason is None for row in outbox_rows(engine))
    result = CliRunner().invoke(app, ["users", "--disabled"])
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no disabled address" in result.stderr


def test_one_transient_refusal_between_good_ones_does_not_stop_the_run(
    engine: Engine, tmp_path: Path, smtp: tuple[Server, int]
) -> None:
    server, port = smtp
    server.rcpt_replies = {"busy@": "451 4.3.0 mailbox busy, try later"}
    addresses = ["first@ecole-numerique.example", "busy@ecole-numerique.example", "last@ecole-numerique.example"]
    firm_of(engine, addresses)

    summary = send_digests(
        engine,
        frequency="daily",
        sender=SmtpSender(host="127.0.0.1", port=port),
        now=NOW,
        settings=settings_for(tmp_path),
    )

    assert (summary.delivery.sent, summary.delivery.retrying, summary.delivery.stopped) == (2, 1, None)
    assert [row.state for row in outbox_rows(engine)] == ["sent", "pending", "sent"]


def test_a_server_failing_for_days_loses_no_email(engine: Engine, tmp_path: Path, smtp: tuple[Server, int]) -> None:
    """Server failures are not the email's fault: they never use up its attempts."""
    server, port = smtp
    server.data_reply = "421 4.3.2 service shutting down"
    [match] = firm_of(engine, ["seul@ecole-numerique.example"])
    send_digests(
        engine,
        frequency="daily",
        sender=SmtpSender(host="127.0.0.1", port=port),
        now=NOW,
        settings=settings_for(tmp_path),
    )
    moment = NOW
    for _ in range(MAX_ATTEMPTS + 1):
        moment += timedelta(days=1)
        deliver(engine, sender=SmtpSender(host="127.0.0.1", port=port), now=moment)
    [row] = outbox_rows(engine)
    assert (row.state, row.attempts) == ("pending", MAX_ATTEMPTS + 2)
    assert "421 4.3.2 service shutting down" in row.last_error

    server.data_reply = "250 2.0.0 accepted"
    assert deliver(engine, sender=SmtpSender(host="127.0.0.1", port=port), now=moment + timedelta(days=1)).sent == 1
    assert matches(engine) == {match: moment + timedelta(days=1)}


def test_pib_digests_send_says_why_it_stopped_and_pib_outbox_lists_what_waits(
    engine: Engine, tmp_path: Path, smtp: tuple[Server, int], settings_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings
    from pib.cli import app

    server, port = smtp
    server.data_reply = RELAY_DENIED
    firm_of(engine, ADDRESSES)
    monkeypatch.setenv("PIB_EMAIL_BACKEND", "smtp")
    monkeypatch.setenv("PIB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PIB_SMTP_PORT", str(port))
    get_settings.cache_clear()

    sent = CliRunner().invoke(app, ["digests", "send"])

    assert sent.exit_code == 1, sent.output
    assert f"stopped after 3 failures: SMTP 127.0.0.1:{port} DATA: {RELAY_DENIED}" in sent.stderr
    assert "outbox: 5 pending, 0 sending, 0 sent, 0 failed, 0 cancelled" in sent.stderr
    assert "weekly digests not composed: sending stopped" in sent.stderr

    listed = CliRunner().invoke(app, ["outbox", "--limit", "4"])

    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0] == "outbox: 5 pending, 0 sending, 0 sent, 0 failed, 0 cancelled"
    assert lines[1].startswith("last error (") and lines[1].endswith(f"DATA: {RELAY_DENIED}")
    assert lines[2] == "key\tto\tstate\tattempts\tnext attempt\tlast error"
    assert [line.split("\t")[1:4] for line in lines[3:7]] == [
        [address, "pending", "1"] for address in ADDRESSES[:3]
    ] + [[ADDRESSES[3], "pending", "0"]]
    assert lines[3].endswith(f"DATA: {RELAY_DENIED}") and lines[6].endswith("\tnow\t")
    assert lines[7] == "... and 1 more waiting (--limit)"


def test_sendgrid_answering_401_keeps_the_emails_and_stops(
    engine: Engine,
    tmp_path: Path,
    sendgrid_api: FakeSendGrid,  # noqa: F811
) -> None:
    unauthorized = (401, {"errors": [{"message": "The provided authorization grant is invalid, expired, or revoked"}]})
    bad_address = (400, {"errors": [{"message": "Invalid email", "field": "personalizations.0.to.0.email"}]})
    sendgrid_api.answers = [(202, {}), bad_address, (202, {}), unauthorized, unauthorized, unauthorized]
    addresses = [f"user{n}@ecole-numerique.example" for n in range(7)]
    firm_of(engine, addresses)

    summary = send_digests(
        engine,
        frequency="daily",
        sender=SendGridSender(api_key="SG.revoked", host=sendgrid_api.url),
        now=NOW,
        settings=settings_for(tmp_path),
    )

    delivery = summary.delivery
    assert (delivery.sent, delivery.failed, delivery.retrying) == (2, 1, 3)
    assert delivery.stopped is not None and "answered 401" in delivery.stopped
    assert [user_row(engine, row.user_id).email_disabled_reason is not None for row in outbox_rows(engine)] == [
        False,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    assert len(sendgrid_api.requests) == 6
    assert [row.state for row in outbox_rows(engine)] == ["sent", "failed", "sent"] + ["pending"] * 4

"""The senders against local stand-ins: an HTTP server in place of the SendGrid API, a real SMTP server."""

from __future__ import annotations

import doctest
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

import notifications.senders
from notifications.digests import send_digests
from notifications.outbox import SENDING_LEASE, deliver
from notifications.senders import AddressRefused, Email, SendError, SendGridSender, ServerFailure, SmtpSender
from tests.notifications.helpers import NOW, add_firm, add_match, add_notice, matches, parts, settings_for

EMAIL = Email(
    key="digest.20260122.u7.0123456789ab",
    to="info@alpha.example",
    sender="PIB <alerts@pib.example>",
    subject="1 nouveau marché pour Alpha",
    text="Bonjour,\n<script>x</script>\n",
    html="<p>Bonjour, &lt;script&gt;x&lt;/script&gt;</p>",
    category="digest",
    language="fr",
    headers={
        "List-Unsubscribe": "<https://pib.example/l/u.7.0.1.sig>, <mailto:unsubscribe@pib.example?subject=u>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# SendGrid ---------------------------------------------------------------------------------------------------


class FakeSendGrid:
    """Records each request; answers with the next scripted (status, body), 202 when none is left."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                status, answer = fake.answers.pop(0) if fake.answers else (202, None)
                self.send_response(status)
                self.end_headers()
                if answer is not None:
                    self.wfile.write(json.dumps(answer).encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def sendgrid_api() -> Iterator[FakeSendGrid]:
    fake = FakeSendGrid()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_sendgrid_posts_the_whole_email(sendgrid_api: FakeSendGrid) -> None:
    SendGridSender(api_key="SG.test-key", host=sendgrid_api.url).send(EMAIL)

    [request] = sendgrid_api.requests
    assert request["path"] == "/v3/mail/send"
    assert request["headers"]["Authorization"] == "Bearer SG.test-key"
    assert request["json"] == {
        "personalizations": [{"to": [{"email": "info@alpha.example"}]}],
        "from": {"email": "alerts@pib.example", "name": "PIB"},
        "subject": "1 nouveau marché pour Alpha",
        "content": [
            {"type": "text/plain", "value": "Bonjour,\n<script>x</script>\n"},
            {"type": "text/html", "value": "<p>Bonjour, &lt;script&gt;x&lt;/script&gt;</p>"},
        ],
        "headers": {
            "Message-ID": "<digest.20260122.u7.0123456789ab@pib.example>",
            "List-Unsubscribe": "<https://pib.example/l/u.7.0.1.sig>, <mailto:unsubscribe@pib.example?subject=u>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        "categories": ["pib", "digest"],
        "custom_args": {"pib_key": "digest.20260122.u7.0123456789ab"},
        "tracking_settings": {"click_tracking": {"enable": False, "enable_text": False}},
    }


def test_sendgrid_refusing_the_address_is_permanent(sendgrid_api: FakeSendGrid) -> None:
    sendgrid_api.answers = [
        (400, {"errors": [{"message": "Does not contain a valid address.", "field": "personalizations.0.to.0.email"}]}),
        (400, {"errors": [{"message": "The subject is required.", "field": "subject"}]}),
        (503, {"errors": [{"message": "unavailable"}]}),
    ]
    sender = SendGridSender(api_key="SG.test-key", host=sendgrid_api.url)

    with pytest.raises(AddressRefused, match=r"400.*valid address"):
        sender.send(EMAIL)
    with pytest.raises(SendError) as bad_request:
        sender.send(EMAIL)
    assert bad_request.value.permanent and not isinstance(bad_request.value, AddressRefused)
    with pytest.raises(ServerFailure) as unavailable:
        sender.send(EMAIL)
    assert not unavailable.value.permanent and unavailable.value.signature == "SendGrid 503"


def test_sendgrid_unreachable_is_transient() -> None:
    with pytest.raises(ServerFailure) as error:
        SendGridSender(api_key="SG.test-key", host=f"http://127.0.0.1:{free_port()}").send(EMAIL)
    assert not error.value.permanent


# SMTP -------------------------------------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@alpha.example>: no such user"
        if address.startswith("busy@"):
            return "451 4.3.0 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 2.0.0 accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def test_smtp_delivers_both_parts_and_the_headers(smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    sender = SmtpSender(host="127.0.0.1", port=port)
    sender.send(EMAIL)
    sender.send(EMAIL)  # over the same connection
    sender.close()

    assert len(mailbox.received) == 2
    recipients, message = mailbox.received[0]
    assert recipients == ["info@alpha.example"]
    assert message["From"] == "PIB <alerts@pib.example>"
    assert message["Subject"] == "1 nouveau marché pour Alpha"
    assert message["Message-ID"] == "<digest.20260122.u7.0123456789ab@pib.example>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"] == EMAIL.headers["List-Unsubscribe"]
    text, html = (part.replace("\r\n", "\n") for part in parts(message))  # lines end in CRLF on the wire
    assert (text, html.rstrip("\n")) == (EMAIL.text, EMAIL.html)


def test_smtp_refusals(smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    sender = SmtpSender(host="127.0.0.1", port=port)
    with pytest.raises(AddressRefused, match=r"550 5\.1\.1"):
        sender.send(Email(**{**EMAIL.__dict__, "to": "nobody@alpha.example"}))
    with pytest.raises(ServerFailure) as busy:
        sender.send(Email(**{**EMAIL.__dict__, "to": "busy@alpha.example"}))
    assert not busy.value.permanent and busy.value.signature == "RCPT 451 4.3.0"
    with pytest.raises(ServerFailure) as down:
        SmtpSender(host="127.0.0.1", port=free_port()).send(EMAIL)
    assert not down.value.permanent and down.value.signature == "ConnectionRefusedError"
    sender.close()
    assert mailbox.received == []


def test_the_rules_telling_a_refused_mailbox_from_a_server_failure() -> None:
    """Their doctests are their specification (`_refuses_the_mailbox`, `_signature`)."""
    result = doctest.testmod(notifications.senders)
    assert result.attempted > 0 and result.failed == 0


class SmtpCrashAfterSend(SmtpSender):
    def send(self, email: Email) -> None:
        super().send(email)
        raise KeyboardInterrupt  # the process stops between the send and its record


def test_smtp_after_a_crash_resends_under_the_same_message_id(
    engine: Engine, tmp_path: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    """SMTP cannot tell whether it delivered: at least once, recognisably the same email (documented)."""
    mailbox, port = smtp_server
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    match = add_match(engine, firm, add_notice(engine))
    with pytest.raises(KeyboardInterrupt):
        send_digests(
            engine,
            frequency="daily",
            sender=SmtpCrashAfterSend(host="127.0.0.1", port=port),
            now=NOW,
            settings=settings,
        )

    later = NOW + SENDING_LEASE + timedelta(minutes=1)
    summary = deliver(engine, sender=SmtpSender(host="127.0.0.1", port=port), now=later)

    assert summary.sent == 1
    assert len({message["Message-ID"] for _, message in mailbox.received}) == 1
    assert len(mailbox.received) == 2
    assert matches(engine) == {match: later}

"""Email senders behind one interface: an outbox folder of .eml files (the default), SMTP, SendGrid.

A sender sends one `Email` or raises one of three failures, told apart so that one server's fault never
costs the emails or the addresses: `AddressRefused` (the recipient's mailbox was refused for good: the address
is disabled), `ServerFailure` (the server, the account or the way to it failed: the email waits for a retry,
and a run meeting the same failure again and again stops), or a plain `SendError` (this email itself is wrong,
`permanent`, or a failure of unknown cause, retried a bounded number of times).

`already_sent` answers the question the outbox asks after a crash between a send and its record (see
`notifications.outbox`): True or False when the sender can tell, None when it cannot (SMTP and SendGrid keep
no queryable trace, so the email is sent again under the same Message-ID and SendGrid custom_arg, which lets
the receiving side collapse the duplicate).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from config.settings import Settings

from . import mime


class SendError(Exception):
    """A send that did not happen; `permanent` means retrying the same email cannot succeed."""

    permanent = False

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class AddressRefused(SendError):
    """The recipient's mailbox was refused for good (SMTP 550/551/553 5.1.x on RCPT, SendGrid 400 on the address)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class ServerFailure(SendError):
    """The server, the account or the connection failed, not this email nor its recipient: the email is kept
    to retry however long it takes, and `signature` (stage and code, without the addresses a reply may quote)
    tells whether consecutive failures are the same one."""

    def __init__(self, message: str, *, signature: str) -> None:
        super().__init__(message)
        self.signature = signature


@dataclass(frozen=True)
class Email:
    """One rendered email, as the outbox stores it (`notification_content`) and every sender reads it."""

    key: str
    to: str
    sender: str
    subject: str
    text: str
    html: str
    category: str
    language: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        """Derived from the idempotency key, so a resent email is recognisably the same email."""
        return f"<{self.key}@{_domain(self.sender)}>"

    def to_content(self) -> dict[str, Any]:
        """The columns of its `notification_content` row: the bodies as text, the rest as `meta`."""
        meta = {
            "to": self.to,
            "from": self.sender,
            "subject": self.subject,
            "category": self.category,
            "language": self.language,
            "headers": dict(self.headers),
        }
        return {"text": self.text, "html": self.html, "meta": meta}

    @classmethod
    def from_content(cls, key: str, *, text: str, html: str, meta: dict[str, Any]) -> Email:
        return cls(
            key=key,
            to=meta["to"],
            sender=meta["from"],
            subject=meta["subject"],
            text=text,
            html=html,
            category=meta["category"],
            language=meta["language"],
            headers=dict(meta.get("headers") or {}),
        )

    def to_bytes(self, *, date: datetime) -> bytes:
        """The RFC 5322 message: the headers, then the text and HTML alternatives (see `notifications.mime`)."""
        if not self.to.isascii():
            raise AddressRefused(f"{self.to!r}: addresses beyond ASCII (SMTPUTF8) are not supported")
        name, address = parseaddr(self.sender)
        headers = [
            mime.address_header("From", name, address),
            mime.header("To", self.to),
            mime.header("Subject", self.subject),
            mime.header("Date", format_datetime(date)),
            mime.header("Message-ID", self.message_id),
            mime.header("Auto-Submitted", "auto-generated"),
            mime.header("Content-Language", self.language),
            *(mime.header(header, value) for header, value in self.headers.items()),
        ]
        boundary = "=_pib_" + hashlib.sha256(self.key.encode()).hexdigest()[:24]
        return mime.build(headers, self.text, self.html, boundary=boundary)


class Sender(Protocol):
    backend: str
    confirms: bool
    """Whether `already_sent` is exact (then the outbox may record several sends at once)."""

    def send(self, email: Email) -> None: ...

    def already_sent(self, email: Email) -> bool | None: ...

    def close(self) -> None: ...


class OutboxSender:
    """Writes each email as `<key>.eml` in a folder a person can open; the file's presence means sent.

    The file appears whole or not at all (written aside, then renamed), so `already_sent` is exact for a
    crash of the process; it is not fsynced, so a power cut may lose a file the database says was sent.
    """

    backend = "outbox"
    confirms = True

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, email: Email) -> Path:
        return self.folder / f"{email.key}.eml"

    def send(self, email: Email) -> None:
        data = email.to_bytes(date=datetime.now().astimezone())
        temporary = self.folder / f".{email.key}.part"  # one deliverer per row (the outbox's claim)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(data)
            os.replace(temporary, self.path(email))
        except OSError as error:  # a full disk or a folder not writable: every email would fail alike
            temporary.unlink(missing_ok=True)
            raise ServerFailure(
                f"outbox folder {self.folder}: {error.strerror or error}", signature=f"outbox {type(error).__name__}"
            ) from error
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def already_sent(self, email: Email) -> bool | None:
        return self.path(email).exists()

    def close(self) -> None:
        pass


class SmtpSender:
    """Any SMTP server; one connection kept across a batch and checked (NOOP) before each email."""

    backend = "smtp"
    confirms = False

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30,
    ) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.timeout = starttls, timeout
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            try:
                if self._connection.noop()[0] == 250:
                    return self._connection
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                connection.starttls(context=ssl.create_default_context())
            if self.user:
                connection.login(self.user, self.password or "")
        except BaseException:  # a refused login or TLS: not kept, not leaked
            connection.close()
            raise
        self._connection = connection
        return connection

    def send(self, email: Email) -> None:
        """Recipient refusals (`AddressRefused`) are told from the server's failures (`ServerFailure`):
        see `_refuses_the_mailbox`."""
        where = f"SMTP {self.host}:{self.port}"
        data = email.to_bytes(date=datetime.now().astimezone())
        try:
            connection = self._connect()
            connection.sendmail(parseaddr(email.sender)[1], [email.to], data)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            answer = f"{code} {_text(reply)}"
            if _refuses_the_mailbox(code, _text(reply)):
                raise AddressRefused(f"{where} refused {email.to}: {answer}") from error
            raise ServerFailure(
                f"{where} RCPT TO {email.to}: {answer}", signature=_signature("RCPT", code, reply)
            ) from error
        except smtplib.SMTPResponseException as error:
            self.close()
            stage = _STAGES.get(type(error), "reply")
            text = f"{where} {stage}: {error.smtp_code} {_text(error.smtp_error)}"
            raise ServerFailure(text, signature=_signature(stage, error.smtp_code, error.smtp_error)) from error
        except (smtplib.SMTPException, OSError) as error:  # refused, unreachable, timed out, disconnected
            self.close()
            raise ServerFailure(
                f"{where}: {str(error) or type(error).__name__}", signature=type(error).__name__
            ) from error

    def already_sent(self, email: Email) -> bool | None:
        return None

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None


class SendGridSender:
    """The SendGrid v3 mail API through the `sendgrid` library; its host is a setting (tests use a local one).

    Click tracking is off: it would rewrite the signed links and tell a third party who clicked what.
    """

    backend = "sendgrid"
    confirms = False

    def __init__(self, *, api_key: str, host: str, timeout: float = 30) -> None:
        from sendgrid import SendGridAPIClient

        self.client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self.timeout = timeout

    @staticmethod
    def request_body(email: Email) -> dict[str, Any]:
        name, address = parseaddr(email.sender)
        sender: dict[str, str] = {"email": address}
        if name:
            sender["name"] = name
        return {
            "personalizations": [{"to": [{"email": email.to}]}],
            "from": sender,
            "subject": email.subject,
            "content": [{"type": "text/plain", "value": email.text}, {"type": "text/html", "value": email.html}],
            "headers": {"Message-ID": email.message_id, **email.headers},
            "categories": ["pib", email.category],
            "custom_args": {"pib_key": email.key},
            "tracking_settings": {"click_tracking": {"enable": False, "enable_text": False}},
        }

    def send(self, email: Email) -> None:
        from python_http_client.exceptions import HTTPError

        where = f"SendGrid {self.client.host}"
        try:
            self.client.client.mail.send.post(request_body=self.request_body(email), timeout=self.timeout)
        except HTTPError as error:
            status = error.status_code
            text = f"{where} answered {status}: {_text(error.body)[:500]}"
            if status == 400 and _names_the_recipient(error.body):
                raise AddressRefused(text) from error
            # 401/403: a key to fix, 408/429 and 5xx: wait; the email is not at fault. Other 4xx: this email is wrong.
            if status in (401, 403, 408, 429) or status >= 500:
                raise ServerFailure(text, signature=f"SendGrid {status}") from error
            raise SendError(text, permanent=True) from error
        except OSError as error:  # refused, unreachable, timed out (urllib's URLError is one)
            raise ServerFailure(f"{where}: {error}", signature=type(error).__name__) from error

    def already_sent(self, email: Email) -> bool | None:
        return None

    def close(self) -> None:
        pass


@lru_cache(maxsize=64)
def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "pib.invalid"


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


_STAGES: dict[type[smtplib.SMTPResponseException], str] = {
    smtplib.SMTPConnectError: "greeting",
    smtplib.SMTPHeloError: "HELO",
    smtplib.SMTPAuthenticationError: "AUTH",
    smtplib.SMTPSenderRefused: "MAIL FROM",
    smtplib.SMTPDataError: "DATA",
}
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?!\S)")
_SERVER_SIDE = re.compile(r"relay|authenticat|access denied|policy|block|spam|reputation", re.IGNORECASE)


def _refuses_the_mailbox(code: int, reply: str) -> bool:
    """Whether an SMTP refusal on RCPT is about the recipient's mailbox, for good.

    550/551/553 with an enhanced status 5.1.x (bad mailbox, bad domain, moved) refuses the recipient. The
    same codes with 5.7.x (relay denied, policy), 554, any 4xx, or the other codes are the server's own
    trouble. A reply without an enhanced status refuses the recipient unless it speaks of relaying,
    authentication or a block list, the usual 550s of a server refusing us rather than the address.

    >>> _refuses_the_mailbox(550, "5.1.1 <nobody@alpha.example>: no such user")
    True
    >>> _refuses_the_mailbox(554, "5.7.1 <a@b.example>: Relay access denied")
    False
    >>> _refuses_the_mailbox(550, "5.7.1 Relaying denied"), _refuses_the_mailbox(550, "Relaying denied")
    (False, False)
    >>> _refuses_the_mailbox(550, "User unknown"), _refuses_the_mailbox(451, "4.1.1 try later")
    (True, False)
    """
    if code not in (550, 551, 553):
        return False
    enhanced = _ENHANCED.match(reply.strip())
    if enhanced is not None:
        return enhanced.group(1, 2) == ("5", "1")
    return _SERVER_SIDE.search(reply) is None


def _signature(stage: str, code: int, reply: Any) -> str:
    """What makes two SMTP failures the same one: the stage, the code, the enhanced status; not the text,
    which often quotes the address.

    >>> _signature("RCPT", 554, b"5.7.1 <a@b.example>: Relay access denied")
    'RCPT 554 5.7.1'
    """
    enhanced = _ENHANCED.match(_text(reply).strip())
    return f"{stage} {code}" + (f" {enhanced.group(0)}" if enhanced else "")


def _names_the_recipient(body: Any) -> bool:
    """Whether a SendGrid 400 is about the recipient's address (`personalizations.N.to.N.email`)."""
    try:
        errors = json.loads(_text(body)).get("errors") or []
    except (ValueError, AttributeError):
        return False
    return any(".to." in str(error.get("field") or "") for error in errors if isinstance(error, dict))


def sender_from_settings(settings: Settings) -> Sender:
    """The sender the settings choose (`PIB_EMAIL_BACKEND`: outbox by default)."""
    if settings.email_backend == "smtp":
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
        )
    if settings.email_backend == "sendgrid":
        if settings.sendgrid_api_key is None:
            raise ValueError("PIB_EMAIL_BACKEND is sendgrid but PIB_SENDGRID_API_KEY is not set")
        return SendGridSender(api_key=settings.sendgrid_api_key.get_secret_value(), host=settings.sendgrid_host)
    return OutboxSender(settings.outbox_dir)

"""A sender killed mid-run (`kill -9`) leaves its claimed emails `sending`: the next sender on the same host
takes them over at once, each email going out exactly once; the lease still covers the claims of other hosts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from crawlers.store.models import utcnow
from notifications.digests import send_digests
from notifications.models import outbox_table
from notifications.outbox import SENDING_LEASE, deliver, process_start
from notifications.senders import Email, OutboxSender
from tests.notifications.helpers import NOW, add_firm, add_match, add_notice, emls, matches, outbox_rows, settings_for
from tests.notifications.test_senders import free_port

ADDRESSES = [f"associe{n}@ecole-numerique.example" for n in range(5)]


class SlowServer:
    """Accepts every email, but holds the MAIL FROM of the third one until `release` is set."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.mails = 0
        self.third_mail = threading.Event()
        self.release = threading.Event()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.mails += 1
        if self.mails == 3:
            self.third_mail.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 2.0.0 accepted"


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SlowServer, int]]:
    server = SlowServer()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    yield server, port
    server.release.set()
    controller.stop()


def pib_digests_send(database_url: str, port: int, tmp_path: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PIB_DATABASE_URL": database_url,
        "PIB_EMAIL_BACKEND": "smtp",
        "PIB_SMTP_HOST": "127.0.0.1",
        "PIB_SMTP_PORT": str(port),
        "PIB_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PIB_PUBLIC_URL": "https://pib.example",
    }
    pib = Path(sys.executable).with_name("pib")
    command = [str(pib), "digests", "send", "--frequency", "daily"]
    return subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)


def test_a_sender_killed_mid_run_is_taken_over_at_once(
    engine: Engine, database_url: str, tmp_path: Path, slow_smtp: tuple[SlowServer, int]
) -> None:
    server, port = slow_smtp
    firm = add_firm(engine, "École Numérique SA", users=[(address, "fr") for address in ADDRESSES])
    match = add_match(engine, firm, add_notice(engine, deadline=f"{utcnow() + timedelta(days=90):%Y-%m-%d}"))

    first = pib_digests_send(database_url, port, tmp_path)
    try:
        assert server.third_mail.wait(timeout=60), "the first run never reached its third email"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert [row.state for row in outbox_rows(engine)] == ["sent", "sent", "sending", "sending", "sending"]
    assert {row.claim_pid for row in outbox_rows(engine) if row.state == "sending"} == {first.pid}
    server.release.set()

    started = time.monotonic()
    second = pib_digests_send(database_url, port, tmp_path)
    _, stderr = second.communicate(timeout=120)

    assert second.returncode == 0, stderr
    assert time.monotonic() - started < SENDING_LEASE.total_seconds() / 10
    assert "3 sent, 0 to retry, 0 failed, 0 cancelled, 3 taken over from a sender that stopped" in stderr
    assert [row.state for row in outbox_rows(engine)] == ["sent"] * 5
    message_ids = [message["Message-ID"] for message in server.received]
    assert len(message_ids) == 5 and len(set(message_ids)) == 5  # each email exactly once
    assert sorted(str(message["To"]) for message in server.received) == sorted(ADDRESSES)
    assert matches(engine)[match] is not None


def _claimed(engine: Engine, tmp_path: Path, **owner: Any) -> Path:
    """One email left `sending` at NOW by the owner given (host, pid, start), not written to the folder."""

    class CrashBeforeSend(OutboxSender):
        def send(self, email: Email) -> None:
            raise KeyboardInterrupt

    settings = settings_for(tmp_path)
    firm = add_firm(engine, "École Numérique SA", users=[("info@ecole-numerique.example", "fr")])
    add_match(engine, firm, add_notice(engine))
    with pytest.raises(KeyboardInterrupt):
        send_digests(engine, frequency="daily", sender=CrashBeforeSend(settings.outbox_dir), now=NOW, settings=settings)
    if owner:
        with engine.begin() as connection:
            connection.execute(sa.update(outbox_table).values(**owner))
    return settings.outbox_dir


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_a_claim_of_a_recycled_pid_is_taken_over(engine: Engine, tmp_path: Path) -> None:
    """The pid is alive but started later than the claim's owner: another process took the number."""
    own_start = process_start(os.getpid())
    assert own_start is not None
    folder = _claimed(engine, tmp_path, claim_pid=os.getpid(), claim_started=own_start - 1)

    summary = deliver(engine, sender=OutboxSender(folder), now=NOW + timedelta(minutes=1))

    assert (summary.taken_over, summary.sent) == (1, 1)
    assert len(emls(folder)) == 1


def test_a_live_owner_keeps_its_claim(engine: Engine, tmp_path: Path) -> None:
    folder = _claimed(engine, tmp_path)  # this very process, alive

    summary = deliver(engine, sender=OutboxSender(folder), now=NOW + timedelta(minutes=1))

    assert (summary.taken_over, summary.sent) == (0, 0)
    assert [row.state for row in outbox_rows(engine)] == ["sending"]


def test_the_lease_still_covers_the_claims_of_another_host(engine: Engine, tmp_path: Path) -> None:
    folder = _claimed(engine, tmp_path, claim_host="autre-serveur.example", claim_pid=_dead_pid())

    early = deliver(engine, sender=OutboxSender(folder), now=NOW + SENDING_LEASE / 2)
    assert (early.taken_over, early.sent) == (0, 0)

    late = deliver(engine, sender=OutboxSender(folder), now=NOW + SENDING_LEASE + timedelta(minutes=1))
    assert (late.taken_over, late.sent) == (1, 1)
    assert [row.state for row in outbox_rows(engine)] == ["sent"]


def test_a_killed_sender_not_yet_reaped_is_gone() -> None:
    """`kill -9` leaves a zombie until its parent reaps it: its number is still taken, the sender is gone."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_start(child.pid) is not None
        child.send_signal(signal.SIGKILL)
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, not reaped
        assert Path(f"/proc/{child.pid}/stat").exists()
        assert process_start(child.pid) is None
    finally:
        child.kill()
        child.wait()

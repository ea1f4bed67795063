"""Reveal emails: the firm asked learns of the request by pseudonym only; names go out once both agree."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from config.settings import Settings
from consortium.services import (
    answer_reveal,
    member_view,
    pending_reveal_notifications,
    record_interest,
    request_reveal,
)
from notifications.senders import OutboxSender
from pib.jobs import RevealEmailSummary, send_reveal_emails
from tests.notifications.helpers import (
    NOW,
    Firm,
    add_firm,
    add_notice,
    emls,
    outbox_rows,
    parts,
    read_eml,
    settings_for,
)

HOSTILE = 'Dupont <script>alert("x")</script> & Fils'


@dataclass
class Scene:
    notice: int
    asker: Firm
    target: Firm
    asker_pseudonym: str
    target_pseudonym: str
    settings: Settings
    outbox: Path

    def run(self, engine: Engine) -> RevealEmailSummary:
        return send_reveal_emails(engine, sender=OutboxSender(self.outbox), now=NOW, settings=self.settings)


def scene(engine: Engine, tmp_path: Path, *, target_name: str = "Bureau Beta SA") -> Scene:
    """Two firms interested in one tender; the asker declared what it brings and lacks."""
    notice = add_notice(engine, title="Rénovation de l'école communale")
    asker = add_firm(
        engine, "Alpha Logiciels SRL", users=[("info@alpha.example", "fr"), ("direction@alpha.example", "en")]
    )
    target = add_firm(engine, target_name, users=[("contact@beta.example", "nl"), ("jan@beta.example", "fr")])
    record_interest(
        engine,
        member_id=asker.member_id,
        tender=notice,
        role="lead",
        brings=["72000000", "hébergement"],
        lacks=["45000000"],
        seeks_partners=True,
    )
    record_interest(engine, member_id=target.member_id, tender=notice)
    asker_view = member_view(engine, tender=notice, member_id=asker.member_id)
    assert asker_view.own is not None
    (target_entry,) = asker_view.entries
    return Scene(
        notice=notice,
        asker=asker,
        target=target,
        asker_pseudonym=asker_view.own.pseudonym,
        target_pseudonym=target_entry.pseudonym,
        settings=settings_for(tmp_path),
        outbox=tmp_path / "outbox",
    )


def received(outbox: Path) -> dict[str, list[EmailMessage]]:
    """The emails in the outbox folder, by recipient."""
    found: dict[str, list[EmailMessage]] = {}
    for path in emls(outbox):
        message = read_eml(path)
        found.setdefault(str(message["To"]), []).append(message)
    return found


def everything(message: EmailMessage) -> str:
    """Every header (decoded) and both bodies of an email."""
    text, html = parts(message)
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    return "\n".join([headers, text, html])


def test_a_request_tells_the_firm_asked_who_asks_by_pseudonym_only(engine: Engine, tmp_path: Path) -> None:
    s = scene(engine, tmp_path)
    request_reveal(engine, member_id=s.asker.member_id, tender=s.notice, pseudonym=s.target_pseudonym)

    summary = s.run(engine)

    assert (summary.told, summary.emails, summary.delivery.sent) == (1, 2, 2)
    emails = received(s.outbox)
    assert sorted(emails) == ["contact@beta.example", "jan@beta.example"]
    for path in emls(s.outbox):
        raw = path.read_bytes()
        assert b"Alpha" not in raw and b"alpha.example" not in raw
    for (message,) in emails.values():
        content = everything(message)
        for secret in ("Alpha", "alpha", "info@", "direction@"):
            assert secret not in content
        text, html = parts(message)
        assert s.asker_pseudonym in text and s.asker_pseudonym in html
        assert s.target_pseudonym in text  # the firm asked learns how it is known on the tender
        assert "Rénovation de l'école communale" in text and "45000000" in text and "72000000" in text
    (dutch,) = emails["contact@beta.example"]
    assert dutch["Subject"] == "Een bedrijf wil met u in contact komen: Rénovation de l'école communale"
    assert "hoofdaannemer (lasthebber)" in parts(dutch)[0] and "Zoekt partners" in parts(dutch)[0]
    (french,) = emails["jan@beta.example"]
    assert french["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Bureau Beta SA a indiqué son intérêt pour ce marché" in parts(french)[0]


def test_an_acceptance_tells_both_firms_the_other_name_and_contacts(engine: Engine, tmp_path: Path) -> None:
    s = scene(engine, tmp_path)
    request_reveal(engine, member_id=s.asker.member_id, tender=s.notice, pseudonym=s.target_pseudonym)
    s.run(engine)
    before = set(emls(s.outbox))

    answer_reveal(engine, member_id=s.target.member_id, tender=s.notice, pseudonym=s.asker_pseudonym, accept=True)
    summary = s.run(engine)

    assert (summary.told, summary.emails) == (2, 4)
    fresh = received(s.outbox)
    assert len(set(emls(s.outbox)) - before) == 4
    for address in ("info@alpha.example", "direction@alpha.example"):  # the asker learns who the firm asked is
        (message,) = fresh[address]
        text, html = parts(message)
        assert "Bureau Beta SA" in text and "Bureau Beta SA" in html and "Bureau Beta SA" in message["Subject"]
        assert "contact@beta.example" in text and "jan@beta.example" in text
        assert 'href="mailto:contact@beta.example"' in html
        assert s.target_pseudonym in text
    for address in ("contact@beta.example", "jan@beta.example"):  # and the other way round
        accepted = [m for m in fresh[address] if "Alpha Logiciels SRL" in parts(m)[0]]
        (message,) = accepted
        text, _html = parts(message)
        assert "info@alpha.example" in text and "direction@alpha.example" in text
    (english,) = fresh["direction@alpha.example"]
    assert english["Subject"] == "You are now in touch with Bureau Beta SA: Rénovation de l'école communale"


def test_a_refusal_sends_nothing_to_the_asker(engine: Engine, tmp_path: Path) -> None:
    s = scene(engine, tmp_path)
    request_reveal(engine, member_id=s.asker.member_id, tender=s.notice, pseudonym=s.target_pseudonym)
    s.run(engine)
    before = emls(s.outbox)

    answer_reveal(engine, member_id=s.target.member_id, tender=s.notice, pseudonym=s.asker_pseudonym, accept=False)
    summary = s.run(engine)

    assert (summary.told, summary.emails, summary.delivery.sent) == (0, 0, 0)
    assert emls(s.outbox) == before
    assert not any(address.endswith("@alpha.example") for address in received(s.outbox))
    assert pending_reveal_notifications(engine) == []


def test_running_the_job_again_sends_nothing_more(engine: Engine, tmp_path: Path) -> None:
    s = scene(engine, tmp_path)
    request_reveal(engine, member_id=s.asker.member_id, tender=s.notice, pseudonym=s.target_pseudonym)
    answer_reveal(engine, member_id=s.target.member_id, tender=s.notice, pseudonym=s.asker_pseudonym, accept=True)
    assert s.run(engine).emails == 4  # accepted before any email: both are told, the request needs no email
    files, rows = emls(s.outbox), outbox_rows(engine)

    again = s.run(engine)

    assert (again.told, again.emails, again.delivery.sent) == (0, 0, 0)
    assert emls(s.outbox) == files and outbox_rows(engine) == rows
    assert {row.kind for row in rows} == {"reveal"} and all(row.state == "sent" for row in rows)


def test_an_item_is_marked_sent_only_once_its_emails_are_in_the_outbox(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scene(engine, tmp_path)
    request_reveal(engine, member_id=s.asker.member_id, tender=s.notice, pseudonym=s.target_pseudonym)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the outbox is down")

    with monkeypatch.context() as patch:
        patch.setattr("pib.jobs.enqueue", broken)
        summary = s.run(engine)
    assert (summary.told, summary.failed) == (0, 1)
    assert [item.id for item in pending_reveal_notifications(engine)] != []  # still to be told

    with monkeypatch.context() as patch:  # a crash after the emails are in the outbox, before the mark
        patch.setattr("pib.jobs.mark_reveal_notifications_sent", broken)
        with pytest.raises(RuntimeError):
            s.run(engine)
    assert len(outbox_rows(engine)) == 2 and len(pending_reveal_notifications(engine)) == 1

    summary = s.run(engine)  # the next run finds the emails composed: marked, not composed twice

    assert (summary.told, summary.emails) == (1, 0)
    assert len(outbox_rows(engine)) == 2 and len(emls(s.outbox)) == 2
    assert pending_reveal_notifications(engine) == []


def test_only_users_who_receive_emails_are_told(engine: Engine, tmp_path: Path) -> None:
    from sqlalchemy import update

    from notifications.compose import user_table

    s = scene(engine, tmp_path)
    with engine.begin() as connection:
        connection.execute(
            update(user_table).where(user_table.c.email == "jan@beta.example").values(unsubscribed_at=NOW)
        )
    request_reveal(engine, member_id=s.asker.member_id, tender=s.notice, pseudonym=s.target_pseudonym)

    s.run(engine)

    assert sorted(received(s.outbox)) == ["contact@beta.example"]


def test_a_hostile_firm_name_is_escaped_in_html_and_intact_in_text(engine: Engine, tmp_path: Path) -> None:
    s = scene(engine, tmp_path, target_name=HOSTILE)
    request_reveal(engine, member_id=s.asker.member_id, tender=s.notice, pseudonym=s.target_pseudonym)
    answer_reveal(engine, member_id=s.target.member_id, tender=s.notice, pseudonym=s.asker_pseudonym, accept=True)

    s.run(engine)

    (message,) = received(s.outbox)["info@alpha.example"]
    text, html = parts(message)
    assert HOSTILE in text and HOSTILE in message["Subject"]
    assert "<script>" not in html
    assert "Dupont &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Fils" in html


def test_pib_reveal_send(engine: Engine, settings_env: None, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pib.cli import app

    s = scene(engine, tmp_path)
    request_reveal(engine, member_id=s.asker.member_id, tender=s.notice, pseudonym=s.target_pseudonym)

    result = CliRunner().invoke(app, ["reveal", "send"])

    assert result.exit_code == 0, result.output
    assert "reveals: 1 notifications, 2 emails composed; outbox: 2 sent" in result.output
    assert len(emls(tmp_path / "outbox")) == 2

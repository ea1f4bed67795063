"""Digests: what they say, in which language, to whom, how often, and that a match is notified once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from notifications.digests import send_digests
from notifications.models import content_table
from notifications.senders import OutboxSender
from tests.notifications.helpers import (
    NOW,
    add_firm,
    add_match,
    add_notice,
    emls,
    matches,
    outbox_rows,
    parts,
    read_eml,
    settings_for,
)


def test_digest_lists_each_tender_with_what_a_firm_needs(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine, users=[("info@alpha.example", "fr")])
    notice = add_notice(
        engine,
        title="Développement d'une plateforme de gestion",
        buyer={"name": "Ville de Lille", "country": "FR", "town": "Lille"},
        nuts=["BE3"],
        deadline="2026-02-16T12:00:00+01:00",
        estimated_value=250000.0,
        currency="EUR",
        lots=[
            {"id": "1", "title": "Développement", "cpv_main": "72000000", "cpv_additional": [], "nuts": ["BE3"]},
            {"id": "2", "title": "Maintenance", "cpv_main": "50000000", "cpv_additional": [], "nuts": ["BE3"]},
        ],
        documents_url="https://marches.example/dce/42",
    )
    add_match(engine, firm, notice, reasons=["CPV 72212000 sous votre 72000000"], lot_ids=["1"])

    summary = send_digests(
        engine, frequency="daily", sender=OutboxSender(settings.outbox_dir), now=NOW, settings=settings
    )

    assert (summary.composed, summary.delivery.sent) == (1, 1)
    [path] = emls(settings.outbox_dir)
    message = read_eml(path)
    assert message["To"] == "info@alpha.example"
    assert message["Subject"] == "1 nouveau marché pour Alpha Logiciels SRL"
    assert message["Message-ID"] == f"<{path.stem}@pib.example>"
    text, html = parts(message)
    for body in (text, html):
        assert "Ville de Lille" in body
        assert "Région wallonne (BE3)" in body
        assert "16 février 2026, 12:00" in body
        assert "250\u202f000 EUR" in body
        assert "Maintenance" in body
        assert "CPV 72212000 sous votre 72000000" in body
        assert "https://www.boamp.fr/pages/avis/?q=idweb:26-0001" in body
        assert "https://marches.example/dce/42" in body
        assert "https://pib.example/l/i." in body  # interested
        assert "https://pib.example/l/n." in body  # not relevant
        assert "https://pib.example/l/u." in body  # unsubscribe
    assert "- 1: Développement (correspond à votre profil)" in text
    assert "- 2: Maintenance\r\n" in text
    assert text.count("Développement d'une plateforme de gestion") == 1


def test_a_script_in_a_title_is_escaped_in_html_and_intact_in_text(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    title = 'Logiciel <script>alert("x")</script> & co'
    add_match(engine, firm, add_notice(engine, title=title, url="javascript:alert(1)"))

    send_digests(engine, frequency="daily", sender=OutboxSender(settings.outbox_dir), now=NOW, settings=settings)

    text, html = parts(read_eml(emls(settings.outbox_dir)[0]))
    assert title in text
    assert "<script>" not in html
    assert "Logiciel &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in html
    assert "javascript:" not in html and "javascript:" not in text


def test_each_user_reads_the_digest_in_their_language(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine, users=[("fr@a.example", "fr"), ("nl@a.example", "nl"), ("en@a.example", "en")])
    for n in range(2):
        add_match(engine, firm, add_notice(engine, source_id=f"26-000{n}"))

    send_digests(engine, frequency="daily", sender=OutboxSender(settings.outbox_dir), now=NOW, settings=settings)

    received = {read_eml(path)["To"]: read_eml(path) for path in emls(settings.outbox_dir)}
    assert received["fr@a.example"]["Subject"] == "2 nouveaux marchés pour Alpha Logiciels SRL"
    assert received["nl@a.example"]["Subject"] == "2 nieuwe opdrachten voor Alpha Logiciels SRL"
    assert received["en@a.example"]["Subject"] == "2 new tenders for Alpha Logiciels SRL"
    assert "Uiterste datum: 16 februari 2026, 12:00" in parts(received["nl@a.example"])[0]
    assert "Deadline: 16 February 2026, 12:00" in parts(received["en@a.example"])[0]
    assert received["nl@a.example"]["Content-Language"] == "nl"


def test_every_email_carries_one_click_unsubscribe_headers(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    add_match(engine, firm, add_notice(engine))

    send_digests(engine, frequency="daily", sender=OutboxSender(settings.outbox_dir), now=NOW, settings=settings)

    message = read_eml(emls(settings.outbox_dir)[0])
    https, mailto = (part.strip(" <>") for part in message["List-Unsubscribe"].split(","))
    assert https.startswith("https://pib.example/l/u.")
    assert mailto.startswith("mailto:unsubscribe@pib.example?subject=unsubscribe%20u.")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert https in parts(message)[0]


def test_a_match_goes_out_once_at_its_profile_frequency(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    sender = OutboxSender(settings.outbox_dir)
    firm = add_firm(engine, frequencies=("daily", "weekly"))
    daily = add_match(engine, firm, add_notice(engine, source_id="26-0001"), frequency="daily")
    weekly = add_match(engine, firm, add_notice(engine, source_id="26-0002"), frequency="weekly")

    assert send_digests(engine, frequency="daily", sender=sender, now=NOW, settings=settings).delivery.sent == 1
    assert matches(engine) == {daily: NOW, weekly: None}
    again = send_digests(engine, frequency="daily", sender=sender, now=NOW + timedelta(days=1), settings=settings)
    assert (again.composed, again.delivery.sent) == (0, 0)
    assert send_digests(engine, frequency="weekly", sender=sender, now=NOW, settings=settings).delivery.sent == 1
    assert matches(engine)[weekly] == NOW
    assert len(emls(settings.outbox_dir)) == 2


def test_unsubscribed_and_disabled_users_get_nothing(engine: Engine, tmp_path: Path) -> None:
    from sqlmodel import Session

    from watch.models import User

    settings = settings_for(tmp_path)
    firm = add_firm(engine, users=[("gone@a.example", "fr"), ("bounced@a.example", "fr"), ("ok@a.example", "en")])
    with Session(engine) as session:
        for address, column, value in (
            ("gone@a.example", "unsubscribed_at", NOW),
            ("bounced@a.example", "email_disabled_reason", "550 no such user"),
        ):
            user = session.get(User, firm.users[address])
            assert user is not None
            setattr(user, column, value)
        session.commit()
    add_match(engine, firm, add_notice(engine))

    send_digests(engine, frequency="daily", sender=OutboxSender(settings.outbox_dir), now=NOW, settings=settings)

    assert [read_eml(path)["To"] for path in emls(settings.outbox_dir)] == ["ok@a.example"]


def test_rejects_an_unknown_frequency(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with pytest.raises(ValueError, match="frequency must be one of"):
        send_digests(engine, frequency="hourly", sender=OutboxSender(settings.outbox_dir), now=NOW, settings=settings)


def test_the_outbox_keeps_what_was_sent(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine)
    match = add_match(engine, firm, add_notice(engine))

    send_digests(engine, frequency="daily", sender=OutboxSender(settings.outbox_dir), now=NOW, settings=settings)

    [row] = outbox_rows(engine)
    assert (row.kind, row.state, row.attempts, row.match_ids, row.sent_at) == ("digest", "sent", 1, [match], NOW)
    assert row.key == emls(settings.outbox_dir)[0].stem
    with engine.connect() as connection:
        content = connection.execute(sa.select(content_table)).one()
    assert content.meta["subject"] == "1 nouveau marché pour Alpha Logiciels SRL"
    assert content.meta["to"] == "info@alpha.example" and "<html" in content.html


def test_pib_digests_send(engine: Engine, settings_env: None, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pib.cli import app

    firm = add_firm(engine)
    add_match(engine, firm, add_notice(engine))

    result = CliRunner().invoke(app, ["digests", "send", "--frequency", "daily"])

    assert result.exit_code == 0, result.output
    assert "daily digests: 1 composed; outbox: 1 sent, 0 to retry, 0 failed, 0 cancelled" in result.output
    assert f"emails written to {tmp_path / 'outbox'}" in result.output
    assert len(emls(tmp_path / "outbox")) == 1
    assert CliRunner().invoke(app, ["digests", "send", "--frequency", "hourly"]).exit_code == 2

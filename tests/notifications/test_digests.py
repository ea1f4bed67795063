"""Digests: what they say, in which language, to whom, how often, and that a match is notified once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from notifications.digests import send_digests
from notifications.models import content_table
from notifications.senders import OutboxSender
from tests.notifications.helpers import (
    NOW,
    add_firm,
    add_match,
    add_notice,
    add_procedure,
    emls,
    matches,
    outbox_rows,
    parts,
    read_eml,
    settings_for,
)
from watch.models import Member, Profile, User
from watch.routing import member_matches, route_new


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


def test_pib_digests_send(engine: Engine, settings_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from pib.cli import app

    monkeypatch.setattr("notifications.digests.utcnow", lambda: NOW)  # the tender's deadline is ahead of NOW
    firm = add_firm(engine)
    add_match(engine, firm, add_notice(engine))

    result = CliRunner().invoke(app, ["digests", "send", "--frequency", "daily"])

    assert result.exit_code == 0, result.output
    assert "daily digests: 1 composed; outbox: 1 sent, 0 to retry, 0 failed, 0 cancelled" in result.output
    assert f"emails written to {tmp_path / 'outbox'}" in result.output
    assert len(emls(tmp_path / "outbox")) == 1
    assert CliRunner().invoke(app, ["digests", "send", "--frequency", "hourly"]).exit_code == 2


ENGLISH = ("under your", "keyword", "in the title", "place of performance", "estimated value", "in your range",
           "days left", "last day", "Deadline", "Why")  # fmt: skip


def _firm_watching_software(engine: Engine, **profile: Any) -> int:
    """École Numérique SA, a French and a Dutch reader, one daily profile (software, Hainaut)."""
    with Session(engine) as session:
        member = Member(name="École Numérique SA")
        session.add(member)
        session.flush()
        assert member.id is not None
        session.add(User(member_id=member.id, email="lea@ecole-numerique.example", language="fr"))
        session.add(User(member_id=member.id, email="joost@ecole-numerique.example", language="nl"))
        values: dict[str, Any] = {"cpv": ["48000000"], "keywords": ["logiciel"], "regions": ["BE32"]}
        session.add(Profile(member_id=member.id, name="Logiciels", frequency="daily", **{**values, **profile}))
        session.commit()
        return member.id


def _software_tender(engine: Engine, source_id: str, **overrides: Any) -> int:
    values: dict[str, Any] = {
        "source_id": source_id,
        "title": "Logiciel de gestion des bibliothèques communales",
        "buyer": {"name": "Ville de Mons", "country": "BE", "town": "Mons"},
        "cpv_main": "48900000",
        "cpv_additional": [],
        "nuts": ["BE32"],
        "lots": [{"id": "1", "title": None, "cpv_main": "48900000", "cpv_additional": [], "nuts": ["BE32"]}],
    }
    return add_notice(engine, **{**values, **overrides})


def _digests(engine: Engine, tmp_path: Path, now: datetime) -> dict[str, tuple[str, str]]:
    settings = settings_for(tmp_path)
    send_digests(engine, frequency="daily", sender=OutboxSender(settings.outbox_dir), now=now, settings=settings)
    return {read_eml(path)["To"]: parts(read_eml(path)) for path in emls(settings.outbox_dir)}


def test_reasons_are_written_in_each_readers_language_with_code_labels(engine: Engine, tmp_path: Path) -> None:
    _firm_watching_software(engine, value_max=500_000.0)
    _software_tender(engine, "26-0101")
    assert route_new(engine).matches == 1

    received = _digests(engine, tmp_path, NOW)

    text, html = received["lea@ecole-numerique.example"]
    for body in (text, unescape(html)):
        assert (
            "CPV 48900000 (Logiciels et systèmes informatiques divers) relève de votre 48000000 "
            "(Logiciels et systèmes d'information)"
        ) in body
        assert "mot-clé « logiciel » dans le titre" in body
        assert "lieu d'exécution\u00a0: Prov. Hainaut (BE32)" in body
        assert "valeur estimée 250\u202f000 EUR, dans votre fourchette" in body
        assert "16 février 2026, 12:00 (encore 25 jours)" in body
        assert not [word for word in ENGLISH if word in body]
    text, html = received["joost@ecole-numerique.example"]
    for body in (text, unescape(html)):
        assert (
            "CPV 48900000 (Diverse software en computersystemen) valt onder uw 48000000 "
            "(Software en informatiesystemen)"
        ) in body
        assert "trefwoord 'logiciel' in de titel" in body
        assert "plaats van uitvoering: Prov. Hainaut (BE32)" in body
        assert "geraamde waarde 250.000 EUR, binnen uw bereik" in body
        assert "16 februari 2026, 12:00 (nog 25 dagen)" in body
        assert not [word for word in ENGLISH if word in body]


def test_a_backfill_of_closed_tenders_is_recorded_and_sends_nothing(engine: Engine, tmp_path: Path) -> None:
    member = _firm_watching_software(engine)
    for n in range(3):
        _software_tender(engine, f"06-000{n}", published="2006-03-01", deadline="2006-04-10T11:00:00+02:00")
    assert route_new(engine).matches == 3

    assert _digests(engine, tmp_path, NOW) == {}
    listed = member_matches(engine, member, now=NOW)
    assert [(m["source_id"], m["closed"], m["days_left"]) for m in sorted(listed, key=lambda m: m["source_id"])] == [
        ("06-0000", True, None),
        ("06-0001", True, None),
        ("06-0002", True, None),
    ]
    assert matches(engine) == dict.fromkeys(matches(engine), None)  # still waiting, never emailed


def test_only_the_open_tender_between_closed_ones_is_emailed_even_past_the_digest_cap(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notifications.digests.MAX_ITEMS", 2)
    firm = add_firm(engine, name="École Numérique SA", users=[("lea@ecole-numerique.example", "fr")])
    old = {"published": "2006-03-01", "deadline": "2006-04-10T11:00:00+02:00"}
    add_match(engine, firm, add_notice(engine, source_id="06-0001", title="Ancien marché A", **old), score=0.9)
    open_match = add_match(engine, firm, add_notice(engine, source_id="26-0002", title="Marché ouvert"), score=0.1)
    add_match(engine, firm, add_notice(engine, source_id="06-0003", title="Ancien marché B", **old), score=0.8)

    [(text, html)] = _digests(engine, tmp_path, NOW).values()

    assert "Marché ouvert" in text and "Ancien marché" not in text + html
    assert [match for match, notified in matches(engine).items() if notified] == [open_match]


def test_the_deadline_is_judged_in_brussels_time_by_the_clock_given(engine: Engine, tmp_path: Path) -> None:
    """A deadline given as a day lasts until midnight in Brussels (23:00 UTC in winter)."""
    firm = add_firm(engine, users=[("lea@ecole-numerique.example", "fr"), ("joost@ecole-numerique.example", "nl")])
    add_match(engine, firm, add_notice(engine, buyer={"name": "Ville de Mons", "country": "BE"}, deadline="2026-02-16"))

    assert _digests(engine, tmp_path / "late", datetime(2026, 2, 16, 23, 1, tzinfo=UTC)) == {}
    received = _digests(engine, tmp_path / "in-time", datetime(2026, 2, 16, 22, 30, tzinfo=UTC))
    assert "Date limite\u00a0: 16 février 2026 (dernier jour)" in received["lea@ecole-numerique.example"][0]
    assert "Uiterste datum: 16 februari 2026 (laatste dag)" in received["joost@ecole-numerique.example"][0]


def test_a_deadline_moved_ahead_by_a_change_notice_opens_the_tender_again(engine: Engine, tmp_path: Path) -> None:
    firm = add_firm(engine)
    notice = add_notice(engine, published="2025-10-01", deadline="2025-11-03T12:00:00+01:00")
    add_match(engine, firm, notice)
    assert _digests(engine, tmp_path / "before", NOW) == {}

    add_procedure(
        engine, [notice], deadline="2026-01-23T12:00:00+01:00", deadline_utc=datetime(2026, 1, 23, 11, tzinfo=UTC)
    )
    [(text, _)] = _digests(engine, tmp_path / "after", NOW).values()
    assert "23 janvier 2026, 12:00 (encore 1 jour)" in text


def test_a_cancelled_procedure_is_not_emailed(engine: Engine, tmp_path: Path) -> None:
    firm = add_firm(engine)
    notice = add_notice(engine)
    add_match(engine, firm, notice)
    add_procedure(
        engine, [notice], deadline="2026-02-16T12:00:00+01:00", deadline_utc=datetime(2026, 2, 16, 11, tzinfo=UTC),
        status="cancelled",
    )  # fmt: skip

    assert _digests(engine, tmp_path, NOW) == {}


@pytest.mark.parametrize(
    ("notice_types", "published", "emailed"),
    [
        ([], "2026-01-20", False),  # a profile without notice types receives no award notice at all
        (["contract-notice", "award"], "2026-01-20", True),
        (["contract-notice", "award"], "2006-05-02", False),  # an old award in a backfill: recorded only
    ],
)
def test_award_notices_as_the_profile_types_say_and_only_recent_ones(
    engine: Engine, tmp_path: Path, notice_types: list[str], published: str, emailed: bool
) -> None:
    member = _firm_watching_software(engine, notice_types=notice_types)
    _software_tender(engine, "26-0201", notice_type="award", deadline=None, published=published)
    route_new(engine)

    received = _digests(engine, tmp_path, NOW)

    assert bool(received) is emailed
    assert len(member_matches(engine, member, now=NOW)) == (1 if notice_types else 0)
    for text, _ in received.values():
        assert "Logiciel de gestion des bibliothèques communales" in text
        assert "encore" not in text and "nog " not in text  # no deadline, so no days left

"""My matches (`/matches`) and `GET /api/v1/matches`: what the profiles caught, best first, the reasons in the
reader's language, new and closed ones marked, the feedback buttons; the API answer is `pib matches --json`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from pib.cli import app as cli
from pib.web.auth import add_staff, create_api_token
from tests.factories import make_notice
from tests.notifications.helpers import Firm, add_firm
from tests.watch.helpers import store
from tests.web.conftest import Portal
from tests.web.test_auth import TOKEN_FIELD, sign_in
from watch.feedback import feedback_table, match_table
from watch.routing import route_new

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
OTHER = "Brugse Bouw NV"
OTHER_ADDRESS = "info@brugse-bouw.example"
OPEN = "2031-03-16T12:00:00+01:00"


def _world(engine: Engine) -> tuple[Firm, Firm]:
    """Two firms, each with a profile, and notices routed to them for real (reasons made by the matching)."""
    ours = add_firm(engine, name=FIRM, users=[(ADDRESS, "fr"), ("projets@ecole-numerique.example", "nl")])
    theirs = add_firm(engine, name=OTHER, users=[(OTHER_ADDRESS, "nl")])
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE watch_profile SET keywords = :keywords WHERE member_id = :member"),
            {"keywords": json.dumps(["cloud"]), "member": ours.member_id},
        )
        connection.execute(
            sa.text("UPDATE watch_profile SET cpv = :cpv WHERE member_id = :member"),
            {"cpv": json.dumps(["45000000"]), "member": theirs.member_id},
        )
    store(
        engine,
        make_notice(source_id="26-0001", title="Hébergement cloud et développement", deadline=OPEN),
        make_notice(source_id="26-0002", title="Maintenance applicative", cpv_additional=[], deadline=OPEN),
        make_notice(source_id="26-0003", title="Plateforme cloud <b>fermée</b>", deadline="2026-01-05"),
        make_notice(
            source_id="26-0004",
            title="Rénovation de toiture",
            cpv_main="45261900",
            cpv_additional=[],
            lots=[{"id": "1", "title": None, "cpv_main": "45261900", "cpv_additional": [], "nuts": []}],
        ),
    )
    route_new(engine)
    with engine.begin() as connection:  # one of them was in an email already: not new
        notice_id = connection.execute(sa.text("SELECT id FROM notice WHERE source_id = '26-0002'")).scalar_one()
        connection.execute(
            match_table.update()
            .where(match_table.c.notice_id == notice_id)
            .values(notified_at=datetime(2026, 1, 22, tzinfo=UTC))
        )
    return ours, theirs


def _entries(html: str) -> list[str]:
    return re.findall(r'<li class="match[^"]*" id="[^"]+">(.*?)</li>\s*(?=<li class="match|</ol>)', html, re.S)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_my_matches_best_first_with_french_reasons_new_and_closed_marked(portal: Portal) -> None:
    _world(portal.engine)
    page = sign_in(portal, ADDRESS).get("/matches")
    assert page.status_code == 200
    entries = [_text(entry) for entry in _entries(page.text)]
    assert len(entries) == 3  # not the other firm's roof
    assert "toiture" not in page.text
    first, closed, second = entries  # the closed one scores as the first (CPV and keyword): still listed, marked
    assert "Hébergement cloud et développement" in first  # CPV and keyword: the best
    assert "CPV 72000000 (Services de technologies de l'information, conseil…), l'un de vos codes" in first
    assert "mot-clé « cloud » dans le titre" in first
    assert "Nouveau" in first and "Clôturé" not in first
    assert "jours restants" in first
    assert "Maintenance applicative" in second and "Nouveau" not in second  # an email carried it
    assert "Plateforme cloud &lt;b&gt;fermée&lt;/b&gt;" in _entries(page.text)[1]  # escaped, never markup
    assert "Clôturé" in closed and "(clôturé)" in closed and "jours restants" not in closed
    assert "keyword" not in page.text and "under your" not in page.text  # no English reason for a French reader
    assert "Correspondances : 3, dont nouvelles : 2." in _text(page.text)
    assert 'href="/tenders/boamp/26-0001"' in page.text


def test_a_dutch_colleague_reads_the_same_matches_in_dutch(portal: Portal) -> None:
    _world(portal.engine)
    text = _text(sign_in(portal, "projets@ecole-numerique.example").get("/matches").text)
    assert "trefwoord 'cloud' in de titel" in text
    assert "Afgesloten" in text and "mot-clé" not in text


def test_feedback_from_my_matches_and_not_on_another_firms_notice(portal: Portal) -> None:
    ours, _theirs = _world(portal.engine)
    browser = sign_in(portal, ADDRESS)
    token = TOKEN_FIELD.findall(browser.get("/matches").text)[-1]
    answer = browser.post(
        "/matches/feedback",
        data={"source": "boamp", "source_id": "26-0001", "verdict": "interesting", "csrf_token": token},
    )
    assert answer.status_code == 303
    page = browser.get(answer.headers["location"])
    assert "Marqué intéressant : vous suivez ce marché" in page.text
    first = _text(_entries(page.text)[0])
    assert "Vous suivez ce marché." in first
    assert 'value="interesting" aria-pressed="true"' in _entries(page.text)[0]

    refused = browser.post(
        "/matches/feedback",
        data={"source": "boamp", "source_id": "26-0004", "verdict": "not-relevant", "csrf_token": token},
    )
    assert refused.status_code == 404  # the other firm's match: as if it did not exist
    assert "Page introuvable" in refused.text
    forged = browser.post(
        "/matches/feedback", data={"source": "boamp", "source_id": "26-0002", "verdict": "interesting"}
    )
    assert forged.status_code == 403  # no CSRF token
    with portal.engine.connect() as connection:
        verdicts = connection.execute(sa.select(feedback_table.c.member_id, feedback_table.c.verdict)).all()
    assert verdicts == [(ours.member_id, "interesting")]


def test_the_api_answers_what_pib_matches_json_prints(portal: Portal) -> None:
    _world(portal.engine)
    token = create_api_token(portal.engine, email=ADDRESS)
    with portal.client() as client:
        assert client.get("/api/v1/matches").status_code == 401
        answer = client.get("/api/v1/matches", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        items = answer.json()["items"]
        printed = CliRunner().invoke(cli, ["matches", FIRM, "--json"])
        assert printed.exit_code == 0, printed.output
        assert items == [json.loads(line) for line in printed.output.splitlines()]
        assert [item["source_id"] for item in items] == ["26-0001", "26-0003", "26-0002"]
        assert items[1]["closed"] is True and items[0]["days_left"] > 0

        limited = client.get("/api/v1/matches?limit=1&language=fr", headers={"Authorization": f"Bearer {token}"})
        assert [item["source_id"] for item in limited.json()["items"]] == ["26-0001"]
        assert "mot-clé « cloud » dans le titre" in limited.json()["items"][0]["reasons_text"]

        add_staff(portal.engine, email="animation@cluster.example")
        staff = create_api_token(portal.engine, email="animation@cluster.example")
        refused = client.get("/api/v1/matches", headers={"Authorization": f"Bearer {staff}"})
        assert refused.status_code == 403 and "member" in refused.json()["detail"]

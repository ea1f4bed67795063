"""A tender's page over real HTTP: publications, history, lots with CPV labels in the reader's language, the
countdown; following (the state the reminders read); anonymous interest, reveal requests and their answers;
404 for what is not the member's; and the interests API, which answers what `pib interests --as --json` prints."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from consortium.models import interest_table, reveal_table
from crawlers.codelists import cpv_label, nuts_label
from crawlers.store.procedures import link_procedures
from notifications.reminders import send_followups
from notifications.senders import OutboxSender
from pib.cli import app as cli
from pib.web.auth import add_staff, create_api_token
from tests.consortium.helpers import lots_notice, store
from tests.notifications.helpers import emls, read_eml, settings_for
from tests.web.conftest import Portal, add_user
from tests.web.test_auth import TOKEN_FIELD, sign_in
from watch.deadlines import brussels_day
from watch.feedback import feedback_table

FIRM_A = "École Numérique SA"
FIRM_B = "Brûlerie Öberg SPRL"
ADDRESS_A = "direction@ecole-numerique.example"
ADDRESS_B = "bureau@oberg.example"
CODES = ["72212000", "48000000", "79341000"]
SOURCE_ID = "26-0101"
PATH = f"/tenders/boamp/{SOURCE_ID}"
TAG = re.compile(r"<[^>]+>")


def text_of(page: str) -> str:
    """What a reader sees of a page: tags dropped, entities read, spaces collapsed."""
    return " ".join(html.unescape(TAG.sub(" ", page)).split())


@dataclass
class Tender:
    deadline: datetime
    """The current deadline (moved by the change notice), in UTC."""


@pytest.fixture
def tender(portal: Portal) -> Tender:
    """A contract notice with three lots, then a change notice moving its deadline two weeks later, linked."""
    today = brussels_day(datetime.now(UTC))
    first = today + timedelta(days=12)
    moved = today + timedelta(days=26)
    lots = [
        {"id": str(n), "title": title, "cpv_main": code, "cpv_additional": [], "nuts": ["BE32"], "estimated_value": v}
        for n, (title, code, v) in enumerate(
            zip(["Logiciel", "Licences", "Publicité"], CODES, [120000.0, 80000.0, 50000.0], strict=True), 1
        )
    ]
    notice = lots_notice(
        SOURCE_ID,
        CODES,
        title="Plateforme numérique des écoles",
        published=(today - timedelta(days=5)).isoformat(),
        deadline=f"{first.isoformat()}T12:00:00+01:00",
        nuts=["BE32"],
        estimated_value=250000.0,
        documents_url="https://marches.example/dce/26-0101",
    )
    notice = notice.model_copy(update={"lots": [type(notice.lots[0]).model_validate(lot) for lot in lots]})
    change = lots_notice(
        "26-0150",
        CODES,
        title="Plateforme numérique des écoles",
        notice_type="change",
        related=[SOURCE_ID],
        published=(today - timedelta(days=1)).isoformat(),
        deadline=f"{moved.isoformat()}T12:00:00+01:00",
        url="https://www.boamp.fr/pages/avis/?q=idweb:26-0150",
    )
    store(portal.engine, notice, change)
    assert link_procedures(portal.engine).changes == 1
    return Tender(datetime(moved.year, moved.month, moved.day, 11, tzinfo=UTC))


def csrf(client: httpx.Client, path: str = PATH) -> str:
    return str(TOKEN_FIELD.findall(client.get(path).text)[-1])


def act(client: httpx.Client, action: str, path: str = PATH, **fields: str | list[str]) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf(client, path), "action": action, **fields})


def member(portal: Portal, firm: str, address: str, language: str = "fr") -> httpx.Client:
    add_user(portal.engine, firm=firm, address=address, language=language)
    return sign_in(portal, address)


def member_id(engine: Engine, address: str) -> int:
    from pib.web.auth import user_table

    with engine.connect() as connection:
        return int(
            connection.execute(sa.select(user_table.c.member_id).where(user_table.c.email == address)).scalar_one()
        )


def test_the_page_shows_lots_with_french_cpv_labels_the_history_and_the_countdown(
    portal: Portal, tender: Tender
) -> None:
    client = member(portal, FIRM_A, ADDRESS_A)
    answer = client.get(PATH)
    assert answer.status_code == 200
    seen = text_of(answer.text)
    assert "Plateforme numérique des écoles" in seen
    for code in CODES:
        label = cpv_label(code, "fr")
        assert label and label != cpv_label(code, "en")
        assert f"{code} {label}" in seen
    assert f"{nuts_label('BE32', 'fr')} (BE32)" in seen
    assert "120 000 €" in seen.replace("\u202f", " ").replace("\xa0", " ")  # the lot's value, the French way
    assert "26 jours restants" in seen  # the moved deadline counts, not the first one
    history = seen[seen.index("Historique") :]
    assert "Publié sur BOAMP : Avis de marché" in history
    assert "La date limite a changé" in history, history
    assert history.index("Avis de marché") < history.index("La date limite a changé")
    assert 'href="https://marches.example/dce/26-0101"' in answer.text
    assert 'href="https://www.boamp.fr/pages/avis/?q=idweb:26-0150"' in answer.text  # the change, at its source
    assert 'href="/tenders/boamp/26-0150"' in answer.text  # the other publication's page

    other = client.get("/tenders/boamp/26-0150")  # the change notice's page is the same procedure
    assert "26 jours restants" in text_of(other.text)
    assert client.get("/tenders/boamp/26-9999").status_code == 404
    assert client.get("/tenders/ted/26-0101").status_code == 404


def test_english_reader_and_a_closed_tender(portal: Portal) -> None:
    past = brussels_day(datetime.now(UTC)) - timedelta(days=3)
    store(portal.engine, lots_notice("26-0200", CODES[:1], deadline=f"{past.isoformat()}T12:00:00+01:00"))
    client = member(portal, FIRM_A, ADDRESS_A, language="en")
    seen = text_of(client.get("/tenders/boamp/26-0200").text)
    assert f"72212000 {cpv_label('72212000', 'en')}" in seen
    assert "closed" in seen and "days left" not in seen


def test_follow_is_what_the_reminders_read(portal: Portal, tender: Tender, tmp_path: Path) -> None:
    client = member(portal, FIRM_A, ADDRESS_A)
    firm = member_id(portal.engine, ADDRESS_A)
    answer = act(client, "interesting")
    assert answer.status_code == 303
    followed = client.get(answer.headers["location"])
    assert "Vous suivez ce marché" in text_of(followed.text)
    assert 'value="interesting" class="primary" aria-pressed="true"' in followed.text

    settings = settings_for(tmp_path / "followups")  # not the portal's outbox, which holds the sign-in email
    three_days_before = tender.deadline - timedelta(days=3)
    summary = send_followups(
        portal.engine, sender=OutboxSender(settings.outbox_dir), now=three_days_before, settings=settings
    )
    assert summary.reminders == 1
    (sent,) = emls(settings.outbox_dir)
    assert "Plateforme numérique des écoles" in str(read_eml(sent)["Subject"])

    act(client, "not-relevant", path="/tenders/boamp/26-0150")  # one verdict per tender, whichever publication
    with portal.engine.connect() as connection:
        verdicts = (
            connection.execute(sa.select(feedback_table.c.verdict).where(feedback_table.c.member_id == firm))
            .scalars()
            .all()
        )
    assert verdicts == ["not-relevant"]
    act(client, "clear")
    with portal.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(feedback_table)).scalar_one() == 0
    assert "Suivez les marchés" in text_of(client.get(PATH).text)


def test_interest_pseudonym_reveal_and_contacts(portal: Portal, tender: Tender) -> None:
    a = member(portal, FIRM_A, ADDRESS_A)
    b = member(portal, FIRM_B, ADDRESS_B)
    flagged = act(a, "interest", lot=["2"], role="lead", brings="72212000, plateformes scolaires", lacks="48000000")
    assert flagged.status_code == 303
    own = text_of(a.get(PATH).text)
    pseudonym = re.search(r"sous le pseudonyme (.+?), jamais", own)
    assert pseudonym, own
    pseudonym_a = pseudonym.group(1)

    seen_by_b = b.get(PATH).text
    assert FIRM_A not in html.unescape(seen_by_b) and ADDRESS_A not in seen_by_b
    assert pseudonym_a in seen_by_b and "plateformes scolaires" in seen_by_b
    assert "Demander à lever l’anonymat" not in text_of(seen_by_b)  # B must flag first: A would see its entry

    act(b, "interest", role="subcontractor", seeks_partners="true")
    assert act(b, "ask", pseudonym=pseudonym_a).status_code == 303
    assert "vous n’a pas encore accepté" in text_of(b.get(PATH).text) or "pas encore accepté" in text_of(
        b.get(PATH).text
    )

    requests = text_of(a.get(PATH).text)
    assert "demande à savoir qui vous êtes" in requests and FIRM_B not in requests
    pseudonym_b = re.search(r"(\S+ \S+) demande à savoir qui vous êtes", requests)
    assert pseudonym_b
    assert act(a, "accept", pseudonym=pseudonym_b.group(1)).status_code == 303

    for client, other, address in ((a, FIRM_B, ADDRESS_B), (b, FIRM_A, ADDRESS_A)):
        page = client.get(PATH).text
        assert other in html.unescape(page) and f'href="mailto:{address}"' in page

    withdrawn = act(b, "withdraw")
    assert withdrawn.status_code == 303
    assert "Signaler notre intérêt" in text_of(b.get(PATH).text)


def test_another_firms_request_or_interest_is_404(portal: Portal, tender: Tender) -> None:
    a = member(portal, FIRM_A, ADDRESS_A)
    b = member(portal, FIRM_B, ADDRESS_B)
    c = member(portal, "Charpentes Ÿvoir SA", "info@yvoir.example")
    act(a, "interest", lot=["1"])
    act(b, "interest", lot=["1"])
    pseudonym_a = re.search(r"sous le pseudonyme (.+?), jamais", text_of(a.get(PATH).text))
    pseudonym_b = re.search(r"sous le pseudonyme (.+?), jamais", text_of(b.get(PATH).text))
    assert pseudonym_a and pseudonym_b
    act(b, "ask", pseudonym=pseudonym_a.group(1))

    assert act(c, "accept", pseudonym=pseudonym_b.group(1)).status_code == 404  # B asked A, not C
    assert act(c, "refuse", pseudonym=pseudonym_b.group(1)).status_code == 404
    assert act(c, "withdraw").status_code == 404  # C has no interest
    assert act(c, "ask", pseudonym=pseudonym_a.group(1)).status_code == 404  # nor may it ask
    assert act(a, "accept", pseudonym="Firme Nulle-7").status_code == 404
    with portal.engine.connect() as connection:
        assert connection.execute(sa.select(reveal_table.c.state)).scalars().all() == ["pending"]


def test_every_post_needs_the_csrf_token_and_bad_input_is_answered_in_the_form(portal: Portal, tender: Tender) -> None:
    a = member(portal, FIRM_A, ADDRESS_A)
    refused = a.post(PATH, data={"action": "interest", "lot": "1"})
    assert refused.status_code == 403
    naming = act(a, "interest", lot=["1"], brings="École Numérique, logiciels")
    assert naming.status_code == 422
    assert "Votre intérêt n’a pas pu être enregistré" in text_of(naming.text)
    assert 'value="École Numérique, logiciels"' in html.unescape(naming.text)  # what was typed stays
    unknown_lot = act(a, "interest", lot=["9"])
    assert unknown_lot.status_code == 422
    with portal.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(interest_table)).scalar_one() == 0
    assert act(a, "explode").status_code == 422


def _cli_json(*args: str) -> object:
    """What `pib ARGS` prints, as JSON (the portal's fixture points the settings at the test database)."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_interests_api(portal: Portal, tender: Tender) -> None:
    add_user(portal.engine, firm=FIRM_A, address=ADDRESS_A)
    add_user(portal.engine, firm=FIRM_B, address=ADDRESS_B)
    token_a = create_api_token(portal.engine, email=ADDRESS_A)
    token_b = create_api_token(portal.engine, email=ADDRESS_B)
    add_staff(portal.engine, email="equipe@cluster.example")
    staff = create_api_token(portal.engine, email="equipe@cluster.example")
    api = portal.client()

    def call(method: str, path: str, token: str | None, **options: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return api.request(method, path, headers=headers, **options)  # type: ignore[arg-type]

    body = {"source_id": SOURCE_ID, "lots": ["2"], "role": "lead", "seeks_partners": True, "brings": ["72212000"]}
    assert call("POST", "/api/v1/interests", None, json=body).status_code == 401
    created = call("POST", "/api/v1/interests", token_a, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["lots"] == ["2"] and created.json()["role"] == "lead"
    assert call("POST", "/api/v1/interests", token_b, json={**body, "lots": ["9"]}).status_code == 422
    assert call("POST", "/api/v1/interests", token_b, json={**body, "source_id": "26-9999"}).status_code == 404
    assert call("POST", "/api/v1/interests", token_b, json={**body, "role": "boss"}).status_code == 422
    assert call("POST", "/api/v1/interests", staff, json=body).status_code == 403

    seen_by_b = call("GET", f"/api/v1/interests/{SOURCE_ID}", token_b)
    assert seen_by_b.status_code == 200
    assert FIRM_A not in seen_by_b.text and ADDRESS_A not in seen_by_b.text
    assert seen_by_b.json() == _cli_json("interests", SOURCE_ID, "--as", FIRM_B, "--json")
    qualified = call("GET", f"/api/v1/interests/boamp:{SOURCE_ID}", token_b)
    assert qualified.json() == seen_by_b.json()

    staff_view = call("GET", f"/api/v1/interests/{SOURCE_ID}", staff).json()
    assert [entry["name"] for entry in staff_view["entries"]] == [FIRM_A]
    assert staff_view == _cli_json("interests", SOURCE_ID, "--json")
    assert call("GET", "/api/v1/interests/26-9999", token_b).status_code == 404
    assert call("GET", f"/api/v1/interests/{SOURCE_ID}", "pib_nonsense").status_code == 401

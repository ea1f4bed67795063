"""The tender search over real HTTP: the `/tenders` page (what a member reads: titles, buyers, places, days
left, values, twins once, "matches your profile", facets narrowing the URL, errors next to the field), its CSV
export, and `GET /api/v1/notices` with the same answer (§7 shape, 422 for bad parameters, per_page capped)."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import Session

from crawlers.codelists import nuts_label
from crawlers.notice import Notice
from crawlers.store.procedures import link_procedures
from crawlers.store.service import store_notices
from pib.web.auth import create_api_token
from tests.factories import incoming, make_notice
from tests.web.conftest import Portal, add_user
from tests.web.test_auth import sign_in
from watch.deadlines import brussels_day
from watch.models import Profile, User

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
TAG = re.compile(r"<[^>]+>")
TODAY = brussels_day(datetime.now(UTC))


def text_of(page: str) -> str:
    """What a reader sees of a page: tags dropped, entities read, spaces collapsed."""
    return " ".join(html.unescape(TAG.sub(" ", page)).replace("\u202f", " ").replace("\xa0", " ").split())


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def notice(source_id: str, **overrides: Any) -> Notice:
    fields: dict[str, Any] = {
        "published": day(-3),
        "deadline": f"{day(10)}T12:00:00+01:00",
        "url": f"https://www.boamp.fr/pages/avis/?q=idweb:{source_id}",
    }
    return make_notice(source_id=source_id, **(fields | overrides))


@pytest.fixture
def tenders(portal: Portal) -> None:
    """An open tender with its TED twin, a closed one, a Belgian one, and one of another trade."""
    store_notices(
        portal.engine,
        [
            incoming(n)
            for n in (
                notice(
                    "26-0001",
                    title="Plateforme de l'École Numérique",
                    related=["12345-2026"],
                    buyer={"name": "Région Hauts-de-France", "country": "FR"},
                ),
                notice(
                    "00012345-2026",
                    source="ted",
                    title="Digital school platform",
                    buyer={"name": "Région Hauts-de-France", "country": "FR"},
                    url="https://ted.europa.eu/en/notice/-/detail/12345-2026",
                ),
                notice("26-0002", title="École numérique : maintenance", deadline=f"{day(-2)}T12:00:00+01:00"),
                notice(
                    "26-0003",
                    title="Logiciel de gestion des écoles",
                    buyer={"name": "Ville de Namur", "country": "BE"},
                    nuts=["BE352"],
                    lots=[{"id": "1", "title": "Logiciel", "cpv_main": "72212000", "nuts": ["BE352"]}],
                    deadline=f"{day(1)}T12:00:00+01:00",
                    estimated_value=120000.0,
                ),
                notice(
                    "26-0004",
                    title="Nettoyage des écoles",
                    cpv_main="90910000",
                    cpv_additional=[],
                    lots=[{"id": "1", "cpv_main": "90910000"}],
                ),
            )
        ],
    )
    link_procedures(portal.engine)


def member(portal: Portal, **profile: Any) -> httpx.Client:
    user_id = add_user(portal.engine, firm=FIRM, address=ADDRESS)
    if profile:
        with Session(portal.engine) as session:
            user = session.get(User, user_id)
            assert user is not None
            session.add(Profile(member_id=user.member_id, **profile))
            session.commit()
    return sign_in(portal, ADDRESS)


def api(portal: Portal) -> httpx.Client:
    token = create_api_token(portal.engine, email=ADDRESS)
    return portal.client(headers={"Authorization": f"Bearer {token}"})


def test_a_member_searches_and_reads_each_line(portal: Portal, tenders: None) -> None:
    client = member(portal, name="Écoles connectées", cpv=["72000000"], regions=["BE3"])
    page = client.get("/tenders", params={"q": "ecole numerique"})
    assert page.status_code == 200
    seen = text_of(page.text)
    assert "Marchés trouvés : 1" in seen  # open only by default: 26-0002 is closed; the twins are one line
    assert "École Numérique" in seen and "maintenance" not in seen
    assert "BOAMP 26-0001" in seen and "TED 00012345-2026" in seen
    assert 'href="https://ted.europa.eu/en/notice/-/detail/12345-2026"' in page.text
    assert "Région Hauts-de-France" in seen and str(nuts_label("FRE11", "fr")) in seen
    assert "encore 10 jours" in seen
    assert "250 000 €" in seen
    assert "Correspond à votre profil" not in seen  # in FR: the profile watches BE3

    every = text_of(client.get("/tenders", params={"q": "ECOLE numérique", "open": "false"}).text)
    assert "Marchés trouvés : 2" in every and "maintenance" in every

    namur = text_of(client.get("/tenders", params={"q": "logiciel"}).text)
    assert "Logiciel de gestion des écoles" in namur
    assert "Correspond à votre profil Écoles connectées" in namur
    assert "Ville de Namur" in namur and str(nuts_label("BE352", "fr")) in namur
    assert "se termine" in namur or "1 jour" in namur
    assert "120 000 €" in namur


def test_facets_count_and_their_links_narrow_the_url(portal: Portal, tenders: None) -> None:
    client = member(portal)
    page = client.get("/tenders", params={"q": "ecoles", "open": "false"})
    seen = text_of(page.text)
    assert "Marchés trouvés : 4" in seen
    links = dict(re.findall(r'<a href="(/tenders\?[^"]+)"[^>]*>([^<]+)</a>', page.text))
    belgium = next(href for href, label in links.items() if label == "Belgique")
    narrowed = parse_qs(urlsplit(html.unescape(belgium)).query)
    assert narrowed["region"] == ["BE"] and narrowed["q"] == ["ecoles"] and narrowed["open"] == ["false"]
    only_be = text_of(client.get(html.unescape(belgium)).text)
    assert "Marchés trouvés : 1" in only_be and "Ville de Namur" in only_be
    division = next(href for href, label in links.items() if label.startswith("90 ·"))
    assert parse_qs(urlsplit(html.unescape(division)).query)["cpv"] == ["90000000"]
    assert "Nettoyage des écoles" in text_of(client.get(html.unescape(division)).text)


def test_a_bad_filter_is_answered_next_to_its_field(portal: Portal, tenders: None) -> None:
    client = member(portal)
    page = client.get("/tenders", params={"q": "ecole", "cpv": "99999999"})
    assert page.status_code == 422
    assert "Aucun code ou libellé CPV ne correspond à « 99999999 »." in text_of(page.text)
    assert 'id="cpv" name="cpv" value="99999999"' in page.text and 'aria-invalid="true"' in page.text
    both = client.get("/tenders", params={"value_min": "9000", "value_max": "10"})
    assert both.status_code == 422 and "Le minimum dépasse le maximum." in text_of(both.text)
    assert client.get("/tenders", params={"page": "-3"}).status_code == 422


def test_the_page_and_the_api_give_the_same_answer(portal: Portal, tenders: None) -> None:
    client = member(portal)
    web = api(portal)
    answer = web.get("/api/v1/notices", params={"q": "ecoles", "open": "true"})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"total", "items", "facets"}
    seen = text_of(client.get("/tenders", params={"q": "ecoles"}).text)
    assert f"Marchés trouvés : {body['total']}" in seen
    for item in body["items"]:
        assert item["title"] in seen


def test_the_api_answers_the_section_7_shape(portal: Portal, tenders: None) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    web = api(portal)
    assert portal.client().get("/api/v1/notices").status_code == 401
    body = web.get("/api/v1/notices", params={"q": "école numérique"}).json()
    assert body["total"] == 2  # without open, every deadline (§7)
    twin = next(item for item in body["items"] if "26-0001" in {p["source_id"] for p in item["publications"]})
    assert {(p["source"], p["source_id"]) for p in twin["publications"]} == {
        ("boamp", "26-0001"),
        ("ted", "00012345-2026"),
    }
    for name in ("source", "source_id", "notice_type", "title", "buyer", "cpv_main", "nuts", "lots", "deadline"):
        assert name in twin
    assert set(body["facets"]) == {"notice_type", "source", "country", "cpv_division"}
    assert body["facets"]["source"] == {"boamp": 2}  # the TED twin, in English, does not match these words
    assert web.get("/api/v1/notices", params={"q": "school"}).json()["facets"]["source"] == {"ted": 1}
    covered = web.get("/api/v1/notices", params=[("cpv", "72000000"), ("region", "BE3")]).json()
    assert [item["source_id"] for item in covered["items"]] == ["26-0003"]  # 72212000 under 72000000
    capped = web.get("/api/v1/notices", params={"per_page": "100000"}).json()
    assert capped["per_page"] == 100 and capped["total"] == 4

    one = web.get("/api/v1/notices/ted/00012345-2026").json()
    assert one["title"] == "Digital school platform" and len(one["publications"]) == 2 and one["changes"] == []
    assert web.get("/api/v1/notices/ted/nope").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"cpv": "99999999"},
        {"cpv": "zzzzqqqq"},
        {"region": "Atlantis"},
        {"notice_type": "tender"},
        {"source": "x y"},
        {"open": "maybe"},
        {"value_min": "-5"},
        {"value_min": "abc"},
        {"value_min": "100", "value_max": "1"},
        {"published_since": "2026-02-30"},
        {"sort": "price"},
        {"page": "0"},
        {"page": "99999999999999999999"},
        {"per_page": "0"},
        {"q": "mot " * 40},
    ],
)
def test_bad_parameters_get_422_with_a_reason(portal: Portal, params: dict[str, str]) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    answer = api(portal).get("/api/v1/notices", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]


def test_the_csv_export_holds_the_search_and_no_formula(portal: Portal, tenders: None) -> None:
    store_notices(
        portal.engine, [incoming(notice("26-0009", title="Écoles", buyer={"name": "=HYPERLINK(1)", "country": "FR"}))]
    )
    client = member(portal)
    answer = client.get("/tenders.csv", params={"q": "ecoles", "open": "true"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert {row["title"] for row in rows} == {
        "Plateforme de l'École Numérique",
        "Logiciel de gestion des écoles",
        "Nettoyage des écoles",
        "Écoles",
    }
    assert "'=HYPERLINK(1)" in {row["buyer"] for row in rows}
    twin = next(row for row in rows if row["title"] == "Plateforme de l'École Numérique")
    assert twin["sources"] == "boamp:26-0001 ted:00012345-2026"
    assert twin["page"] == f"{portal.url}/tenders/boamp/26-0001"

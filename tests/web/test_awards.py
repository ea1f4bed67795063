"""Award results over real HTTP (issue 14, items 3 and 5): the tender page's buyer history and its JSON twin, in
French; anonymity (the history is the same, byte for byte, whether or not a firm flagged interest, and holds no
pseudonym); a member's own record and no other's; the staff's organisations, links confirmed (audited), the
co-bidding network and the suggestions from awards; members refused the staff pages."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from consortium.pseudonyms import PATTERN
from consortium.services import record_interest
from pib.web.audit import StaffAudit
from pib.web.auth import add_staff, create_api_token
from tests.watch.awards_data import ALPHA, SCHOOL, TENDER, Cluster, load_cluster
from tests.web.conftest import Portal
from tests.web.test_auth import TOKEN_FIELD, sign_in
from tests.web.test_tender import text_of
from watch.models import Member, User
from watch.organisations import link_table, resolve_awards

STAFF = "animation@cluster.example"
SCHOOL_USER, ALPHA_USER = "direction@ecole-numerique.example", "info@alpha.example"
PAGE = f"/tenders/{TENDER[0]}/{TENDER[1]}"
HISTORY = f"/api/v1/awards/history/{TENDER[0]}/{TENDER[1]}"
SECTION = re.compile(r'<section id="awards".*?</section>', re.S)


def _users(engine: Engine, cluster: Cluster) -> None:
    with Session(engine) as session:
        session.add_all(
            [
                User(member_id=cluster.school, email=SCHOOL_USER, language="fr"),
                User(member_id=cluster.alpha, email=ALPHA_USER, language="fr"),
            ]
        )
        session.commit()


@pytest.fixture
def cluster(portal: Portal) -> Cluster:
    found = load_cluster(portal.engine)
    _users(portal.engine, found)
    add_staff(portal.engine, email=STAFF, language="fr")
    return found


def bearer(engine: Engine, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(engine, email=email)}"}


def test_the_tender_page_shows_the_buyers_earlier_awards_and_its_json_twin(portal: Portal, cluster: Cluster) -> None:
    alpha = sign_in(portal, ALPHA_USER)
    answer = alpha.get(PAGE)
    assert answer.status_code == 200
    section = text_of(SECTION.search(answer.text).group(0))  # type: ignore[union-attr]
    assert section.startswith("Marchés attribués auparavant par cet acheteur")
    assert (
        "Marchés attribués par Ville de Namur dans les mêmes groupes CPV (72200000), "
        "lors de procédures antérieures : 3." in section
    )
    assert "Titulaire probable École Numérique SA (marchés remportés : 2)" in section
    assert "Offres reçues (médiane, écart) 5 (3 – 7)" in section
    assert "Montants attribués (médiane, écart) 250 000 € (120 000 € – 300 000 €)" in section
    assert "Groupement ALPHA LOGICIELS S.R.L., ÉCOLE NUMÉRIQUE S.A." in section
    assert "Gamma Systèmes SA" in section and "Bouw Peeters" not in section and "Informatique Lilloise" not in section
    assert "Entreprises ayant remporté des marchés semblables" not in section  # the staff link, not for members

    twin = alpha.get(HISTORY, headers=bearer(portal.engine, ALPHA_USER))
    assert twin.status_code == 200
    body = twin.json()
    assert (body["buyer"], body["total"], body["cpv_groups"]) == ("Ville de Namur", 3, ["72200000"])
    assert [[w["name"] for w in a["winners"]] for a in body["awards"]] == [
        ["ALPHA LOGICIELS S.R.L.", "ÉCOLE NUMÉRIQUE S.A."],
        [SCHOOL],
        ["Gamma Systèmes SA"],
    ]
    assert body["tenders_received"] == {"known": 3, "median": 5.0, "low": 3.0, "high": 7.0}
    assert body["incumbents"][0] == {"organisation_id": 1, "name": SCHOOL, "wins": 2, "last": "2025-09-15"}
    assert httpx.get(portal.url + HISTORY).status_code == 401
    assert alpha.get("/api/v1/awards/history/ted/0-0000", headers=bearer(portal.engine, ALPHA_USER)).status_code == 404


def test_the_history_says_nothing_of_who_flagged_interest(portal: Portal, cluster: Cluster) -> None:
    """§4: award history is public, but never marks which firms flagged interest: the section and the JSON are the
    same before and after École Numérique (a past winner) flags the tender, and hold none of the pseudonyms."""
    alpha = sign_in(portal, ALPHA_USER)
    headers = bearer(portal.engine, ALPHA_USER)
    before_page = SECTION.search(alpha.get(PAGE).text).group(0)  # type: ignore[union-attr]
    before_json = alpha.get(HISTORY, headers=headers).json()
    record_interest(portal.engine, member_id=cluster.school, tender=f"{TENDER[0]}:{TENDER[1]}", seeks_partners=True)
    record_interest(portal.engine, member_id=cluster.alpha, tender=f"{TENDER[0]}:{TENDER[1]}", role="lead")
    page = alpha.get(PAGE).text
    pseudonyms = set(re.findall(PATTERN, text_of(page)))
    assert pseudonyms, "the page shows the other firm's pseudonym"
    after_page = SECTION.search(page).group(0)  # type: ignore[union-attr]
    after_json = alpha.get(HISTORY, headers=headers).json()
    assert after_page == before_page and after_json == before_json
    assert not any(name in after_page or name in str(after_json) for name in pseudonyms)
    assert "intéress" not in text_of(after_page).lower()


def test_a_member_sees_its_own_record_and_no_other(portal: Portal, cluster: Cluster) -> None:
    school = sign_in(portal, SCHOOL_USER)
    page = school.get("/firm/awards")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Marchés remportés par votre entreprise" in text
    assert "Marchés remportés 3 Seule 2 En groupement 1" in text
    assert "Remportés avec ALPHA LOGICIELS S.R.L. (marchés : 1)" in text
    assert "20 mai 2025 Lot 1004-2025 Province de Liège · 72212000 · Lot 1 École Numérique SA 2 80 000 €" in text
    headers = bearer(portal.engine, SCHOOL_USER)
    (own,) = school.get("/api/v1/firm/awards", headers=headers).json()
    assert (own["name"], own["wins"], own["variants"]) == (SCHOOL, 3, [SCHOOL, "ÉCOLE NUMÉRIQUE S.A."])
    assert school.get(f"/api/v1/organisations/{own['organisation_id']}", headers=headers).json() == own
    alpha_headers = bearer(portal.engine, ALPHA_USER)
    assert school.get(f"/api/v1/organisations/{own['organisation_id']}", headers=alpha_headers).status_code == 404
    assert school.get("/api/v1/awards/network", headers=headers).status_code == 403
    assert school.get(f"/api/v1/awards/suggestions/{TENDER[0]}/{TENDER[1]}", headers=headers).status_code == 403
    for path in ("/staff/organisations", "/staff/awards/network", "/staff/organisations/links"):
        assert school.get(path).status_code == 403, path
    cafe = Member(name="Brûlerie Öberg SPRL")
    with Session(portal.engine) as session:
        cafe_id = session.exec(select(Member.id).where(Member.name == cafe.name)).one()
        session.add(User(member_id=cafe_id, email="cafe@oberg.example", language="fr"))
        session.commit()
    empty = text_of(sign_in(portal, "cafe@oberg.example").get("/firm/awards").text)
    assert "Aucun avis d'attribution n'est encore relié à votre entreprise." in empty


def test_staff_confirm_a_name_link_and_read_the_network_and_suggestions(portal: Portal, cluster: Cluster) -> None:
    with Session(portal.engine) as session:
        session.add(Member(name="GAMMA SYSTEMES"))
        session.commit()
    assert resolve_awards(portal.engine).links_proposed == 1
    staff = sign_in(portal, STAFF)
    links = staff.get("/staff/organisations/links")
    assert "GAMMA SYSTEMES Gamma Systèmes SA BE0999888777 Gamma Systèmes SA 1 nom" in text_of(links.text)
    token = TOKEN_FIELD.findall(links.text)[-1]
    member_id = re.search(r'name="member_id" value="(\d+)"', links.text).group(1)  # type: ignore[union-attr]
    organisation_id = re.search(r'name="organisation_id" value="(\d+)"', links.text).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "member_id": member_id, "organisation_id": organisation_id, "decision": "confirm"}
    assert staff.post("/staff/organisations/links", data={**form, "csrf_token": "0" * 64}).status_code == 403
    done = staff.post("/staff/organisations/links", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/staff/organisations/links?done=confirmed"
    with portal.engine.connect() as connection:
        row = connection.execute(
            sa.select(link_table.c.status, link_table.c.decided_by).where(link_table.c.member_id == int(member_id))
        ).one()
    assert tuple(row) == ("confirmed", STAFF)
    with Session(portal.engine) as session:
        subjects = session.exec(select(StaffAudit.subject).where(col(StaffAudit.action) == "change")).all()
    assert subjects == [f"member {member_id} is organisation {organisation_id}: confirmed"]

    network = staff.get("/staff/awards/network")
    assert network.status_code == 200
    assert '<svg class="network" role="img"' in network.text
    assert "<title>École Numérique SA et Alpha Logiciels SRL : marchés remportés ensemble : 1</title>" in network.text
    assert "GAMMA SYSTEMES" in text_of(network.text)
    suggestions = text_of(staff.get(f"/staff/awards/suggestions/{TENDER[0]}/{TENDER[1]}").text)
    assert (
        "École Numérique SA Marchés remportés en 72200000 : 3, dont en BE3 : 3 · avec ALPHA LOGICIELS S.R.L. : 1"
        in suggestions
    )
    cluster_part, outside = suggestions.split("Hors du cluster (connaissance du personnel seulement)")
    assert "GAMMA SYSTEMES" in cluster_part and "Informatique Lilloise SAS" in outside
    api = staff.get(f"/api/v1/awards/suggestions/{TENDER[0]}/{TENDER[1]}", headers=bearer(portal.engine, STAFF))
    assert [r["member_name"] for r in api.json()["cluster"]] == [SCHOOL, ALPHA, "GAMMA SYSTEMES"]
    page = text_of(staff.get(f"/staff/organisations/{organisation_id}").text)
    assert "Gamma Systèmes SA" in page and "Entreprise membre GAMMA SYSTEMES" in page
    assert "reliés par numéro d'entreprise ou de TVA : 0" in page

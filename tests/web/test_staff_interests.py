"""The staff interest board over real HTTP: tenders with interest soonest deadline first, firms by name lot by
lot with role, what they bring and lack and who seeks partners, the lots nobody covers; closed tenders apart;
a withdrawn interest is gone; each view audited; a member's session is refused on every staff URL."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from consortium.services import record_interest, withdraw_interest
from pib.web.audit import list_audit
from pib.web.auth import add_staff
from tests.consortium.helpers import add_member, lots_notice, store
from tests.web.conftest import Portal
from tests.web.test_auth import TOKEN_FIELD, sign_in
from watch.deadlines import brussels_day

STAFF = "animation@cluster.example"
FIRM_A = "École Numérique SA"
FIRM_B = "Brûlerie Öberg SPRL"
FIRM_C = "Agence Ålesund Publicité SRL"
FIRM_D = "Électro Wallonie SA"
FIRM_E = "Zéphyr Conseil SCRL"
ADDRESS_A = "direction@ecole-numerique.example"
ADDRESS_D = "bureau@electro-wallonie.example"
BIG = "boamp:26-0301"
SOON = "boamp:26-0302"
CLOSED = "boamp:26-0303"
TAG = re.compile(r"<[^>]+>")


def text_of(page: str) -> str:
    """What a reader sees of a page: tags dropped, entities read, spaces collapsed."""
    return " ".join(html.unescape(TAG.sub(" ", page)).split())


@dataclass
class Cluster:
    a: int
    b: int
    c: int
    d: int
    e: int


def _deadline(days: int) -> str:
    return f"{(brussels_day(datetime.now(UTC)) + timedelta(days=days)).isoformat()}T12:00:00+01:00"


def cluster(engine: Engine) -> Cluster:
    """Three tenders with interest: a three-lot one in 20 days, a one-lot one in 6 days, one closed 3 days ago.

    On the three-lot tender École Numérique leads lots 1 and 2 and seeks partners, Öberg takes lot 2 and lacks
    hosting, Zéphyr flagged then withdrew, nobody flagged lot 3 (advertising), which Ålesund does, uninterested.
    """
    lots = [
        {"id": str(n), "title": title, "cpv_main": code, "cpv_additional": [], "nuts": ["BE32"]}
        for n, (title, code) in enumerate(
            [("Logiciel", "72212000"), ("Licences", "48000000"), ("Publicité", "79341000")], 1
        )
    ]
    big = lots_notice("26-0301", ["72212000", "48000000", "79341000"], title="Plateforme numérique des écoles")
    big = big.model_copy(
        update={"lots": [type(big.lots[0]).model_validate(lot) for lot in lots], "deadline": _deadline(20)}
    )
    soon = lots_notice("26-0302", ["50312000"], title="Maintenance du parc informatique", deadline=_deadline(6))
    closed = lots_notice("26-0303", ["72212000"], title="Hébergement des archives", deadline=_deadline(-3))
    store(engine, big, soon, closed)
    found = Cluster(
        a=add_member(engine, FIRM_A, emails=(ADDRESS_A,), cpv=("72212000", "48000000")),
        b=add_member(engine, FIRM_B, emails=("bureau@oberg.example",), cpv=("48000000",)),
        c=add_member(engine, FIRM_C, emails=("contact@alesund.example",), cpv=("79341000",)),
        d=add_member(engine, FIRM_D, emails=(ADDRESS_D,), cpv=("50312000",)),
        e=add_member(engine, FIRM_E, emails=("info@zephyr.example",), cpv=("72000000",)),
    )
    record_interest(
        engine, member_id=found.a, tender=BIG, lots=["1", "2"], role="lead", brings=["72212000"], seeks_partners=True
    )
    record_interest(engine, member_id=found.e, tender=BIG, role="partner")
    record_interest(engine, member_id=found.b, tender=BIG, lots=["2"], role="partner", lacks=["hébergement"])
    withdraw_interest(engine, member_id=found.e, tender=BIG)
    record_interest(engine, member_id=found.d, tender=SOON, role="subcontractor", brings=["maintenance"])
    record_interest(engine, member_id=found.b, tender=CLOSED, role="lead")
    return found


def staff_client(portal: Portal, language: str = "en") -> httpx.Client:
    add_staff(portal.engine, email=STAFF, language=language)
    return sign_in(portal, STAFF)


def csrf(client: httpx.Client, path: str) -> str:
    return str(TOKEN_FIELD.findall(client.get(path).text)[-1])


def test_the_board_lists_tenders_soonest_deadline_first_with_firms_by_lot_and_the_lots_nobody_covers(
    portal: Portal,
) -> None:
    cluster(portal.engine)
    client = staff_client(portal)
    answer = client.get("/staff/interests")
    assert answer.status_code == 200
    seen = text_of(answer.text)
    assert "3 tenders" not in seen and "Tenders with interest: 2" in seen  # the closed one is apart
    assert seen.index("Maintenance du parc informatique") < seen.index("Plateforme numérique des écoles")
    assert "Hébergement des archives" not in seen
    big = seen[seen.index("Plateforme numérique des écoles") :]
    assert "Firms interested: 2" in big and "Seeking partners: 1" in big and "Nobody covers lot 3" in big
    lot1, lot2, lot3 = (big[big.index(f"Lot {n}") :] for n in (1, 2, 3))
    assert lot1[: lot1.index("Lot 2")].count(FIRM_A) == 1 and FIRM_B not in lot1[: lot1.index("Lot 2")]
    assert f"{FIRM_A} Lead Seeks partners Brings 72212000" in lot1
    assert f"{FIRM_B} Partner Brings" not in lot2 and f"{FIRM_B} Partner Lacks hébergement" in lot2
    assert lot3.startswith("Lot 3 Publicité No firm Nobody covers it")
    assert FIRM_E not in seen  # withdrawn
    assert FIRM_C not in seen  # not interested: the board is about interest
    assert f"{FIRM_D} Subcontractor" in seen

    closed = text_of(client.get("/staff/interests?show=closed").text)
    assert "Hébergement des archives" in closed and "Plateforme numérique" not in closed
    assert f"{FIRM_B} Lead" in closed

    closed_view, open_view = list_audit(portal.engine).lines[:2]  # newest first
    assert (open_view.staff_email, open_view.action, open_view.what) == (STAFF, "view", "interest board")
    assert open_view.subject == "open p1: boamp:26-0302, boamp:26-0301"
    assert closed_view.subject == "closed p1: boamp:26-0303"


def test_the_board_reads_in_the_staff_language(portal: Portal) -> None:
    cluster(portal.engine)
    seen = text_of(staff_client(portal, "fr").get("/staff/interests").text)
    assert "Tableau des intérêts" in seen
    assert f"{FIRM_A} Mandataire Cherche des partenaires" in seen
    assert "Personne ne couvre le lot 3" in seen


def test_the_board_pages_and_refuses_bad_parameters(portal: Portal) -> None:
    cluster(portal.engine)
    client = staff_client(portal)
    assert client.get("/staff/interests?page=0").status_code == 422
    assert client.get("/staff/interests?show=everything").status_code == 422
    beyond = text_of(client.get("/staff/interests?page=99").text)  # the last page, not an error
    assert "Maintenance du parc informatique" in beyond


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/staff/interests"),
        ("GET", "/staff/interests?show=closed"),
        ("GET", "/staff/groups"),
        ("GET", f"/staff/groups/new?notice={BIG}"),
        ("GET", "/staff/groups/1"),
        ("GET", "/staff/groups/1/summary"),
        ("POST", "/staff/groups"),
        ("POST", "/staff/groups/1"),
    ],
)
def test_a_member_is_refused_on_every_board_and_group_url(portal: Portal, method: str, path: str) -> None:
    found = cluster(portal.engine)
    from consortium.services import add_firm, create_group

    group = create_group(portal.engine, tender=BIG)
    add_firm(portal.engine, group_id=group.id, member_id=found.a, role="lead")
    member = sign_in(portal, ADDRESS_A)
    token = csrf(member, "/")
    data = {"csrf_token": token, "notice": BIG, "member": str(found.a), "action": "status", "status": "submitted"}
    answer = member.request(method, path, data=data if method == "POST" else None)
    assert answer.status_code == 403
    assert FIRM_B not in answer.text and "Öberg" not in answer.text
    anonymous = portal.client().request(method, path)
    assert anonymous.status_code in (303, 403)

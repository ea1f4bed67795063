"""A small award record for the views' tests: three members of a cluster, the awards of a Namur buyer and of others
(names written as notices write them: `ÉCOLE NUMÉRIQUE S.A.` without number beside `École Numérique SA` with its
number), an open tender of the same buyer, resolved and linked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from crawlers.store.procedures import link_procedures
from crawlers.store.service import store_notices
from tests.factories import incoming, make_notice
from watch.models import Member
from watch.organisations import decide_link, link_proposals, resolve_awards

NAMUR = "Ville de Namur"
SCHOOL, ALPHA, CAFE = "École Numérique SA", "Alpha Logiciels SRL", "Brûlerie Öberg SPRL"
TENDER = ("ted", "2001-2026")


@dataclass(frozen=True)
class Cluster:
    school: int
    alpha: int
    cafe: int


def _award(source_id: str, buyer: str, nuts: str, cpv: str, winners: list[dict[str, Any]], **award: Any) -> Any:
    return make_notice(
        source="ted",
        source_id=source_id,
        notice_type="award",
        title=f"Attribution {source_id}",
        deadline=None,
        buyer={"name": buyer, "country": "BE", "town": "Namur"},
        cpv_main=cpv,
        cpv_additional=[],
        nuts=[nuts],
        estimated_value=None,
        currency=None,
        lots=[{"id": "1", "title": f"Lot {source_id}", "cpv_main": cpv, "nuts": [nuts]}],
        url=f"https://ted.europa.eu/fr/notice/-/detail/{source_id}",
        awards=[{"lot_ids": ["1"], "winners": winners, "currency": "EUR", **award}],
    )


def _winner(name: str, identifier: str | None = None) -> dict[str, Any]:
    return {"name": name, "identifier": identifier, "country": "BE"}


def load_cluster(engine: Engine) -> Cluster:
    with Session(engine) as session:
        members = [Member(name=SCHOOL), Member(name=ALPHA), Member(name=CAFE)]
        session.add_all(members)
        session.commit()
        school, alpha, cafe = (member.id for member in members)
    assert school and alpha and cafe
    school_winner = _winner(SCHOOL, "BE0111222333")
    notices = [
        _award(
            "1001-2025",
            NAMUR,
            "BE352",
            "72212000",
            [school_winner],
            value=120000.0,
            tenders_received=3,
            date="2025-03-01",
        ),
        _award(
            "1002-2025",
            NAMUR,
            "BE352",
            "72260000",
            [_winner("ALPHA LOGICIELS S.R.L.", "BE0456789123"), _winner("ÉCOLE NUMÉRIQUE S.A.")],
            value=250000.0,
            tenders_received=5,
            date="2025-09-15",
        ),
        _award(
            "1003-2024",
            NAMUR,
            "BE352",
            "72230000",
            [_winner("Gamma Systèmes SA", "BE0999888777")],
            value=300000.0,
            tenders_received=7,
            date="2024-11-10",
        ),
        _award(
            "1004-2025",
            "Province de Liège",
            "BE332",
            "72212000",
            [school_winner],
            value=80000.0,
            tenders_received=2,
            date="2025-05-20",
        ),
        _award(
            "1005-2025",
            NAMUR,
            "BE352",
            "45233000",
            [_winner("Bouw Peeters NV")],
            value=900000.0,
            tenders_received=4,
            date="2025-06-01",
        ),
        _award(
            "1006-2025",
            "Métropole Européenne de Lille",
            "FRE11",
            "72212000",
            [_winner("Informatique Lilloise SAS")],
            value=60000.0,
            tenders_received=9,
            date="2025-02-01",
        ),
        make_notice(
            source="ted",
            source_id=TENDER[1],
            title="Maintenance du logiciel de gestion des écoles",
            buyer={"name": NAMUR, "country": "BE", "town": "Namur"},
            cpv_main="72200000",
            cpv_additional=[],
            nuts=["BE352"],
            deadline="2030-03-01T12:00:00+01:00",
            lots=[{"id": "1", "title": "Maintenance", "cpv_main": "72200000", "nuts": ["BE352"]}],
        ),
    ]
    store_notices(engine, [incoming(notice) for notice in notices])
    link_procedures(engine)
    resolve_awards(engine)
    for proposal in link_proposals(engine):  # staff confirm the two name links of the firms that won
        with engine.begin() as connection:
            decide_link(
                connection,
                member_id=proposal.member_id,
                organisation_id=proposal.organisation_id,
                accept=True,
                by="animation@cluster.example",
            )
    return Cluster(school, alpha, cafe)

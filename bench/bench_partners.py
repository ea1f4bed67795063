"""Partner search at cluster scale: a tender of 50 lots among 2,000 member firms with competence catalogues,
searched for one member (staff view: every firm), through the competence index against a plain scan of
every firm for every lot, in the same run, on the same data, with the same answer. Goal: at least 20x."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.common import best_of, database_kinds, scratch_databases
from consortium.models import catalogue_table
from consortium.search import _CATALOGUES, MatcherFactory, Scan
from consortium.services import partner_search, record_interest, staff_partner_search
from consortium.views import StaffPartnerSearch
from crawlers.codelists import cpv_codes
from crawlers.notice import Notice
from crawlers.parsers import ParsedNotice
from crawlers.store.db import get_engine
from crawlers.store.service import Incoming, store_notices
from watch.models import Member, User

LOTS = 50
MEMBERS = 2_000
INTERESTED = 150
TENDER = "26-50000"
DIVISIONS = ("45", "71", "72", "77", "79", "90", "50", "33", "34", "60")
NUTS = ["BE10", "BE21", "BE23", "BE31", "BE32", "BE33", "BE35", "FR10", "FRE11", "FRE12", "FRF11", "FRK26"]
NOW = datetime(2026, 1, 22, 6, 0, tzinfo=UTC)


def _codes(rng: random.Random) -> dict[str, list[str]]:
    """Real CPV codes by division, for the divisions a cluster of works and services firms does."""
    by_division: dict[str, list[str]] = {d: [] for d in DIVISIONS}
    for code in sorted(cpv_codes()):
        if code[:2] in by_division:
            by_division[code[:2]].append(code)
    return by_division


def _label_words(code: str) -> list[str]:
    label = cpv_codes()[code][0]
    return [w for w in label.split() if len(w) > 4][:3]


def _notice(rng: random.Random, codes: dict[str, list[str]]) -> Notice:
    lots = []
    for n in range(1, LOTS + 1):
        division = rng.choice(DIVISIONS)
        main, *more = rng.sample(codes[division], 3)
        lots.append(
            {
                "id": str(n),
                "title": f"Lot {n}: {cpv_codes()[main][0]}",
                "cpv_main": main,
                "cpv_additional": more[: rng.randint(0, 2)],
                "nuts": [rng.choice(NUTS)],
            }
        )
    every = [c for lot in lots for c in [lot["cpv_main"], *lot["cpv_additional"]]]
    return Notice.model_validate(
        {
            "source": "boamp",
            "source_id": TENDER,
            "notice_type": "contract-notice",
            "title": "Rénovation et entretien du patrimoine communal, 50 lots",
            "description": None,
            "buyer": {"name": "Ville de Liège", "country": "BE", "town": "Liège"},
            "cpv_main": every[0],
            "cpv_additional": list(dict.fromkeys(c for c in every[1:] if c != every[0])),
            "nuts": ["BE33"],
            "contract_nature": "works",
            "procedure": "open",
            "published": "2026-01-21",
            "deadline": "2026-02-16T12:00:00+01:00",
            "estimated_value": None,
            "currency": None,
            "lots": lots,
            "languages": ["fr"],
            "url": "https://www.boamp.fr/pages/avis/?q=idweb:26-50000",
        }
    )


def _firm_codes(rng: random.Random, codes: dict[str, list[str]]) -> list[str]:
    """A firm's codes: a few of its trade, at every level from the division to the finest code."""
    trade = rng.sample(DIVISIONS, rng.randint(1, 2))
    chosen = []
    for _ in range(rng.randint(3, 8)):
        code = rng.choice(codes[rng.choice(trade)])
        depth = rng.choice((2, 3, 4, 5, 8))
        chosen.append(code[:depth].ljust(8, "0"))
    return list(dict.fromkeys(chosen))


def populate(engine: Engine) -> int:
    """The tender, 2,000 firms with catalogues, 150 of them interested; returns the member to search for."""
    rng = random.Random(7)
    codes = _codes(rng)
    notice = _notice(rng, codes)
    store_notices(engine, [Incoming(ParsedNotice(notice, notice.model_dump_json().encode(), "", "bench"), "bench")])
    members, users, catalogues = [], [], []
    for m in range(1, MEMBERS + 1):
        firm_codes = _firm_codes(rng, codes)
        keywords = [" ".join(_label_words(rng.choice(codes[c[:2]])))[:60] for c in firm_codes[:3]]
        members.append(
            {
                "id": m,
                "name": f"Firme {m}",
                "active": True,
                "created_at": NOW,
                "updated_at": NOW,
                "competences": {"cpv": firm_codes[:4], "keywords": keywords[:2], "regions": rng.sample(NUTS, 2)},
            }
        )
        users.append(
            {
                "id": m,
                "member_id": m,
                "email": f"info@firme{m}.example",
                "language": "fr",
                "active": True,
                "created_at": NOW,
            }
        )
        catalogues.append(
            {
                "member_id": m,
                "cpv": firm_codes[4:],
                "keywords": keywords[2:],
                "regions": [],
                "certifications": rng.sample(["ISO 9001", "ISO 14001", "VCA", "Qualibat"], 2),
                "size_band": rng.choice(["micro", "small", "medium"]),
                "references": [],
                "updated_at": NOW,
            }
        )
    with engine.begin() as connection:
        connection.execute(sa.insert(Member.__table__), members)  # type: ignore[attr-defined]
        connection.execute(sa.insert(User.__table__), users)  # type: ignore[attr-defined]
        connection.execute(sa.insert(catalogue_table), catalogues)
    for m in rng.sample(range(1, MEMBERS + 1), INTERESTED):
        record_interest(
            engine,
            member_id=m,
            tender=TENDER,
            lots=[str(n) for n in rng.sample(range(1, LOTS + 1), 3)],
            role=rng.choice(["lead", "partner", "subcontractor"]),
            seeks_partners=rng.random() < 0.5,
        )
    return 1


def measure(kind: str, engine: Engine) -> None:
    started = time.perf_counter()
    member = populate(engine)
    print(
        f"{kind}: {LOTS} lots, {MEMBERS} firms with catalogues, {INTERESTED} interested "
        f"(set up in {time.perf_counter() - started:.1f} s)"
    )

    def staff(matcher: MatcherFactory | None = None) -> StaffPartnerSearch:
        return staff_partner_search(engine, tender=TENDER, member_id=member, matcher=matcher)

    def cold() -> None:
        _CATALOGUES.clear()
        staff()

    indexed, scanned = staff(), staff(matcher=Scan)
    assert indexed == scanned, "the index and the scan disagree"
    found = sum(len(lot.candidates) for lot in indexed.lots)
    index_time, scan_time = best_of(10, staff), best_of(3, lambda: staff(matcher=Scan))
    print(
        f"  staff search, every firm: index {index_time * 1000:.0f} ms, plain scan {scan_time * 1000:.0f} ms: "
        f"{scan_time / index_time:.1f}x faster ({len(indexed.lots)} lots lacking, {found} firms proposed)"
    )
    rebuilt = best_of(3, cold)
    print(
        f"  the first search after a member or catalogue changed (index rebuilt): {rebuilt * 1000:.0f} ms "
        f"({scan_time / rebuilt:.1f}x faster than the scan)"
    )
    member_time = best_of(10, lambda: partner_search(engine, tender=TENDER, member_id=member))
    member_scan = best_of(3, lambda: partner_search(engine, tender=TENDER, member_id=member, matcher=Scan))
    print(
        f"  member search, {INTERESTED} interested firms: index {member_time * 1000:.0f} ms, plain scan "
        f"{member_scan * 1000:.0f} ms: {member_scan / member_time:.1f}x"
    )


def main() -> None:
    with scratch_databases() as new_database:
        for kind in database_kinds():
            engine = get_engine(new_database(kind))
            measure(kind, engine)
            engine.dispose()

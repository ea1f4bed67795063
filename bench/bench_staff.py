"""The staff console at cluster scale (issue 11): 200 firms, 100,000 notices over a year and a half from the four
sources, 2,000 interests, 300 parse errors, the scheduler's jobs; the time to render the dashboard and the
activity page as staff get them (the real app, a staff session, `GET /staff`), against a baseline measured in
the same run on the same data: the source health `pib sources` prints (`source_health`), which the dashboard
includes. Goal: each page under 1 s and under 5 times that baseline. The interest board (its first page of 20
tenders, soonest deadline first, among the 500 tenders flagged) against `pib interests` of those 20 tenders."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.common import best_of, database_kinds, scratch_databases
from config.settings import Settings
from consortium.activity import interest_table
from consortium.board import interest_board
from consortium.interests import staff_view
from consortium.models import pseudonym_table
from crawlers.crawl.context import SOURCES as CRAWL_SOURCES
from crawlers.crawl.health import source_health
from crawlers.store.db import get_engine
from crawlers.store.service import Failure, lot_table, notice_table, record_failures
from pib.scheduler import build_scheduler, job_specs
from pib.web.app import create_app
from pib.web.auth import add_staff, request_link, use_link
from watch.models import Member

FIRMS = 200
NOTICES = 100_000
INTERESTS = 2_000
ERRORS = 300
SOURCES = ("ted", "boamp", "be", "feed:wallonie", "feed:lille")
FEEDS = ("wallonie", "lille")
STAFF = "animation@cluster.example"
TODAY = datetime.now(UTC).date()


def populate(engine: Engine) -> None:
    rng = random.Random(11)
    with Session(engine) as session:
        for n in range(FIRMS):
            session.add(Member(name=f"Entreprise {n} É"))
        session.commit()
    days = 540
    rows = []
    for n in range(NOTICES):
        published = TODAY - timedelta(days=int(rng.triangular(0, days, 0)))
        source = rng.choice(SOURCES)
        rows.append(
            {
                "source": source,
                "source_id": f"{n}-2026",
                "notice_type": "contract-notice",
                "title": f"Marché {n}",
                "buyer_name": "Ville de Liège",
                "published": published,
                "data": {"source": source, "source_id": f"{n}-2026"},
                "content_hash": f"{n:064}",
                "first_seen": datetime(published.year, published.month, published.day, 9, tzinfo=UTC),
                "updated_at": datetime(published.year, published.month, published.day, 9, tzinfo=UTC),
            }
        )
    with engine.begin() as connection:
        for start in range(0, len(rows), 5_000):
            connection.execute(sa.insert(notice_table), rows[start : start + 5_000])
        notice_ids = list(connection.execute(sa.select(notice_table.c.id).limit(INTERESTS // 4)).scalars())
        member_ids = list(connection.execute(sa.select(Member.__table__.c.id)).scalars())  # type: ignore[attr-defined]
        interests: list[dict[str, Any]] = []
        seen: set[tuple[int, int]] = set()
        while len(interests) < INTERESTS:
            notice_id, member_id = rng.choice(notice_ids), rng.choice(member_ids)
            if (notice_id, member_id) in seen:
                continue
            seen.add((notice_id, member_id))
            moment = datetime.now(UTC) - timedelta(days=rng.randint(0, 360))
            interests.append(
                {
                    "tender_key": f"n{notice_id}",
                    "notice_id": notice_id,
                    "member_id": member_id,
                    "lots": [],
                    "role": "partner",
                    "brings_cpv": [],
                    "brings_keywords": [],
                    "lacks_cpv": [],
                    "lacks_keywords": [],
                    "seeks_partners": False,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
        connection.execute(sa.insert(interest_table), interests)
    record_failures(engine, [Failure(f"boamp/page-{n}.json", f"results[{n % 20}]", "no title") for n in range(ERRORS)])
    build_scheduler(engine, job_specs(Settings())).shutdown(wait=False)


def staff_client(engine: Engine) -> TestClient:
    add_staff(engine, email=STAFF)
    link = request_link(engine, email=STAFF, client="bench")
    assert link.token is not None
    signed = use_link(engine, token=link.token)
    assert isinstance(signed, tuple)
    client = TestClient(create_app(engine=engine, settings=Settings()))
    client.cookies.set("pib_session", signed[1])
    return client


def measure(kind: str, engine: Engine) -> None:
    populate(engine)
    client = staff_client(engine)

    def health() -> None:
        source_health(engine, sources=CRAWL_SOURCES, today=TODAY, now=datetime.now(UTC), feed_names=FEEDS)

    def page(path: str) -> None:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)

    page("/staff")
    baseline = best_of(5, health)
    for path in ("/staff", "/staff/activity"):
        took = best_of(5, partial(page, path))
        print(
            f"{kind:<10} {path:<16} {took * 1000:7.1f} ms = {took / baseline:4.1f}x pib sources "
            f"({FIRMS} firms, {NOTICES:,} notices, {INTERESTS:,} interests)",
            flush=True,
        )
    measure_board(kind, engine, client)


def board_tenders(engine: Engine) -> None:
    """Give the tenders with interest what a real notice has and the board reads: title, buyer, a deadline in
    the coming weeks, three lots; and the interests lots, roles, what they bring and lack."""
    rng = random.Random(12)
    with engine.begin() as connection:
        flagged = sorted(set(connection.execute(sa.select(interest_table.c.notice_id)).scalars()))
        lots = []
        for notice_id in flagged:
            deadline = datetime.now(UTC) + timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 23))
            data = {
                "source": "boamp",
                "source_id": f"{notice_id}-2026",
                "title": f"Marché {notice_id}",
                "buyer": {"name": "Ville de Liège", "country": "BE"},
                "deadline": deadline.isoformat(),
                "lots": [{"id": str(n)} for n in (1, 2, 3)],
            }
            connection.execute(
                notice_table.update().where(notice_table.c.id == notice_id).values(data=data, deadline_utc=deadline)
            )
            lots += [
                {"notice_id": notice_id, "lot_id": str(n), "position": n, "title": f"Lot {n}", "cpv_main": code}
                for n, code in ((1, "72212000"), (2, "48000000"), (3, "79341000"))
            ]
        connection.execute(sa.insert(lot_table), lots)
        names: list[dict[str, Any]] = []  # the pseudonyms `pib interest` draws (the bulk insert above skipped them)
        taken: dict[str, int] = {}
        for key, member_id in connection.execute(sa.select(interest_table.c.tender_key, interest_table.c.member_id)):
            taken[key] = taken.get(key, 0) + 1
            names.append({"tender_key": key, "member_id": member_id, "pseudonym": f"Firme Banc-{taken[key]}"})
        connection.execute(sa.insert(pseudonym_table), names)
        for interest_id in connection.execute(sa.select(interest_table.c.id)).scalars().all():
            connection.execute(
                interest_table.update()
                .where(interest_table.c.id == interest_id)
                .values(
                    lots=rng.choice([[], ["1"], ["2", "3"]]),
                    role=rng.choice(["lead", "partner", "subcontractor"]),
                    brings_cpv=["72212000"],
                    lacks_keywords=rng.choice([[], ["hébergement"]]),
                    seeks_partners=rng.random() < 0.3,
                )
            )


def measure_board(kind: str, engine: Engine, client: TestClient) -> None:
    """The interest board's first page against the staff view of each tender it shows (`pib interests`)."""
    board_tenders(engine)
    shown = interest_board(engine).tenders
    assert len(shown) == 20 and len({t.tender.reference for t in shown}) == 20

    def views() -> None:
        for item in shown:
            staff_view(engine, tender=item.tender.reference)

    def page() -> None:
        answer = client.get("/staff/interests")
        assert answer.status_code == 200 and shown[0].tender.title in answer.text

    baseline = best_of(3, views)
    took = best_of(5, page)
    print(
        f"{kind:<10} {'/staff/interests':<16} {took * 1000:7.1f} ms = {took / baseline:4.1f}x pib interests "
        f"of its 20 tenders ({FIRMS} firms, {NOTICES:,} notices, {INTERESTS:,} interests)",
        flush=True,
    )


def main() -> None:
    with scratch_databases() as new_database:
        for kind in database_kinds():
            engine = get_engine(new_database(kind))
            measure(kind, engine)
            engine.dispose()


if __name__ == "__main__":
    main()

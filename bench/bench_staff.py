"""The staff console at cluster scale (issue 11): 200 firms, 100,000 notices over a year and a half from the four
sources, 2,000 interests, 300 parse errors, the scheduler's jobs; the time to render the dashboard and the
activity page as staff get them (the real app, a staff session, `GET /staff`), against a baseline measured in
the same run on the same data: the source health `pib sources` prints (`source_health`), which the dashboard
includes. Goal: each page under 1 s and under 5 times that baseline. The interest board's render joins this
file later."""

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
from crawlers.crawl.context import SOURCES as CRAWL_SOURCES
from crawlers.crawl.health import source_health
from crawlers.store.db import get_engine
from crawlers.store.service import Failure, notice_table, record_failures
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


def main() -> None:
    with scratch_databases() as new_database:
        for kind in database_kinds():
            engine = get_engine(new_database(kind))
            measure(kind, engine)
            engine.dispose()


if __name__ == "__main__":
    main()

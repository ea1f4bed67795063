"""Tender search over 100,000 generated notices, on SQLite and PostgreSQL: median and p95 of typical searches
(`search_notices`: candidates, procedures, facets, sort, the page read whole), each as a ratio to the bare
full-text query it wraps (`bare_fulltext`: the same MATCH or @@, every matching id and rank, nothing else);
then the `/tenders` page and a tender's page rendered through the portal. Goals: within 2x, p95 under 200 ms."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.store.db import get_engine
from crawlers.store.models import utcnow
from crawlers.store.procedures import procedure_table
from crawlers.store.search import SearchQuery, bare_fulltext, index_notices, query_from_params, search_notices
from crawlers.store.service import notice_table

from .common import database_kinds, scratch_databases

NOTICES = 100_000
RUNS = 25
NOW = datetime.now(UTC)
NUTS = ["BE100", "BE211", "BE231", "BE310", "BE323", "BE352", "FR101", "FRE11", "FRE12", "FRF11", "FRK26", "NL329"]
CPV = ["72212000", "72000000", "48000000", "45000000", "45233140", "90910000", "79341000", "30213000", "80000000"]
WORDS = {
    "fr": "logiciel maintenance voirie nettoyage formation sécurité réseau bâtiment école numérique étude audit "
    "rénovation éclairage chauffage mobilier transport restauration scolaire hébergement informatique",
    "nl": "software onderhoud wegenwerken schoonmaak opleiding beveiliging netwerk gebouw school digitaal studie "
    "audit renovatie verlichting verwarming meubilair vervoer catering hosting informatica",
    "en": "software maintenance roads cleaning training security network building school digital study audit "
    "renovation lighting heating furniture transport catering hosting computing",
}
SEARCHES: dict[str, dict[str, str]] = {
    "one word": {"q": "logiciel", "open": "false"},
    "two words, accents": {"q": "école numérique", "open": "false"},
    "word, open": {"q": "maintenance", "open": "true"},
    "word + CPV": {"q": "audit", "cpv": "72000000", "open": "false"},
    "CPV + region, open": {"cpv": "45000000", "region": "BE3", "open": "true"},
    "word + region, deadline": {"q": "school", "region": "FR", "sort": "deadline", "open": "true"},
}


def _notice(n: int, rng: random.Random) -> dict[str, Any]:
    language = ("fr", "nl", "en")[n % 3]
    words = WORDS[language].split()
    source = ("boamp", "ted", "be")[n % 3]
    published = date(2026, 1, 1) + timedelta(days=n % 365)
    deadline = (NOW + timedelta(days=rng.randint(-200, 60))).replace(microsecond=0)
    lots: list[dict[str, Any]] = [
        {
            "id": str(lot),
            "title": " ".join(rng.sample(words, 3)),
            "cpv_main": rng.choice(CPV),
            "cpv_additional": [],
            "nuts": [rng.choice(NUTS)],
            "estimated_value": None,
        }
        for lot in range(1, 1 + n % 3)
    ] or [{"id": "1", "title": None, "cpv_main": CPV[n % len(CPV)], "cpv_additional": [], "nuts": []}]
    nuts = sorted({nuts for lot in lots for nuts in lot["nuts"]}) or [NUTS[n % len(NUTS)]]
    return {
        "source": source,
        "source_id": f"{n:06d}-2026",
        "notice_type": "contract-notice" if n % 7 else "award",
        "title": " ".join(rng.sample(words, 5)).capitalize() + f" n°{n}",
        "description": " ".join(rng.choices(words, k=30)),
        "buyer": {"name": f"Commune {n % 2000}", "country": nuts[0][:2], "town": f"Ville {n % 500}"},
        "cpv_main": CPV[n % len(CPV)],
        "cpv_additional": [],
        "nuts": nuts,
        "contract_nature": "services",
        "procedure": "open",
        "published": published.isoformat(),
        "deadline": None if n % 7 == 0 else deadline.isoformat(),
        "estimated_value": 10_000.0 * (1 + n % 90),
        "currency": "EUR",
        "lots": lots,
        "languages": [language],
        "url": f"https://example.org/notice/{n}",
    }


def populate(engine: Engine) -> None:
    """NOTICES rows written directly (the store's own ingest is measured by bench_ingest), then indexed; each in
    a procedure, as linking leaves them, one in ten with a twin of another source."""
    rng = random.Random(7)
    now = utcnow()
    for start in range(0, NOTICES, 5000):
        rows = []
        procedures = [
            {"id": n + 1, "title": "", "buyer_name": "", "status": "open", "created_at": now, "updated_at": now}
            for n in range(start, min(start + 5000, NOTICES))
            if n % 10 != 1
        ]
        for n in range(start, min(start + 5000, NOTICES)):
            data = _notice(n, rng)
            rows.append(
                {
                    "source": data["source"],
                    "source_id": data["source_id"],
                    "notice_type": data["notice_type"],
                    "title": data["title"],
                    "buyer_name": data["buyer"]["name"],
                    "buyer_country": data["buyer"]["country"],
                    "cpv_main": data["cpv_main"],
                    "published": date.fromisoformat(data["published"]),
                    "deadline": data["deadline"],
                    "deadline_utc": datetime.fromisoformat(data["deadline"]) if data["deadline"] else None,
                    "estimated_value": data["estimated_value"],
                    "currency": data["currency"],
                    "data": data,
                    "content_hash": f"{n:064d}",
                    "procedure_id": n if n % 10 == 1 else n + 1,
                    "version": 1,
                    "first_seen": now,
                    "updated_at": now,
                }
            )
        with engine.begin() as connection:
            connection.execute(procedure_table.insert(), procedures)
            connection.execute(notice_table.insert(), rows)
            index_notices(connection)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE"))
        else:
            connection.execute(sa.text("INSERT INTO notice_fts(notice_fts) VALUES ('optimize')"))
            connection.execute(sa.text("ANALYZE"))


def timings(action: Callable[[], object]) -> tuple[float, float]:
    """Median and p95 of RUNS runs, in milliseconds (after one warm-up run)."""
    action()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def page_timings(engine: Engine) -> None:
    """The `/tenders` page of a search and a tender's page, rendered by the portal for a signed-in member."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from config.settings import get_settings
    from pib.web.app import create_app
    from pib.web.auth import request_link, use_link
    from watch.models import Member, User

    with Session(engine) as session:
        member = Member(name="École Numérique SA")
        session.add(member)
        session.flush()
        assert member.id is not None
        session.add(User(member_id=member.id, email="bench@ecole-numerique.example", language="fr"))
        session.commit()
    token = request_link(engine, email="bench@ecole-numerique.example", client="bench").token
    assert token is not None
    signed = use_link(engine, token=token)
    assert isinstance(signed, tuple)
    client = TestClient(create_app(engine=engine, settings=get_settings()))
    client.cookies.set("pib_session", signed[1])
    for name, path in (("search page", "/tenders?q=logiciel"), ("tender page", "/tenders/ted/000001-2026")):
        assert client.get(path).status_code == 200, path

        def get(path: str = path) -> object:
            return client.get(path)

        median, p95 = timings(get)
        print(f"  {name:28} median {median:6.1f} ms  p95 {p95:6.1f} ms")


def search_timings(engine: Engine) -> None:
    """Each typical search: lines, median and p95, and the ratio to its bare full-text query."""
    for name, params in SEARCHES.items():
        query = query_from_params(params, default_open=False)
        result = search_notices(engine, query=query, now=NOW)

        def search(query: SearchQuery = query) -> object:
            return search_notices(engine, query=query, now=NOW)

        median, p95 = timings(search)

        def bare(query: SearchQuery = query) -> object:
            with engine.connect() as connection:
                return bare_fulltext(connection, query)

        bare_median, _ = timings(bare)
        print(
            f"  {name:28} {result.total:6} lines  median {median:6.1f} ms  p95 {p95:6.1f} ms"
            f"  bare {bare_median:6.1f} ms  ratio {median / bare_median:4.2f}x"
        )


def main() -> None:
    with scratch_databases() as new:
        for kind in database_kinds():
            engine = get_engine(new(kind))
            started = time.perf_counter()
            populate(engine)
            print(f"{kind}: {NOTICES:,} notices stored and indexed in {time.perf_counter() - started:.0f} s")
            search_timings(engine)
            page_timings(engine)
            engine.dispose()

"""Linking speed and quality: 10,000 stored notices of about 5,000 procedures among 300 buyers (BOAMP calls,
TED twins with or without a reference, BOAMP corrigenda moving deadlines, awards, and relaunches that look like
their first call but are other procedures), linked into procedures; time as a ratio to storing the same
notices (`store_notices`) in the same run, and the result checked against the procedures generated.

Then the growth (issue 13): the same kind of corpus at 10,000 and 50,000 notices (`PIB_BENCH_LINK_SIZES`, e.g.
`10000,50000,200000`), linking speed at each size, which must stay flat (linear time). The corpus grows as a
store does, in time and in buyers (50 notices a day from 300 buyers per 10,000 notices), not by piling more
notices on the same 200 days and 300 buyers.
"""

from __future__ import annotations

import os
import random
import time
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from bench.common import database_kinds, scratch_databases
from crawlers.notice import Notice
from crawlers.parsers import ParsedNotice
from crawlers.store.db import get_engine
from crawlers.store.procedures import link_procedures
from crawlers.store.service import Incoming, notice_table, store_notices

TARGET = 10_000
_WORDS = [
    "travaux", "fourniture", "entretien", "maintenance", "nettoyage", "restauration", "scolaire", "voirie",
    "eclairage", "public", "batiment", "rehabilitation", "construction", "gymnase", "ecole", "mairie", "logiciel",
    "informatique", "reseau", "assurance", "transport", "espaces", "verts", "chauffage", "ventilation", "toiture",
    "menuiserie", "peinture", "electricite", "plomberie", "mobilier", "vehicules", "carburant", "impression",
    "communication", "evenementiel", "securite", "gardiennage", "formation", "audit", "conseil", "etude",
    "diagnostic", "amiante", "piscine", "mediatheque", "stade", "parking", "signalisation",
]  # fmt: skip


def _notice(**fields: Any) -> Notice:
    return Notice.model_validate(
        {
            "notice_type": "contract-notice",
            "cpv_main": "45000000",
            "nuts": ["FRE11"],
            "lots": [{"id": "1"}],
            "languages": ["fr"],
            "related": [],
        }
        | fields
    )


def _generate(target: int = TARGET) -> tuple[list[Notice], dict[tuple[str, str], int]]:
    """The notices, and for each the procedure it belongs to (the truth the linking is checked against)."""
    rng = random.Random(7)
    notices: list[Notice] = []
    truth: dict[tuple[str, str], int] = {}
    procedure = 0
    buyers = 300 * max(1, target // TARGET)
    days = 200 * max(1, target // TARGET)
    while len(notices) < target:
        procedure += 1
        buyer = f"Commune de Saint-Étienne-{procedure % buyers}"
        title = " ".join(rng.sample(_WORDS, 5))
        published = date(2020, 1, 1) + timedelta(days=(procedure * days // (target // 2)) % days)
        deadline = (published + timedelta(days=30)).isoformat() + "T12:00:00+01:00"
        ted_number = f"{100000 + procedure:08d}-2026"
        twin = rng.random() < 0.7
        made = [
            _notice(
                source="boamp",
                source_id=f"26-{procedure}",
                title=title.upper(),
                buyer={"name": buyer.upper(), "country": "FR"},
                published=published.isoformat(),
                deadline=deadline,
                related=[ted_number] if twin and procedure % 2 else [],
            )
        ]
        if twin:
            made.append(
                _notice(
                    source="ted",
                    source_id=ted_number,
                    title=title.capitalize(),
                    buyer={"name": buyer, "country": "FR"},
                    published=(published + timedelta(days=2)).isoformat(),
                    deadline=deadline,
                )
            )
        if rng.random() < 0.2:
            made.append(
                _notice(
                    source="boamp",
                    source_id=f"26-{500000 + procedure}",
                    notice_type="change",
                    title=title.upper(),
                    buyer={"name": buyer.upper(), "country": "FR"},
                    published=(published + timedelta(days=10)).isoformat(),
                    deadline=(published + timedelta(days=44)).isoformat() + "T12:00:00+01:00",
                    related=[f"26-{procedure}"],
                )
            )
        if rng.random() < 0.15:
            made.append(
                _notice(
                    source="boamp",
                    source_id=f"26-{700000 + procedure}",
                    notice_type="award",
                    title=title.upper(),
                    buyer={"name": buyer.upper(), "country": "FR"},
                    published=(published + timedelta(days=90)).isoformat(),
                    related=[f"26-{procedure}"],
                )
            )
        for notice in made:
            truth[(notice.source, notice.source_id)] = procedure
        notices.extend(made)
        if rng.random() < 0.1:  # a relaunch: same buyer and title, a later deadline, at both sources
            procedure += 1
            later = published + timedelta(days=40)
            relaunch = {
                "title": title.upper(),
                "buyer": {"name": buyer.upper(), "country": "FR"},
                "published": later.isoformat(),
                "deadline": (later + timedelta(days=30)).isoformat() + "T12:00:00+01:00",
            }
            for notice in (
                _notice(source="boamp", source_id=f"26-{900000 + procedure}", **relaunch),
                _notice(source="ted", source_id=f"{900000 + procedure:08d}-2026", **relaunch),
            ):
                truth[(notice.source, notice.source_id)] = procedure
                notices.append(notice)
    return notices, truth


def _check(engine: sa.Engine, truth: dict[tuple[str, str], int]) -> tuple[int, int, int]:
    """(procedures found, false merges: found procedures mixing generated ones, generated procedures split)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(notice_table.c.source, notice_table.c.source_id, notice_table.c.procedure_id)
        )
        found: dict[int, set[int]] = {}
        placed: dict[int, set[int]] = {}
        for source, source_id, procedure_id in rows:
            expected = truth[(source, source_id)]
            found.setdefault(procedure_id, set()).add(expected)
            placed.setdefault(expected, set()).add(procedure_id)
    return len(found), sum(len(e) > 1 for e in found.values()), sum(len(p) > 1 for p in placed.values())


def _items(notices: list[Notice]) -> list[Incoming]:
    return [Incoming(ParsedNotice(n, n.model_dump_json().encode(), "", "bench"), "bench") for n in notices]


def _growth() -> None:
    """Linking speed as the store grows: it must stay flat, and within 2x of storing (issue 13)."""
    sizes = [int(size) for size in os.environ.get("PIB_BENCH_LINK_SIZES", "10000,50000").split(",")]
    print(f"growth: {', '.join(f'{size:,}' for size in sizes)} notices stored, then linked")
    with scratch_databases() as new_database:
        for kind in database_kinds():
            first = None
            for size in sizes:
                notices, truth = _generate(size)
                items = _items(notices)
                engine = get_engine(new_database(kind))
                started = time.perf_counter()
                store_notices(engine, items)
                store = time.perf_counter() - started
                started = time.perf_counter()
                link_procedures(engine)
                link = time.perf_counter() - started
                _, false_merges, split = _check(engine, truth)
                rate = len(items) / link
                first = first or rate
                print(
                    f"{kind:<10} {len(items):>9,} notices: link {rate:>7,.0f} notices/s ({rate / first:.2f} of the"
                    f" first size), store {len(items) / store:>7,.0f} notices/s, ratio {link / store:.2f}x of"
                    f" storing; {false_merges} false merges, {split} split"
                )
                engine.dispose()


ROUNDS = 3
"""Store and link are timed in turn this many times on fresh databases, and the best of each kept: on a shared
machine one run of either can be a fifth slower for reasons of its own, and a ratio of two single runs drifts."""


def main() -> None:
    notices, truth = _generate()
    items = _items(notices)
    print(f"{len(items):,} notices of {len(set(truth.values())):,} procedures, best of {ROUNDS} rounds")
    with scratch_databases() as new_database:
        for kind in database_kinds():
            stores, links, ratios = [], [], []
            for _ in range(ROUNDS):
                engine = get_engine(new_database(kind))
                started = time.perf_counter()
                store_notices(engine, items)
                stores.append(time.perf_counter() - started)
                started = time.perf_counter()
                summary = link_procedures(engine)
                links.append(time.perf_counter() - started)
                ratios.append(links[-1] / stores[-1])
                started = time.perf_counter()
                again = link_procedures(engine)
                rerun = time.perf_counter() - started
                assert again.notices == 0, again.describe()
                procedures, false_merges, split = _check(engine, truth)
                engine.dispose()
            print(
                f"{kind:<10} link {len(items) / min(links):>7,.0f} notices/s   store {len(items) / min(stores):>7,.0f}"
                f" notices/s   ratio {min(links) / min(stores):.2f}x of storing (each round:"
                f" {', '.join(f'{ratio:.2f}x' for ratio in ratios)});  rerun (nothing to do) {rerun * 1000:.0f} ms"
            )
            print(f"{'':<10} {summary.describe()}")
            print(
                f"{'':<10} {procedures:,} procedures for {len(set(truth.values())):,} generated:"
                f" {false_merges} false merges, {split} procedures left in pieces"
            )
    _growth()


if __name__ == "__main__":
    main()

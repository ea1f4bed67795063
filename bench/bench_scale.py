"""End to end at the scale of several clusters: 50,000 notices stored, linked and routed to 10,000 profiles.

The corpus is generated from the recorded notices (tests/fixtures, parsed once; `bench_match` varies their CPV
codes, titles and places): each notice gets its own source id, buyer (a town and a number), title, publication
date over a year and deadline, so that linking finds about one procedure per notice instead of merging copies;
one in ten also has a twin at another source that names it (`related`), linked into its procedure, so linking
and routing's one-match-per-procedure have their real work to do. Every notice has a CPV code (inference is
`python -m bench cpv`'s subject). The profiles are `bench_match`'s (codes at every level, words, phrases, places,
value ranges, exclusions).

The notices come in chunks, as crawls bring them: each chunk is stored (parse-free: `store_notices` of parsed
notices), linked (`link_procedures`) and routed (`route_new`), and each step is timed. Printed, for SQLite and
PostgreSQL (PIB_BENCH_POSTGRES_URL), each in a process of its own:
- notices per second end to end (store + link + route; target: at least 250), and of each step;
- the peak memory of the process (resident set, `common.peak_memory_mb`), the corpus being generated chunk by chunk;
- the growth of each step's time per notice from 10,000 stored to 50,000 stored (the chunk that ends at each):
  about 1.0 when the step stays linear in the notices it handles, whatever the store already holds.

`python -m bench scale` (about five minutes), `python -m bench scale --quick` (10,000 notices, under a minute),
`--size N`. Nothing outside the project is read.
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from bench.bench_match import make_notices, make_profiles, read_labels, recorded_notices, store_corpus
from bench.common import database_kinds, peak_memory_mb, scratch_databases
from crawlers.notice import Notice
from crawlers.parsers import ParsedNotice
from crawlers.store.db import get_engine
from crawlers.store.procedures import link_procedures
from crawlers.store.service import Incoming, store_notices
from watch.routing import route_new

SIZE = 50_000
QUICK_SIZE = 10_000
PROFILES = 10_000
CHUNKS = 10
TWINS = 0.1
TARGET = 250
STEPS = ("store", "link", "route")
_TOWNS = [
    "Liège", "Namur", "Mons", "Charleroi", "Tournai", "Wavre", "Arlon", "Lille", "Roubaix", "Tourcoing", "Valenciennes",
    "Béthune", "Saint-Étienne", "Besançon", "Orléans", "Nîmes", "Évry", "Écaussinnes", "Gembloux", "Ottignies",
]  # fmt: skip
_SUBJECTS = [
    "réhabilitation", "extension", "maintenance", "fourniture", "assistance", "étude", "accord-cadre", "exploitation",
    "rénovation", "déploiement", "hébergement", "numérisation", "sécurisation", "modernisation", "entretien",
]  # fmt: skip


@dataclass
class Run:
    """One database's figures."""

    kind: str
    notices: int = 0
    procedures: int = 0
    matches: int = 0
    seconds: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    sizes: list[int] = field(default_factory=list)
    peak_mb: float = 0.0


def _chunks(size: int, chunks: int, seed: int) -> Iterator[list[Incoming]]:
    """The corpus, chunk by chunk (never all in memory): varied recorded notices, a tenth with a twin."""
    rng = random.Random(seed)
    recorded = recorded_notices()
    labels = read_labels()
    start = date(2026, 1, 1)
    made = 0
    per_chunk = -(-size // chunks)
    while made < size:
        count = min(per_chunk, size - made)
        items: list[Incoming] = []
        for data in make_notices(rng, recorded, labels, count):
            number = made + len(items)
            if len(items) >= count:
                break
            town = _TOWNS[number % len(_TOWNS)]
            data["source_id"] = f"scale-{number}"
            data["title"] = f"{rng.choice(_SUBJECTS).capitalize()} {town} {number}: {data['title']}"[:2000]
            data["buyer"] = {**(data.get("buyer") or {}), "name": f"Ville de {town} — service {number % 997}"}
            published = start + timedelta(days=number * 365 // size)
            data["published"] = published.isoformat()
            data["related"] = []
            data["url"] = None
            data["documents_url"] = None
            if data["notice_type"] != "award":
                data["deadline"] = f"{published + timedelta(days=30 + number % 20)}T12:00:00+01:00"
            twin = None
            if rng.random() < TWINS and len(items) + 1 < count:
                twin = copy.deepcopy(data)
                twin["source"] = "boamp" if data["source"] == "ted" else "ted"
                twin["source_id"] = f"scale-twin-{number}"
                twin["published"] = (published + timedelta(days=2)).isoformat()
                data["related"] = [twin["source_id"]]
            for one in (data, twin):
                if one is not None:
                    notice = Notice.model_validate(one)
                    items.append(
                        Incoming(ParsedNotice(notice, notice.model_dump_json().encode(), "", "bench"), "bench")
                    )
        made += len(items)
        yield items


def run_one(kind: str, size: int, chunks: int) -> Run:
    """Store, link and route the corpus chunk by chunk on a fresh database of one kind."""
    rng = random.Random(20260123)
    profiles = make_profiles(rng, recorded_notices(), read_labels(), PROFILES)
    run = Run(kind)
    with scratch_databases() as new:
        engine = get_engine(new(kind))
        store_corpus(engine, profiles, [])
        for items in _chunks(size, chunks, seed=7):
            timings = {}
            started = time.perf_counter()
            store_notices(engine, items)
            timings["store"] = time.perf_counter() - started
            started = time.perf_counter()
            linked = link_procedures(engine)
            timings["link"] = time.perf_counter() - started
            started = time.perf_counter()
            routed = route_new(engine)
            timings["route"] = time.perf_counter() - started
            assert routed.notices == len(items) and not routed.failures, routed.describe()
            for step, seconds in timings.items():
                run.seconds[step].append(seconds)
            run.sizes.append(len(items))
            run.notices += len(items)
            run.procedures += linked.created
            run.matches += routed.matches
            print(
                f"  {kind:<10} {run.notices:>7,} stored: "
                + ", ".join(f"{step} {len(items) / seconds:,.0f}/s" for step, seconds in timings.items()),
                flush=True,
            )
        engine.dispose()
    run.peak_mb = peak_memory_mb()
    return run


def _report(run: Run, chunks: int) -> None:
    total = sum(sum(seconds) for seconds in run.seconds.values())
    rates = ", ".join(f"{step} {run.notices / sum(run.seconds[step]):,.0f}/s" for step in STEPS)
    verdict = "ok" if run.notices / total >= TARGET else "below"
    print(
        f"{run.kind:<10} end to end {run.notices / total:,.0f} notices/s ({total:.0f} s; target >= {TARGET}: "
        f"{verdict}); {rates}; {run.procedures:,} procedures, {run.matches:,} matches; "
        f"peak memory {run.peak_mb:,.0f} MB"
    )
    early = max(0, chunks // 5 - 1)  # the chunk ending at a fifth of the corpus (10k of 50k), then the last
    first_stored = sum(run.sizes[: early + 1])

    def per_notice(step: str, i: int) -> float:
        return run.seconds[step][i] / run.sizes[i]

    growth = {step: per_notice(step, -1) / per_notice(step, early) for step in STEPS}
    whole = sum(per_notice(step, -1) for step in STEPS) / sum(per_notice(step, early) for step in STEPS)
    print(
        f"{'':<10} time per notice at {run.notices:,} stored / at {first_stored:,} stored: "
        + ", ".join(f"{step} x{value:.2f}" for step, value in growth.items())
        + f", end to end x{whole:.2f} (linear: x1.00)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE:,} notices instead of {SIZE:,}")
    parser.add_argument("--size", type=int, help="how many notices")
    args, _ = parser.parse_known_args(sys.argv[1:])
    size = args.size or (QUICK_SIZE if args.quick else SIZE)
    print(
        f"{size:,} notices (one in ten with a twin at another source) x {PROFILES:,} profiles, "
        f"in {CHUNKS} chunks: store, link, route",
        flush=True,
    )
    context = multiprocessing.get_context("spawn")  # each database in a fresh process: its own peak memory
    with context.Pool(1, maxtasksperchild=1) as pool:
        for kind in database_kinds():
            _report(pool.apply(run_one, (kind, size, CHUNKS)), CHUNKS)


if __name__ == "__main__":
    main()

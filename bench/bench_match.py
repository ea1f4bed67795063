"""Routing against watch profiles: the index in memory, and `route_new` on a database against its floor.

Notices and profiles are generated from the recorded notices and the CPV code list: notices are recorded
ones with their codes, titles and places varied (every one with a CPV code: inference is `python -m bench
cpv`); profiles take codes at every level of the tree, words of titles and labels, places at every NUTS level.
Figures are ratios to baselines measured in the same run:
- the indexed matching (`ProfileIndex.match`, 20,000 notices x 2,000 profiles) against judging every profile
  for each notice with the notice prepared once (`match_naive`, the fair naive loop) and against the naive
  loop over all pairs (`profile_matches`, everything from scratch per pair), both timed on a sample and
  scaled up; and its time at half and at double the size (close to linear: 2.0 each);
- the whole `route_new` of 3,000 notices against 10,000 profiles on a database (SQLite; PostgreSQL too with
  PIB_BENCH_POSTGRES_URL) against its floor (issue 13): reading the same pages of new notices, a loop over
  only the profiles that match each notice (known in advance) and its rows written in bulk the same way
  (one driver `executemany` on SQLite, one COPY on PostgreSQL). Target: at most 2x.
Labels: the CPV code list the service ships (`crawlers/codelists/cpv.tsv.gz`, eForms SDK, CC BY 4.0), so the
benchmark needs nothing outside the project.
"""

from __future__ import annotations

import copy
import importlib
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from bench.common import FIXTURES, database_kinds, scratch_databases
from crawlers.codelists import LANGUAGES, cpv_codes
from crawlers.ingest import iter_files, parse_file
from crawlers.notice import Notice
from crawlers.parsers import ParsedNotice
from crawlers.store.db import get_engine
from crawlers.store.models import utcnow
from crawlers.store.service import Incoming, store_notices
from watch.matching import Hit, ProfileIndex, ProfileSpec, notice_facts, profile_matches
from watch.models import Member, Profile
from watch.routing import (
    BATCH_SIZE,
    MATCH_COLUMNS,
    _best_per_member,
    _pending_page,
    insert_rows,
    match_table,
    route_new,
    routed_table,
)
from watch.text import STOPWORDS, words

NOTICES = 20_000
PROFILES = 2_000
FAIR_SAMPLE = 300
PAIR_SAMPLE = 8
DATABASE_NOTICES = 3_000
DATABASE_PROFILES = 10_000
COMMON_WORDS = 1_000
TARGET = 2.0
REPEAT = 2


def read_labels() -> dict[str, dict[str, str]]:
    """CPV code → {language: label} (fr, nl, en), from the code list the service itself ships."""
    return {
        code: {language: text for language, text in zip(LANGUAGES, row, strict=True) if text}
        for code, row in cpv_codes().items()
    }


def notice_codes(data: dict[str, Any]) -> list[str]:
    """The notice's CPV codes, main first, then its lots'."""
    found = [data.get("cpv_main"), *(data.get("cpv_additional") or [])]
    for lot in data.get("lots") or []:
        found += [lot.get("cpv_main"), *(lot.get("cpv_additional") or [])]
    return [code for code in dict.fromkeys(found) if code]


def recorded_notices() -> list[dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in iter_files([FIXTURES]):
        for parsed in parse_file(path).outcome.notices:
            found.setdefault((parsed.notice.source, parsed.notice.source_id), parsed.notice.to_json_dict())
    return list(found.values())


def make_profiles(
    rng: random.Random, recorded: Sequence[dict[str, Any]], labels: dict[str, dict[str, str]], count: int
) -> list[ProfileSpec]:
    by_division: dict[str, list[str]] = {}
    for code in sorted({c for n in recorded for c in notice_codes(n)} | set(labels)):
        by_division.setdefault(code[:2], []).append(code)
    divisions = sorted(by_division)  # a division first, then a code in it: big divisions do not crowd the rest
    texts = [n["title"] for n in recorded] + [text for by_language in labels.values() for text in by_language.values()]
    linking = STOPWORDS["fr"] | STOPWORDS["nl"] | STOPWORDS["en"]
    frequency = Counter(w for text in texts for w in set(words(text)) if len(w) > 4 and w.isalpha())
    common = {w for w, _ in frequency.most_common(COMMON_WORDS)}  # firms watch 'toiture', not 'services'
    vocabulary = sorted(w for w in frequency if w not in linking and w not in common)
    label_texts = [text for by_language in labels.values() for text in by_language.values()] or texts
    places = [*sorted({p for n in recorded for p in n["nuts"]}), "BE", "FR", "LU", "NL", "DE"]
    profiles = []
    for i in range(count):
        levels = rng.choices((2, 3, 4, 5), weights=(5, 30, 35, 30), k=rng.choice((0, 1, 2, 3)))
        cpv = [rng.choice(by_division[rng.choice(divisions)])[:level].ljust(8, "0") for level in levels]
        keywords = rng.sample(vocabulary, rng.choice((0, 1, 2, 3)))
        if rng.random() < 0.2:
            phrase = [w for w in words(rng.choice(label_texts)) if w not in linking][:2]
            keywords.append(" ".join(phrase))
        if not cpv and not keywords:
            cpv = [rng.choice(by_division[rng.choice(divisions)])[:3].ljust(8, "0")]
        regions = [p[: rng.randint(2, len(p))] for p in rng.sample(places, rng.choice((0, 0, 1, 2, 3)))]
        ranged = rng.random() < 0.3
        profiles.append(
            ProfileSpec(
                id=i + 1,
                member_id=i // 2 + 1,
                cpv=tuple(cpv),
                keywords=tuple(k for k in keywords if k),
                exclude=tuple(rng.sample(vocabulary, 1)) if rng.random() < 0.3 else (),
                regions=tuple(regions),
                value_min=rng.choice((10_000.0, 50_000.0)) if ranged else None,
                value_max=rng.choice((1e6, 5e6)) if ranged else None,
                notice_types=rng.choice(((), (), (), ("contract-notice",), ("contract-notice", "award"))),
            )
        )
    return profiles


def make_notices(
    rng: random.Random, recorded: Sequence[dict[str, Any]], labels: dict[str, dict[str, str]], count: int
) -> list[dict[str, Any]]:
    codes = sorted(labels) or sorted({c for n in recorded for c in notice_codes(n)})
    places = sorted({p for n in recorded for p in n["nuts"]})
    notices = []
    for i in range(count):
        data = copy.deepcopy(recorded[i % len(recorded)])
        data["source_id"] = f"bench-{i}"
        if rng.random() < 0.7:
            main = rng.choice(codes)
            data["cpv_main"] = main
            data["cpv_additional"] = [c for c in rng.sample(codes, rng.choice((0, 1, 2))) if c != main]
            for lot in data["lots"]:
                lot["cpv_main"] = rng.choice([main, *data["cpv_additional"]])
                lot["cpv_additional"] = []
            label = labels.get(main, {}).get(data["languages"][0])
            if label:
                data["title"] = f"{data['title']} - {label}"
        elif not notice_codes(data):  # a notice without codes would be inferred: another benchmark's subject
            data["cpv_main"] = rng.choice(codes)
        roll = rng.random()
        if roll < 0.3 and places:
            data["nuts"] = [rng.choice(places)]
        elif roll < 0.5:
            data["nuts"] = []
        notices.append(data)
    return notices


def time_indexed(index: ProfileIndex, notices: Sequence[dict[str, Any]]) -> tuple[float, int]:
    started = time.perf_counter()
    found = sum(len(index.match(notice_facts(data))) for data in notices)
    return time.perf_counter() - started, found


def bench_routing(rng: random.Random, recorded: list[dict[str, Any]], labels: dict[str, dict[str, str]]) -> None:
    profiles = make_profiles(rng, recorded, labels, PROFILES)
    notices = make_notices(rng, recorded, labels, NOTICES * 2)
    index = ProfileIndex(profiles)
    cold, found = time_indexed(index, notices[:NOTICES])  # stems learned, keyword indexes built on the way
    half, _ = time_indexed(index, notices[: NOTICES // 2])
    full, _ = time_indexed(index, notices[:NOTICES])
    double, _ = time_indexed(index, notices)

    sample = rng.sample(notices[:NOTICES], FAIR_SAMPLE)
    facts = [notice_facts(data) for data in sample]
    started = time.perf_counter()
    naive_hits = [index.match_naive(f) for f in facts]
    fair = (time.perf_counter() - started) / FAIR_SAMPLE * NOTICES
    assert naive_hits == [index.match(f) for f in facts], "the index and the naive loop disagree"

    pairs = sample[:PAIR_SAMPLE]
    started = time.perf_counter()
    for data in pairs:
        for spec in profiles:
            profile_matches(spec, data)
    all_pairs = (time.perf_counter() - started) / PAIR_SAMPLE * NOTICES

    print(
        f"routing {NOTICES:,} notices against {PROFILES:,} profiles (in memory): {full:.1f} s "
        f"({cold:.1f} s on the first pass, stems not yet known), {found / NOTICES:.1f} matching profiles per notice"
    )
    print(f"  naive loop, notice prepared once (sample of {FAIR_SAMPLE}, same answers): {fair / full:.0f}x slower")
    print(f"  naive loop over all pairs, from scratch (sample of {PAIR_SAMPLE}): {all_pairs / full:.0f}x slower")
    print(
        f"  growth: {NOTICES // 2:,} → {NOTICES:,} notices x{full / half:.2f}, "
        f"{NOTICES:,} → {NOTICES * 2:,} x{double / full:.2f} (linear: x2.00)"
    )


def store_corpus(engine: sa.Engine, profiles: Sequence[ProfileSpec], notices: Sequence[dict[str, Any]]) -> None:
    """The notices stored, and a member (`École Numérique n`) for each member id with its profiles."""
    parsed = [ParsedNotice(Notice.model_validate(data), b"", "", "bench") for data in notices]
    store_notices(engine, [Incoming(item, "bench") for item in parsed])
    member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
    profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        members = sorted({p.member_id for p in profiles})
        connection.execute(member_table.insert(), [{"id": m, "name": f"École Numérique {m}"} for m in members])
        connection.execute(
            profile_table.insert(),
            [
                {
                    "id": spec.id,
                    "member_id": spec.member_id,
                    "name": f"profil {spec.id}",
                    "cpv": list(spec.cpv),
                    "keywords": list(spec.keywords),
                    "exclude": list(spec.exclude),
                    "regions": list(spec.regions),
                    "value_min": spec.value_min,
                    "value_max": spec.value_max,
                    "notice_types": list(spec.notice_types),
                    "procedure_types": list(spec.procedure_types),
                }
                for spec in profiles
            ],
        )


def route_floor(engine: sa.Engine, answers: dict[str, list[Hit]]) -> int:
    """The floor of routing: the same pages of new notices read, a loop over only the profiles that match each
    (the answers known in advance, by source id), the rows written in bulk as `route_new` writes them."""
    after, written = 0, 0
    while True:
        with engine.begin() as connection:
            rows = _pending_page(connection, after, BATCH_SIZE, False)
            if not rows:
                return written
            matches = [
                (
                    hit.member_id,
                    hit.profile_id,
                    row.id,
                    hit.score,
                    hit.score,
                    json.dumps(hit.reasons),
                    json.dumps(hit.lot_ids),
                )
                for row in rows
                for hit in answers[row.source_id]
            ]
            insert_rows(connection, match_table, MATCH_COLUMNS, matches, created_at=utcnow())
            insert_rows(
                connection, routed_table, ("notice_id", "error"), [(row.id, None) for row in rows], routed_at=utcnow()
            )
            written += len(matches)
        after = rows[-1].id


def _unroute(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(match_table.delete())
        connection.execute(routed_table.delete())


def bench_database(rng: random.Random, recorded: list[dict[str, Any]], labels: dict[str, dict[str, str]]) -> None:
    """The whole routing on a database (load pages, match, store matches), against its floor."""
    profiles = make_profiles(rng, recorded, labels, DATABASE_PROFILES)
    notices = make_notices(rng, recorded, labels, DATABASE_NOTICES)
    index = ProfileIndex.of(profiles)  # the one route_new takes up, as in a service that routes every few minutes
    importlib.import_module("watch.cpv.model")  # what routing imports on its first notice, once per process
    started = time.perf_counter()
    answers = {
        data["source_id"]: [hit for _, hit in sorted(_best_per_member(index.match(notice_facts(data))).items())]
        for data in notices
    }  # the first pass also learns the stems: both runs below start warm
    cold = time.perf_counter() - started
    found = sum(len(hits) for hits in answers.values())
    judged = index.judged
    print(
        f"routing {len(notices):,} notices against {len(profiles):,} profiles: {found / len(notices):.0f} members "
        f"reached a notice, {judged / len(notices):.0f} profiles judged a notice (first pass in memory {cold:.1f} s)"
    )
    with scratch_databases() as new:
        for kind in database_kinds():
            engine = get_engine(new(kind))
            store_corpus(engine, profiles, notices)
            floor, elapsed = float("inf"), float("inf")
            for _ in range(REPEAT):  # each the best of its runs, the two taking turns (the machine is shared)
                started = time.perf_counter()
                written = route_floor(engine, answers)
                floor = min(floor, time.perf_counter() - started)
                _unroute(engine)
                started = time.perf_counter()
                summary = route_new(engine)
                elapsed = min(elapsed, time.perf_counter() - started)
                _unroute(engine)
                assert summary.matches == written == found, (summary.matches, written, found)
            print(
                f"route_new on {kind:<10} {elapsed:5.1f} s ({len(notices) / elapsed:,.0f} notices/s), floor "
                f"{floor:5.1f} s: {elapsed / floor:.2f}x (target <= {TARGET:.0f}x); {summary.matches:,} matches stored"
            )
            engine.dispose()


def main() -> None:
    rng = random.Random(20260123)
    recorded = recorded_notices()
    labels = read_labels()
    bench_routing(rng, recorded, labels)
    bench_database(rng, recorded, labels)

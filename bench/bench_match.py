"""Routing 20,000 notices against 2,000 profiles, and CPV inference accuracy on held-out recorded notices.

Notices and profiles are generated from the recorded notices and the CPV code list: notices are recorded
ones with their codes, titles and places varied; profiles take codes at every level of the tree, words of
titles and labels, places at every NUTS level. Figures are ratios to baselines measured in the same run:
- the indexed routing (`ProfileIndex.match`) against judging every profile for each notice with the
  notice prepared once (`match_naive`, the fair naive loop) and against the naive loop over all pairs
  (`profile_matches`, everything from scratch per pair), both timed on a sample and scaled up;
- its time at half and at double the size (close to linear: 2.0 each);
- the whole `route_new` on a database (SQLite; PostgreSQL too with PIB_BENCH_POSTGRES_URL) against the
  in-memory matching of the same notices;
- CPV inference accuracy on held-out recorded notices with codes (each fifth in turn), against always
  answering the most frequent division of the training part.
Labels: the CPV code list the service ships (`crawlers/codelists/cpv.tsv.gz`, eForms SDK, CC BY 4.0), so the
benchmark needs nothing outside the project.
"""

from __future__ import annotations

import copy
import random
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from bench.common import FIXTURES, database_kinds, scratch_databases
from crawlers.codelists import LANGUAGES, cpv_codes
from crawlers.ingest import iter_files, parse_file
from crawlers.notice import Notice
from crawlers.parsers import ParsedNotice
from crawlers.store.db import get_engine
from crawlers.store.service import Incoming, store_notices
from watch.infer import infer_cpv, notice_codes, notice_text, train_cpv_model
from watch.matching import ProfileIndex, ProfileSpec, notice_facts, profile_matches
from watch.models import Member, Profile
from watch.routing import MIN_CONFIDENCE, route_new
from watch.text import STOPWORDS, fold, words

NOTICES = 20_000
PROFILES = 2_000
FAIR_SAMPLE = 300
PAIR_SAMPLE = 8
DATABASE_NOTICES = 4_000
COMMON_WORDS = 1_000
FOLDS = 5


def read_labels() -> dict[str, dict[str, str]]:
    """CPV code → {language: label} (fr, nl, en), from the code list the service itself ships."""
    return {
        code: {language: text for language, text in zip(LANGUAGES, row, strict=True) if text}
        for code, row in cpv_codes().items()
    }


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
    bench_database(profiles, notices[:DATABASE_NOTICES], index)


def bench_database(profiles: list[ProfileSpec], notices: list[dict[str, Any]], index: ProfileIndex) -> None:
    """The whole routing on a database (load pages, match, store matches), against matching in memory."""
    in_memory, _ = time_indexed(index, notices)
    with scratch_databases() as new:
        for kind in database_kinds():
            engine = get_engine(new(kind))
            parsed = [ParsedNotice(Notice.model_validate(data), b"", "", "bench") for data in notices]
            store_notices(engine, [Incoming(item, "bench") for item in parsed])
            with Session(engine) as session:
                for member_id in sorted({p.member_id for p in profiles}):
                    session.add(Member(id=member_id, name=f"member {member_id}"))
                session.flush()
                for spec in profiles:
                    session.add(
                        Profile(
                            id=spec.id,
                            member_id=spec.member_id,
                            name=f"profile {spec.id}",
                            cpv=list(spec.cpv),
                            keywords=list(spec.keywords),
                            exclude=list(spec.exclude),
                            regions=list(spec.regions),
                            value_min=spec.value_min,
                            value_max=spec.value_max,
                            notice_types=list(spec.notice_types),
                        )
                    )
                session.commit()
            started = time.perf_counter()
            summary = route_new(engine)
            elapsed = time.perf_counter() - started
            print(
                f"route_new on {kind}, {len(notices):,} notices: {elapsed:.1f} s, "
                f"{elapsed / in_memory:.1f}x the in-memory matching ({summary.matches:,} matches stored)"
            )
            engine.dispose()


def bench_inference(recorded: list[dict[str, Any]], labels: dict[str, dict[str, str]]) -> None:
    """Each fifth of the recorded notices with codes held out in turn, the classifier trained on the rest."""
    with_codes = [n for n in recorded if notice_codes(n)]
    folds: list[list[dict[str, Any]]] = [[] for _ in range(FOLDS)]
    for data in with_codes:  # twins (one notice in two formats) share a title: they fall in the same fifth
        folds[zlib.crc32(fold(data["title"]).encode()) % FOLDS].append(data)
    label_texts = {code: list(by_language.values()) for code, by_language in labels.items()}
    rows = []
    for held_out in range(FOLDS):
        train = [data for i, fold_ in enumerate(folds) if i != held_out for data in fold_]
        model = train_cpv_model(labels=label_texts, examples=[(notice_text(n), notice_codes(n)) for n in train])
        majority = Counter(notice_codes(n)[0][:2] for n in train).most_common(1)[0][0]
        for data in folds[held_out]:
            truth = notice_codes(data)[0]
            found = infer_cpv(notice_text(data), model=model, limit=5)
            divisions = [code[:2] for code, _ in found if code[2:] == "000000"]
            groups = [code[:3] for code, _ in found if code[2] != "0" and code[3:] == "00000"]
            rows.append(
                {
                    "top1": divisions[:1] == [truth[:2]],
                    "top3": truth[:2] in divisions[:3],
                    "group": groups[:1] == [truth[:3]],
                    "confident": bool(found) and found[0][1] >= MIN_CONFIDENCE,
                    "ours": data["languages"][0] in ("fr", "nl", "en"),
                    "majority": truth[:2] == majority,
                }
            )

    def share(key: str, among: list[dict[str, bool]]) -> float:
        return sum(row[key] for row in among) / max(1, len(among))

    ours = [row for row in rows if row["ours"]]
    confident = [row for row in rows if row["confident"]]
    baseline = share("majority", rows)
    print(
        f"CPV inference, trained on {len(labels):,} labels x FR/NL/EN and 4/5 of {len(with_codes)} recorded "
        f"notices with codes, each fifth held out in turn ({len(ours)} of them in FR/NL/EN)"
    )
    print(
        f"  division right first: {share('top1', rows):.0%} ({share('top1', ours):.0%} in FR/NL/EN), "
        f"{share('top1', rows) / baseline:.1f}x the majority baseline ({baseline:.0%}: the training part's "
        "most frequent division)"
    )
    print(f"  division among the first three: {share('top3', rows):.0%}; group right first: {share('group', rows):.0%}")
    print(
        f"  at confidence >= {MIN_CONFIDENCE} (used in matching): {share('top1', confident):.0%} right, "
        f"for {len(confident) / max(1, len(rows)):.0%} of the notices"
    )


def main() -> None:
    rng = random.Random(20260123)
    recorded = recorded_notices()
    labels = read_labels()
    bench_routing(rng, recorded, labels)
    bench_inference(recorded, labels)

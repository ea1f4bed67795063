"""Members import at scale: 5,000 firms (non-ASCII names, two users, two profiles and competences each), the
first import and a re-import of the same file with 5% of the firms changed, on SQLite and PostgreSQL. Goal: each
under 5 s. The floor printed beside it: reading and validating the same file alone (no database)."""

from __future__ import annotations

import time

import yaml

from bench.common import database_kinds, scratch_databases
from crawlers.store.db import get_engine
from watch.members import import_members, read_yaml

FIRMS = 5_000
CHANGED = FIRMS // 20
PREFIXES = ("École", "Société", "Brasserie", "Zoë", "Ørsted", "Coöperatie", "Électro", "Ãrdenne")
FORMS = ("SA", "SRL", "SPRL", "NV", "BV", "SAS", "SARL", "GmbH")


def _firm(n: int, *, changed: bool = False) -> dict[str, object]:
    cpv = ["72000000", "48000000", "45000000", "79400000", "90910000"]
    return {
        "name": f"{PREFIXES[n % len(PREFIXES)]} Numérique n°{n} {FORMS[n % len(FORMS)]}",
        "users": [
            {"email": f"direction@firme-{n}.example", "language": ("fr", "nl", "en")[n % 3]},
            {"email": f"achats@firme-{n}.example", "language": "nl" if changed else "fr"},
        ],
        "competences": {"cpv": [cpv[n % 5]], "keywords": ["développement logiciel"], "regions": ["BE3"]},
        "profiles": [
            {"name": "Services IT", "cpv": [cpv[n % 5], cpv[(n + 1) % 5]], "keywords": ["logiciel", "réseau"],
             "regions": ["BE3", "FR"], "value": {"min": 20_000, "max": 5_000_000 if not changed else 900_000},
             "frequency": "daily"},
            {"name": "Formation", "keywords": ["formation", "opleiding"], "frequency": "weekly"},
        ],
    }  # fmt: skip


def members_file(changed: int = 0) -> str:
    return yaml.safe_dump(
        {"members": [_firm(n, changed=n < changed) for n in range(FIRMS)]}, allow_unicode=True, sort_keys=False
    )


def main() -> None:
    first_text, second_text = members_file(), members_file(CHANGED)
    started = time.perf_counter()
    first, second = read_yaml(first_text), read_yaml(second_text)
    reading = (time.perf_counter() - started) / 2
    assert not first.problems and not second.problems
    print(f"{FIRMS} firms (2 users, 2 profiles each); reading and validating the file alone: {reading:5.2f} s")
    with scratch_databases() as new:
        for kind in database_kinds():
            engine = get_engine(new(kind))
            timings = []
            for label, members, expected in (
                ("first import", first, (FIRMS, 0)),
                (f"re-import, {CHANGED} changed", second, (0, CHANGED)),
                ("same file again", second, (0, 0)),
            ):
                started = time.perf_counter()
                summary = import_members(engine, members)
                seconds = time.perf_counter() - started
                assert (summary.created, summary.updated) == expected and not summary.problems, summary.describe()
                timings.append((label, seconds))
            engine.dispose()
            for label, seconds in timings:
                print(
                    f"[{kind}] {label:<24} {seconds:6.2f} s ({FIRMS / seconds:6.0f} firms/s), "
                    f"{seconds / reading:4.1f}x reading the file (goal: under 5 s)"
                )


if __name__ == "__main__":
    main()

"""Crawl speed, end to end: the replay server serving every recorded notice, repeated under fresh ids up to
10,000, crawled by the three API spiders (HTTP, parse, store, each crawl in its own process as in
production), as a ratio to `ingest_files` of the same documents written to disk, into the same kind of
database, in the same run.

Goal (issue 13): the crawl within 1.5x of the ingest from disk (issue 3 asked 2x). Politeness is off for
loopback: no delay, no AutoThrottle, 16 requests in flight, no request cap. SQLite only, to stay within the
time of a bench run (the store is the same code on PostgreSQL; `bench ingest` measures it there).

ROUNDS rounds, each ingesting then crawling every source into fresh databases; the best time of each side is
kept, and each round's ratio for all sources printed: single runs of the same code drift by a tenth or more.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench.common import FIXTURES, scratch_databases
from crawlers.crawl import CrawlReport, crawl_in_subprocess
from crawlers.ingest import ingest_files
from crawlers.replay import load_catalog, start_replay_server
from crawlers.replay.catalog import Catalog
from crawlers.store.db import get_engine

ROUNDS = 3
TARGET = 10_000
SOURCES = ("ted", "boamp", "be")
PAGE = 100


def _counts() -> dict[str, int]:
    """Each source's share of TARGET, in proportion to what is recorded."""
    catalog = load_catalog(str(FIXTURES.resolve()))
    recorded = {source: len(getattr(catalog, source)) for source in SOURCES}
    total = sum(recorded.values())
    counts = {source: TARGET * n // total for source, n in recorded.items()}
    counts["ted"] += TARGET - sum(counts.values())
    return counts


def _write(catalog: Catalog, folder: Path) -> dict[str, list[Path]]:
    """The served documents as files, per source: each notice XML, and the API pages of records."""
    paths: dict[str, list[Path]] = {source: [] for source in SOURCES}
    for index, document in enumerate(catalog.ted):
        path = folder / f"ted-{index:05d}.xml"
        path.write_bytes(document.body)
        paths["ted"].append(path)
    for source, key, total_key in (("boamp", "results", "total_count"), ("be", "publications", "totalCount")):
        records = [dict(record.data) for record in getattr(catalog, source)]
        for start in range(0, len(records), PAGE):
            path = folder / f"{source}-{start // PAGE:04d}.json"
            path.write_text(json.dumps({total_key: len(records), key: records[start : start + PAGE]}))
            paths[source].append(path)
    return paths


def _crawl(source: str, base_url: str, database_url: str) -> CrawlReport:
    env = {
        "PIB_DATABASE_URL": database_url,
        "PIB_CONFIG_FILE": "",
        "PIB_TED_API_URL": base_url,
        "PIB_BOAMP_API_URL": base_url,
        "PIB_BE_API_URL": base_url,
        "PIB_TED_COUNTRIES": "[]",
        "PIB_DOWNLOAD_DELAY": "0",
        "PIB_AUTOTHROTTLE": "false",
        "PIB_CONCURRENT_REQUESTS": "16",
        "PIB_MAX_REQUESTS_PER_RUN": "0",
        "PIB_CRAWL_WINDOW_NOTICES": "100000",
    }
    return crawl_in_subprocess(source=source, since=date(2000, 1, 1), until=date(2026, 6, 30), env=env, timeout=600)


def _ingest_then_crawl(
    source: str, files: list[Path], base_url: str, new_database: Callable[[str], str]
) -> tuple[float, float, CrawlReport, int]:
    """The ingest of a source's files and its crawl, each into a fresh database: both times, the crawl's
    report and how many notices the ingest stored."""
    ingest_url, crawl_url = new_database("sqlite"), new_database("sqlite")
    started = time.perf_counter()
    ingested = ingest_files(get_engine(ingest_url), files)
    ingest_seconds = time.perf_counter() - started
    started = time.perf_counter()
    report = _crawl(source, base_url, crawl_url)
    crawl_seconds = time.perf_counter() - started
    get_engine(ingest_url).dispose()
    get_engine(crawl_url).dispose()
    return ingest_seconds, crawl_seconds, report, ingested.stored


def _row(label: str, notices: int, ingest: float, crawl: float, requests: int) -> None:
    print(
        f"{label:<7} {notices:>8,} {ingest:>9.1f} {notices / ingest:>10,.0f} {crawl:>8.1f} {notices / crawl:>10,.0f} "
        f"{requests:>9,} {crawl / ingest:>5.2f}x"
    )


def main() -> None:
    counts = _counts()
    print(f"{TARGET:,} notices served: " + ", ".join(f"{source} {n:,}" for source, n in counts.items()))
    with (
        start_replay_server(FIXTURES, scale=counts) as server,
        scratch_databases() as new_database,
        tempfile.TemporaryDirectory() as folder,
    ):
        files = _write(server.catalog, Path(folder))
        size = sum(path.stat().st_size for paths in files.values() for path in paths) / 1e6
        print(f"{sum(map(len, files.values())):,} files, {size:,.0f} MB on disk for the ingest baseline (SQLite)")
        best: dict[str, list[float]] = {source: [float("inf"), float("inf")] for source in SOURCES}
        reports: dict[str, CrawlReport] = {}
        ingested: dict[str, int] = {}
        for round_ in range(1, ROUNDS + 1):
            times = {
                source: _ingest_then_crawl(source, files[source], server.base_url, new_database) for source in SOURCES
            }
            for source, (ingest_seconds, crawl_seconds, report, stored) in times.items():
                best[source][0] = min(best[source][0], ingest_seconds)
                best[source][1] = min(best[source][1], crawl_seconds)
                reports[source], ingested[source] = report, stored
            ingest_all = sum(ingest for ingest, _, _, _ in times.values())
            crawl_all = sum(crawl for _, crawl, _, _ in times.values())
            print(
                f"  round {round_}: all sources {crawl_all / ingest_all:.2f}x ({crawl_all:.1f} s / {ingest_all:.1f} s)"
            )
        print(
            f"{'source':<7} {'notices':>8} {'ingest s':>9} {'notices/s':>10} {'crawl s':>8} {'notices/s':>10} "
            f"{'requests':>9} {'ratio':>6}"
        )
        for source in SOURCES:
            report = reports[source]
            if report.stored != ingested[source] or not report.ok:
                print(f"  ! {source}: crawl {report.status}, {report.stored:,} stored; ingest {ingested[source]:,}")
            _row(source, report.stored, best[source][0], best[source][1], report.requests)
        _row(
            "all",
            sum(report.stored for report in reports.values()),
            sum(ingest for ingest, _ in best.values()),
            sum(crawl for _, crawl in best.values()),
            sum(report.requests for report in reports.values()),
        )
    print(
        f"ratio = crawl time / ingest time of the same notices, best of {ROUNDS} rounds each, end to end (the"
        " crawl's process start, HTTP on loopback, parse, store); goal <= 1.5x"
    )


if __name__ == "__main__":
    main()

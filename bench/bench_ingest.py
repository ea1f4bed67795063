"""Ingest speed: 10,000 notices (the recorded ones repeated with fresh ids) into SQLite and PostgreSQL,
as a ratio to a plain `executemany` insert of the same rows into the same tables.

Goal (issue 13): ingest within 2x of plain inserts. The ingest does all the store's work (hashing, raw
documents kept compressed, lookups of known notices and versions, lots, the search index); the baseline only
inserts the rows it would have written, with ids given in advance and the search index's words folded in advance:
raw documents, notices, lots and `notice_search` (whose FTS5 triggers or tsvector column index them). The ratio
to the floor without `notice_search` (the floor before the store wrote the search index) is printed too.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import sqlalchemy as sa

from bench.common import FIXTURES, database_kinds, scratch_databases
from crawlers.ingest import iter_files, parse_file
from crawlers.parsers import ParsedNotice
from crawlers.store.db import get_engine
from crawlers.store.models import utcnow
from crawlers.store.search import document, search_table
from crawlers.store.service import (
    Incoming,
    _lot_rows,
    _notice_columns,
    compress,
    content_hash,
    lot_table,
    notice_table,
    raw_table,
    store_notices,
)

TARGET = 10_000


def _items() -> list[Incoming]:
    recorded = [(parsed, str(path)) for path in iter_files([FIXTURES]) for parsed in parse_file(path).outcome.notices]
    items = []
    for n in range(TARGET):
        parsed, origin = recorded[n % len(recorded)]
        copy = parsed.notice.model_copy(update={"source_id": f"{parsed.notice.source_id}-r{n}"})
        raw = parsed.raw + f"<!-- copy {n} -->".encode()  # a distinct raw document per notice, as in a crawl
        items.append(Incoming(ParsedNotice(copy, raw, parsed.record, parsed.format), origin))
    return items


def _plain_rows(items: list[Incoming]) -> tuple[list[dict[str, Any]], ...]:
    raws, notices, lots, search = [], [], [], []
    now = utcnow()
    for row_id, item in enumerate(items, start=1):
        raws.append(
            {
                "id": row_id,
                "sha256": hashlib.sha256(item.parsed.raw).hexdigest(),
                "format": item.parsed.format,
                "origin": item.origin,
                "size": len(item.parsed.raw),
                "content": compress(item.parsed.raw),
                "received_at": now,
            }
        )
        data = item.parsed.notice.to_json_dict()
        digest = content_hash(data)
        notices.append(
            _notice_columns(item.parsed.notice, data, digest)
            | {"id": row_id, "raw_document_id": row_id, "version": 1, "first_seen": now, "updated_at": now}
        )
        lots.extend(_lot_rows(row_id, item.parsed.notice))
        search.append({"notice_id": row_id, "content_hash": digest, **document(data)})
    return raws, notices, lots, search


def _plain_insert(url: str, written: list[tuple[sa.Table, list[dict[str, Any]]]]) -> float:
    """Seconds to insert these rows by plain `executemany` in one transaction (the floor)."""
    engine = get_engine(url)
    started = time.perf_counter()
    with engine.begin() as connection:
        for table, rows in written:
            for start in range(0, len(rows), 500):
                connection.execute(table.insert(), rows[start : start + 500])
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


ROUNDS = 3
"""The floors and the ingest are timed in turn this many times on fresh databases, and the best of each kept (a
ratio of two single runs drifts with whatever else the machine does)."""


def main() -> None:
    items = _items()
    raws, notices, lots, search = _plain_rows(items)
    print(f"{len(items):,} notices, {len(lots):,} lots, {sum(r['size'] for r in raws) / 1e6:.0f} MB of raw documents")
    print(f"best of {ROUNDS} rounds")
    with scratch_databases() as new_database:
        for kind in database_kinds():
            written = [(raw_table, raws), (notice_table, notices), (lot_table, lots)]
            floors, bare_floors, ingests, repeats = [], [], [], []
            for _ in range(ROUNDS):
                bare_floors.append(_plain_insert(new_database(kind), written))
                floors.append(_plain_insert(new_database(kind), [*written, (search_table, search)]))
                engine = get_engine(new_database(kind))
                started = time.perf_counter()
                summary = store_notices(engine, items)
                ingests.append(time.perf_counter() - started)
                assert summary.stored == len(items), summary.describe()
                started = time.perf_counter()
                again = store_notices(engine, items)
                repeats.append(time.perf_counter() - started)
                assert again.unchanged == len(items), again.describe()
                engine.dispose()
            ours, baseline = min(ingests), min(floors)
            each = ", ".join(f"{ingest / floor:.2f}x" for ingest, floor in zip(ingests, floors, strict=True))
            figures = (
                f"ingest {len(items) / ours:>7,.0f} notices/s",
                f"plain executemany {len(items) / baseline:>7,.0f} rows/s",
                f"ratio {ours / baseline:.2f}x (goal <= 2x; each round: {each};"
                f" {ours / min(bare_floors):.2f}x without the search rows)",
                f"re-ingest (all unchanged) {len(items) / min(repeats):,.0f} notices/s",
            )
            print(f"{kind:<10} " + ";   ".join(figures))


if __name__ == "__main__":
    main()

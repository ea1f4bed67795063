"""Ingest speed: 10,000 notices (the recorded ones repeated with fresh ids) into SQLite and PostgreSQL,
as a ratio to a plain `executemany` insert of the same rows into the same tables.

Goal (issue 2): ingest within 3x of plain inserts. The ingest does all the store's work (hashing, raw
documents kept compressed, lookups of known notices and versions, lots); the baseline only inserts the
rows it would have written, with ids given in advance.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from bench.common import FIXTURES, database_kinds, scratch_databases
from crawlers.ingest import iter_files, parse_file
from crawlers.parsers import ParsedNotice
from crawlers.store.db import get_engine
from crawlers.store.models import utcnow
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
    raws, notices, lots = [], [], []
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
        notices.append(
            _notice_columns(item.parsed.notice, data, content_hash(data))
            | {"id": row_id, "raw_document_id": row_id, "version": 1, "first_seen": now, "updated_at": now}
        )
        lots.extend(_lot_rows(row_id, item.parsed.notice))
    return raws, notices, lots


def main() -> None:
    items = _items()
    raws, notices, lots = _plain_rows(items)
    print(f"{len(items):,} notices, {len(lots):,} lots, {sum(r['size'] for r in raws) / 1e6:.0f} MB of raw documents")
    with scratch_databases() as new_database:
        for kind in database_kinds():
            plain = get_engine(new_database(kind))
            started = time.perf_counter()
            with plain.begin() as connection:
                for table, rows in ((raw_table, raws), (notice_table, notices), (lot_table, lots)):
                    for start in range(0, len(rows), 500):
                        connection.execute(table.insert(), rows[start : start + 500])
            baseline = time.perf_counter() - started

            engine = get_engine(new_database(kind))
            started = time.perf_counter()
            summary = store_notices(engine, items)
            ours = time.perf_counter() - started
            assert summary.stored == len(items), summary.describe()
            started = time.perf_counter()
            again = store_notices(engine, items)
            repeat = time.perf_counter() - started
            assert again.unchanged == len(items), again.describe()
            figures = (
                f"ingest {len(items) / ours:>7,.0f} notices/s",
                f"plain executemany {len(items) / baseline:>7,.0f} rows/s",
                f"ratio {ours / baseline:.2f}x (goal <= 3x)",
                f"re-ingest (all unchanged) {len(items) / repeat:,.0f} notices/s",
            )
            print(f"{kind:<10} " + ";   ".join(figures))
            engine.dispose()
            plain.dispose()


if __name__ == "__main__":
    main()

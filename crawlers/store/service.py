"""Storing parsed notices: batched upsert on `(source, source_id)`, versions kept, failures set aside.

Same content twice changes nothing. Different content for a known notice replaces it when it is at least
as recent, and the replaced content is kept as a version; an older version that arrives late is kept as a
version without touching the current one. Work is done in batches (one query per table per batch), so a
crawl or a backfill of thousands of notices costs a few statements per hundred notices, not per notice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
import zstandard
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ..notice import Notice
from ..parsers import ParsedNotice
from ..parsers.fields import buyer_zone
from .db import among, insert_returning, insert_rows
from .models import LotRecord, NoticeRecord, NoticeVersion, ParseErrorRecord, RawDocument, utcnow
from .search import write_index

BATCH_SIZE = 500
_COMPRESSOR = zstandard.ZstdCompressor(level=1)
_DECOMPRESSOR = zstandard.ZstdDecompressor()


def compress(raw: bytes) -> bytes:
    """Raw documents are kept compressed with zstd: ~6x smaller, and fast enough not to slow ingest."""
    return _COMPRESSOR.compress(raw)


def decompress(content: bytes) -> bytes:
    return _DECOMPRESSOR.decompress(content)


notice_table: sa.Table = NoticeRecord.__table__  # type: ignore[attr-defined]
lot_table: sa.Table = LotRecord.__table__  # type: ignore[attr-defined]
version_table: sa.Table = NoticeVersion.__table__  # type: ignore[attr-defined]
raw_table: sa.Table = RawDocument.__table__  # type: ignore[attr-defined]
error_table: sa.Table = ParseErrorRecord.__table__  # type: ignore[attr-defined]


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction; on SQLite it takes the write lock at once, so that what it reads is still true when
    it writes (a deferred transaction would read, then find another process's rows at its first insert)."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield connection


def insert_new(connection: Connection, table: sa.Table, *key: str) -> Any:
    """`INSERT ... ON CONFLICT (key) DO NOTHING`: rows another process stored first are skipped, not an error."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(key))


@dataclass(frozen=True)
class Incoming:
    """A parsed notice on its way into the store, with where it came from."""

    parsed: ParsedNotice
    origin: str


@dataclass(frozen=True)
class Failure:
    origin: str
    record: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.origin} [{self.record}]" if self.record else self.origin
        return f"{where}: {self.reason}"


@dataclass
class StoreSummary:
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def add(self, other: StoreSummary) -> None:
        self.stored += other.stored
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.older += other.older
        self.failures.extend(other.failures)

    def describe(self) -> str:
        text = f"{self.stored} stored, {self.updated} updated, {self.unchanged} unchanged"
        if self.older:
            text += f", {self.older} older versions kept"
        return text + f", {self.failed} failed"


def content_hash(data: dict[str, Any]) -> str:
    """The notice's fingerprint; an empty `awards` (a newer §2 field) is left out, so a notice stored before the
    field existed is not seen as changed when it is crawled again."""
    if "awards" in data and not data["awards"]:
        data = {key: value for key, value in data.items() if key != "awards"}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def deadline_utc(notice: Notice) -> datetime | None:
    """The deadline as a UTC instant; a date alone means the end of that day where the buyer is."""
    if notice.deadline is None:
        return None
    moment = datetime.fromisoformat(notice.deadline)
    if len(notice.deadline) == 10:
        moment = datetime.combine(moment.date(), time(23, 59, 59))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=buyer_zone(notice.buyer.country) or UTC)
    return moment.astimezone(UTC)


def _notice_columns(notice: Notice, data: dict[str, Any], digest: str) -> dict[str, Any]:
    return {
        "source": notice.source,
        "source_id": notice.source_id,
        "notice_type": notice.notice_type,
        "title": notice.title,
        "buyer_name": notice.buyer.name,
        "buyer_country": notice.buyer.country,
        "cpv_main": notice.cpv_main,
        "published": notice.published,
        "deadline": notice.deadline,
        "deadline_utc": deadline_utc(notice),
        "estimated_value": notice.estimated_value,
        "currency": notice.currency,
        "data": data,
        "content_hash": digest,
    }


def _lot_rows(notice_id: int, notice: Notice) -> list[dict[str, Any]]:
    return [
        {
            "notice_id": notice_id,
            "lot_id": lot.id,
            "position": position,
            "title": lot.title,
            "cpv_main": lot.cpv_main,
            "cpv_additional": lot.cpv_additional,
            "nuts": lot.nuts,
            "estimated_value": lot.estimated_value,
        }
        for position, lot in enumerate(notice.lots)
    ]


def _store_raw(connection: Connection, documents: dict[str, tuple[bytes, str, str]]) -> dict[str, int]:
    """Raw documents by sha256 → row id, inserting the ones not yet kept."""
    if not documents:
        return {}
    ids: dict[str, int] = {}
    for chunk in _chunks(list(documents), 900):
        rows = connection.execute(
            sa.select(raw_table.c.sha256, raw_table.c.id).where(among(connection, raw_table.c.sha256, chunk))
        )
        ids.update({sha: row_id for sha, row_id in rows})
    missing = [
        {
            "sha256": sha,
            "format": fmt,
            "origin": origin[:1000],
            "size": len(raw),
            "content": compress(raw),
            "received_at": utcnow(),
        }
        for sha, (raw, fmt, origin) in sorted(documents.items())  # one order for all processes: no deadlock
        if sha not in ids
    ]
    statement = insert_new(connection, raw_table, "sha256").returning(raw_table.c.sha256, raw_table.c.id)
    ids.update(dict(insert_returning(connection, statement, missing)))
    # The ones another process kept between our look-up and our insert.
    ids.update(_ids_by(connection, raw_table.c.sha256, [row["sha256"] for row in missing if row["sha256"] not in ids]))
    return ids


def _ids_by(connection: Connection, column: sa.Column[Any], values: Sequence[Any]) -> dict[Any, int]:
    table = column.table
    found: dict[Any, int] = {}
    for chunk in _chunks(values, 900):
        found.update(
            dict(connection.execute(sa.select(column, table.c.id).where(among(connection, column, chunk))).all())
        )
    return found


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


Prepared = tuple[Notice, dict[str, Any], str, str]
"""A notice with its §2 JSON, its content hash and the sha256 of its raw document."""
Written = tuple[int, str, dict[str, Any]]
"""A notice row the batch inserted or replaced: its id, content hash and §2 JSON (indexed for search)."""


def _current(connection: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored rows of these notices, locked until the batch commits (PostgreSQL; SQLite holds the write lock)."""
    current: dict[tuple[str, str], dict[str, Any]] = {}
    for condition in _key_conditions(connection, keys):
        rows = connection.execute(
            sa.select(
                notice_table.c.id,
                notice_table.c.source,
                notice_table.c.source_id,
                notice_table.c.content_hash,
                notice_table.c.version,
                notice_table.c.published,
                notice_table.c.data,
                notice_table.c.raw_document_id,
            )
            .where(condition)
            .order_by(notice_table.c.id)  # one locking order for all processes: no deadlock
            .with_for_update()
        )
        current.update(((row["source"], row["source_id"]), dict(row)) for row in rows.mappings())
    return current


def _key_conditions(connection: Connection, keys: set[tuple[str, str]]) -> Iterator[sa.ColumnElement[bool]]:
    """Conditions that select these notices through the unique index on (source, source_id), a chunk at a time.

    On SQLite `source = ? AND source_id IN (...)`. On PostgreSQL the ids are found first, one index look-up per
    key, forced (`LATERAL ... LIMIT 1`), then the rows are locked by id in one order: given `source_id IN (...)`,
    or a join, its planner reads every notice of the source whenever its statistics are older than the notices
    (autovacuum off, or behind a fast ingest), and each batch is slower as the store grows.
    """
    by_source: dict[str, list[str]] = {}
    for source, source_id in sorted(keys):
        by_source.setdefault(source, []).append(source_id)
    if connection.dialect.name != "postgresql":
        for source, source_ids in by_source.items():
            for chunk in _chunks(source_ids, 900):
                yield sa.and_(notice_table.c.source == source, notice_table.c.source_id.in_(chunk))
        return
    ids: list[int] = []
    for source, source_ids in by_source.items():
        wanted = (
            sa.func.unnest(sa.bindparam("source_ids", source_ids, type_=postgresql.ARRAY(sa.String)))
            .table_valued("source_id")
            .render_derived()
        )
        one = (
            sa.select(notice_table.c.id)
            .where(notice_table.c.source == source, notice_table.c.source_id == wanted.c.source_id)
            .limit(1)
            .lateral()
        )
        ids += connection.execute(sa.select(one.c.id).select_from(wanted).join(one, sa.true())).scalars()
    for chunk in _chunks(sorted(ids), 900):
        yield among(connection, notice_table.c.id, chunk)


def _versions(connection: Connection, notice_ids: Sequence[int]) -> set[tuple[int, str]]:
    known: set[tuple[int, str]] = set()
    for chunk in _chunks(notice_ids, 900):
        versions = connection.execute(
            sa.select(version_table.c.notice_id, version_table.c.content_hash).where(
                among(connection, version_table.c.notice_id, chunk)
            )
        )
        known.update((notice_id, digest) for notice_id, digest in versions)
    return known


def _store_batch(connection: Connection, batch: Sequence[Incoming]) -> StoreSummary:
    summary = StoreSummary()
    raw_docs: dict[str, tuple[bytes, str, str]] = {}
    prepared: list[Prepared] = []
    for item in batch:
        raw_sha = hashlib.sha256(item.parsed.raw).hexdigest()
        raw_docs.setdefault(raw_sha, (item.parsed.raw, item.parsed.format, item.origin))
        data = item.parsed.notice.to_json_dict()
        prepared.append((item.parsed.notice, data, content_hash(data), raw_sha))
    raw_ids = _store_raw(connection, raw_docs)
    written: list[Written] = []
    unknown = _update_known(connection, prepared, raw_ids, summary, written)
    inserted = _insert_new(connection, unknown, raw_ids, written)
    summary.stored += len(inserted)
    # Notices another process stored between our look-up and our insert: compare with what it stored.
    late = [p for p in unknown if (p[0].source, p[0].source_id) not in inserted]
    _update_known(connection, late, raw_ids, summary, written)
    write_index(connection, written)  # search kept in step, from the data in hand
    return summary


def _update_known(
    connection: Connection,
    prepared: Sequence[Prepared],
    raw_ids: dict[str, int],
    summary: StoreSummary,
    written: list[Written],
) -> list[Prepared]:
    """Compare each notice with its stored row (unchanged, newer, older version); the ones not stored yet."""
    if not prepared:
        return []
    current = _current(connection, {(notice.source, notice.source_id) for notice, *_ in prepared})
    known_versions = _versions(connection, [row["id"] for row in current.values()])
    unknown = []
    for notice, data, digest, raw_sha in prepared:
        existing = current.get((notice.source, notice.source_id))
        if existing is None:
            unknown.append((notice, data, digest, raw_sha))
        elif existing["content_hash"] == digest or (existing["id"], digest) in known_versions:
            summary.unchanged += 1
        elif notice.published >= existing["published"]:
            _replace(connection, existing, notice, data, digest, raw_ids[raw_sha])
            written.append((existing["id"], digest, data))
            known_versions.add((existing["id"], existing["content_hash"]))
            existing.update(content_hash=digest, version=existing["version"] + 1, published=notice.published)
            summary.updated += 1
        else:
            connection.execute(
                insert_new(connection, version_table, "notice_id", "content_hash"),
                {
                    "notice_id": existing["id"],
                    "version": 0,
                    "content_hash": digest,
                    "data": data,
                    "raw_document_id": raw_ids[raw_sha],
                    "recorded_at": utcnow(),
                },
            )
            known_versions.add((existing["id"], digest))
            summary.older += 1
    return unknown


def _insert_new(
    connection: Connection, prepared: Sequence[Prepared], raw_ids: dict[str, int], written: list[Written]
) -> set[tuple[str, str]]:
    """Insert notices not stored yet, with their lots; the keys of the ones this batch inserted."""
    if not prepared:
        return set()
    now = utcnow()
    rows = [
        _notice_columns(notice, data, digest)
        | {"raw_document_id": raw_ids[raw_sha], "first_seen": now, "updated_at": now, "version": 1}
        for notice, data, digest, raw_sha in sorted(prepared, key=lambda p: (p[0].source, p[0].source_id))
    ]
    statement = insert_new(connection, notice_table, "source", "source_id").returning(
        notice_table.c.source, notice_table.c.source_id, notice_table.c.id
    )
    ids = {(source, source_id): row_id for source, source_id, row_id in insert_returning(connection, statement, rows)}
    lot_rows = []
    for notice, data, digest, _ in prepared:
        if (notice.source, notice.source_id) in ids:
            lot_rows.extend(_lot_rows(ids[(notice.source, notice.source_id)], notice))
            written.append((ids[(notice.source, notice.source_id)], digest, data))
    insert_rows(connection, lot_table, lot_rows)
    return set(ids)


def _replace(
    connection: Connection,
    existing: dict[str, Any],
    notice: Notice,
    data: dict[str, Any],
    digest: str,
    raw_id: int,
) -> None:
    connection.execute(
        insert_new(connection, version_table, "notice_id", "content_hash"),
        {
            "notice_id": existing["id"],
            "version": existing["version"],
            "content_hash": existing["content_hash"],
            "data": existing["data"],
            "raw_document_id": existing["raw_document_id"],
            "recorded_at": utcnow(),
        },
    )
    connection.execute(
        notice_table.update()
        .where(notice_table.c.id == existing["id"])
        .values(
            **_notice_columns(notice, data, digest),
            version=existing["version"] + 1,
            raw_document_id=raw_id,
            updated_at=utcnow(),
        )
    )
    connection.execute(lot_table.delete().where(lot_table.c.notice_id == existing["id"]))
    insert_rows(connection, lot_table, _lot_rows(existing["id"], notice))
    existing["data"] = data
    existing["raw_document_id"] = raw_id


def store_notices(engine: Engine, items: Iterable[Incoming], *, batch_size: int = BATCH_SIZE) -> StoreSummary:
    """Upsert parsed notices in batches, each batch in its own transaction."""
    summary = StoreSummary()
    batch: list[Incoming] = []
    keys: set[tuple[str, str]] = set()
    for item in items:
        key = (item.parsed.notice.source, item.parsed.notice.source_id)
        if len(batch) >= batch_size or key in keys:
            # A batch holds each notice once, so a second version of it is compared with the first.
            with writing(engine) as connection:
                summary.add(_store_batch(connection, batch))
            batch, keys = [], set()
        batch.append(item)
        keys.add(key)
    if batch:
        with writing(engine) as connection:
            summary.add(_store_batch(connection, batch))
    return summary


def _printable(text: str) -> str:
    """PostgreSQL text cannot hold NUL: a record id or reason quoting a bad document shows it escaped."""
    return text.replace("\x00", "\\x00")


def failure_fingerprint(origin: str, record: str, reason: str, raw_document_id: int | None) -> str:
    """What makes two failures the same one (`parse_error.fingerprint`, unique)."""
    return hashlib.sha256(json.dumps([origin, record, reason, raw_document_id]).encode()).hexdigest()


def record_failures(engine: Engine, failures: Sequence[Failure], raw: dict[str, bytes] | None = None) -> None:
    """Set failed files and records aside with where and why; the raw file is kept when it was read.

    The same failure seen again (same place, record, reason and content) is not recorded twice, so a
    re-ingest or a re-crawl does not bury new errors under old ones, even when two processes see it at once.
    """
    if not failures:
        return
    raw = raw or {}
    with writing(engine) as connection:
        documents = {
            hashlib.sha256(content).hexdigest(): (content, "unparsed", origin) for origin, content in raw.items()
        }
        raw_ids = _store_raw(connection, documents)
        by_origin = {origin: raw_ids[hashlib.sha256(content).hexdigest()] for origin, content in raw.items()}
        rows: dict[str, dict[str, Any]] = {}
        for failure in failures:
            origin, record = _printable(failure.origin)[:1000], _printable(failure.record)[:200]
            reason, raw_id = _printable(failure.reason), by_origin.get(failure.origin)
            fingerprint = failure_fingerprint(origin, record, reason, raw_id)
            rows.setdefault(
                fingerprint,
                {
                    "origin": origin,
                    "record": record,
                    "reason": reason,
                    "raw_document_id": raw_id,
                    "fingerprint": fingerprint,
                    "created_at": utcnow(),
                },
            )
        connection.execute(insert_new(connection, error_table, "fingerprint"), [rows[key] for key in sorted(rows)])


def export_notices(
    engine: Engine, *, source: str | None = None, since: date | None = None, batch_size: int = 1000
) -> Iterator[dict[str, Any]]:
    """Stored notices as §2 JSON objects, oldest publication first, streamed in pages."""
    query = sa.select(notice_table.c.id, notice_table.c.data).order_by(notice_table.c.published, notice_table.c.id)
    if source:
        query = query.where(notice_table.c.source == source)
    if since:
        query = query.where(notice_table.c.published >= since)
    last_id = None
    last_published: date | None = None
    while True:
        page = query
        if last_id is not None and last_published is not None:
            page = page.where(
                sa.or_(
                    notice_table.c.published > last_published,
                    sa.and_(notice_table.c.published == last_published, notice_table.c.id > last_id),
                )
            )
        with engine.connect() as connection:
            rows = connection.execute(page.add_columns(notice_table.c.published).limit(batch_size)).all()
        if not rows:
            return
        for row in rows:
            yield row.data
        last_id, last_published = rows[-1].id, rows[-1].published

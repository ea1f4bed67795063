"""Files and records set aside by the parsers, as staff see them, and "parse again" after a parser fix.

The store keeps the raw file of every failure it could read (`raw_document`, compressed), so a fixed parser
can be run over it without a re-crawl: `parse_again` parses the stored file, stores what now parses (as
`pib ingest` would: storing twice changes nothing) and clears the errors of that file whose record now
parses. A record that still fails keeps its line; one failing for a new reason gets a new line with it.
The scheduled `link` and `match` jobs then link and route the notices it stored, as after a crawl.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..parsers import parse_bytes
from .service import (
    Failure,
    Incoming,
    decompress,
    error_table,
    failure_fingerprint,
    raw_table,
    record_failures,
    store_notices,
    writing,
)


@dataclass(frozen=True)
class SetAside:
    """A file or record set aside: where, which record, why, when, and whether its file was kept."""

    id: int
    origin: str
    record: str
    reason: str
    created_at: datetime
    can_parse_again: bool


def set_aside(engine: Engine, *, limit: int = 50) -> tuple[list[SetAside], int]:
    """The newest failures (as `pib errors` lists them), and how many there are in all."""
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(error_table)).scalar_one()
        rows = connection.execute(
            sa.select(
                error_table.c.id,
                error_table.c.origin,
                error_table.c.record,
                error_table.c.reason,
                error_table.c.created_at,
                error_table.c.raw_document_id.is_not(None),
            )
            .order_by(error_table.c.id.desc())
            .limit(limit)
        ).all()
    items = [
        SetAside(row[0], row[1], row[2], row[3], row[4] if row[4].tzinfo else row[4].replace(tzinfo=UTC), row[5])
        for row in rows
    ]
    return items, total


@dataclass
class ParsedAgain:
    origin: str
    stored: int = 0
    updated: int = 0
    cleared: int = 0
    """Errors of the file that no longer occur, removed."""
    still_failing: list[str] = field(default_factory=list)
    """`record: reason` of the failures the file still has."""

    @property
    def fixed(self) -> bool:
        return not self.still_failing


def _fingerprint(failure: Failure, raw_id: int) -> str:
    """The fingerprint `record_failures` gives a failure (NUL shown escaped, cut to the columns' sizes)."""
    origin, record, reason = (
        text.replace("\x00", "\\x00") for text in (failure.origin, failure.record, failure.reason)
    )
    return failure_fingerprint(origin[:1000], record[:200], reason, raw_id)


class CannotParseAgain(Exception):
    """The error is gone, or its file was never kept (too large, unreadable): say which, to the person."""


def parse_again(engine: Engine, *, error_id: int) -> ParsedAgain:
    """Parse the stored file of a set-aside error again; store what parses, clear what no longer fails."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(error_table.c.origin, error_table.c.raw_document_id, raw_table.c.content)
            .select_from(error_table.outerjoin(raw_table, raw_table.c.id == error_table.c.raw_document_id))
            .where(error_table.c.id == error_id)
        ).first()
    if row is None:
        raise CannotParseAgain(f"error #{error_id} is no longer set aside (parsed again or cleared meanwhile)")
    origin, raw_id, content = row
    if raw_id is None or content is None:
        raise CannotParseAgain(f"error #{error_id} ({origin}): the file was not kept (too large or unreadable)")
    data = decompress(content)
    outcome = parse_bytes(data)
    result = ParsedAgain(origin)
    summary = store_notices(engine, [Incoming(parsed, origin) for parsed in outcome.notices])
    result.stored, result.updated = summary.stored, summary.updated
    failures = [Failure(origin, failure.record, failure.reason) for failure in outcome.failures]
    record_failures(engine, failures, {origin: data} if failures else None)
    still = {_fingerprint(failure, raw_id) for failure in failures}
    with writing(engine) as connection:
        gone = connection.execute(
            sa.delete(error_table).where(
                error_table.c.raw_document_id == raw_id,
                error_table.c.origin == origin,
                error_table.c.fingerprint.not_in(still) if still else sa.true(),
            )
        )
        result.cleared = gone.rowcount or 0
    result.still_failing = [f"{f.record}: {f.reason}" if f.record else f.reason for f in failures]
    return result

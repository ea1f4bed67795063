"""Files into notices: reading with a size bound, parsing, and storing in batches.

Shared by `pib parse`, `pib ingest` and the benchmark, so that a file is read and judged the same way
everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from .parsers import ParseOutcome, RecordFailure, parse_bytes
from .parsers.xml import MAX_DOCUMENT_BYTES
from .store.service import Failure, Incoming, StoreSummary, record_failures, store_notices

NOTICE_SUFFIXES = {".xml", ".json"}


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the notice files (`.xml`, `.json`) under the folders named, in sorted order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in NOTICE_SUFFIXES)
        else:
            yield path


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    outcome: ParseOutcome
    content: bytes | None
    """The bytes read, kept only when something in them failed (to set the file aside)."""


def parse_file(path: Path) -> FileOutcome:
    """Parse one file; a missing, unreadable or oversized file is one failure, never an exception."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            reason = f"file too large: {size:,} bytes (limit {MAX_DOCUMENT_BYTES:,}); not read"
            return FileOutcome(path, ParseOutcome(failures=[RecordFailure("", reason)]), None)
        content = path.read_bytes()
    except OSError as error:
        reason = f"cannot read: {error.strerror or error}"
        return FileOutcome(path, ParseOutcome(failures=[RecordFailure("", reason)]), None)
    outcome = parse_bytes(content)
    return FileOutcome(path, outcome, content if outcome.failures else None)


def ingest_files(
    engine: Engine, paths: Iterable[Path], *, on_file: Callable[[Path], None] | None = None
) -> StoreSummary:
    """Parse and store every file; failures are set aside in the store and listed in the summary."""
    summary = StoreSummary()
    failures: list[Failure] = []
    failed_content: dict[str, bytes] = {}

    def incoming() -> Iterator[Incoming]:
        for path in iter_files(paths):
            result = parse_file(path)
            origin = str(path)
            for failure in result.outcome.failures:
                failures.append(Failure(origin, failure.record, failure.reason))
            if result.content is not None:
                failed_content[origin] = result.content
            for parsed in result.outcome.notices:
                yield Incoming(parsed, origin)
            if on_file is not None:
                on_file(path)
            if len(failures) >= 200 or sum(map(len, failed_content.values())) > MAX_DOCUMENT_BYTES * 3:
                _flush_failures()

    def _flush_failures() -> None:
        record_failures(engine, failures, failed_content)
        summary.failures.extend(failures)
        failures.clear()
        failed_content.clear()

    summary.add(store_notices(engine, incoming()))
    _flush_failures()
    return summary

"""Parsed notices and set-aside records held until a batch is full, then stored, with a tally of what happened.

Parsing already normalized and validated each notice (crawlers.parsers); the store deduplicates on
`(source, source_id)` and upserts with versions. Batches make a crawl cost a few statements per `BATCH`
notices. The same batches serve the crawl's own process (feeds) and its parsing process (`worker.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..store.service import Failure, Incoming, error_table, notice_table, record_failures, store_notices
from .context import CrawlContext
from .items import FailureItem, NoticeItem

BATCH = 200

logger = logging.getLogger(__name__)


@dataclass
class Tally:
    """What stored batches did, added to the run's counters by the crawl's process."""

    fetched: int = 0
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    failed: int = 0
    warnings: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    """The store's refusals: each ends the run as failed rather than losing notices."""

    def add_to(self, context: CrawlContext) -> None:
        context.fetched += self.fetched
        context.stored += self.stored
        context.updated += self.updated
        context.unchanged += self.unchanged
        context.older += self.older
        context.failed += self.failed
        for warning in self.warnings:
            context.warn(warning)
        for refusal in self.refusals:
            context.store_failed = True
            context.error(refusal)


class Batches:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.notices: list[NoticeItem] = []
        self.failures: list[FailureItem] = []
        self.tally = Tally()

    @property
    def full(self) -> bool:
        return len(self.notices) >= BATCH or len(self.failures) >= BATCH

    def add(self, item: NoticeItem | FailureItem) -> None:
        if isinstance(item, NoticeItem):
            self.notices.append(item)
        else:
            self.failures.append(item)

    def store(self) -> Tally:
        """Store what is held; return the tally since the last call."""
        notices, failures = self.notices, self.failures
        self.notices, self.failures = [], []
        tally, self.tally = self.tally, Tally()
        try:
            if notices:
                summary = store_notices(self.engine, _with_first_dates(self.engine, notices))
                tally.stored += summary.stored
                tally.updated += summary.updated
                tally.unchanged += summary.unchanged
                tally.older += summary.older
            if failures:
                tally.failed += len(failures)
                _set_aside(self.engine, failures)
        except sa.exc.SQLAlchemyError as error:
            tally.refusals.append(f"the store refused {len(notices)} notices: {type(error).__name__}: {error}"[:500])
            logger.error("store failed error=%s", error)
        return tally


def _with_first_dates(engine: Engine, items: list[NoticeItem]) -> list[Incoming]:
    """Incoming notices; an undated entry already stored keeps the publication date it was stored with."""
    undated = {(i.parsed.notice.source, i.parsed.notice.source_id) for i in items if i.keep_first_date}
    stored: dict[tuple[str, str], Any] = {}
    if undated:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(notice_table.c.source, notice_table.c.source_id, notice_table.c.published).where(
                    notice_table.c.source.in_({source for source, _ in undated}),
                    notice_table.c.source_id.in_({source_id for _, source_id in undated}),
                )
            )
            stored = {(source, source_id): published for source, source_id, published in rows}
    incoming = []
    for item in items:
        parsed = item.parsed
        key = (parsed.notice.source, parsed.notice.source_id)
        if item.keep_first_date and key in stored and stored[key] != parsed.notice.published:
            notice = parsed.notice.model_copy(update={"published": stored[key]})
            parsed = type(parsed)(notice, parsed.raw, parsed.record, parsed.format)
        incoming.append(Incoming(parsed, item.origin))
    return incoming


def _set_aside(engine: Engine, items: list[FailureItem]) -> None:
    """Record the failures not recorded yet (a document failing at every crawl is listed once)."""
    with engine.connect() as connection:
        known = {
            (origin, record, reason)
            for origin, record, reason in connection.execute(
                sa.select(error_table.c.origin, error_table.c.record, error_table.c.reason).where(
                    error_table.c.origin.in_({item.origin[:1000] for item in items})
                )
            )
        }
    fresh: dict[tuple[str, str, str], FailureItem] = {}
    for item in items:
        key = (item.origin[:1000], item.record[:200], item.reason)
        if key not in known:
            fresh.setdefault(key, item)
    if fresh:
        content = {item.origin: item.content for item in fresh.values() if item.content is not None}
        failures = [Failure(item.origin, item.record, item.reason) for item in fresh.values()]
        record_failures(engine, failures, content)

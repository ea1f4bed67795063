"""The one item pipeline: notices into the store in batches, failures set aside once.

Parsing already normalized and validated each notice (crawlers.parsers); the store deduplicates on
`(source, source_id)` and upserts with versions. Batches make a crawl cost a few statements per
`BATCH` notices. The spider flushes at the end of each date window, before the checkpoint moves, so
a checkpoint never passes over a notice that is not stored.
"""

from __future__ import annotations

import logging
from typing import Any, Self

import sqlalchemy as sa
from scrapy.crawler import Crawler

from ..store.service import Failure, Incoming, error_table, notice_table, record_failures, store_notices
from .context import CrawlContext
from .items import FailureItem, NoticeItem

BATCH = 200

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.notices: list[NoticeItem] = []
        self.failures: list[FailureItem] = []
        self.context: CrawlContext | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        context = getattr(self.crawler.spider, "context", None)
        if not isinstance(context, CrawlContext):
            raise TypeError("StorePipeline needs a spider started with a CrawlContext (see crawlers.crawl)")
        self.context = context
        context.flush = self.flush

    def process_item(self, item: Any) -> Any:
        if isinstance(item, NoticeItem):
            self.notices.append(item)
            if len(self.notices) >= BATCH:
                self.flush()
        elif isinstance(item, FailureItem):
            self.failures.append(item)
            if len(self.failures) >= BATCH:
                self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Store what is held; a store that refuses ends the run as failed rather than losing notices."""
        context = self.context
        if context is None or (not self.notices and not self.failures):
            return
        notices, failures = self.notices, self.failures
        self.notices, self.failures = [], []
        try:
            if notices:
                summary = store_notices(context.engine, _with_first_dates(context, notices))
                context.stored += summary.stored
                context.updated += summary.updated
                context.unchanged += summary.unchanged
                context.older += summary.older
            if failures:
                _set_aside(context, failures)
        except sa.exc.SQLAlchemyError as error:
            context.store_failed = True
            context.error(f"the store refused {len(notices)} notices: {type(error).__name__}: {error}"[:500])
            logger.error("store failed source=%s error=%s", context.source, error)
            engine = self.crawler.engine
            if engine is not None and engine.spider is not None:
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(engine.close_spider_async(reason="store_error"))


def _with_first_dates(context: CrawlContext, items: list[NoticeItem]) -> list[Incoming]:
    """Incoming notices; an undated entry already stored keeps the publication date it was stored with."""
    undated = {(i.parsed.notice.source, i.parsed.notice.source_id) for i in items if i.keep_first_date}
    stored: dict[tuple[str, str], Any] = {}
    if undated:
        with context.engine.connect() as connection:
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


def _set_aside(context: CrawlContext, items: list[FailureItem]) -> None:
    """Record the failures not recorded yet (a document failing at every crawl is listed once)."""
    with context.engine.connect() as connection:
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
    context.failed += len(items)
    if fresh:
        content = {item.origin: item.content for item in fresh.values() if item.content is not None}
        failures = [Failure(item.origin, item.record, item.reason) for item in fresh.values()]
        record_failures(context.engine, failures, content)

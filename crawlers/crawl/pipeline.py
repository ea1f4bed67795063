"""The one item pipeline: answers to the parsing process, parsed notices into the store in batches, failures
set aside once.

The API spiders yield their answers whole (`AnswerItem`); the crawl's parsing process (`worker.py`) parses
and stores them while this process fetches the next ones. Feeds, parsed here, are stored here. The spider
flushes at the end of each date window, before the checkpoint moves, so a checkpoint never passes over a
notice that is not stored; an answer the parsing process found cut short is fetched again before it does.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler

from .batches import Batches, Tally
from .context import CrawlContext
from .items import AnswerItem
from .middlewares import fetch_again, retries_left
from .worker import Answer, Report, WorkerLost

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.context: CrawlContext | None = None
        self.batches: Batches | None = None
        self.in_flight: deque[Request | None] = deque()
        """The request of each answer sent to the parsing process and not yet reported on, in sending order."""
        self.lost = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        context = getattr(self.crawler.spider, "context", None)
        if not isinstance(context, CrawlContext):
            raise TypeError("StorePipeline needs a spider started with a CrawlContext (see crawlers.crawl)")
        self.context = context
        self.batches = Batches(context.engine)
        context.flush = self.flush

    def process_item(self, item: Any) -> Any:
        assert self.context is not None and self.batches is not None
        if isinstance(item, AnswerItem):
            self._send(item)
        else:
            self.batches.add(item)
            if self.batches.full:
                self._take(self.batches.store())
        return item

    def close_spider(self) -> None:
        self.flush(closing=True)

    def flush(self, *, closing: bool = False) -> bool:
        """Store what is held, here and in the parsing process; True when answers are being fetched again."""
        context, batches = self.context, self.batches
        if context is None or batches is None:
            return False
        if batches.notices or batches.failures:
            self._take(batches.store())
        if context.worker is None or self.lost:
            return False
        try:
            reports = context.worker.settle()
        except WorkerLost as error:
            self._lose(error)
            return False
        return self._take_reports(reports, closing=closing)

    def _send(self, item: AnswerItem) -> None:
        context = self.context
        assert context is not None
        if context.worker is None:
            raise TypeError("an AnswerItem needs a crawl started with a parsing process (see crawlers.crawl)")
        if self.lost:
            return
        request = item.response.request
        retryable = request is not None and retries_left(request, self.crawler.settings)
        self.in_flight.append(request)
        try:
            reports = context.worker.send(Answer(item.response.url, item.response.body, retryable))
        except WorkerLost as error:
            self._lose(error)
            return
        self._take_reports(reports)

    def _take_reports(self, reports: list[Report], *, closing: bool = False) -> bool:
        again = False
        for report in reports:
            self._take(report.tally)
            covered = [self.in_flight.popleft() for _ in range(report.answers)]
            for index in report.again:
                again |= self._fetch_again(covered[index], closing=closing)
        return again

    def _fetch_again(self, request: Request | None, *, closing: bool) -> bool:
        context, spider, engine = self.context, self.crawler.spider, self.crawler.engine
        assert context is not None
        retry = None
        if request is not None and not closing and spider is not None and engine is not None:
            retry = fetch_again(request, spider=spider, context=context, reason="malformed answer")
        if retry is None:
            url = request.url if request is not None else "?"
            context.error(f"{url}: malformed answer, not fetched again as the crawl was ending"[:500])
            return False
        engine.crawl(retry)
        return True

    def _take(self, tally: Tally) -> None:
        assert self.context is not None
        tally.add_to(self.context)
        if tally.refusals:
            self._stop("store_error")

    def _lose(self, error: WorkerLost) -> None:
        assert self.context is not None
        self.lost = True
        self.context.store_failed = True
        self.context.error(str(error))
        logger.error("parsing process lost source=%s error=%s", self.context.source, error)
        self._stop("parsing_process_lost")

    def _stop(self, reason: str) -> None:
        """End the run as failed rather than losing notices."""
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason=reason))

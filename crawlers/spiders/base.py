"""Base spiders: a spider fetches; `crawlers.parsers` makes the notices and the pipeline stores them, in the
crawl's parsing process for the API answers (`crawlers.crawl.worker`).

- `NoticeSpider`: the run's `CrawlContext`, handing an answer over to be parsed, and reading an answer
  again when it is malformed (a truncated page, broken JSON).
- `WindowSpider`: publication-date windows read one after another, oldest first. A window whose
  first page announces more notices than its source allows (or than `crawl_window_notices`) is split
  in halves. When the engine is idle the window is over: it is read again if its listing changed while
  being paged (a record inserted between pages shifts the next ones), else its notices are stored and
  the checkpoint moves over it (when nothing failed), and the next window starts.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, Self

import scrapy
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from config.settings import Settings

from ..crawl.context import CrawlContext, Window
from ..crawl.items import AnswerItem, FailureItem, NoticeItem
from ..crawl.middlewares import describe_exception, fetch_again

MAX_REREADS = 2
"""How many times a window whose listing changed while paging is read again before giving up."""

Output = Request | AnswerItem | NoticeItem | FailureItem


class NoticeSpider(scrapy.Spider):
    source: ClassVar[str]

    def __init__(self, *args: Any, context: CrawlContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    @property
    def pib(self) -> Settings:
        """The service's settings (Scrapy's own are `self.settings`)."""
        return self.context.settings

    def notices(self, response: Response) -> Iterator[Output]:
        """The answer, for the crawl's parsing process: it stores every notice in it, sets bad records and
        documents aside, and has an answer that is not even well-formed (cut on the way) fetched again."""
        yield AnswerItem(response)

    def retry_or_give_up(self, response: Response, window: Window, reason: str) -> Iterator[Request]:
        """A bad answer is fetched again; when retries are spent, the window records the failure."""
        retry = None
        if response.request is not None:
            retry = fetch_again(response.request, spider=self, context=self.context, reason=reason)
        if retry is None:
            window.failures.append(f"{response.url}: {reason}, given up")
        else:
            yield retry

    def read_json(self, response: Response) -> dict[str, Any] | None:
        try:
            data = json.loads(response.body)
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def describe(self, failure: Failure) -> str:
        value = failure.value
        if isinstance(value, HttpError):
            return f"HTTP {value.response.status}"
        return describe_exception(value)


class WindowSpider(NoticeSpider):
    max_notices: ClassVar[int | None] = None
    """The most notices one window can hold for the source's API (BOAMP: 10,000), if any."""

    def __init__(self, *args: Any, context: CrawlContext, **kwargs: Any) -> None:
        super().__init__(*args, context=context, **kwargs)
        self.queue: deque[Window] = deque([Window(context.since, context.until)])
        self.current: Window | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    def window_requests(self, window: Window) -> Iterable[Request]:
        """The request(s) that start reading a window (its first page)."""
        raise NotImplementedError

    async def start(self) -> Any:
        for request in self.open_next():
            yield request

    def open_next(self) -> list[Request]:
        self.current = self.queue.popleft() if self.queue else None
        return list(self.window_requests(self.current)) if self.current is not None else []

    def split(self, window: Window, total: int) -> bool:
        """Replace the current window by its halves when it announces too many notices; True if done."""
        limit = self.pib.crawl_window_notices
        if self.max_notices is not None:
            limit = min(limit, self.max_notices)
        if total <= limit or window.days == 1 or window is not self.current:
            return False
        first, second = window.halves()
        self.queue.extendleft([second, first])
        return True

    def count_found(self, window: Window, count: int) -> None:
        window.found += count
        self.context.found += count

    def failed(self, failure: Failure) -> None:
        """Errback: a request given up; its window will not move the checkpoint."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        message = f"{url}: {self.describe(failure)}"
        window = request.meta.get("window") if request is not None else None
        if isinstance(window, Window):
            window.failures.append(message)
        else:
            self.context.error(message)

    def idle(self) -> None:
        window = self.current
        if window is None:
            return
        if self.context.flush():
            raise DontCloseSpider  # answers cut on the way are fetched again: the window is not over yet
        if window.changed_while_paging() and not window.failures:
            if window.rereads < MAX_REREADS:
                self.context.note("the listing changed while paging, window read again")
                self.context.found -= window.found
                window.restart()
                self._schedule(self.window_requests(window))  # raises DontCloseSpider
            window.failures.append(
                f"window {window.label}: the listing kept changing while paging ({window.totals}); "
                "the next run reads it again"
            )
        self.context.window_done(window)
        self._schedule(self.open_next())

    def _schedule(self, requests: Iterable[Request]) -> None:
        requests = list(requests)
        if not requests:
            return
        engine = self.crawler.engine
        assert engine is not None
        for request in requests:
            engine.crawl(request)
        raise DontCloseSpider

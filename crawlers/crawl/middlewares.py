"""Retries, politely: one downloader middleware for 429, 5xx, timeouts and broken answers.

Scrapy's own RetryMiddleware retries at once; a source in trouble deserves a pause. Here:
- HTTP 429 (and 503 with `Retry-After`) pauses the whole host for the time asked (at most
  `retry_after_max_seconds`), then retries;
- other 5xx, timeouts, refused connections and truncated answers retry that request after a backoff
  doubling at each attempt (`retry_backoff_seconds`, 2×, 4×... at most 5 minutes);
- after `retry_times` retries the request fails: the spider's errback records it, and the date window
  it belongs to does not move the checkpoint.
Each retry is counted in the run's health (`CrawlContext.note`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import Self

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object

from .context import CrawlContext

MAX_BACKOFF = 300.0

logger = logging.getLogger(__name__)

_EXCEPTION_NAMES = {
    "DownloadTimeoutError": "timeout",
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "ResponseDataLossError": "truncated answer",
    "ResponseFailed": "truncated answer",
    "ConnectionLost": "connection lost",
    "ConnectionDone": "connection closed",
    "DownloadConnectionRefusedError": "connection refused",
    "ConnectionRefusedError": "connection refused",
    "ConnectError": "cannot connect",
    "CannotResolveHostError": "cannot resolve host",
    "DNSLookupError": "cannot resolve host",
}


def retry_after_seconds(value: str | bytes | None, *, now: datetime | None = None) -> float | None:
    """Seconds asked by a `Retry-After` header: a number of seconds, or an HTTP date.

    >>> retry_after_seconds("3"), retry_after_seconds(b" 1.5"), retry_after_seconds("soon")
    (3.0, 1.5, None)
    >>> retry_after_seconds("Mon, 02 Mar 2026 10:00:30 GMT", now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    30.0
    """
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def describe_exception(exception: BaseException) -> str:
    """A short name for a download failure, for the health record."""
    for cls in type(exception).__mro__:
        if cls.__name__ in _EXCEPTION_NAMES:
            return _EXCEPTION_NAMES[cls.__name__]
    return type(exception).__name__


def fetch_again(request: Request, *, spider: Spider, context: CrawlContext, reason: str) -> Request | None:
    """The same request once more, counted with the download retries; None when its retries are spent."""
    retry = get_retry_request(request, spider=spider, reason=reason)
    if retry is not None:
        retry.dont_filter = True
        context.note(f"{reason}, fetched again")
    return retry


def retries_left(request: Request, settings: BaseSettings) -> bool:
    """Whether `fetch_again` would fetch the request once more, as Scrapy's `get_retry_request` decides it."""
    limit = request.meta.get("max_retry_times")
    if limit is None:
        limit = settings.getint("RETRY_TIMES")
    return int(request.meta.get("retry_times", 0)) + 1 <= int(limit)


class PoliteRetryMiddleware:
    NOT_BEFORE = "pib_not_before"

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_retries = settings.getint("RETRY_TIMES")
        self.codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.backoff = settings.getfloat("PIB_RETRY_BACKOFF_SECONDS")
        self.max_wait = settings.getfloat("PIB_RETRY_AFTER_MAX_SECONDS")
        self.exceptions = tuple(
            load_object(name) if isinstance(name, str) else name for name in settings.getlist("RETRY_EXCEPTIONS")
        )
        self.host_not_before: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def _context(self) -> CrawlContext | None:
        context = getattr(self.crawler.spider, "context", None)
        return context if isinstance(context, CrawlContext) else None

    async def process_request(self, request: Request) -> None:
        """Count the request; hold it until its host's pause (429) and its own backoff are over."""
        context = self._context
        if context is not None:
            context.requests += 1
        host = urlparse_cached(request).netloc
        wait = max(self.host_not_before.get(host, 0.0), request.meta.get(self.NOT_BEFORE, 0.0)) - monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in self.codes or request.meta.get("dont_retry"):
            return response
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        if response.status == 429 or (response.status == 503 and asked is not None):
            wait = self._backoff(request) if asked is None else asked
            if wait > self.max_wait:
                self._warn(f"{urlparse_cached(request).netloc} asked to wait {wait:g} s; waited {self.max_wait:g} s")
                wait = self.max_wait
            retry = self._retry(request, f"HTTP {response.status}", "waited as asked (Retry-After)", wait)
            if retry is not None:
                host = urlparse_cached(request).netloc
                self.host_not_before[host] = max(self.host_not_before.get(host, 0.0), monotonic() + wait)
            return retry or response
        return (
            self._retry(request, f"HTTP {response.status}", "retried after a pause", self._backoff(request)) or response
        )

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, self.exceptions) or request.meta.get("dont_retry"):
            return None
        return self._retry(request, describe_exception(exception), "retried after a pause", self._backoff(request))

    def _backoff(self, request: Request) -> float:
        return min(MAX_BACKOFF, self.backoff * 2 ** int(request.meta.get("retry_times", 0)))

    def _retry(self, request: Request, reason: str, event: str, wait: float) -> Request | None:
        spider = self.crawler.spider
        assert spider is not None
        retry = get_retry_request(
            request,
            spider=spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retries),
        )
        if retry is None:
            return None
        context = self._context
        if context is not None:
            context.note(f"{reason}, {event}")
        retry.meta[self.NOT_BEFORE] = monotonic() + wait
        return retry

    def _warn(self, message: str) -> None:
        context = self._context
        if context is not None:
            context.warn(message)
        logger.warning(message)


class RedirectWithoutReferer(RedirectMiddleware):
    """Scrapy's redirects, without a Referer: PIB sends none (the referer spider middleware is off, it costs
    time per request and serves no API), and Scrapy would otherwise warn at every crawl that it found none."""

    def handle_referer(self, request: Request, response: Response) -> None:
        request.headers.pop("Referer", None)

    def _engine_started(self) -> None:
        """Nothing to look up: Scrapy's own looks for the referer middleware and warns when it is off."""

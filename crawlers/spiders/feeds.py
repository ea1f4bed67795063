"""RSS/Atom feeds and listing pages of buyer platforms: each entry a notice of source `feed:<name>`.

Feeds are listed in the settings (`[[feeds]]` in the TOML file, or `PIB_FEEDS` as JSON), each with a
name, a URL and a kind: `feed` (RSS or Atom, read with feedparser) or `listing` (an HTML page of
links, read with BeautifulSoup). Feeds have no date filter and no checkpoint: each run reads them
whole, and the store keeps what is new. These are web pages of third parties: robots.txt is obeyed.
A feed with no entry is a warning (a quiet buyer is possible), a feed that cannot be fetched an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from config.settings import Feed

from ..crawl.items import FailureItem, NoticeItem
from ..parsers.feeds import parse_feed, parse_listing
from .base import NoticeSpider, Output


class FeedsSpider(NoticeSpider):
    name = "feeds"
    source = "feeds"
    custom_settings = {"ROBOTSTXT_OBEY": True}  # noqa: RUF012 (Scrapy declares it an instance attribute)

    async def start(self) -> Any:
        feeds: list[Feed] = self.pib.feeds
        if not feeds:
            self.context.error("no feeds configured: set PIB_FEEDS, or [[feeds]] in the PIB_CONFIG_FILE")
            return
        for feed in feeds:
            yield Request(feed.url, callback=self.parse_feed, errback=self.failed, meta={"feed": feed})

    def parse_feed(self, response: Response) -> Iterator[Output]:
        feed: Feed = response.meta["feed"]
        options: dict[str, Any] = {
            "feed_name": feed.name,
            "today": self.context.today,
            "notice_type": feed.notice_type,
            "country": feed.country,
            "language": feed.language,
        }
        if feed.kind == "listing":
            outcome = parse_listing(response.body, page_url=response.url, selector=feed.selector, **options)
        else:
            outcome = parse_feed(response.body, **options)
        entries = len(outcome.notices) + sum(1 for failure in outcome.failures if failure.record)
        self.context.found += entries
        if not entries:
            self.context.warn(f"feed {feed.name}: no entries at {response.url}")
        for parsed in outcome.notices:
            self.context.fetched += 1
            yield NoticeItem(parsed, response.url, parsed.notice.source_id in outcome.undated)
        for failure in outcome.failures:
            yield FailureItem(response.url, failure.record, failure.reason, response.body)

    def failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        name = request.meta["feed"].name if request is not None else "?"
        url = request.url if request is not None else "?"
        self.context.error(f"feed {name}: {url}: {self.describe(failure)}")

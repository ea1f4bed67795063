"""A one-line live status of a crawl on a terminal (stderr): requests, notices, stored, current window."""

from __future__ import annotations

from typing import Self

from rich.console import Console
from rich.live import Live
from rich.text import Text
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from .context import CrawlContext


class TerminalProgress:
    def __init__(self, crawler: Crawler) -> None:
        self.console = Console(stderr=True)
        if not self.console.is_terminal:
            raise NotConfigured
        self.crawler = crawler
        self.live = Live(Text(""), console=self.console, transient=True, refresh_per_second=4)
        self.loop = LoopingCall(self.refresh)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self) -> None:
        self.live.start()
        self.loop.start(0.5)

    def closed(self) -> None:
        if self.loop.running:
            self.loop.stop()
        self.live.stop()

    def refresh(self) -> None:
        spider = self.crawler.spider
        context = getattr(spider, "context", None)
        if not isinstance(context, CrawlContext):
            return
        window = getattr(spider, "current", None)
        where = f" · {window.label}" if window is not None else ""
        self.live.update(
            Text(
                f"{context.source}: {context.requests} requests · {context.fetched} parsed · {context.stored} new · "
                f"{context.updated} updated · {context.failed} set aside{where}",
                overflow="ellipsis",
                no_wrap=True,
            )
        )

"""Scrapy's settings, made from the one settings object of the service (config.settings).

Every deviation from Scrapy's defaults is here with its reason. Spiders add only what is theirs
(`custom_settings`: the feeds spider obeys robots.txt).
"""

from __future__ import annotations

import sys
from typing import Any

from config.settings import Settings

from .parsers.xml import MAX_DOCUMENT_BYTES


def scrapy_settings(settings: Settings) -> dict[str, Any]:
    cap = settings.max_requests_per_run
    return {
        "BOT_NAME": "pib",
        # Say who we are: sources can reach the operator instead of blocking an anonymous client.
        "USER_AGENT": settings.user_agent,
        # The documented APIs (TED, BOAMP, BE) are meant for programs; their robots.txt is for web pages.
        # Feed and listing pages of buyers are web pages: the feeds spider obeys robots.txt.
        "ROBOTSTXT_OBEY": False,
        # Politeness: a delay between requests to a host, few in flight, AutoThrottle slowing down further
        # when a host answers slowly. The benchmark and the tests, on loopback, set the delay to 0.
        "DOWNLOAD_DELAY": settings.download_delay,
        "CONCURRENT_REQUESTS": max(16, settings.concurrent_requests),
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.concurrent_requests,
        "AUTOTHROTTLE_ENABLED": settings.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(settings.download_delay, 1.0),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        # A cap on requests per run: a runaway crawl stops, and the next run continues from the checkpoint.
        "CLOSESPIDER_PAGECOUNT": cap if cap > 0 else 0,
        "DOWNLOAD_TIMEOUT": settings.download_timeout,
        # Untrusted input: nothing bigger than the largest notice we accept is downloaded.
        "DOWNLOAD_MAXSIZE": MAX_DOCUMENT_BYTES,
        "DOWNLOAD_WARNSIZE": MAX_DOCUMENT_BYTES // 4,
        # A body shorter than its Content-Length is an error (retried), never a truncated notice.
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        # Retries with a pause, and 429/Retry-After, in one middleware instead of Scrapy's immediate retries.
        "RETRY_ENABLED": False,
        "RETRY_TIMES": settings.retry_times,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "PIB_RETRY_BACKOFF_SECONDS": settings.retry_backoff_seconds,
        "PIB_RETRY_AFTER_MAX_SECONDS": settings.retry_after_max_seconds,
        # Spiders follow only their API's own links and count their requests (PoliteRetryMiddleware):
        # what costs time per request and serves nothing here is off.
        "DOWNLOADER_MIDDLEWARES": {
            "crawlers.crawl.middlewares.PoliteRetryMiddleware": 550,
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawlers.crawl.middlewares.RedirectWithoutReferer": 600,
        },
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        },
        "DOWNLOADER_STATS": False,
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "ITEM_PIPELINES": {"crawlers.crawl.pipeline.StorePipeline": 300},
        # The one pipeline is synchronous (batched stores): Scrapy's parallel item processing would only
        # start CONCURRENT_ITEMS (100) asyncio tasks per answer, a third of a crawl's time for nothing.
        "CONCURRENT_ITEMS": 1,
        "EXTENSIONS": {"crawlers.crawl.progress.TerminalProgress": 500} if sys.stderr.isatty() else {},
        # APIs need no session; the telnet console is a listening port nobody uses here.
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": settings.crawl_log_level,
        # Local time with its offset, as every log line of the service (pib/logging_setup.py).
        "LOG_DATEFORMAT": "%Y-%m-%d %H:%M:%S%z",
    }

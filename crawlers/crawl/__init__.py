"""Crawling the sources: runs, their checkpoints and health, and the Scrapy plumbing they share.

`run_crawl()` runs one spider in this process; `crawl_in_subprocess()` (or `python -m crawlers.crawl
SOURCE [--since DATE] [--until DATE] --json`) runs it in a process of its own, as the scheduler must.
"""

from .context import SOURCES
from .runner import CrawlError, CrawlReport, crawl_in_subprocess, run_crawl

__all__ = ["SOURCES", "CrawlError", "CrawlReport", "crawl_in_subprocess", "run_crawl"]

"""One thin spider per source over a few base spiders (`base.py`); `SPIDERS` maps `pib crawl SOURCE`."""

from __future__ import annotations

from .base import NoticeSpider
from .be import BeSpider
from .boamp import BoampSpider
from .decp import DecpSpider
from .feeds import FeedsSpider
from .ted import TedSpider

SPIDERS: dict[str, type[NoticeSpider]] = {
    spider.source: spider for spider in (TedSpider, BoampSpider, BeSpider, DecpSpider, FeedsSpider)
}

__all__ = ["SPIDERS", "BeSpider", "BoampSpider", "DecpSpider", "FeedsSpider", "NoticeSpider", "TedSpider"]

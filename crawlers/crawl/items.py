"""What a spider yields: an answer to parse, a parsed notice on its way to the store, or a document or record
set aside."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.http import Response

from ..parsers import ParsedNotice


@dataclass(frozen=True)
class AnswerItem:
    """An answer of an API, parsed and stored by the crawl's parsing process (crawlers.crawl.worker)."""

    response: Response


@dataclass(frozen=True)
class NoticeItem:
    parsed: ParsedNotice
    origin: str
    """The URL the notice was read from."""
    keep_first_date: bool = False
    """The entry carries no date of its own (a listing page): its publication date is the day it was first
    seen, so a notice already stored keeps its stored date instead of looking changed every day."""


@dataclass(frozen=True)
class FailureItem:
    origin: str
    record: str
    reason: str
    content: bytes | None = None
    """The answer as received, kept beside the error so it can be looked at or re-parsed."""

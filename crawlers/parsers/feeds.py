"""RSS/Atom feeds and listing pages: each entry becomes a notice of source `feed:<name>`.

A feed entry carries a title, a link, a date and a summary: no CPV, no deadline, no lots (the notice
gets one lot `1`), so matching relies on its text (docs/matching.md, keywords).

Decisions where the sources are silent:
- `source_id` is the entry's id (RSS `guid`, Atom `id`), else its link; one longer than 300 characters
  is replaced by `sha1:<hex>` of it. An entry with neither, or without a title, is set aside.
- `buyer` is the entry's author (aggregators name the buyer there), else the feed's title (a buyer's own
  feed), else the feed's name; `country` comes from the feed's settings (feeds do not say it).
- `notice_type` is the feed's setting: `contract-notice` (a feed of calls for tenders) or `other`.
- `languages`: the feed's `<language>`, else the feed's setting, else a guess from common words of
  French, Dutch, English and German, else French.
- `published` is the date written on the entry, in the entry's own offset. An entry without any date
  (most listing pages) takes `today`, and its id is listed in `undated`, so the store keeps the date it
  was first seen on instead of the entry looking changed at every crawl.
- Listing pages without a feed: every link whose text looks like a title (3 words or more, 20
  characters or more) outside menus, headers and footers, or the links a CSS selector names; the date
  is the first one written in the link's row or block (`<time datetime>`, `12/03/2026`, `2026-03-12`,
  `12 mars 2026`); the description is that block's text.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import feedparser
from bs4 import BeautifulSoup, Tag
from pydantic import ValidationError

from ..notice import Notice
from . import ParsedNotice, ParseOutcome, RecordFailure
from .fields import NoticeError, collapse, language_alpha2
from .xml import MAX_DOCUMENT_BYTES

MAX_TITLE = 1_000
MAX_DESCRIPTION = 10_000

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_COMMON_WORDS = {
    "fr": {"le", "la", "les", "des", "du", "de", "et", "pour", "un", "une", "au", "aux", "sur", "marché", "travaux"},
    "nl": {"de", "het", "een", "van", "en", "voor", "met", "op", "bij", "opdracht", "werken", "levering"},
    "en": {"the", "and", "of", "for", "to", "with", "on", "a", "an", "services", "supply", "works"},
    "de": {"der", "die", "das", "und", "für", "von", "mit", "zur", "zum", "auf", "lieferung", "arbeiten"},
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("janvier", "januari", "january", "januar", "jan"),
            ("février", "fevrier", "februari", "february", "februar", "feb", "fév"),
            ("mars", "maart", "march", "märz", "mar"),
            ("avril", "april", "apr", "avr"),
            ("mai", "mei", "may"),
            ("juin", "juni", "june", "jun"),
            ("juillet", "juli", "july", "jul", "juil"),
            ("août", "aout", "augustus", "august", "aug"),
            ("septembre", "september", "sep", "sept"),
            ("octobre", "oktober", "october", "oct", "okt"),
            ("novembre", "november", "nov"),
            ("décembre", "decembre", "december", "dezember", "dec", "déc", "dez"),
        ],
        start=1,
    )
    for name in names
}
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WORDED_DATE = re.compile(r"\b(\d{1,2})(?:er|e)?\.?\s+([^\W\d_]+)\.?\s+(\d{4})\b", re.UNICODE)
_SKIPPED_BLOCKS = {"nav", "header", "footer", "aside", "script", "style", "form"}
_ROW_BLOCKS = {"li", "tr", "article", "dd", "section", "div", "p", "td"}


@dataclass
class FeedOutcome(ParseOutcome):
    undated: set[str] = field(default_factory=set)
    """source_ids of the entries that carry no date of their own (their `published` is `today`)."""


def _text(html: str | None) -> str | None:
    """Plain text of a fragment that may hold HTML (feed titles and summaries often do)."""
    if not html:
        return None
    if "<" in html:
        html = BeautifulSoup(html, "html.parser").get_text(" ")
    return collapse(html)


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _http_url(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    return value if urlsplit(value).scheme in ("http", "https") else None


def _source_id(value: str) -> str:
    return value if len(value) <= 300 else "sha1:" + hashlib.sha1(value.encode()).hexdigest()


def guess_language(text: str, *, default: str = "fr") -> str:
    """The language whose common words are most frequent in the text.

    >>> guess_language("Travaux de voirie pour la commune"), guess_language("Levering van het meubilair")
    ('fr', 'nl')
    >>> guess_language("Supply of office furniture"), guess_language("12345")
    ('en', 'fr')
    """
    words = [word.lower() for word in _WORD.findall(text)]
    scores = {language: sum(word in common for word in words) for language, common in _COMMON_WORDS.items()}
    best = max(scores, key=lambda language: scores[language])
    return best if scores[best] else default


def written_date(text: str) -> date | None:
    """The first date written in a text, European order (day first), in figures or with a month name.

    >>> written_date("Publié le 12/03/2026 — clôture 30/03/2026"), written_date("on 2026-03-12")
    (datetime.date(2026, 3, 12), datetime.date(2026, 3, 12))
    >>> written_date("mis en ligne le 1er mars 2026"), written_date("gepubliceerd op 5 februari 2026")
    (datetime.date(2026, 3, 1), datetime.date(2026, 2, 5))
    >>> written_date("lot 12, 3 pages") is None
    True
    """
    found: list[tuple[int, date]] = []
    for match in _NUMERIC_DATE.finditer(text):
        found.extend(_valid(match.start(), int(match[3]), int(match[2]), int(match[1])))
    for match in _ISO_DATE.finditer(text):
        found.extend(_valid(match.start(), int(match[1]), int(match[2]), int(match[3])))
    for match in _WORDED_DATE.finditer(text):
        month = _MONTHS.get(match[2].lower())
        if month:
            found.extend(_valid(match.start(), int(match[3]), month, int(match[1])))
    return min(found)[1] if found else None


def _valid(position: int, year: int, month: int, day: int) -> list[tuple[int, date]]:
    try:
        return [(position, date(year, month, day))]
    except ValueError:
        return []


def _entry_date(entry: dict[str, Any]) -> date | None:
    """The entry's date as written (its own offset), else as feedparser normalized it (UTC)."""
    for key in ("published", "updated", "created"):
        raw = dict.get(entry, key)  # plain lookup: feedparser maps a missing `updated` to `published`, noisily
        if not raw:
            continue
        for parse in (parsedate_to_datetime, datetime.fromisoformat):
            try:
                return parse(raw.strip()).date()
            except (TypeError, ValueError, IndexError):
                continue
        parsed = dict.get(entry, f"{key}_parsed")
        if parsed:
            return date(*parsed[:3])
    return None


def _build(outcome: FeedOutcome, record: str, raw: dict[str, Any], fmt: str, data: dict[str, Any], dated: bool) -> None:
    raw_bytes = json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str).encode()
    try:
        notice = Notice.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "notice"
        outcome.failures.append(RecordFailure(record, f"invalid notice: {where}: {first['msg']}"))
        return
    outcome.notices.append(ParsedNotice(notice, raw_bytes, record, fmt))
    if not dated:
        outcome.undated.add(notice.source_id)


def _notice_data(
    *,
    feed_name: str,
    source_id: str,
    title: str,
    description: str | None,
    buyer: str,
    country: str | None,
    published: date,
    language: str,
    url: str | None,
    notice_type: str,
) -> dict[str, Any]:
    return {
        "source": f"feed:{feed_name}",
        "source_id": source_id,
        "notice_type": notice_type,
        "title": _clip(title, MAX_TITLE),
        "description": _clip(description, MAX_DESCRIPTION) if description and description != title else None,
        "buyer": {"name": _clip(buyer, MAX_TITLE), "country": country},
        "published": published,
        "lots": [{"id": "1"}],
        "languages": [language],
        "url": url,
    }


def _check_size_and_entities(data: bytes) -> None:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise NoticeError(f"feed too large: {len(data):,} bytes (limit {MAX_DOCUMENT_BYTES:,})")
    if _ENTITY_DECLARATION.search(data[:65536]):
        raise NoticeError("feed declares XML entities; refused (no entity expansion)")


def parse_feed(
    data: bytes,
    *,
    feed_name: str,
    today: date,
    notice_type: Literal["contract-notice", "other"] = "contract-notice",
    country: str | None = None,
    language: str | None = None,
) -> FeedOutcome:
    """The notices of an RSS or Atom feed; a feed that cannot be read is one failure with an empty record."""
    outcome = FeedOutcome()
    try:
        _check_size_and_entities(data)
    except NoticeError as error:
        outcome.failures.append(RecordFailure("", str(error)))
        return outcome
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        reason = getattr(parsed, "bozo_exception", None) or "not an RSS or Atom feed"
        outcome.failures.append(RecordFailure("", f"unreadable feed: {reason}"))
        return outcome
    feed = parsed.feed
    feed_title = _text(feed.get("title"))
    feed_language = language_alpha2((feed.get("language") or "").split("-")[0]) or language
    for index, entry in enumerate(parsed.entries):
        record = f"entries[{index}]"
        title = _text(entry.get("title"))
        link = _http_url(entry.get("link"))
        identifier = collapse(entry.get("id")) or link
        if not title or not identifier:
            missing = "title" if not title else "id and link"
            outcome.failures.append(RecordFailure(record, f"feed entry without {missing}"))
            continue
        summary = _text(entry.get("summary") or entry.get("description"))
        author = entry.get("author_detail", {}).get("name") or entry.get("author")
        published = _entry_date(entry)
        raw = {
            key: dict.get(entry, key) for key in ("id", "link", "title", "published", "updated", "summary", "author")
        }
        fields = _notice_data(
            feed_name=feed_name,
            source_id=_source_id(identifier),
            title=title,
            description=summary,
            buyer=_text(author) or feed_title or feed_name,
            country=country,
            published=published or today,
            language=feed_language or guess_language(f"{title} {summary or ''}"),
            url=link,
            notice_type=notice_type,
        )
        _build(outcome, record, raw, "feed-entry", fields, published is not None)
    return outcome


def _inside_skipped_block(link: Tag) -> bool:
    return any(parent.name in _SKIPPED_BLOCKS or parent.get("role") == "navigation" for parent in link.parents)


def _block_of(link: Tag) -> Tag:
    """The row or block around a link (its list item, table row, article...), for its date and text."""
    for parent in link.parents:
        if parent.name in _ROW_BLOCKS and len(parent.get_text(" ", strip=True)) <= 2_000:
            return parent
        if parent.name in ("body", "html", "table", "ul", "ol"):
            break
    return link


def _block_date(block: Tag) -> date | None:
    time_tag = block.find("time")
    if isinstance(time_tag, Tag):
        found = written_date(str(time_tag.get("datetime") or "")) or written_date(time_tag.get_text(" "))
        if found:
            return found
    return written_date(block.get_text(" "))


def parse_listing(
    data: bytes,
    *,
    feed_name: str,
    page_url: str,
    today: date,
    selector: str | None = None,
    notice_type: Literal["contract-notice", "other"] = "contract-notice",
    country: str | None = None,
    language: str | None = None,
) -> FeedOutcome:
    """The notices of an HTML listing page (a page of links to calls for tenders, without a feed)."""
    outcome = FeedOutcome()
    if len(data) > MAX_DOCUMENT_BYTES:
        outcome.failures.append(RecordFailure("", f"page too large: {len(data):,} bytes"))
        return outcome
    soup = BeautifulSoup(data, "html.parser")
    page_title = _text(soup.title.get_text(" ") if soup.title else None)
    site = soup.find("meta", attrs={"property": "og:site_name"})
    buyer = (_text(str(site.get("content") or "")) if isinstance(site, Tag) else None) or page_title or feed_name
    page_language = language_alpha2(str(soup.html.get("lang") or "").split("-")[0]) if soup.html else None
    if selector:
        chosen = [tag for tag in soup.select(selector)]
        links = [tag if tag.name == "a" else tag.find("a", href=True) for tag in chosen]
        candidates = [link for link in links if isinstance(link, Tag) and link.get("href")]
    else:
        candidates = [link for link in soup.find_all("a", href=True) if not _inside_skipped_block(link)]
    seen: set[str] = set()
    for index, link in enumerate(candidates):
        url = _http_url(urljoin(page_url, str(link["href"])))
        title = _text(link.get_text(" ")) or _text(str(link.get("title") or ""))
        if url is None or url.split("#")[0] == page_url.split("#")[0] or url in seen or not title:
            continue
        if not selector and (len(title) < 20 or len(title.split()) < 3):
            continue
        seen.add(url)
        block = _block_of(link)
        context_text = _text(block.get_text(" ")) if block is not link else None
        published = _block_date(block)
        record = f"links[{index}]"
        raw = {"link": url, "title": title, "text": context_text}
        fields = _notice_data(
            feed_name=feed_name,
            source_id=_source_id(url),
            title=title,
            description=context_text,
            buyer=buyer,
            country=country,
            published=published or today,
            language=page_language or language or guess_language(f"{title} {context_text or ''}"),
            url=url,
            notice_type=notice_type,
        )
        _build(outcome, record, raw, "listing-entry", fields, published is not None)
    return outcome

"""TED, the EU's Tenders Electronic Daily: notices of buyers in Belgium and France (`ted_countries`).

API: `POST {ted_api_url}/v3/notices/search`, no key, expert query
`buyer-country IN (BEL FRA) AND publication-date>=YYYYMMDD AND publication-date<=YYYYMMDD`,
`paginationMode: ITERATION` (follows `iterationNextToken`; no 15,000 cap), 250 results a page; then
`GET links.xml.MUL` of each result, the full notice XML (eForms or legacy TED_EXPORT).
Docs: https://docs.ted.europa.eu/api/latest/search.html
Caveats: a malformed date query answers 200 with zero notices (the run's empty check catches it);
`timedOut: true` means an incomplete page, read again. About 2,400 notices a working day for all
countries: windows are split to stay under `crawl_window_notices`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import JsonRequest, Response

from ..crawl.context import Window
from .base import Output, WindowSpider

PAGE = 250
FIELDS = ["publication-number", "publication-date", "buyer-country", "notice-type"]


def xml_link(result: dict[str, Any]) -> str | None:
    """The notice XML address of a search result (`links.xml.MUL`, else any language's).

    >>> xml_link({"links": {"xml": {"MUL": "https://ted.europa.eu/en/notice/1-2026/xml"}}})
    'https://ted.europa.eu/en/notice/1-2026/xml'
    >>> xml_link({"links": {}}) is None
    True
    """
    links = result.get("links")
    xml = links.get("xml") if isinstance(links, dict) else None
    if not isinstance(xml, dict):
        return None
    url = xml.get("MUL") or next((value for value in xml.values() if isinstance(value, str)), None)
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


class TedSpider(WindowSpider):
    name = "ted"
    source = "ted"

    def query(self, window: Window) -> str:
        parts = []
        if self.pib.ted_countries:
            parts.append(f"buyer-country IN ({' '.join(self.pib.ted_countries)})")
        parts.append(f"publication-date>={window.start:%Y%m%d}")
        parts.append(f"publication-date<={window.end:%Y%m%d}")
        return " AND ".join(parts)

    def search(self, window: Window, token: str | None = None) -> Request:
        body: dict[str, Any] = {
            "query": self.query(window),
            "fields": FIELDS,
            "limit": PAGE,
            "scope": "ALL",
            "paginationMode": "ITERATION",
            "onlyLatestVersions": False,
        }
        if token:
            body["iterationNextToken"] = token
        return JsonRequest(
            f"{self.pib.ted_api_url.rstrip('/')}/v3/notices/search",
            data=body,
            callback=self.parse_search,
            errback=self.failed,
            meta={"window": window, "first": token is None},
            dont_filter=True,
        )

    def window_requests(self, window: Window) -> Iterable[Request]:
        return [self.search(window)]

    def parse_search(self, response: Response) -> Iterator[Output]:
        window: Window = response.meta["window"]
        data = self.read_json(response)
        if data is None or data.get("timedOut") or not isinstance(data.get("notices", []), list):
            reason = "search timed out" if data and data.get("timedOut") else "malformed JSON answer"
            yield from self.retry_or_give_up(response, window, reason)
            return
        total = int(data.get("totalNoticeCount") or 0)
        if response.meta["first"] and self.split(window, total):
            yield from self.open_next()
            return
        window.totals.append(total)
        results = [result for result in data.get("notices") or [] if isinstance(result, dict)]
        self.count_found(window, len(results))
        for result in results:
            url = xml_link(result)
            if url is None:
                number = result.get("publication-number", "?")
                window.failures.append(f"TED search result {number}: no links.xml")
                continue
            yield Request(url, callback=self.parse_notice, errback=self.failed, meta={"window": window})
        token = data.get("iterationNextToken")
        if results and isinstance(token, str) and token:
            yield self.search(window, token)

    def parse_notice(self, response: Response) -> Iterator[Output]:
        yield from self.notices(response)

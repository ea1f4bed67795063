"""BOAMP, France's official bulletin of public procurement (DILA): all French notices, every level.

API: `GET {boamp_api_url}/api/explore/v2.1/catalog/datasets/boamp/records` (opendatasoft v2.1, no key),
`where=dateparution >= date'YYYY-MM-DD' AND dateparution <= date'YYYY-MM-DD'`,
`order_by=dateparution,idweb`, `limit=100` (the most allowed), `offset`.
Docs: https://boamp-datadila.opendatasoft.com/api/explore/v2.1/console
Caveats: `offset + limit` may not pass 10,000 (HTTP 400 beyond): a window announcing more records is
split in halves, down to one day (about 200 notices a working day, so a day never reaches it).
Updated twice a day; the overlap re-reads late records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from scrapy import Request
from scrapy.http import Response

from ..crawl.context import Window
from .base import Output, WindowSpider

PAGE = 100
READABLE = 10_000
"""offset + limit ≤ 10,000."""


class BoampSpider(WindowSpider):
    name = "boamp"
    source = "boamp"
    max_notices = READABLE
    dataset = "boamp"
    """The opendatasoft dataset; `date_field` windows it, `key_field` orders a day's records."""
    date_field = "dateparution"
    key_field = "idweb"

    def api_url(self) -> str:
        return self.pib.boamp_api_url

    def page(self, window: Window, offset: int) -> Request:
        day = self.date_field
        query = {
            "where": f"{day} >= date'{window.start}' AND {day} <= date'{window.end}'",
            "order_by": f"{day},{self.key_field}",
            "limit": PAGE,
            "offset": offset,
        }
        url = f"{self.api_url().rstrip('/')}/api/explore/v2.1/catalog/datasets/{self.dataset}/records"
        return Request(
            f"{url}?{urlencode(query)}",
            callback=self.parse_page,
            errback=self.failed,
            meta={"window": window, "offset": offset},
            dont_filter=True,
        )

    def window_requests(self, window: Window) -> Iterable[Request]:
        return [self.page(window, 0)]

    def parse_page(self, response: Response) -> Iterator[Output]:
        window: Window = response.meta["window"]
        offset: int = response.meta["offset"]
        data = self.read_json(response)
        if data is None or not isinstance(data.get("results"), list):
            yield from self.retry_or_give_up(response, window, "malformed JSON answer")
            return
        total = int(data.get("total_count") or 0)
        if offset == 0:
            if self.split(window, total):
                # The halves will list these records again; storing them now costs nothing more and
                # keeps the work of a run that the request cap interrupts while it is still splitting.
                yield from self.notices(response)
                yield from self.open_next()
                return
            if total > READABLE:
                window.failures.append(
                    f"{self.source.upper()} {window.label}: {total} records in one day, more than the "
                    f"{READABLE:,} the API lets page through"
                )
            for next_offset in range(PAGE, min(total, READABLE), PAGE):
                yield self.page(window, next_offset)
        window.totals.append(total)
        self.count_found(window, len(data["results"]))
        yield from self.notices(response)

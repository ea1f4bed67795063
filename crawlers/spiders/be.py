"""Belgian e-Procurement (BOSA, publicprocurement.be): notices of all Belgian buyers.

API: `GET {be_api_url}/api/sea/search/publications?page=N&pageSize=100`, answering
`{totalCount, publications: [...]}`. The official API (`eProcurementSea/v1`) needs a bearer token:
`be_token`, or OAuth2 client credentials (`be_client_id`, `be_client_secret`, `be_token_url`) exchanged
for one at the start of the run.
Caveats: the documented search has no date filter, so pages are read newest first (the platform's
order) until a page's oldest publication is older than the run's first day; if the answers are not in
that order the spider says so and reads every page (up to the request cap). Publications outside the
run's dates met on the way are stored too. About 80 publications a working day.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

from scrapy import FormRequest, Request
from scrapy.http import Response

from ..crawl.context import Window
from ..parsers.fields import iso_date
from .base import Output, WindowSpider

PAGE = 100


class BeSpider(WindowSpider):
    name = "be"
    source = "be"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        token = self.pib.be_token
        self.token: str | None = token.get_secret_value() if token is not None else None
        self.unordered = False

    async def start(self) -> Any:
        settings = self.pib
        if self.token is None and settings.be_client_id and settings.be_client_secret:
            if not settings.be_token_url:
                self.context.error("PIB_BE_CLIENT_ID is set but not PIB_BE_TOKEN_URL (the OAuth2 token endpoint)")
                return
            yield FormRequest(
                settings.be_token_url,
                formdata={
                    "grant_type": "client_credentials",
                    "client_id": settings.be_client_id,
                    "client_secret": settings.be_client_secret.get_secret_value(),
                },
                callback=self.parse_token,
                errback=self.failed,
                dont_filter=True,
            )
            return
        for request in self.open_next():
            yield request

    def parse_token(self, response: Response) -> Iterator[Request]:
        data = self.read_json(response) or {}
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            self.context.error(f"{response.url}: the token answer holds no access_token")
            return
        self.token = token
        yield from self.open_next()

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "BelGov-Trace-Id": str(uuid.uuid4())}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def page(self, window: Window, number: int) -> Request:
        url = f"{self.pib.be_api_url.rstrip('/')}/api/sea/search/publications"
        return Request(
            f"{url}?{urlencode({'page': number, 'pageSize': PAGE})}",
            headers=self.headers(),
            callback=self.parse_page,
            errback=self.failed,
            meta={"window": window, "page": number},
            dont_filter=True,
        )

    def window_requests(self, window: Window) -> Iterable[Request]:
        return [self.page(window, 1)]

    def parse_page(self, response: Response) -> Iterator[Output]:
        window: Window = response.meta["window"]
        number: int = response.meta["page"]
        data = self.read_json(response)
        if data is None or not isinstance(data.get("publications"), list):
            yield from self.retry_or_give_up(response, window, "malformed JSON answer")
            return
        total = int(data.get("totalCount") or 0)
        window.totals.append(total)
        publications = [p for p in data["publications"] if isinstance(p, dict)]
        dates = [d for d in (iso_date(str(p.get("publicationDate") or "")) for p in publications) if d]
        self.count_found(window, sum(window.start <= day <= window.end for day in dates))
        yield from self.notices(response)
        if any(newer < older for newer, older in pairwise(dates)) and not self.unordered:
            self.unordered = True
            self.context.warn("BE answers are not ordered newest first: every page is read")
        past_window = bool(dates) and min(dates) < window.start and not self.unordered
        if publications and number * PAGE < total and not past_window:
            yield self.page(window, number + 1)

"""A local HTTP server answering like TED, BOAMP, the Belgian platform and RSS/Atom feeds, from recordings.

Endpoints (same paths and shapes as the real services, so only the base URL settings change):
- `POST /v3/notices/search` (TED Search API v3: expert query on `buyer-country IN (...)` and
  `publication-date>=/<=YYYYMMDD`, `ITERATION` or `PAGE_NUMBER` pagination, `links.xml.MUL` pointing back
  here) and `GET /en/notice/{number}/xml` (the notice XML);
- `GET /api/explore/v2.1/catalog/datasets/boamp/records` (opendatasoft: `where` on `dateparution`,
  `order_by`, `limit` ≤ 100, `offset`; `offset + limit` > 10,000 is HTTP 400 as on the real API);
- `GET /api/explore/v2.1/catalog/datasets/decp-2022-marches-valides/records` (DECP, the same opendatasoft
  API: `where` on `datepublicationdonnees`, flat records);
- `GET /api/sea/search/publications?page=&pageSize=` (BE, newest first; a bearer token is required when
  the server is given one) and `POST /oauth/token` (client credentials);
- `GET /feeds/{ted|boamp|be|all}.rss` and `.atom`, `GET /listings/{ted|boamp|be|all}.html`;
- `GET /` lists what is served.

Faults (`Fault`) are injected on the requests whose path starts with a prefix, after a number of them
and for a number of them: 429 with `Retry-After`, 500, slow answers, bodies cut short of their
Content-Length, malformed bodies (complete HTTP answer, broken JSON or XML), and a record inserted into
a listing after a page is served (so the next pages shift under the crawler).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from ..parsers.fields import BRUSSELS
from .catalog import Catalog, FeedItem, Record, TedDocument, copy_record, copy_ted, load_catalog, scaled

FaultKind = Literal["429", "500", "slow", "truncate", "malformed", "insert"]

BOAMP_PATH = "/api/explore/v2.1/catalog/datasets/boamp/records"
DECP_PATH = "/api/explore/v2.1/catalog/datasets/decp-2022-marches-valides/records"
BE_PATH = "/api/sea/search/publications"
TED_PATH = "/v3/notices/search"
BOAMP_READABLE = 10_000


@dataclass(frozen=True)
class Fault:
    """Requests number `after + 1` to `after + times` whose path starts with `path` get `kind`."""

    kind: FaultKind
    path: str = "/"
    after: int = 0
    times: int = 1
    seconds: float = 1.0
    """429: the `Retry-After` asked; slow: the delay before answering."""


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    inserts: Callable[[], None] | None = None
    """For a page of a listing: inserts a record before its first one (the `insert` fault)."""


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _json(data: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False).encode())


def _offset(day: date) -> str:
    """A publication date as TED writes it, with the Brussels offset of that day (`2026-03-02+01:00`)."""
    moment = datetime(day.year, day.month, day.day, tzinfo=BRUSSELS).strftime("%z")
    return f"{day.isoformat()}{moment[:3]}:{moment[3:]}"


_TED_CLAUSE = re.compile(r"^\s*(?:buyer-country\s+IN\s+\(([A-Z ]*)\)|publication-date\s*(>=|<=|=)\s*(\d{8}))\s*$")
_DECP_CLAUSE = re.compile(
    r"^\s*\(?\s*datepublicationdonnees\s*(>=|<=|>|<|=)\s*(?:date)?['\"](\d{4}-\d{2}-\d{2})['\"]\s*\)?\s*$"
)
_BOAMP_CLAUSE = re.compile(r"^\s*\(?\s*dateparution\s*(>=|<=|>|<|=)\s*(?:date)?['\"](\d{4}-\d{2}-\d{2})['\"]\s*\)?\s*$")


def _compare(value: date, operator: str, bound: date) -> bool:
    return {
        ">=": value >= bound,
        "<=": value <= bound,
        ">": value > bound,
        "<": value < bound,
        "=": value == bound,
    }[operator]


def _date_test(operator: str, bound: date) -> Callable[[date], bool]:
    return lambda value: _compare(value, operator, bound)


def ted_filter(query: str) -> Callable[[TedDocument], bool]:
    """The documents an expert query selects; the syntax the replay understands, else BadRequest."""
    countries: set[str] | None = None
    dates: list[Callable[[date], bool]] = []
    for clause in re.split(r"\s+AND\s+", query.strip()):
        match = _TED_CLAUSE.match(clause)
        if not match:
            raise BadRequest(f"unsupported query clause: {clause!r}")
        if match[1] is not None:
            countries = set(match[1].split())
        else:
            dates.append(_date_test(match[2], date(int(match[3][:4]), int(match[3][4:6]), int(match[3][6:]))))

    def selects(document: TedDocument) -> bool:
        in_country = countries is None or bool(countries.intersection(document.countries))
        return in_country and all(test(document.published) for test in dates)

    return selects


def boamp_filter(where: str, clause_pattern: re.Pattern[str] = _BOAMP_CLAUSE) -> Callable[[Record], bool]:
    """The records an ODSQL `where` on the publication date selects (BOAMP `dateparution`, or another field)."""
    dates: list[Callable[[date], bool]] = []
    for clause in re.split(r"\s+AND\s+", where.strip(), flags=re.IGNORECASE) if where.strip() else []:
        match = clause_pattern.match(clause)
        if not match:
            raise BadRequest(f"ODSQL query is malformed or unsupported here: {clause!r}")
        dates.append(_date_test(match[1], date.fromisoformat(match[2])))
    return lambda record: all(test(record.published) for test in dates)


def _int(query: Mapping[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        return int(values[0])
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {values[0]!r}") from None


def _token(position: int, query: str) -> str:
    payload = json.dumps({"pos": position, "q": hashlib.sha1(query.encode()).hexdigest()[:10]})
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _position(token: str, query: str) -> int:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if payload["q"] != hashlib.sha1(query.encode()).hexdigest()[:10]:
            raise ValueError
        return int(payload["pos"])
    except (ValueError, KeyError, TypeError):
        raise BadRequest("iterationNextToken does not belong to this query") from None


class ReplayState:
    """The served catalog (mutable: `insert` adds records), the faults, and what happened."""

    def __init__(
        self,
        catalog: Catalog,
        faults: Sequence[Fault],
        *,
        be_token: str | None,
        be_client: tuple[str, str] | None,
    ) -> None:
        self.catalog = catalog
        self.faults = list(faults)
        self.be_token = be_token
        self.be_client = be_client
        self.lock = threading.Lock()
        self.seen = [0] * len(self.faults)
        self.applied: list[tuple[str, str]] = []
        """(fault kind, request path) for every fault injected."""
        self.inserted: list[str] = []
        """`source:key` of every record inserted by an `insert` fault."""
        self.requests = 0
        self._copies = 0
        self._by_number: dict[str, TedDocument] = {}

    def faults_for(self, path: str) -> list[Fault]:
        """The faults this request gets, counting it against each fault whose path it matches."""
        chosen = []
        with self.lock:
            self.requests += 1
            for index, fault in enumerate(self.faults):
                if not path.startswith(fault.path):
                    continue
                self.seen[index] += 1
                if fault.after < self.seen[index] <= fault.after + fault.times:
                    chosen.append(fault)
                    self.applied.append((fault.kind, path))
        return chosen

    def insert_before(self, source: str, first: TedDocument | Record) -> None:
        """A fresh copy of a listing's first record, published the same day (it sorts among the first)."""
        with self.lock:
            self._copies += 1
            if source == "ted" and isinstance(first, TedDocument):
                document = copy_ted(first, 1000 + self._copies)
                self.catalog.ted.append(document)
                self.inserted.append(f"ted:{document.number}")
            elif isinstance(first, Record):
                record = copy_record(first, 1000 + self._copies)
                getattr(self.catalog, source).append(record)
                self.inserted.append(f"{source}:{record.key}")

    # --- TED ---------------------------------------------------------------------------------------

    def ted_search(self, body: bytes, base: str) -> Answer:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise BadRequest("request body is not JSON") from None
        query = request.get("query")
        if not isinstance(query, str) or not query.strip():
            raise BadRequest("query is required")
        limit = int(request.get("limit", 10))
        if not 1 <= limit <= 250:
            raise BadRequest("limit must be between 1 and 250")
        selects = ted_filter(query)
        with self.lock:
            matching = sorted((d for d in self.catalog.ted if selects(d)), key=lambda d: (d.published, d.number))
        mode = request.get("paginationMode", "PAGE_NUMBER")
        if mode == "ITERATION":
            token = request.get("iterationNextToken")
            position = _position(token, query) if token else 0
        elif mode == "PAGE_NUMBER":
            position = (max(1, int(request.get("page", 1))) - 1) * limit
            if position + limit > 15_000:
                raise BadRequest("PAGE_NUMBER mode is limited to 15,000 results: use ITERATION")
        else:
            raise BadRequest(f"unknown paginationMode {mode!r}")
        page = matching[position : position + limit]
        following = position + limit
        answer = _json(
            {
                "notices": [self._ted_result(document, base) for document in page],
                "totalNoticeCount": len(matching),
                "iterationNextToken": _token(following, query)
                if mode == "ITERATION" and following < len(matching)
                else None,
                "timedOut": False,
            }
        )
        if matching:
            answer.inserts = lambda: self.insert_before("ted", matching[0])
        return answer

    def _ted_result(self, document: TedDocument, base: str) -> dict[str, Any]:
        number = document.number
        return {
            "publication-number": number,
            "publication-date": _offset(document.published),
            "buyer-country": list(document.countries),
            "links": {
                "xml": {"MUL": f"{base}/en/notice/{number}/xml"},
                "pdf": {"ENG": f"{base}/en/notice/{number}/pdf"},
                "html": {"ENG": f"{base}/en/notice/-/detail/{number}"},
            },
        }

    def ted_xml(self, number: str) -> Answer:
        with self.lock:
            if len(self._by_number) != len(self.catalog.ted):
                self._by_number = {d.number: d for d in self.catalog.ted}
            document = self._by_number.get(number)
        if document is None:
            raise BadRequest(f"no notice {number}", status=404)
        return Answer(200, document.body, "application/xml")

    # --- BOAMP -------------------------------------------------------------------------------------

    def boamp_records(self, query: Mapping[str, list[str]], source: str = "boamp") -> Answer:
        """An opendatasoft records page: BOAMP (`dateparution`, `idweb`) or DECP (`datepublicationdonnees`, `id`)."""
        day_field, key_field = ("dateparution", "idweb") if source == "boamp" else ("datepublicationdonnees", "id")
        limit, offset = _int(query, "limit", 10), _int(query, "offset", 0)
        if not 0 <= limit <= 100:
            raise BadRequest("Invalid value for limit: it must be between 0 and 100")
        if offset < 0 or offset + limit > BOAMP_READABLE:
            raise BadRequest("Invalid pagination: offset + limit must be lower than or equal to 10000")
        selects = boamp_filter((query.get("where") or [""])[0], _BOAMP_CLAUSE if source == "boamp" else _DECP_CLAUSE)
        with self.lock:
            matching = [record for record in getattr(self.catalog, source) if selects(record)]
        for part in reversed([p.strip() for p in (query.get("order_by") or [""])[0].split(",") if p.strip()]):
            name, _, direction = part.partition(" ")
            if name not in (day_field, key_field):
                raise BadRequest(f"order_by on {name!r} is not supported here")
            key: Callable[[Record], Any] = (lambda r: r.published) if name == day_field else (lambda r: r.key)
            matching.sort(key=key, reverse=direction.strip().lower() == "desc")
        answer = _json(
            {"total_count": len(matching), "results": [dict(r.data) for r in matching[offset : offset + limit]]}
        )
        if matching:
            answer.inserts = lambda: self.insert_before(source, matching[0])
        return answer

    # --- BE ----------------------------------------------------------------------------------------

    def be_publications(self, query: Mapping[str, list[str]], authorization: str | None) -> Answer:
        if self.be_token is not None and authorization != f"Bearer {self.be_token}":
            return _json({"error": "unauthorized", "message": "a valid bearer token is required"}, 401)
        page, size = _int(query, "page", 1), _int(query, "pageSize", 25)
        if page < 1 or not 1 <= size <= 100:
            raise BadRequest("page must be 1 or more and pageSize between 1 and 100")
        with self.lock:
            matching = sorted(self.catalog.be, key=lambda r: (r.published, r.key), reverse=True)
        start = (page - 1) * size
        answer = _json(
            {"totalCount": len(matching), "publications": [dict(r.data) for r in matching[start : start + size]]}
        )
        if matching:
            answer.inserts = lambda: self.insert_before("be", matching[0])
        return answer

    def be_token_answer(self, body: bytes) -> Answer:
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        if self.be_client is None or (form.get("client_id"), form.get("client_secret")) != self.be_client:
            return _json({"error": "invalid_client"}, 401)
        return _json({"access_token": self.be_token or "replay-token", "token_type": "Bearer", "expires_in": 3600})

    # --- feeds -------------------------------------------------------------------------------------

    def feed(self, source: str, kind: str, base: str) -> Answer:
        with self.lock:
            items = self.catalog.feed_items(source)
        items = sorted(items, key=lambda item: (item.published, item.key), reverse=True)
        if kind == "rss":
            return Answer(200, rss(items, source=source, base=base), "application/rss+xml; charset=utf-8")
        if kind == "atom":
            return Answer(200, atom(items, source=source, base=base), "application/atom+xml; charset=utf-8")
        return Answer(200, listing(items, source=source, base=base), "text/html; charset=utf-8")

    def index(self) -> Answer:
        with self.lock:
            counts = {
                "ted": len(self.catalog.ted),
                "boamp": len(self.catalog.boamp),
                "be": len(self.catalog.be),
                "decp": len(self.catalog.decp),
            }
        endpoints = [TED_PATH, "/en/notice/{number}/xml", BOAMP_PATH, BE_PATH, DECP_PATH]
        return _json({"served": counts, "endpoints": endpoints})

    def route(self, method: str, target: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        base = f"http://{headers.get('Host', '127.0.0.1')}"
        if method == "POST" and path == TED_PATH:
            return self.ted_search(body, base)
        if method == "POST" and path == "/oauth/token":
            return self.be_token_answer(body)
        if method != "GET":
            raise BadRequest(f"{method} {path} is not served", status=405)
        if match := re.fullmatch(r"/en/notice/([^/]+)/xml", path):
            return self.ted_xml(match[1])
        if path == BOAMP_PATH:
            return self.boamp_records(query)
        if path == DECP_PATH:
            return self.boamp_records(query, "decp")
        if path == BE_PATH:
            return self.be_publications(query, headers.get("Authorization"))
        if match := re.fullmatch(r"/feeds/(ted|boamp|be|all)\.(rss|atom)", path):
            return self.feed(match[1], match[2], base)
        if match := re.fullmatch(r"/listings/(ted|boamp|be|all)\.html", path):
            return self.feed(match[1], "html", base)
        if path == "/":
            return self.index()
        raise BadRequest(f"nothing at {path}", status=404)


def _link(item: FeedItem, base: str) -> str:
    return item.link or f"{base}/notices/{item.key}"


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=BRUSSELS)


def rss(items: Iterable[FeedItem], *, source: str, base: str) -> bytes:
    """An RSS 2.0 feed of notices (title, link, guid, date, summary, buyer as dc:creator)."""
    entries = "".join(
        "<item>"
        f"<title>{escape(item.title)}</title>"
        f"<link>{escape(_link(item, base))}</link>"
        f'<guid isPermaLink="false">{escape(item.key)}</guid>'
        f"<pubDate>{format_datetime(_moment(item.published))}</pubDate>"
        f"<description>{escape(item.summary or '')}</description>"
        f"<dc:creator>{escape(item.buyer)}</dc:creator>"
        "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Avis de marchés ({escape(source)})</title><link>{escape(base)}/</link>"
        f"<description>Recorded notices served by the PIB replay server</description>{entries}</channel></rss>"
    ).encode()


def atom(items: Iterable[FeedItem], *, source: str, base: str) -> bytes:
    """An Atom feed of notices."""
    items = list(items)
    updated = max((item.published for item in items), default=date(2000, 1, 1))
    entries = "".join(
        "<entry>"
        f"<title>{escape(item.title)}</title>"
        f'<link href="{escape(_link(item, base), {chr(34): "&quot;"})}"/>'
        f"<id>urn:pib:{escape(item.key)}</id>"
        f"<published>{_moment(item.published).isoformat()}</published>"
        f"<updated>{_moment(item.published).isoformat()}</updated>"
        f"<summary>{escape(item.summary or '')}</summary>"
        f"<author><name>{escape(item.buyer)}</name></author>"
        "</entry>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Avis de marchés ({escape(source)})</title><id>urn:pib:replay:{escape(source)}</id>"
        f"<updated>{_moment(updated).isoformat()}</updated>{entries}</feed>"
    ).encode()


def listing(items: Iterable[FeedItem], *, source: str, base: str) -> bytes:
    """An HTML page of links to notices, as buyer platforms without a feed publish them."""
    rows = "".join(
        f'<li><a href="{html.escape(_link(item, base))}">{html.escape(item.title)}</a>'
        f" — {html.escape(item.buyer)} — publié le {item.published:%d/%m/%Y}</li>"
        for item in items
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Avis de marchés ({html.escape(source)})</title>"
        "</head><body><nav><a href='/'>Accueil du portail des marchés publics</a></nav>"
        f"<h1>Avis de marchés</h1><ul>{rows}</ul><footer><a href='/'>Mentions légales du portail</a></footer>"
        "</body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An answer leaves in one write (head and body buffered, sent at the flush), without Nagle's wait for
    # the client's delayed ACK: otherwise each answer could wait ~40 ms on loopback.
    wbufsize = 1 << 20
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests and the benchmark read the server's state, not its log."""

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1_000_000)) if length else b""
        state = self.server.state
        path = urlsplit(self.path).path
        faults = state.faults_for(path)
        kinds = {fault.kind: fault for fault in faults}
        if "slow" in kinds:
            time.sleep(kinds["slow"].seconds)
        if "429" in kinds:
            seconds = kinds["429"].seconds
            retry_after = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
            self._send(Answer(429, b'{"error": "too many requests"}', headers={"Retry-After": retry_after}))
            return
        if "500" in kinds:
            self._send(Answer(500, b'{"error": "internal server error"}'))
            return
        try:
            answer = state.route(method, self.path, body, {k: v for k, v in self.headers.items()})
        except BadRequest as error:
            answer = _json({"error": str(error), "message": str(error)}, error.status)
        if "malformed" in kinds and answer.status == 200:
            answer.body = answer.body[: max(1, len(answer.body) // 2)]
        if "insert" in kinds and answer.inserts is not None:
            answer.inserts()
        self._send(answer, truncate="truncate" in kinds)

    def _send(self, answer: Answer, *, truncate: bool = False) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(answer.body[: len(answer.body) // 2] if truncate else answer.body)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: ReplayState) -> None:
        super().__init__(address, _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout on a slow answer) is not an error of the server."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class ReplayServer:
    base_url: str
    state: ReplayState
    _server: _Server
    _thread: threading.Thread

    @property
    def catalog(self) -> Catalog:
        return self.state.catalog

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_replay_server(
    fixtures_dir: str | Path,
    *,
    faults: Sequence[Fault] = (),
    scale: Mapping[str, int] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    be_token: str | None = None,
    be_client: tuple[str, str] | None = None,
) -> ReplayServer:
    """Serve a folder of recorded documents on `host:port` (a free port by default), in a thread.

    `scale` repeats each source's records under fresh ids up to a count (`{"ted": 7000, ...}`);
    `be_token` makes the BE search require that bearer token, and `be_client` (id, secret) lets
    `/oauth/token` hand it out. Use as a context manager, or call `stop()`.
    """
    catalog = load_catalog(str(Path(fixtures_dir).resolve())).copy()
    if scale:
        catalog = scaled(catalog, scale)
    state = ReplayState(catalog, faults, be_token=be_token, be_client=be_client)
    server = _Server((host, port), state)
    thread = threading.Thread(target=server.serve_forever, name="pib-replay", daemon=True)
    thread.start()
    return ReplayServer(f"http://{host}:{server.server_port}", state, server, thread)


@contextmanager
def replay_server(fixtures_dir: str | Path, **options: Any) -> Iterator[ReplayServer]:
    server = start_replay_server(fixtures_dir, **options)
    try:
        yield server
    finally:
        server.stop()

"""The replay server answers in each source's real shapes and limits, and injects the faults asked."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import feedparser
import pytest

from crawlers.parsers import parse_bytes
from crawlers.replay import Fault, ReplayServer
from crawlers.replay.catalog import load_catalog, scaled
from tests.conftest import FIXTURES


def _call(server: ReplayServer, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server.base_url + path, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        raw = answer.read()
    return json.loads(raw) if raw[:1] in (b"{", b"[") else raw


def _status(server: ReplayServer, path: str, body: Any = None, headers: dict[str, str] | None = None) -> int:
    try:
        _call(server, path, body, headers)
    except urllib.error.HTTPError as error:
        return error.code
    return 200


def test_ted_search_pages_by_iteration_token_and_links_the_notice_xml(replay) -> None:
    server = replay()
    query = {"query": "buyer-country IN (BEL FRA) AND publication-date>=20060101 AND publication-date<=20260630"}
    first = _call(server, "/v3/notices/search", {**query, "limit": 10, "paginationMode": "ITERATION"})
    numbers = [n["publication-number"] for n in first["notices"]]
    following = _call(
        server,
        "/v3/notices/search",
        {**query, "limit": 250, "paginationMode": "ITERATION", "iterationNextToken": first["iterationNextToken"]},
    )

    total = first["totalNoticeCount"]
    assert 10 < total == len(numbers) + len(following["notices"])
    assert following["iterationNextToken"] is None
    assert all(set(n["buyer-country"]) & {"BEL", "FRA"} for n in first["notices"])
    result = first["notices"][0]
    assert result["publication-date"][10:] in ("+01:00", "+02:00")
    xml = _call(server, urllib.parse.urlsplit(result["links"]["xml"]["MUL"]).path)
    assert parse_bytes(xml).notices[0].notice.source_id == result["publication-number"]
    assert _status(server, "/v3/notices/search", {"query": "publication-date>2020"}) == 400
    assert _status(server, "/v3/notices/search", {**query, "limit": 251}) == 400


def test_boamp_records_filter_order_and_the_10000_limit(replay) -> None:
    server = replay()

    def records(**params: Any) -> Any:
        return _call(server, "/api/explore/v2.1/catalog/datasets/boamp/records?" + urllib.parse.urlencode(params))

    page = records(where="dateparution >= date'2026-01-01' AND dateparution <= date'2026-12-31'", limit=2)
    ordered = records(order_by="dateparution desc", limit=100)

    assert page["total_count"] == 3 and len(page["results"]) == 2
    assert {r["dateparution"][:4] for r in page["results"]} == {"2026"}
    assert isinstance(page["results"][0]["donnees"], str)  # as the real API: JSON strings inside
    dates = [r["dateparution"] for r in ordered["results"]]
    assert dates == sorted(dates, reverse=True) and ordered["total_count"] == 23
    path = "/api/explore/v2.1/catalog/datasets/boamp/records?"
    assert _status(server, path + "limit=100&offset=9900") == 200
    assert _status(server, path + "limit=100&offset=9901") == 400
    assert _status(server, path + "limit=101") == 400
    assert _status(server, path + urllib.parse.urlencode({"where": "objet like 'x'"})) == 400


def test_be_pages_newest_first_and_the_token_when_required(replay) -> None:
    open_server = replay()
    locked = replay(be_token="t0ken", be_client=("pib", "s3cret"))

    page = _call(open_server, "/api/sea/search/publications?page=1&pageSize=10")
    dates = [p["publicationDate"] for p in page["publications"]]

    assert page["totalCount"] == 30 and len(dates) == 10 and dates == sorted(dates, reverse=True)
    assert _status(locked, "/api/sea/search/publications?page=1&pageSize=10") == 401
    token_request = urllib.request.Request(
        locked.base_url + "/oauth/token",
        data=b"grant_type=client_credentials&client_id=pib&client_secret=s3cret",
    )
    with urllib.request.urlopen(token_request, timeout=10) as answer:
        token = json.loads(answer.read())["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert _status(locked, "/api/sea/search/publications?page=1&pageSize=10", headers=bearer) == 200


@pytest.mark.parametrize("path", ["/feeds/all.rss", "/feeds/ted.atom"])
def test_feeds_are_valid_rss_and_atom_of_the_recorded_notices(path: str, replay) -> None:
    server = replay()
    feed = feedparser.parse(_call(server, path))

    assert not feed.bozo
    assert feed.entries and all(entry.get("title") and entry.get("link") for entry in feed.entries)
    assert len({entry.id for entry in feed.entries}) == len(feed.entries)


def test_faults_429_500_truncated_and_malformed(replay) -> None:
    server = replay(
        faults=[
            Fault("429", path="/api/sea/", seconds=7),
            Fault("500", path="/api/sea/", after=1),
            Fault("truncate", path="/api/sea/", after=2),
            Fault("malformed", path="/api/sea/", after=3),
        ]
    )
    path = "/api/sea/search/publications?page=1&pageSize=5"
    with pytest.raises(urllib.error.HTTPError) as too_many:
        _call(server, path)
    assert too_many.value.code == 429 and too_many.value.headers["Retry-After"] == "7"
    assert _status(server, path) == 500
    with pytest.raises(http.client.IncompleteRead):
        _call(server, path)
    with pytest.raises(json.JSONDecodeError):
        _call(server, path)
    assert _call(server, path)["totalCount"] == 30
    assert [kind for kind, _ in server.state.applied] == ["429", "500", "truncate", "malformed"]


def test_scaled_catalog_repeats_records_under_fresh_ids_that_parse() -> None:
    catalog = scaled(load_catalog(str(FIXTURES.resolve())), {"ted": 400, "boamp": 50, "be": 70})

    assert (len(catalog.ted), len(catalog.boamp), len(catalog.be)) == (400, 50, 70)
    ted_ids = set()
    for document in catalog.ted:
        for parsed in parse_bytes(document.body).notices:
            assert parsed.notice.source_id == document.number
            ted_ids.add(document.number)
    assert len(ted_ids) == sum(1 for d in catalog.ted if d.feed is not None)
    keys = [r.key for r in catalog.boamp] + [r.key for r in catalog.be]
    assert len(set(keys)) == len(keys)

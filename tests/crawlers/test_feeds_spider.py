"""The feeds spider over HTTP: RSS, Atom and a listing page served by the replay server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from crawlers.parsers.feeds import parse_feed, parse_listing

from .conftest import Crawler, count, stored


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:  # the local replay server only
        return answer.read()


def test_feeds_and_a_listing_are_stored_once_and_a_broken_feed_is_an_error(crawl: Crawler, replay) -> None:
    server = replay()
    base = server.base_url
    feeds = [
        {"name": "rss-all", "url": f"{base}/feeds/all.rss"},
        {"name": "atom-boamp", "url": f"{base}/feeds/boamp.atom", "country": "FR", "language": "fr"},
        {"name": "listing-be", "url": f"{base}/listings/be.html", "kind": "listing", "country": "BE"},
        {"name": "gone", "url": f"{base}/feeds/nowhere.rss"},
    ]
    today = date.today()
    expected = {}
    for outcome in (
        parse_feed(_get(feeds[0]["url"]), feed_name="rss-all", today=today),
        parse_feed(_get(feeds[1]["url"]), feed_name="atom-boamp", today=today, country="FR", language="fr"),
        parse_listing(
            _get(feeds[2]["url"]), feed_name="listing-be", page_url=feeds[2]["url"], today=today, country="BE"
        ),
    ):
        assert outcome.notices and not outcome.failures and not outcome.undated
        expected.update({(p.notice.source, p.notice.source_id): p.notice.to_json_dict() for p in outcome.notices})

    first = crawl("feeds", server, feeds=feeds, since=None, until=None)
    second = crawl("feeds", server, feeds=feeds, since=None, until=None)

    assert stored(crawl.engine) == expected
    assert first.status == second.status == "failed"
    assert first.errors == [f"feed gone: {base}/feeds/nowhere.rss: HTTP 404"]
    assert (first.stored, second.stored, second.unchanged) == (len(expected), 0, len(expected))
    assert count(crawl.engine, "notice_version") == 0


def test_no_feed_configured_is_an_error(crawl_sqlite: Crawler, replay) -> None:
    report = crawl_sqlite("feeds", replay(), feeds=[], since=None, until=None)

    assert report.status == "failed"
    assert "no feeds configured" in report.errors[0]


class _Moved(BaseHTTPRequestHandler):
    """A feed that moved: every path answers 301 to the replay server's RSS feed."""

    target = ""

    def do_GET(self) -> None:
        self.send_response(301)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_moved_feed_is_followed_and_the_crawl_prints_no_scrapy_warning(crawl_sqlite: Crawler, replay) -> None:
    server = replay()
    target = f"{server.base_url}/feeds/all.rss"
    expected = parse_feed(_get(target), feed_name="moved", today=date.today()).notices
    handler = type("Moved", (_Moved,), {"target": target})
    moved = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=moved.serve_forever, daemon=True).start()
    try:
        env = {
            **os.environ,
            "PIB_DATABASE_URL": crawl_sqlite.database_url,
            "PIB_CONFIG_FILE": "",
            "PIB_FEEDS": json.dumps([{"name": "moved", "url": f"http://127.0.0.1:{moved.server_port}/old.rss"}]),
            "PIB_DOWNLOAD_DELAY": "0",
            "PIB_AUTOTHROTTLE": "false",
        }
        pib = Path(sys.executable).parent / "pib"
        done = subprocess.run([pib, "crawl", "feeds"], env=env, capture_output=True, text=True, timeout=120)
    finally:
        moved.shutdown()
    assert done.returncode == 0, done.stderr
    assert f"{len(expected)} stored" in done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    assert count(crawl_sqlite.engine, "notice") == len(expected) > 0

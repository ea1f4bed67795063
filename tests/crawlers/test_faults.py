"""Injected faults are survived with nothing lost, and the run's health record says what happened."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from crawlers.crawl.context import read_checkpoint
from crawlers.replay import Fault

from .conftest import UNTIL, Crawler, expected_records, expected_ted, runs, stored


def _said(report_warnings: list[str], *phrases: str) -> None:
    text = "\n".join(report_warnings)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in the health record:\n{text}"


def test_ted_survives_429_500_slow_truncated_and_malformed_answers(crawl_sqlite: Crawler, replay) -> None:
    server = replay(
        faults=[
            Fault("429", path="/v3/notices/search", times=2, seconds=1),
            Fault("500", path="/en/notice/", after=3, times=2),
            Fault("slow", path="/en/notice/", after=8, seconds=3),
            Fault("truncate", path="/en/notice/", after=12),
            Fault("malformed", path="/en/notice/", after=16),
        ]
    )

    report = crawl_sqlite("ted", server, download_timeout=1)

    assert report.status == "ok", report.describe()
    assert stored(crawl_sqlite.engine) == expected_ted(server)
    assert sorted({kind for kind, _ in server.state.applied}) == ["429", "500", "malformed", "slow", "truncate"]
    _said(
        report.warnings,
        "HTTP 429, waited as asked (Retry-After): 2×",
        "HTTP 500, retried after a pause: 2×",
        "timeout, retried after a pause",
        "truncated answer, retried after a pause",
        "malformed answer, fetched again: 1×",
    )
    assert runs(crawl_sqlite.engine)[-1]["warnings"] == report.warnings


@pytest.mark.parametrize(("source", "path"), [("boamp", "/api/explore/"), ("be", "/api/sea/")])
def test_api_pages_survive_429_500_and_malformed_json(source: str, path: str, crawl_sqlite: Crawler, replay) -> None:
    server = replay(
        faults=[
            Fault("429", path=path, seconds=1),
            Fault("500", path=path, after=1),
            Fault("malformed", path=path, after=2),
            Fault("truncate", path=path, after=3),
        ]
    )

    report = crawl_sqlite(source, server)

    assert report.status == "ok", report.describe()
    assert stored(crawl_sqlite.engine) == expected_records(getattr(server.catalog, source))
    _said(report.warnings, "HTTP 429", "HTTP 500", "malformed JSON answer, fetched again", "truncated answer")


@pytest.mark.parametrize(
    ("source", "path", "scale"),
    [
        ("boamp", "/api/explore/", {"boamp": 350}),
        ("be", "/api/sea/", {"be": 350}),
        ("ted", "/v3/notices/search", {"ted": 300}),
    ],
)
def test_a_record_inserted_between_pages_is_not_lost(
    source: str, path: str, scale: dict, crawl_sqlite: Crawler, replay
) -> None:
    server = replay(faults=[Fault("insert", path=path)], scale=scale)

    report = crawl_sqlite(source, server, ted_countries=[])

    assert report.status == "ok", report.describe()
    [inserted] = server.state.inserted
    if source == "ted":
        expected = expected_ted(server, countries=())
    else:
        expected = expected_records(getattr(server.catalog, source))
    assert (inserted.split(":")[0], inserted.split(":", 1)[1]) in stored(crawl_sqlite.engine)
    assert stored(crawl_sqlite.engine) == expected
    _said(report.warnings, "the listing changed while paging, window read again: 1×")


def test_a_notice_given_up_fails_the_run_keeps_the_checkpoint_and_the_next_run_gets_it(
    crawl_sqlite: Crawler, replay
) -> None:
    broken = replay(faults=[Fault("500", path="/en/notice/", after=4, times=100)])

    failed = crawl_sqlite("ted", broken, retry_times=2)

    assert failed.status == "failed"
    assert any("/en/notice/" in error and "HTTP 500" in error for error in failed.errors), failed.errors
    assert read_checkpoint(crawl_sqlite.engine, "ted") is None
    assert len(stored(crawl_sqlite.engine)) < len(expected_ted(broken))

    repaired = replay()
    again = crawl_sqlite("ted", repaired)

    assert again.status == "ok"
    assert stored(crawl_sqlite.engine) == expected_ted(repaired)
    assert read_checkpoint(crawl_sqlite.engine, "ted") == UNTIL


def test_retry_after_longer_than_allowed_is_capped_and_said(crawl_sqlite: Crawler, replay) -> None:
    server = replay(faults=[Fault("429", path="/api/explore/", seconds=120)])

    report = crawl_sqlite("boamp", server, retry_after_max_seconds=0.5)

    assert report.status == "ok"
    _said(report.warnings, "asked to wait 120 s; waited 0.5 s", "HTTP 429, waited as asked")


def test_be_with_client_credentials_gets_a_token_and_a_bad_secret_is_an_error(crawl_sqlite: Crawler, replay) -> None:
    server = replay(be_token="t0ken", be_client=("pib", "s3cret"))
    credentials = {"be_client_id": "pib", "be_token_url": f"{server.base_url}/oauth/token"}

    good = crawl_sqlite("be", server, be_client_secret="s3cret", **credentials)
    bad = crawl_sqlite("be", server, be_client_secret="wrong", since=date(2026, 1, 1), **credentials)
    token = crawl_sqlite("be", server, be_token="t0ken", since=date(2026, 1, 1))

    assert good.status == "ok", good.describe()
    assert stored(crawl_sqlite.engine) == expected_records(server.catalog.be)
    assert bad.status == "failed"
    assert "oauth/token: HTTP 401" in bad.errors[0]
    assert token.status == "ok", token.describe()


def test_a_store_that_refuses_fails_the_run_and_keeps_the_checkpoint(crawl_sqlite: Crawler, replay) -> None:
    with crawl_sqlite.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE lot"))

    report = crawl_sqlite("boamp", replay())

    assert report.status == "failed"
    assert report.errors[0].startswith("the store refused 23 notices: OperationalError")
    assert read_checkpoint(crawl_sqlite.engine, "boamp") is None
    assert runs(crawl_sqlite.engine)[-1]["status"] == "failed"

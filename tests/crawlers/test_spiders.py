"""Each spider, run for real over HTTP against the replay server: it stores exactly what parsing the
served documents gives, stores nothing new the second time, ends an interrupted crawl with the same
store once restarted, and says in its health record what it met."""

from __future__ import annotations

from datetime import date

import pytest

from crawlers.crawl.context import read_checkpoint

from .conftest import SINCE, UNTIL, Crawler, count, expected_records, expected_ted, runs, stored


def _expected(source: str, server: object) -> dict:
    if source == "ted":
        return expected_ted(server)  # type: ignore[arg-type]
    return expected_records(getattr(server.catalog, source))  # type: ignore[attr-defined]


@pytest.mark.parametrize("source", ["ted", "boamp", "be"])
def test_full_crawl_stores_the_served_notices_and_a_second_stores_nothing_new(
    source: str, crawl: Crawler, replay
) -> None:
    server = replay()
    expected = _expected(source, server)
    assert expected

    first = crawl(source, server)

    assert first.status == "ok", first.describe()
    assert stored(crawl.engine) == expected
    assert (first.stored, first.updated, first.failed, first.errors) == (len(expected), 0, 0, [])
    assert first.found >= len(expected)
    assert read_checkpoint(crawl.engine, source) == UNTIL
    [record] = runs(crawl.engine)
    assert (record["status"], record["stored"], record["source"]) == ("ok", len(expected), source)
    assert record["requests"] == first.requests > 0
    assert record["ended_at"] is not None

    second = crawl(source, server)

    assert second.status == "ok", second.describe()
    assert (second.stored, second.updated, second.unchanged) == (0, 0, len(expected))
    assert stored(crawl.engine) == expected
    assert count(crawl.engine, "notice_version") == 0


def test_ted_documents_that_do_not_parse_are_set_aside_once(crawl_sqlite: Crawler, replay) -> None:
    server = replay()
    expected = expected_ted(server, countries=())
    unparsable = [d for d in server.catalog.ted if d.feed is None and SINCE <= d.published <= UNTIL]
    assert unparsable

    report = crawl_sqlite("ted", server, ted_countries=[])
    again = crawl_sqlite("ted", server, ted_countries=[])

    assert report.status == again.status == "ok"
    assert stored(crawl_sqlite.engine) == expected
    assert report.failed == again.failed == len(unparsable)
    assert count(crawl_sqlite.engine, "parse_error") == len(unparsable)


@pytest.mark.parametrize(
    ("source", "options", "scale"), [("boamp", {"crawl_window_notices": 150}, {"boamp": 400}), ("be", {}, {"be": 400})]
)
def test_interrupted_crawl_restarted_ends_like_an_uninterrupted_one(
    source: str, options: dict, scale: dict, crawl_sqlite: Crawler, crawl_other: Crawler, replay
) -> None:
    server = replay(scale=scale)
    whole = crawl_other(source, server, **options)
    assert whole.status == "ok", whole.describe()

    interrupted = crawl_sqlite(source, server, max_requests_per_run=max(2, whole.requests // 2), **options)

    assert interrupted.status == "interrupted", interrupted.describe()
    assert "closespider_pagecount" in interrupted.warnings[0]
    assert 0 < len(stored(crawl_sqlite.engine)) < len(stored(crawl_other.engine))

    restarted = crawl_sqlite(source, server, **options)

    assert restarted.status == "ok", restarted.describe()
    assert stored(crawl_sqlite.engine) == stored(crawl_other.engine)
    assert [run["status"] for run in runs(crawl_sqlite.engine)] == ["interrupted", "ok"]


def test_interrupted_ted_crawl_keeps_the_windows_it_finished_and_the_next_run_continues(
    crawl_sqlite: Crawler, crawl_other: Crawler, replay
) -> None:
    server = replay()
    options = {"ted_countries": [], "crawl_window_notices": 25}
    whole = crawl_other("ted", server, **options)

    first = crawl_sqlite("ted", server, max_requests_per_run=whole.requests // 2, **options)

    assert first.status == "interrupted"
    done = read_checkpoint(crawl_sqlite.engine, "ted")
    assert done is not None and date(2006, 1, 1) < done < UNTIL
    assert first.checkpoint_after == done
    assert 0 < len(stored(crawl_sqlite.engine)) < len(stored(crawl_other.engine))

    following = crawl_sqlite("ted", server, since=None, crawl_overlap_days=3, **options)

    assert following.status == "ok", following.describe()
    assert (following.since - done).days == -3
    assert stored(crawl_sqlite.engine) == stored(crawl_other.engine) == expected_ted(server, countries=())
    assert read_checkpoint(crawl_sqlite.engine, "ted") == read_checkpoint(crawl_other.engine, "ted") == UNTIL


def test_a_backfill_never_moves_the_checkpoint_backwards_nor_over_a_gap(crawl_sqlite: Crawler, replay) -> None:
    server = replay()
    first = crawl_sqlite("be", server, since=date(2023, 11, 1), until=date(2023, 12, 31))
    assert read_checkpoint(crawl_sqlite.engine, "be") == date(2023, 12, 31)

    earlier = crawl_sqlite("be", server, since=date(2023, 9, 1), until=date(2023, 10, 31))
    later_with_gap = crawl_sqlite("be", server, since=date(2026, 1, 1), until=date(2026, 1, 31))

    assert first.status == earlier.status == later_with_gap.status == "ok"
    assert (first.found, earlier.found, later_with_gap.found) == (2, 3, 25)
    assert read_checkpoint(crawl_sqlite.engine, "be") == date(2023, 12, 31)


def test_a_suspicious_empty_answer_is_an_error_and_keeps_the_checkpoint(crawl_sqlite: Crawler, replay) -> None:
    server = replay()
    crawl_sqlite("boamp", server, since=date(2006, 7, 1), until=date(2006, 7, 31))

    empty = crawl_sqlite("boamp", server, since=date(2006, 8, 1), until=date(2006, 8, 31))

    assert empty.status == "failed"
    assert "suspicious empty answer" in empty.errors[0]
    assert read_checkpoint(crawl_sqlite.engine, "boamp") == date(2006, 7, 31)
    assert runs(crawl_sqlite.engine)[-1]["status"] == "failed"


def test_a_weekend_without_notices_is_not_suspicious(crawl_sqlite: Crawler, replay) -> None:
    report = crawl_sqlite("boamp", replay(), since=date(2017, 4, 1), until=date(2017, 4, 2))

    assert report.status == "ok", report.describe()
    assert report.found == 0

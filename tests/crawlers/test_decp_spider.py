"""The DECP spider, run for real over HTTP against the replay server (which serves the recorded contracts in
the flat shape of the consolidated dataset's API): it stores what parsing the served records gives, windows by
the publication date of the data, and sets a bad record aside between two good ones."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from crawlers.crawl.context import read_checkpoint
from crawlers.replay.catalog import Record
from crawlers.store.service import error_table

from .conftest import UNTIL, Crawler, count, expected_records, stored

GIP = "13001845000028"


def test_full_crawl_stores_the_served_contracts_and_a_second_stores_nothing_new(crawl: Crawler, replay) -> None:
    server = replay()
    expected = expected_records(server.catalog.decp)
    assert len(expected) == 18  # the two recorded files: 1 + 17 contracts

    first = crawl("decp", server)

    assert first.status == "ok", first.describe()
    assert stored(crawl.engine) == expected
    assert (first.stored, first.failed, first.errors) == (18, 0, [])
    assert read_checkpoint(crawl.engine, "decp") == UNTIL
    tma = stored(crawl.engine)[("decp", GIP + "D2F2019S0000102")]
    assert tma["awards"][0]["winners"][0]["identifier"] == "37890194600483"
    assert tma["awards"][0]["value"] == 4087520.83

    second = crawl("decp", server)

    assert second.status == "ok", second.describe()
    assert (second.stored, second.updated, second.unchanged) == (0, 0, 18)
    assert count(crawl.engine, "notice_version") == 0


def test_a_window_reads_the_contracts_published_in_it(crawl_sqlite: Crawler, replay) -> None:
    server = replay()
    report = crawl_sqlite("decp", server, since=date(2024, 2, 1), until=date(2024, 3, 31))
    assert report.status == "ok", report.describe()
    assert list(stored(crawl_sqlite.engine)) == [("decp", GIP + "2024_D2F_2023S12323_33 962_01")]
    assert read_checkpoint(crawl_sqlite.engine, "decp") == date(2024, 3, 31)


def test_a_bad_record_between_two_good_ones_is_set_aside_and_the_others_stored(crawl: Crawler, replay) -> None:
    server = replay()
    good = list(server.catalog.decp)
    # sorts between D2F0000502 and D2F2016F0000202 of 2024-10-06 (the page is ordered by date, then uid)
    key = GIP + "D2F1000000000"
    bad = {
        "uid": key,
        "id": "D2F1000000000",
        "acheteur_id": GIP,
        "objet": "CDL",
        "datenotification": "2024-09-30",
        "datepublicationdonnees": "2024-10-06",
        "titulaire_id_1": "44090956200041",
        "titulaire_typeidentifiant_1": "SIRET",
        "titulaire_denominationsociale_1": "École Numérique SA",
    }
    server.catalog.decp.append(Record(key, date(2024, 10, 6), bad, None))

    report = crawl("decp", server)

    assert stored(crawl.engine) == expected_records(good)
    assert report.failed == 1, report.describe()
    with crawl.engine.connect() as connection:
        rows = connection.execute(sa.select(error_table.c.origin, error_table.c.record, error_table.c.reason)).all()
    [(origin, record, reason)] = rows
    assert origin.startswith(server.base_url) and "decp-2022-marches-valides" in origin
    assert reason == "DECP contract D2F1000000000: no object (objet)"
    index = int(record.removeprefix("results[").rstrip("]"))
    assert 0 < index < len(good), "the bad record sits between two good ones"
    assert f"record set aside: {origin} {record}: {reason}" in report.warnings

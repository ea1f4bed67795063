"""A bad record in an API page (an object without its id, `{}`) is set aside at its page and index, and
the records after it in the same page are stored: each record stands alone."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from crawlers.replay.catalog import Record
from crawlers.store.service import error_table

from .conftest import Crawler, expected_records, stored

BAD_RECORDS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "boamp": [
        ("BWP06181010191I", {"objet": "École Numérique SA : maintenance", "dateparution": "2006-07-04"}),
        ("BWP06181060191C", {}),
    ],
    "be": [
        ("fb000000-0000-0000-0000-000000000001", {"dossier": {"titles": [{"language": "FR", "text": "Crèche"}]}}),
        ("c5000000-0000-0000-0000-000000000002", {}),
    ],
}
"""Keys that sort each bad record between two good ones of the same page (BOAMP by date then idweb, BE
newest first); the keys are the replay server's, the records themselves carry no id."""

PUBLISHED = {"boamp": date(2006, 7, 4), "be": date(2026, 1, 28)}
PAGE_LIST = {"boamp": "results", "be": "publications"}


@pytest.mark.parametrize("source", ["boamp", "be"])
def test_bad_records_in_a_page_are_set_aside_and_the_records_after_them_stored(
    source: str, crawl: Crawler, replay
) -> None:
    server = replay()
    good = list(getattr(server.catalog, source))
    for key, data in BAD_RECORDS[source]:
        getattr(server.catalog, source).append(Record(key, PUBLISHED[source], data, None))
    expected = expected_records(good)

    report = crawl(source, server)

    assert stored(crawl.engine) == expected
    assert report.failed == 2, report.describe()
    with crawl.engine.connect() as connection:
        rows = connection.execute(sa.select(error_table.c.origin, error_table.c.record, error_table.c.reason)).all()
    assert len(rows) == 2
    for origin, record, reason in rows:
        assert origin.startswith(server.base_url) and record.startswith(f"{PAGE_LIST[source]}["), rows
        assert "without idweb" in reason if source == "boamp" else "no publicationWorkspaceId" in reason
        index = int(record.removeprefix(f"{PAGE_LIST[source]}[").rstrip("]"))
        assert 0 < index < len(good), "the bad record sits between two good ones"
        assert f"record set aside: {origin} {record}: {reason}" in report.warnings

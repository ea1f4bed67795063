"""The notice store: idempotent upsert, versions, failures set aside, export; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from crawlers.store.search import include_name as search_index_parts
from crawlers.store.service import (
    Failure,
    deadline_utc,
    decompress,
    error_table,
    export_notices,
    lot_table,
    notice_table,
    raw_table,
    record_failures,
    store_notices,
    version_table,
)
from pib.models import import_all_models
from tests.factories import incoming, make_notice


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_storing_twice_changes_nothing(engine: Engine) -> None:
    notices = [make_notice(source_id=f"26-{n:04d}") for n in range(3)]
    first = store_notices(engine, [incoming(n) for n in notices])
    assert (first.stored, first.updated, first.unchanged) == (3, 0, 0)
    second = store_notices(engine, [incoming(n) for n in notices])
    assert (second.stored, second.updated, second.unchanged) == (0, 0, 3)
    assert count(engine, notice_table) == 3
    assert count(engine, lot_table) == 3
    assert count(engine, raw_table) == 3
    assert count(engine, version_table) == 0


def test_newer_version_replaces_and_older_is_kept(engine: Engine) -> None:
    original = make_notice()
    store_notices(engine, [incoming(original)])
    moved = make_notice(
        published="2026-01-25",
        deadline="2026-03-02T12:00:00+01:00",
        lots=[{"id": "1"}, {"id": "2", "title": "Maintenance"}],
    )
    summary = store_notices(engine, [incoming(moved)])
    assert (summary.stored, summary.updated) == (0, 1)
    with engine.connect() as connection:
        row = connection.execute(sa.select(notice_table)).mappings().one()
        versions = connection.execute(sa.select(version_table)).mappings().all()
        lots = connection.execute(sa.select(lot_table.c.lot_id).order_by(lot_table.c.position)).scalars().all()
    assert row["version"] == 2
    assert row["deadline"] == "2026-03-02T12:00:00+01:00"
    assert row["data"] == moved.to_json_dict()
    assert [v["data"] for v in versions] == [original.to_json_dict()]
    assert lots == ["1", "2"]
    # Ingesting the replaced version again changes nothing.
    again = store_notices(engine, [incoming(original), incoming(moved)])
    assert (again.updated, again.unchanged) == (0, 2)


def test_older_version_arriving_late_is_kept_without_replacing(engine: Engine) -> None:
    newer = make_notice(published="2026-02-01", title="Titre corrigé")
    older = make_notice(published="2026-01-21")
    store_notices(engine, [incoming(newer)])
    summary = store_notices(engine, [incoming(older)])
    assert (summary.updated, summary.older) == (0, 1)
    with engine.connect() as connection:
        assert connection.execute(sa.select(notice_table.c.title)).scalar_one() == "Titre corrigé"
    assert count(engine, version_table) == 1
    assert store_notices(engine, [incoming(older)]).unchanged == 1


def test_two_versions_in_one_run_are_compared_in_order(engine: Engine) -> None:
    first = make_notice()
    second = make_notice(published="2026-01-22", title="Nouveau titre")
    summary = store_notices(engine, [incoming(first), incoming(second)])
    assert (summary.stored, summary.updated) == (1, 1)
    assert count(engine, notice_table) == 1
    assert count(engine, version_table) == 1


def test_same_id_at_two_sources_is_two_notices(engine: Engine) -> None:
    store_notices(engine, [incoming(make_notice()), incoming(make_notice(source="be"))])
    assert count(engine, notice_table) == 2


def test_raw_document_is_kept_compressed(engine: Engine) -> None:
    raw = b"<ContractNotice>...</ContractNotice>" * 100
    store_notices(engine, [incoming(make_notice(), raw=raw)])
    with engine.connect() as connection:
        content, size = connection.execute(sa.select(raw_table.c.content, raw_table.c.size)).one()
    assert decompress(content) == raw
    assert size == len(raw)


def test_batches_hold_many_notices(engine: Engine) -> None:
    notices = [make_notice(source_id=f"26-{n:05d}") for n in range(1203)]
    summary = store_notices(engine, (incoming(n) for n in notices), batch_size=500)
    assert summary.stored == 1203
    assert count(engine, notice_table) == 1203


def test_failures_are_set_aside_with_their_file(engine: Engine) -> None:
    record_failures(
        engine,
        [Failure("bad.xml", "", "malformed XML"), Failure("page.json", "results[2]", "no id")],
        {"bad.xml": b"<ContractNotice"},
    )
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT origin, record, reason, raw_document_id FROM parse_error ORDER BY id")
        ).all()
    assert [(r.origin, r.record, r.reason) for r in rows] == [
        ("bad.xml", "", "malformed XML"),
        ("page.json", "results[2]", "no id"),
    ]
    assert rows[0].raw_document_id is not None and rows[1].raw_document_id is None
    # The same failures seen again are not recorded twice; a new one is.
    record_failures(
        engine,
        [Failure("bad.xml", "", "malformed XML"), Failure("page.json", "results[3]", "no title")],
        {"bad.xml": b"<ContractNotice"},
    )
    assert count(engine, error_table) == 3


def test_export_streams_the_normalized_notices(engine: Engine) -> None:
    notices = [make_notice(source_id=f"26-{n:04d}", published=f"2026-01-{10 + n % 5:02d}") for n in range(12)]
    notices.append(make_notice(source="be", source_id="abc"))
    store_notices(engine, [incoming(n) for n in notices])
    exported = list(export_notices(engine, source="boamp", batch_size=5))
    assert len(exported) == 12
    assert [e["published"] for e in exported] == sorted(e["published"] for e in exported)
    by_id = {n.source_id: n.to_json_dict() for n in notices}
    assert all(e == by_id[e["source_id"]] for e in exported)
    recent = list(export_notices(engine, since=date(2026, 1, 14)))
    assert {e["published"] for e in recent} <= {"2026-01-14", "2026-01-21"}
    assert len(recent) == 2 + 1


def test_deadline_as_utc_instant() -> None:
    assert deadline_utc(make_notice(deadline="2026-02-16T12:00:00+01:00")) == datetime(2026, 2, 16, 11, tzinfo=UTC)
    # A date alone is the end of that day where the buyer is (Paris, summer time).
    assert deadline_utc(make_notice(deadline="2026-07-01")) == datetime(2026, 7, 1, 21, 59, 59, tzinfo=UTC)


def test_migrations_match_the_models(engine: Engine) -> None:
    import_all_models()
    with engine.connect() as connection:
        opts = {"compare_type": False, "include_name": search_index_parts}  # FTS5 table, tsvector: not models
        context = MigrationContext.configure(connection, opts=opts)
        assert compare_metadata(context, SQLModel.metadata) == []


def test_control_characters_in_a_notice_are_dropped_and_the_notices_around_kept(engine: Engine) -> None:
    """A JSON source may carry `\\u0000` (XML cannot): PostgreSQL refuses NUL in text, so it never reaches it."""
    dirty = make_notice(
        source_id="26-0002",
        title="Travaux\x00 de voirie\x1b",
        description="Lot unique\x07\nvoir le CCTP",
        buyer={"name": "Ville\x00 de Lille", "country": "FR", "town": "Lille\x00"},
        lots=[{"id": "1\x00", "title": "Voirie\x0b"}],
        url="https://www.boamp.fr/avis/26-0002\x00",
    )
    notices = [make_notice(source_id="26-0001"), dirty, make_notice(source_id="26-0003")]
    summary = store_notices(engine, [incoming(n) for n in notices])
    assert (summary.stored, summary.failed) == (3, 0)
    [data] = [data for data in export_notices(engine) if data["source_id"] == "26-0002"]
    assert (data["title"], data["description"]) == ("Travaux de voirie", "Lot unique\nvoir le CCTP")
    assert (data["buyer"]["name"], data["buyer"]["town"]) == ("Ville de Lille", "Lille")
    assert (data["lots"][0]["id"], data["lots"][0]["title"], data["url"]) == (
        "1",
        "Voirie",
        "https://www.boamp.fr/avis/26-0002",
    )

"""The store's bulk writes (COPY and executemany RETURNING on PostgreSQL, executemany on SQLite) and its look-up of
known notices source by source: the same rows as one statement a row would write."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.store.db import insert_returning, insert_rows
from crawlers.store.models import utcnow
from crawlers.store.search import search_table
from crawlers.store.service import insert_new, lot_table, notice_table, raw_table, store_notices
from tests.factories import incoming, make_notice


def test_a_batch_of_several_sources_sharing_ids_finds_each_notice_at_its_own_source(engine: Engine) -> None:
    first = [make_notice(source=source, source_id=f"26-{n}") for source in ("boamp", "ted", "be") for n in range(3)]
    assert store_notices(engine, [incoming(notice) for notice in first]).stored == 9
    changed = make_notice(source="ted", source_id="26-1", published="2026-01-25", title="Titre corrigé")
    again = [incoming(notice) for notice in first if (notice.source, notice.source_id) != ("ted", "26-1")]
    summary = store_notices(engine, [*again, incoming(changed), incoming(make_notice(source="be", source_id="26-9"))])
    assert (summary.stored, summary.updated, summary.unchanged) == (1, 1, 8)
    with engine.connect() as connection:
        titles = dict(
            connection.execute(
                sa.select(notice_table.c.source, notice_table.c.title).where(notice_table.c.source_id == "26-1")
            ).all()
        )
        indexed = connection.execute(
            sa.select(search_table.c.title)
            .join(notice_table, notice_table.c.id == search_table.c.notice_id)
            .where(notice_table.c.source == "ted", notice_table.c.source_id == "26-1")
        ).scalar_one()
    assert titles == {"boamp": first[0].title, "ted": "Titre corrigé", "be": first[0].title}
    assert indexed == "titre corrige"


def test_bulk_writes_keep_json_columns_and_skip_conflicts(engine: Engine) -> None:
    store_notices(engine, [incoming(make_notice())])
    with engine.begin() as connection:
        notice_id = connection.execute(sa.select(notice_table.c.id)).scalar_one()
        lot = {"notice_id": notice_id, "lot_id": "2", "position": 1, "title": "Lot «deux»", "cpv_main": None}
        insert_rows(connection, lot_table, [lot | {"cpv_additional": ["72212000"], "nuts": ["BE310", "FRE11"]}])
        kept = connection.execute(sa.select(raw_table.c.sha256, raw_table.c.format, raw_table.c.origin)).one()
        row = {"format": "test", "size": 1, "content": b"\x00", "received_at": utcnow()}
        statement = insert_new(connection, raw_table, "sha256").returning(raw_table.c.sha256)
        rows = [row | {"sha256": kept.sha256, "origin": "again"}, row | {"sha256": "f" * 64, "origin": "new"}]
        returned = insert_returning(connection, statement, rows)
    assert [tuple(r) for r in returned] == [("f" * 64,)]
    with engine.connect() as connection:
        stored = connection.execute(
            sa.select(lot_table.c.cpv_additional, lot_table.c.nuts, lot_table.c.title).where(lot_table.c.lot_id == "2")
        ).one()
        origins = connection.execute(sa.select(raw_table.c.origin).order_by(raw_table.c.id)).scalars().all()
    assert tuple(stored) == (["72212000"], ["BE310", "FRE11"], "Lot «deux»")
    assert origins == [kept.origin, "new"]

"""Routing's bulk writes (one COPY or executemany a page) and its reuse of the last profile index."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.factories import make_notice
from tests.watch.helpers import add_member, store
from watch.models import Match, Profile, RoutedNotice
from watch.routing import route_new

match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
routed_table: sa.Table = RoutedNotice.__table__  # type: ignore[attr-defined]
profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]


def test_matches_written_in_bulk_read_back_whole(engine: Engine) -> None:
    """Accents, quotes, backslashes and tabs in reasons survive COPY (PostgreSQL) and executemany (SQLite)."""
    keyword = 'données "sensibles"'
    member_id, [profile_id] = add_member(
        engine, "École Numérique SA", {"keywords": [keyword, "base\\tab"], "regions": ["FRE1"], "value_min": 1000.0}
    )
    title = 'Hébergement des données "sensibles" de l\'École — base\\tab'
    lots = [
        {"id": "1", "title": "Les données sensibles", "cpv_main": "72000000", "cpv_additional": [], "nuts": ["FRE11"]},
        {"id": "2", "title": "Nettoyage", "cpv_main": "90910000", "cpv_additional": [], "nuts": ["FRE12"]},
    ]
    [notice_id, other_id] = store(
        engine,
        make_notice(source_id="26-1", title=title, lots=lots),
        make_notice(source_id="26-2", title="Voirie", cpv_main="45233000", cpv_additional=[], lots=[{"id": "1"}]),
    )
    summary = route_new(engine, batch_size=1)
    assert (summary.notices, summary.matches) == (2, 1)
    with engine.connect() as connection:
        [match] = connection.execute(sa.select(match_table)).mappings().all()
        routed = dict(connection.execute(sa.select(routed_table.c.notice_id, routed_table.c.error)).all())
    assert (match["member_id"], match["profile_id"], match["notice_id"]) == (member_id, profile_id, notice_id)
    assert match["reasons"][0] == {"kind": "keyword", "keyword": keyword, "field": "title"}
    assert {"kind": "keyword", "keyword": "base\\tab", "field": "title"} in match["reasons"]
    assert match["reasons"][-2:] == [
        {"kind": "place", "code": "FRE11", "lots": ["1"]},
        {"kind": "value", "amount": 250000.0, "currency": "EUR"},
    ]
    assert match["lot_ids"] == ["1"]
    assert match["score"] == match["base_score"] > 0
    assert match["created_at"] is not None and match["notified_at"] is None
    assert routed == {notice_id: None, other_id: None}


def test_a_changed_profile_is_routed_with_its_new_words(engine: Engine) -> None:
    """The index of the last run is reused only while the active profiles are the same."""
    _, [profile_id] = add_member(engine, "Électro-Wallonie", {"keywords": ["éclairage"]})
    store(engine, make_notice(source_id="26-1", title="Éclairage public", cpv_main=None, cpv_additional=[]))
    assert route_new(engine).matches == 1
    with engine.begin() as connection:
        connection.execute(profile_table.update().where(profile_table.c.id == profile_id).values(keywords=["données"]))
    store(
        engine,
        make_notice(source_id="26-2", title="Éclairage du stade", cpv_main=None, cpv_additional=[]),
        make_notice(source_id="26-3", title="Données ouvertes", cpv_main=None, cpv_additional=[]),
    )
    assert route_new(engine).matches == 1
    with engine.connect() as connection:
        titles = (
            connection.execute(
                sa.text("SELECT n.title FROM watch_match m JOIN notice n ON n.id = m.notice_id ORDER BY n.id")
            )
            .scalars()
            .all()
        )
    assert titles == ["Éclairage public", "Données ouvertes"]

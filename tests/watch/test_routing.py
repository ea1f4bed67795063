"""Routing what is new: matches stored once per notice and once per member and procedure."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.factories import make_notice
from tests.watch.helpers import add_member, recorded, same_procedure, store
from watch.models import Match, RoutedNotice
from watch.routing import count_pending, member_matches, route_new

match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
routed_table: sa.Table = RoutedNotice.__table__  # type: ignore[attr-defined]

IT = {"cpv": ["72000000"], "keywords": ["logiciel"]}


def _matches(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(match_table).order_by(match_table.c.notice_id, match_table.c.member_id))
        return [dict(row._mapping) for row in rows]


def test_new_notices_are_routed_with_score_reasons_and_lots(engine: Engine) -> None:
    member_id, [profile_id] = add_member(engine, "Alpha", IT)
    [it, roads] = store(
        engine,
        make_notice(source_id="26-1"),
        make_notice(
            source_id="26-2", title="Réfection de voirie", cpv_main="45233000", cpv_additional=[], lots=[{"id": "1"}]
        ),
    )
    summary = route_new(engine)
    assert (summary.notices, summary.matches, summary.matched, summary.profiles) == (2, 1, 1, 1)
    [match] = _matches(engine)
    assert (match["member_id"], match["profile_id"], match["notice_id"]) == (member_id, profile_id, it)
    assert match["reasons"][:2] == [
        {"kind": "cpv", "code": "72000000", "under": "72000000"},
        {"kind": "keyword", "keyword": "logiciel", "field": "title"},
    ]
    assert match["score"] == match["base_score"] > 0
    assert count_pending(engine) == 0
    assert roads != it


def test_a_notice_already_routed_is_not_routed_again(engine: Engine) -> None:
    add_member(engine, "Alpha", IT)
    store(engine, make_notice(source_id="26-1"))
    route_new(engine)
    again = route_new(engine)
    assert (again.notices, again.matches) == (0, 0)
    # a new version of the notice (same source and id) is not routed again either
    store(engine, make_notice(source_id="26-1", title="Développement d'un logiciel de paie", published="2026-01-22"))
    assert route_new(engine).notices == 0
    assert len(_matches(engine)) == 1


def test_notices_stored_before_any_profile_wait_for_the_first_members(engine: Engine) -> None:
    store(engine, make_notice(source_id="26-1"))
    first = route_new(engine)
    assert first.profiles == 0 and "nothing routed" in first.describe()
    assert count_pending(engine) == 1
    add_member(engine, "Alpha", IT)
    assert route_new(engine).matches == 1


def test_route_everything_again_adds_only_what_a_new_member_lacks(engine: Engine) -> None:
    add_member(engine, "Alpha", IT)
    store(engine, make_notice(source_id="26-1"))
    route_new(engine)
    late_id, _ = add_member(engine, "Late", {"cpv": ["72200000"], "keywords": ["logiciel"]})
    assert route_new(engine).notices == 0
    summary = route_new(engine, everything=True)
    assert summary.matches == 1
    assert sorted(m["member_id"] for m in _matches(engine))[-1] == late_id
    assert route_new(engine, everything=True).matches == 0


def test_one_match_per_member_and_procedure_across_sources(engine: Engine) -> None:
    """The same tender at BOAMP and at TED reaches each member once."""
    alpha, _ = add_member(engine, "Alpha", IT)
    beta, _ = add_member(engine, "Beta", {"keywords": ["logiciel"]})
    boamp_id, ted_id, lonely_id = store(
        engine,
        make_notice(source="boamp", source_id="26-1"),
        make_notice(source="ted", source_id="12345-2026", languages=["fr", "en"]),
        make_notice(source="boamp", source_id="26-2"),
    )
    same_procedure(engine, boamp_id, ted_id)
    summary = route_new(engine)
    assert summary.duplicates == 2
    pairs = {(m["member_id"], m["notice_id"]) for m in _matches(engine)}
    assert pairs == {(alpha, boamp_id), (beta, boamp_id), (alpha, lonely_id), (beta, lonely_id)}


def test_a_twin_arriving_later_is_not_routed_to_who_has_the_procedure(engine: Engine) -> None:
    add_member(engine, "Alpha", IT)
    [boamp_id] = store(engine, make_notice(source="boamp", source_id="26-1"))
    route_new(engine)
    [ted_id] = store(engine, make_notice(source="ted", source_id="12345-2026"))
    same_procedure(engine, boamp_id, ted_id)
    summary = route_new(engine)
    assert (summary.notices, summary.matches, summary.duplicates) == (1, 0, 1)


def test_unlinked_notices_are_their_own_procedures(engine: Engine) -> None:
    add_member(engine, "Alpha", IT)
    store(engine, make_notice(source="boamp", source_id="26-1"), make_notice(source="ted", source_id="12345-2026"))
    assert route_new(engine).matches == 2


def test_the_best_profile_of_a_member_carries_the_match(engine: Engine) -> None:
    _, [broad, narrow] = add_member(engine, "Alpha", {"cpv": ["72000000"]}, {"cpv": ["72212000"]})
    store(engine, make_notice(cpv_main="72212000", cpv_additional=[]))
    route_new(engine)
    [match] = _matches(engine)
    assert match["profile_id"] == narrow != broad


def test_inactive_profiles_and_members_route_nothing(engine: Engine) -> None:
    add_member(engine, "Alpha", {**IT, "active": False})
    store(engine, make_notice())
    assert route_new(engine).profiles == 0


def test_notices_without_cpv_get_inferred_codes(engine: Engine, cpv_classifier: Any) -> None:
    add_member(engine, "Alpha", {"cpv": ["72000000"]})
    title = "Développement et maintenance d'un logiciel de gestion, services informatiques"
    store(engine, make_notice(cpv_main=None, cpv_additional=[], lots=[{"id": "1"}], title=title))
    summary = route_new(engine, cpv_model=cpv_classifier)
    assert summary.inferred == 1
    [match] = _matches(engine)
    assert match["reasons"][0]["code"] == "72000000" and match["reasons"][0]["confidence"] >= 0.5


def test_recorded_notices_route_end_to_end(engine: Engine) -> None:
    """Recorded notices of every source, three firms; what each receives, best first."""
    waste, _ = add_member(engine, "Afval", {"keywords": ["déchets", "afval"], "regions": ["BE2", "FR"]})
    works, _ = add_member(engine, "Toitures", {"cpv": ["45261000"], "regions": ["FR"]})
    store(engine, *recorded().values())
    summary = route_new(engine)
    assert summary.failures == []
    received = {m["source_id"]: m for m in member_matches(engine, waste)}
    assert "84320e98-96d9-49fe-8397-774ddec51568" in received  # Dutch, 'afval', BE241
    assert received["84320e98-96d9-49fe-8397-774ddec51568"]["reasons"] == [
        {"kind": "keyword", "keyword": "afval", "field": "title"},
        {"kind": "place", "code": "BE241"},
    ]
    roofing = {m["source_id"]: m for m in member_matches(engine, works)}
    assert roofing["26-7113"]["lot_ids"] == ["2"]
    scores = [m["score"] for m in member_matches(engine, works)]
    assert scores == sorted(scores, reverse=True)

"""Feedback changes the ranking of similar notices for the member who gave it, and for no one else."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.notice import Notice
from tests.factories import make_notice
from tests.watch.helpers import add_member, store
from watch.feedback import Likeness, Taste, likeness, record_feedback, similarity
from watch.routing import member_matches, route_new

IT = {"cpv": ["72000000", "48000000"]}


def _notice(source_id: str, title: str, cpv: str) -> Notice:
    return make_notice(source_id=source_id, title=title, cpv_main=cpv, cpv_additional=[], lots=[{"id": "1"}])


def test_similarity_counts_divisions_and_title_words() -> None:
    payroll = likeness(_notice("1", "Logiciel de gestion de la paie", "72000000").to_json_dict())
    payroll_again = likeness(_notice("2", "Maintenance du logiciel de paie", "72200000").to_json_dict())
    website = likeness(_notice("3", "Refonte du site internet", "72400000").to_json_dict())
    assert similarity(payroll, payroll_again) > similarity(payroll, website) > 0
    assert similarity(payroll, payroll) == 1.0
    assert Taste(rejected=[payroll]).factor(payroll) == 0.5
    assert Taste(liked=[payroll]).factor(payroll) == 1.5
    assert Taste().factor(Likeness(frozenset(), frozenset())) == 1.0


def test_not_relevant_lowers_similar_notices_for_that_member_only(engine: Engine) -> None:
    alpha, _ = add_member(engine, "Alpha", IT)
    beta, _ = add_member(engine, "Beta", IT)
    rejected, similar, other = store(
        engine,
        _notice("26-1", "Logiciel de gestion de la paie des agents", "72000000"),
        _notice("26-2", "Maintenance du logiciel de paie", "72000000"),
        _notice("26-3", "Licences de messagerie", "48000000"),
    )
    route_new(engine)
    scores_before = {m["source_id"]: m["score"] for m in member_matches(engine, alpha)}
    assert scores_before["26-2"] == scores_before["26-3"]  # same evidence: a CPV code under a division

    changed = record_feedback(engine, member_id=alpha, notice_id=rejected, verdict="not-relevant")
    assert changed >= 2
    after = {m["source_id"]: m["score"] for m in member_matches(engine, alpha)}
    assert after["26-2"] < after["26-3"]  # the payroll maintenance now ranks below the mail licences
    assert after["26-1"] < after["26-2"]  # the rejected notice itself drops most
    assert [m["source_id"] for m in member_matches(engine, alpha)][-1] == "26-1"
    assert {m["source_id"]: m["score"] for m in member_matches(engine, beta)} == scores_before
    assert rejected < similar < other


def test_interesting_raises_similar_new_notices(engine: Engine) -> None:
    alpha, _ = add_member(engine, "Alpha", IT)
    [liked] = store(engine, _notice("26-1", "Logiciel de gestion de la paie", "72000000"))
    route_new(engine)
    record_feedback(engine, member_id=alpha, notice_id=liked, verdict="interesting")
    store(
        engine,
        _notice("26-2", "Nouvelle version du logiciel de paie", "72000000"),
        _notice("26-3", "Licences de messagerie", "48000000"),
    )
    route_new(engine)
    scores = {m["source_id"]: m for m in member_matches(engine, alpha)}
    assert scores["26-2"]["score"] > scores["26-3"]["score"]
    assert [m["source_id"] for m in member_matches(engine, alpha)][:2] == ["26-1", "26-2"]


def test_feedback_written_elsewhere_is_applied_at_the_next_routing(engine: Engine) -> None:
    """The email links write the feedback table directly; routing re-ranks what still waits."""
    from watch.models import Feedback

    alpha, _ = add_member(engine, "Alpha", IT)
    [rejected, _] = store(
        engine,
        _notice("26-1", "Logiciel de paie", "72000000"),
        _notice("26-2", "Licences de messagerie", "48000000"),
    )
    route_new(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Feedback.__table__).values(  # type: ignore[attr-defined]
                member_id=alpha, notice_id=rejected, verdict="not-relevant", created_at=sa.func.now()
            )
        )
    assert route_new(engine).rescored == 1  # the mail licences are like nothing rejected: unchanged
    assert [m["source_id"] for m in member_matches(engine, alpha)] == ["26-2", "26-1"]

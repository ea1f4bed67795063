"""Expressions of interest: recording, withdrawing, and what a member and the staff see of them."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from consortium.errors import ConsortiumError
from consortium.services import member_view, record_interest, staff_view, withdraw_interest
from tests.factories import make_notice

from .helpers import add_member, link, lots_notice, store


@pytest.fixture
def tender(engine: Engine) -> str:
    store(engine, lots_notice("26-1000", ["45233140", "45316110", "45112700"]))
    return "26-1000"


def test_counts_per_lot_and_anonymous_entries(engine: Engine, tender: str) -> None:
    alpha = add_member(engine, "Alpha Voirie SRL", emails=("info@alpha.example",))
    beta = add_member(engine, "Beta Eclairage SA", emails=("info@beta.example",))
    gamma = add_member(engine, "Gamma Jardins", emails=("info@gamma.example",))
    record_interest(engine, member_id=alpha, tender=tender, lots=["1"], role="lead", seeks_partners=True)
    record_interest(
        engine,
        member_id=beta,
        tender=tender,
        lots=["2"],
        role="partner",
        seeks_partners=True,
        brings=["45316110", "éclairage public"],
        lacks=["45233140"],
    )
    record_interest(engine, member_id=gamma, tender=tender, role="subcontractor")

    view = member_view(engine, tender=tender, member_id=alpha)

    assert view.interested == 3
    assert [c.describe() for c in view.counts] == [
        "2 firms interested in lot 1, 1 lead seeks partners",
        "2 firms interested in lot 2, 1 seeks a lead",
        "1 firm interested in lot 3",
    ]
    assert view.own is not None and view.own.role == "lead" and view.own.lots == ["1"]
    assert len(view.entries) == 2
    assert [e.pseudonym for e in view.entries] == sorted(e.pseudonym for e in view.entries)
    beta_entry = next(e for e in view.entries if e.role == "partner")
    assert beta_entry.lots == ["2"]
    assert beta_entry.brings_cpv == ["45316110"]
    assert beta_entry.brings_keywords == ["éclairage public"]
    assert beta_entry.lacks_cpv == ["45233140"]
    dumped = view.model_dump_json()
    for secret in ("Beta", "beta.example", "Gamma", "gamma.example"):
        assert secret not in dumped
    assert view.revealed == []


def test_staff_see_identities_and_withdrawn_interests(engine: Engine, tender: str) -> None:
    alpha = add_member(engine, "Alpha Voirie SRL", emails=("info@alpha.example",))
    beta = add_member(engine, "Beta Eclairage SA")
    record_interest(engine, member_id=alpha, tender=tender, role="lead", note="can lead if lot 2 is found")
    record_interest(engine, member_id=beta, tender=tender)
    withdraw_interest(engine, member_id=beta, tender=tender)

    view = staff_view(engine, tender=tender)

    assert view.interested == 1
    by_name = {e.name: e for e in view.entries}
    assert by_name["Alpha Voirie SRL"].emails == ["info@alpha.example"]
    assert by_name["Alpha Voirie SRL"].note == "can lead if lot 2 is found"
    assert by_name["Beta Eclairage SA"].withdrawn_at is not None
    assert all(c.interested == 1 for c in view.counts)


def test_the_note_is_for_the_staff_only(engine: Engine, tender: str) -> None:
    alpha = add_member(engine, "Alpha")
    beta = add_member(engine, "Beta")
    record_interest(engine, member_id=alpha, tender=tender, note="call Jean at 0470 12 34 56")
    assert "0470" not in member_view(engine, tender=tender, member_id=beta).model_dump_json()
    assert member_view(engine, tender=tender, member_id=alpha).own.note == "call Jean at 0470 12 34 56"  # type: ignore[union-attr]


def test_flagging_again_replaces_and_the_pseudonym_stays(engine: Engine, tender: str) -> None:
    alpha = add_member(engine, "Alpha")
    first = record_interest(engine, member_id=alpha, tender=tender, lots=["1"])
    again = record_interest(engine, member_id=alpha, tender=tender, lots=["LOT-0002", "3"], role="lead")
    assert again.pseudonym == first.pseudonym
    assert again.lots == ["2", "3"] and again.role == "lead"
    assert again.since == first.since


def test_withdrawal_from_lots_then_from_the_tender(engine: Engine, tender: str) -> None:
    alpha = add_member(engine, "Alpha")
    beta = add_member(engine, "Beta")
    first = record_interest(engine, member_id=alpha, tender=tender)
    left = withdraw_interest(engine, member_id=alpha, tender=tender, lots=["2"])
    assert left is not None and left.lots == ["1", "3"]
    assert [c.interested for c in member_view(engine, tender=tender, member_id=beta).counts] == [1, 0, 1]

    assert withdraw_interest(engine, member_id=alpha, tender=tender) is None
    seen = member_view(engine, tender=tender, member_id=beta)
    assert seen.interested == 0 and seen.entries == []
    with pytest.raises(ConsortiumError, match="no interest"):
        withdraw_interest(engine, member_id=alpha, tender=tender)

    back = record_interest(engine, member_id=alpha, tender=tender, lots=["3"])
    assert back.pseudonym == first.pseudonym
    assert member_view(engine, tender=tender, member_id=beta).interested == 1


def test_twin_publications_are_one_tender(engine: Engine) -> None:
    """A BOAMP notice and its TED twin, linked as one procedure, share interests, counts and pseudonyms,
    even for an interest recorded before the link was made; lot ids are compared loosely."""
    store(engine, lots_notice("26-2000", ["72000000", "79000000"]))
    twin = make_notice(
        source="ted",
        source_id="123456-2026",
        url="https://ted.europa.eu/notice/123456-2026",
        lots=[{"id": "LOT-0001", "cpv_main": "72000000"}, {"id": "LOT-0002", "cpv_main": "79000000"}],
    )
    store(engine, twin)
    alpha = add_member(engine, "Alpha")
    beta = add_member(engine, "Beta")
    before = record_interest(engine, member_id=alpha, tender="boamp:26-2000", lots=["1"])
    link(engine, ("boamp", "26-2000"), ("ted", "123456-2026"))

    record_interest(engine, member_id=beta, tender="123456-2026", lots=["LOT-0002"])
    view = member_view(engine, tender="123456-2026", member_id=alpha)

    assert view.tender.publications == ["boamp:26-2000", "ted:123456-2026"]
    assert view.own is not None and view.own.pseudonym == before.pseudonym
    assert [c.interested for c in view.counts] == [1, 1]
    again = record_interest(engine, member_id=alpha, tender="ted:123456-2026", lots=["LOT-0001", "LOT-0002"])
    assert again.pseudonym == before.pseudonym
    assert member_view(engine, tender="26-2000", member_id=beta).interested == 2


def test_a_source_id_at_two_sources_must_be_qualified(engine: Engine) -> None:
    store(engine, make_notice(source="boamp", source_id="X-1"), make_notice(source="be", source_id="X-1", url=None))
    alpha = add_member(engine, "Alpha")
    with pytest.raises(ConsortiumError, match=r"several sources: say which \(be:X-1, boamp:X-1\)"):
        record_interest(engine, member_id=alpha, tender="X-1")
    assert record_interest(engine, member_id=alpha, tender="be:X-1").lots == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lots": ["7"]}, r"no lot 7 in boamp:26-1000: its lots are 1, 2, 3"),
        ({"role": "boss"}, "role must be lead, partner or subcontractor, not .boss."),
        ({"brings": ["alpha voirie"]}, "names your firm"),
        ({"lacks": ["x" * 101]}, "at most 100 characters"),
        ({"tender": "26-9999"}, "no notice '26-9999'"),
    ],
)
def test_refused_interests_say_why(engine: Engine, tender: str, kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    alpha = add_member(engine, "Alpha Voirie SRL")
    with pytest.raises(ConsortiumError, match=message):
        record_interest(engine, **{"member_id": alpha, "tender": tender, **kwargs})

"""Partner groups: a group covering every lot of a recorded three-lot notice, gaps and suggestions,
and the life of a group from forming to the result."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine

from consortium.errors import ConsortiumError
from consortium.services import (
    add_firm,
    add_note,
    create_group,
    group_view,
    list_groups,
    record_interest,
    remove_firm,
    set_status,
    staff_view,
)

from .helpers import THREE_LOTS_ID, add_member, store, three_lot_notice


@pytest.fixture
def cluster(engine: Engine) -> dict[str, int]:
    """The recorded notice (lots: film 92111000, demolition 45111000, clothing 18113000) and five firms."""
    store(engine, three_lot_notice())
    return {
        "films": add_member(engine, "Studio Films", cpv=("92100000",), regions=("BE1",)),
        "demolition": add_member(engine, "Démolitions Dupont", cpv=("45110000",)),
        "builders": add_member(engine, "Bâtisseurs Réunis", cpv=("45000000",)),
        "clothing": add_member(engine, "Vêtements Pro", cpv=("18113000",), keywords=("vêtements de travail",)),
        "textile": add_member(engine, "Textiles du Nord", cpv=("18100000",)),
        "shoes": add_member(engine, "Chaussures", cpv=("18800000",)),
    }


def test_a_group_covering_every_lot_of_a_recorded_three_lot_notice(engine: Engine, cluster: dict[str, int]) -> None:
    group = create_group(engine, tender=THREE_LOTS_ID, name="Trixes consortium")
    assert group.status == "forming"
    assert [lot.lot_id for lot in group.lots] == ["LOT-0001", "LOT-0002", "LOT-0003"]
    assert group.uncovered_lots == ["LOT-0001", "LOT-0002", "LOT-0003"]

    add_firm(engine, group_id=group.id, member_id=cluster["films"], role="lead", lots=["LOT-0001"])
    add_firm(engine, group_id=group.id, member_id=cluster["demolition"], role="partner", lots=["2"])
    covered = add_firm(engine, group_id=group.id, member_id=cluster["clothing"], role="subcontractor", lots=["3"])

    assert covered.uncovered_lots == []
    assert covered.suggestions == []
    assert [(lot.lot_id, lot.firms, lot.covered) for lot in covered.lots] == [
        ("LOT-0001", ["Studio Films"], True),
        ("LOT-0002", ["Démolitions Dupont"], True),
        ("LOT-0003", ["Vêtements Pro"], True),
    ]
    (requirement,) = covered.lots[1].requirements
    assert (requirement.cpv, requirement.covered_by) == ("45111000", ["Démolitions Dupont"])
    assert requirement.label is not None and "emolition" in requirement.label
    assert [(f.name, f.role, f.lots) for f in covered.firms] == [
        ("Studio Films", "lead", ["LOT-0001"]),
        ("Démolitions Dupont", "partner", ["LOT-0002"]),
        ("Vêtements Pro", "subcontractor", ["LOT-0003"]),
    ]
    assert [g.uncovered_lots for g in staff_view(engine, tender=THREE_LOTS_ID).groups] == [[]]


def test_gaps_get_suggestions_interested_firms_first(engine: Engine, cluster: dict[str, int]) -> None:
    record_interest(engine, member_id=cluster["builders"], tender=THREE_LOTS_ID, lots=["2"], seeks_partners=True)
    group = create_group(engine, tender=THREE_LOTS_ID)
    view = add_firm(engine, group_id=group.id, member_id=cluster["films"], role="lead", lots=["1"])
    view = add_firm(engine, group_id=group.id, member_id=cluster["shoes"], role="subcontractor", lots=["3"])

    assert view.uncovered_lots == ["LOT-0002", "LOT-0003"]
    lot3 = view.lots[2]
    assert (lot3.firms, lot3.covered, lot3.requirements[0].covered_by) == (["Chaussures"], False, [])
    suggestions = {lot.lot_id: lot for lot in view.suggestions}
    assert list(suggestions) == ["LOT-0002", "LOT-0003"]
    assert [(c.name, c.interested) for c in suggestions["LOT-0002"].candidates] == [
        ("Bâtisseurs Réunis", True),
        ("Démolitions Dupont", False),
    ]
    assert suggestions["LOT-0002"].candidates[0].reasons[1:] == ["interested in lot LOT-0002", "seeks partners"]
    assert [c.name for c in suggestions["LOT-0003"].candidates] == ["Vêtements Pro", "Textiles du Nord"]
    assert "Studio Films" not in {c.name for lot in view.suggestions for c in lot.candidates}

    filled = add_firm(engine, group_id=group.id, member_id=cluster["builders"], role="partner", lots=["2"])
    assert filled.uncovered_lots == ["LOT-0003"]
    assert [c.name for c in filled.suggestions[0].candidates] == ["Vêtements Pro", "Textiles du Nord"]

    after = remove_firm(engine, group_id=group.id, member_id=cluster["shoes"])
    assert after.lots[2].firms == [] and after.uncovered_lots == ["LOT-0003"]


def test_a_group_goes_from_forming_to_submitted_to_won(engine: Engine, cluster: dict[str, int]) -> None:
    group = create_group(engine, tender=THREE_LOTS_ID)
    add_firm(engine, group_id=group.id, member_id=cluster["films"], role="lead")
    with pytest.raises(ConsortiumError, match="already has a lead"):
        add_firm(engine, group_id=group.id, member_id=cluster["builders"], role="lead")
    with pytest.raises(ConsortiumError, match="it can become submitted, not 'won'"):
        set_status(engine, group_id=group.id, status="won")

    add_note(engine, group_id=group.id, text="Meeting at the cluster on Monday")
    submitted = set_status(engine, group_id=group.id, status="submitted", at=date(2026, 2, 10))
    assert submitted.submitted_at is not None and submitted.submitted_at.date() == date(2026, 2, 10)
    won = set_status(engine, group_id=group.id, status="won", note="lots 1 and 2 awarded")

    assert won.status == "won" and won.result_at is not None
    assert [e.kind for e in won.history] == ["created", "firm-added", "note", "status", "status"]
    assert won.history[-1].describe() == "submitted → won: lots 1 and 2 awarded"
    with pytest.raises(ConsortiumError, match="it can become nothing"):
        set_status(engine, group_id=group.id, status="lost")
    assert [(g.id, g.status) for g in list_groups(engine)] == [(group.id, "won")]
    assert list_groups(engine, tender=f"ted:{THREE_LOTS_ID}")[0].firms == 1


def test_bad_group_operations_say_why(engine: Engine, cluster: dict[str, int]) -> None:
    group = create_group(engine, tender=THREE_LOTS_ID)
    with pytest.raises(ConsortiumError, match="no partner group 999"):
        group_view(engine, group_id=999)
    with pytest.raises(ConsortiumError, match="role must be lead, partner or subcontractor, not 'co-traitant'"):
        add_firm(engine, group_id=group.id, member_id=cluster["films"], role="co-traitant")
    with pytest.raises(ConsortiumError, match="no lot 4"):
        add_firm(engine, group_id=group.id, member_id=cluster["films"], role="lead", lots=["4"])
    with pytest.raises(ConsortiumError, match="is not in group"):
        remove_firm(engine, group_id=group.id, member_id=cluster["films"])

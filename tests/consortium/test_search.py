"""Partner search: who has what a member lacks, lot by lot; the index finds exactly what a scan finds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from consortium.catalogue import set_catalogue
from consortium.competences import Competences, Need, gap, words
from consortium.search import CompetenceIndex, Scan
from consortium.services import partner_search, record_interest, staff_partner_search
from tests.factories import make_notice

from .helpers import add_member, lots_notice, store

TENDER = "26-4000"


CODES = st.sampled_from(
    [
        "45000000",
        "45100000",
        "45110000",
        "45111000",
        "45111100",
        "45233140",
        "45316110",
        "72000000",
        "72212000",
        "03000000",
        "03100000",
        "18113000",
    ]
)
WORDS = st.sampled_from(["voirie", "éclairage", "public", "basse tension", "jardins", "éclairage public", "logiciel"])
FIRMS = st.builds(
    lambda cpv, keywords, regions: Competences.of(cpv=cpv, keywords=keywords, regions=regions),
    st.lists(CODES, max_size=4),
    st.lists(WORDS, max_size=3),
    st.lists(st.sampled_from(["BE3", "BE1", "FR"]), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(
    firms=st.dictionaries(st.integers(1, 10_000), FIRMS, max_size=25),
    own=FIRMS,
    lot_codes=st.lists(CODES, max_size=3),
    title=st.lists(WORDS, max_size=4).map(" ".join),
    lacks=st.lists(WORDS, max_size=2),
)
def test_the_index_finds_what_a_scan_finds(
    firms: dict[int, Competences], own: Competences, lot_codes: list[str], title: str, lacks: list[str]
) -> None:
    text = words(title)
    need = Need("1", tuple(dict.fromkeys(lot_codes)), text, tuple(title.split()), ("BE32",))
    wanted = gap(own, need, lacks=[words(k) for k in lacks])
    assert CompetenceIndex(firms).matching(wanted) == Scan(firms).matching(wanted)


@pytest.fixture
def tender(engine: Engine) -> str:
    store(engine, lots_notice(TENDER, ["45233140", "45316110", "77310000"]))
    return TENDER


def test_a_member_finds_interested_firms_for_what_it_lacks(engine: Engine, tender: str) -> None:
    roads = add_member(engine, "Routes SA", cpv=("45233000",), regions=("BE3",))
    lights = add_member(engine, "Lumière SRL", cpv=("45316000",), keywords=("éclairage public",), regions=("BE32",))
    works = add_member(engine, "Travaux Généraux", cpv=("45000000",))
    add_member(engine, "Lumière Bis (not interested)", cpv=("45316110",))
    record_interest(engine, member_id=roads, tender=tender, lots=["1"], role="lead", seeks_partners=True)
    lights_entry = record_interest(
        engine, member_id=lights, tender=tender, lots=["2"], seeks_partners=True, brings=["45316110"]
    )
    works_entry = record_interest(engine, member_id=works, tender=tender, role="subcontractor", lacks=["77310000"])

    found = partner_search(engine, tender=tender, member_id=roads)

    assert found.covered_lots == ["1"]  # the member named lot 1 only, which it covers
    assert found.lots == []
    record_interest(engine, member_id=roads, tender=tender, role="lead", seeks_partners=True)
    found = partner_search(engine, tender=tender, member_id=roads)
    assert found.covered_lots == ["1"]
    lot2, lot3 = found.lots
    assert (lot2.lot_id, lot2.lacking_cpv) == ("2", ["45316110"])
    assert [c.pseudonym for c in lot2.candidates] == [lights_entry.pseudonym, works_entry.pseudonym]
    # What the firm declared on the tender, never its catalogue (its region BE32, its keyword).
    assert lot2.candidates[0].reasons == [
        "does CPV 45316110 (Installation of road lighting equipment)",
        "interested in lot 2",
        "seeks partners",
        "would join as partner",
    ]
    # Its catalogue (45000000) covers the lot and ranks it, but it declared only an interest in the tender.
    assert lot2.candidates[1].reasons == ["interested in the whole tender", "would join as subcontractor"]
    # The whole tender, but it said it lacks planting: not proposed for lot 3, nor taking it on.
    assert (lot3.lot_id, [c.pseudonym for c in lot3.candidates]) == ("3", [])
    assert found.uncovered_lots == ["3"]


def test_staff_also_see_firms_not_yet_interested(engine: Engine, tender: str) -> None:
    roads = add_member(engine, "Routes SA", cpv=("45233000",))
    add_member(engine, "Jardins Verts", cpv=("77311000",), keywords=("espaces verts",))
    gardens_too = add_member(engine, "Parcs et Jardins")
    set_catalogue(engine, member_id=gardens_too, cpv=["77310000"], certifications=["ISO 14001"], size_band="micro")
    record_interest(engine, member_id=roads, tender=tender, role="lead")

    found = staff_partner_search(engine, tender=tender, member_id=roads)

    assert found.name == "Routes SA"
    lot3 = next(lot for lot in found.lots if lot.lot_id == "3")
    assert [(c.name, c.interested, c.certifications, c.size_band) for c in lot3.candidates] == [
        ("Parcs et Jardins", False, ["ISO 14001"], "micro"),
        ("Jardins Verts", False, [], None),
    ]
    assert [c.reasons[0][:29] for c in lot3.candidates] == [
        "does CPV 77310000 (Planting a",
        "does part of CPV 77310000 (Pl",
    ]
    assert found.uncovered_lots == ["2", "3"]
    assert partner_search(engine, tender=tender, member_id=roads).lots[-1].candidates == []


def test_words_the_member_lacks_and_lot_titles_find_firms(engine: Engine) -> None:
    lots = [{"id": "1", "title": "Voiries et réseaux"}, {"id": "2", "title": "Éclairage public et basse tension"}]
    store(engine, make_notice(source_id="26-4001", cpv_main="45000000", cpv_additional=[], lots=lots))
    roads = add_member(engine, "Routes SA", keywords=("voiries",))
    lights = add_member(engine, "Lumière SRL", keywords=("Eclairage public",))
    cables = add_member(engine, "Câbles", keywords=("câblage", "basse tension"))
    record_interest(engine, member_id=roads, tender="26-4001", lacks=["câblage"])
    light = record_interest(engine, member_id=lights, tender="26-4001", lots=["2"], brings=["éclairage public"])
    cable = record_interest(engine, member_id=cables, tender="26-4001", lots=["2"], brings=["câblage"])

    found = partner_search(engine, tender="26-4001", member_id=roads)

    by_lot = {lot.lot_id: lot for lot in found.lots}
    assert by_lot["1"].lacking_keywords == ["câblage"]
    assert [(c.pseudonym, c.reasons[0]) for c in by_lot["1"].candidates] == [
        (cable.pseudonym, "has 'câblage', which you lack")
    ]
    lot2 = by_lot["2"].candidates
    assert {c.pseudonym: c.reasons[0] for c in lot2} == {
        light.pseudonym: "'Éclairage public' in lot 2",
        cable.pseudonym: "has 'câblage', which you lack",  # not 'basse tension': in its catalogue only
    }
    assert found.uncovered_lots == ["1"]  # lot 2 is taken on by both; on lot 1 the member lacks 'câblage'
    staff = {
        c.name: c.reasons[0] for c in staff_partner_search(engine, tender="26-4001", member_id=roads).lots[1].candidates
    }
    assert staff["Câbles"] == "'basse tension' in lot 2"

"""Linking publications into procedures: by reference, by similarity, never by a mere look-alike; the
deadline follows change notices and the history is kept, whatever the order in which notices arrive."""

from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import crawlers.store.procedures as procedures_module
from crawlers.notice import Notice
from crawlers.parsers import ParsedNotice, parse_bytes
from crawlers.store.procedures import (
    change_table,
    key_table,
    link_procedures,
    link_table,
    procedure_history,
    procedure_table,
)
from crawlers.store.service import Incoming, notice_table, store_notices
from tests.conftest import FIXTURES
from tests.factories import incoming, make_notice

SDK = FIXTURES / "ted_eforms" / "sdk-examples"


def store(engine: Engine, *notices: Notice) -> None:
    store_notices(engine, [incoming(n) for n in notices])


def store_files(engine: Engine, *paths: Path) -> list[Notice]:
    items: list[Incoming] = []
    for path in paths:
        outcome = parse_bytes(path.read_bytes())
        assert not outcome.failures, outcome.failures
        items.extend(Incoming(parsed, str(path)) for parsed in outcome.notices)
    store_notices(engine, items)
    return [item.parsed.notice for item in items]


def procedure_of(engine: Engine, source: str, source_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        procedure_id = connection.execute(
            sa.select(notice_table.c.procedure_id).where(
                notice_table.c.source == source, notice_table.c.source_id == source_id
            )
        ).scalar_one()
        assert procedure_id is not None, f"{source} {source_id} not linked"
        return dict(
            connection.execute(sa.select(procedure_table).where(procedure_table.c.id == procedure_id)).mappings().one()
        )


def rows(engine: Engine, table: sa.Table, *order: Any) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(table).order_by(*order)).mappings()]


def open_procedures(engine: Engine) -> list[dict[str, Any]]:
    return [p for p in rows(engine, procedure_table, procedure_table.c.id) if p["status"] != "merged"]


def changes(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    found = rows(engine, change_table, change_table.c.id)
    return [(c["kind"], {k: v for k, v in c["detail"].items() if k != "published"}) for c in found]


def snapshot(engine: Engine) -> list[list[dict[str, Any]]]:
    """Every table linking writes, for comparing before and after a rerun."""
    return [
        rows(engine, procedure_table, procedure_table.c.id),
        rows(engine, change_table, change_table.c.id),
        rows(engine, key_table, key_table.c.id),
        rows(engine, link_table, link_table.c.notice_id),
        rows(engine, notice_table, notice_table.c.id),
    ]


BOAMP: dict[str, Any] = {
    "source": "boamp",
    "source_id": "26-7298",
    "title": "TRAVAUX D'AMENAGEMENTS INTERIEURS ET EXTERIEURS",
    "buyer": {"name": "COMMUNE DE LA MADELEINE", "country": "FR"},
    "published": "2026-01-21",
    "deadline": "2026-02-16T12:00:00+01:00",
    "url": None,
}
TED: dict[str, Any] = {
    "source": "ted",
    "source_id": "00045678-2026",
    "title": "Travaux d'aménagements intérieurs et extérieurs",
    "buyer": {"name": "Commune de La Madeleine", "country": "FR", "town": "La Madeleine"},
    "published": "2026-01-23",
    "deadline": "2026-02-16T12:00:00+01:00",
    "url": None,
}


def test_the_module_examples_hold() -> None:
    result = doctest.testmod(procedures_module)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("batch_size", [1, 500])
def test_a_boamp_notice_and_its_ted_twin_are_linked_by_the_reference(engine: Engine, batch_size: int) -> None:
    boamp = make_notice(**BOAMP | {"related": ["45678-2026"], "title": "Rénovation de la salle des fêtes"})
    ted = make_notice(**TED | {"title": "Renovation of the town hall", "buyer": {"name": "Mairie", "country": "FR"}})
    store(engine, boamp, ted)
    seen: list[int] = []
    summary = link_procedures(engine, batch_size=batch_size, on_batch=lambda running: seen.append(running.notices))
    assert (summary.notices, summary.by_reference, summary.created) == (2, 1, 1)
    assert seen == ([1, 2] if batch_size == 1 else [2])
    assert procedure_of(engine, "boamp", "26-7298")["id"] == procedure_of(engine, "ted", "00045678-2026")["id"]
    links = rows(engine, link_table, link_table.c.notice_id)
    assert [link["rule"] for link in links] == ["new", "reference"]
    assert "ted:45678-2026" in links[1]["evidence"]


def test_twins_without_reference_are_linked_by_buyer_title_and_deadline(engine: Engine) -> None:
    store(engine, make_notice(**BOAMP), make_notice(**TED | {"deadline": "2026-02-16T12:00:00+00:00"}))
    summary = link_procedures(engine)
    assert (summary.by_similarity, summary.created) == (1, 1)
    procedure = procedure_of(engine, "ted", "00045678-2026")
    assert procedure == procedure_of(engine, "boamp", "26-7298")
    # Twins an hour apart: the first call's deadline stays, and no move is announced.
    assert procedure["deadline"] == "2026-02-16T12:00:00+01:00"
    assert changes(engine) == []
    link = rows(engine, link_table, link_table.c.notice_id)[1]
    assert (link["rule"], link["evidence"]) == ("similarity", "boamp 26-7298: title 1.00")


def test_a_twin_giving_the_time_of_a_date_only_deadline_makes_it_precise(engine: Engine) -> None:
    store(engine, make_notice(**BOAMP | {"deadline": "2026-02-16"}), make_notice(**TED))
    link_procedures(engine)
    (procedure,) = open_procedures(engine)
    assert procedure["deadline"] == "2026-02-16T12:00:00+01:00"
    assert changes(engine) == []


def test_look_alikes_of_one_buyer_stay_apart(engine: Engine) -> None:
    """Only the twin is linked. The same buyer and title with another deadline (a relaunch), published long
    after, or with another CPV division; titles differing by their lot number; and a second call of a source
    whose procedure already has one: all different procedures."""
    lot = {"title": BOAMP["title"] + " - lot 1", "source_id": "26-7310"}
    store(
        engine,
        make_notice(**BOAMP),
        make_notice(**TED),
        make_notice(**TED | {"source_id": "00045682-2026", "deadline": "2026-03-20T12:00:00+01:00"}),
        make_notice(**TED | {"source_id": "00045681-2026", "published": "2026-09-01", "deadline": "2026-10-01"}),
        make_notice(**TED | {"source_id": "00045680-2026", "cpv_main": "45000000", "cpv_additional": []}),
        make_notice(**BOAMP | lot),
        make_notice(**TED | lot | {"source_id": "00045679-2026", "title": BOAMP["title"] + " - lot 2"}),
    )
    link_procedures(engine)
    assert procedure_of(engine, "boamp", "26-7298") == procedure_of(engine, "ted", "00045678-2026")
    assert len(open_procedures(engine)) == 6
    store(engine, make_notice(**BOAMP | {"source_id": "26-7301"}))
    link_procedures(engine)
    assert len(open_procedures(engine)) == 7


def test_two_award_notices_of_one_buyer_with_near_titles_stay_apart(engine: Engine) -> None:
    """Real data: SOWAER published two awards the same day, titles differing by two words (LG MDB-015 and
    LG MDB-012); they are two procedures of one source, and only references link within a source."""
    page = FIXTURES / "be_eprocurement" / "publicprocurement_2026-01-28T20-49-47-147Z.json"
    notices = store_files(engine, page)
    summary = link_procedures(engine)
    assert summary.notices == len(notices) == 25
    assert summary.created == 25
    first = procedure_of(engine, "be", "9a76c359-2adf-4924-b23e-4da26ca8c679")
    assert first != procedure_of(engine, "be", "a22c7008-7388-4e69-b2b2-f46553814471")


def test_a_change_notice_moves_the_deadline_and_keeps_the_history(engine: Engine) -> None:
    original = make_notice(**TED)
    change = make_notice(
        **TED
        | {
            "source_id": "00050001-2026",
            "notice_type": "change",
            "published": "2026-02-05",
            "deadline": "2026-03-02T12:00:00+01:00",
            "related": ["45678-2026"],
        }
    )
    store(engine, original)
    link_procedures(engine)
    store(engine, change)
    summary = link_procedures(engine)
    assert (summary.notices, summary.by_reference, summary.changes) == (1, 1, 1)
    procedure = procedure_of(engine, "ted", "00045678-2026")
    assert procedure["deadline"] == "2026-03-02T12:00:00+01:00"
    assert procedure["deadline_utc"].isoformat() == "2026-03-02T11:00:00+00:00"
    assert (procedure["status"], str(procedure["first_published"]), str(procedure["last_published"])) == (
        "open",
        "2026-01-23",
        "2026-02-05",
    )
    assert changes(engine) == [
        ("deadline-moved", {"old": "2026-02-16T12:00:00+01:00", "new": "2026-03-02T12:00:00+01:00"})
    ]
    history = procedure_history(engine, procedure_id=procedure["id"])
    assert [(e.kind, e.source_id, str(e.published)) for e in history] == [
        ("published", "00045678-2026", "2026-01-23"),
        ("published", "00050001-2026", "2026-02-05"),
        ("deadline-moved", "00050001-2026", "2026-02-05"),
    ]
    assert history[2].detail == {"old": "2026-02-16T12:00:00+01:00", "new": "2026-03-02T12:00:00+01:00"}


def test_a_change_before_its_original_ends_in_one_procedure_with_the_same_history(engine: Engine) -> None:
    original = make_notice(**TED)
    change = make_notice(
        **TED
        | {
            "source_id": "00050001-2026",
            "notice_type": "change",
            "published": "2026-02-05",
            "deadline": "2026-03-02T12:00:00+01:00",
            "related": ["00045678-2026"],
        }
    )
    store(engine, change)
    link_procedures(engine)
    assert changes(engine) == []
    store(engine, original)
    link_procedures(engine)
    (procedure,) = open_procedures(engine)
    assert procedure["deadline"] == "2026-03-02T12:00:00+01:00"
    assert changes(engine) == [
        ("deadline-moved", {"old": "2026-02-16T12:00:00+01:00", "new": "2026-03-02T12:00:00+01:00"})
    ]
    kinds = [(e.kind, e.source_id) for e in procedure_history(engine, procedure_id=procedure["id"])]
    assert kinds == [
        ("published", "00045678-2026"),
        ("published", "00050001-2026"),
        ("deadline-moved", "00050001-2026"),
    ]


def test_an_award_notice_closes_the_procedure(engine: Engine) -> None:
    award = make_notice(
        **TED | {"source_id": "00090001-2026", "notice_type": "award", "deadline": None, "published": "2026-04-01"}
    )
    store(engine, make_notice(**TED), award.model_copy(update={"related": ["00045678-2026"]}))
    link_procedures(engine)
    procedure = procedure_of(engine, "ted", "00090001-2026")
    assert procedure["status"] == "awarded"
    assert procedure["deadline"] == TED["deadline"]  # an award has no deadline: the last one known stays
    assert changes(engine) == [("awarded", {})]


def test_running_twice_changes_nothing(engine: Engine) -> None:
    store(
        engine,
        make_notice(**BOAMP | {"related": ["45678-2026"]}),
        make_notice(**TED),
        make_notice(**TED | {"source_id": "00050001-2026", "notice_type": "change", "related": ["45678-2026"]}),
        make_notice(**TED | {"source_id": "00090001-2026", "notice_type": "award", "deadline": None}),
    )
    first = link_procedures(engine)
    assert first.notices == 4
    before = snapshot(engine)
    again = link_procedures(engine)
    assert again.notices == 0
    assert snapshot(engine) == before


def test_a_new_version_of_a_notice_is_linked_again_and_its_deadline_move_recorded(engine: Engine) -> None:
    """BE republishes a corrected notice under the same id: the store keeps the old version, linking compares."""
    store(engine, make_notice(source="be", source_id="ws-1", buyer={"name": "Leuven", "country": "BE"}))
    link_procedures(engine)
    store(
        engine,
        make_notice(
            source="be",
            source_id="ws-1",
            buyer={"name": "Leuven", "country": "BE"},
            published="2026-01-28",
            deadline="2026-02-27T11:00:00+01:00",
            lots=[{"id": "1"}, {"id": "2"}],
        ),
    )
    summary = link_procedures(engine)
    assert (summary.notices, summary.relinked, summary.created) == (1, 1, 0)
    assert procedure_of(engine, "be", "ws-1")["deadline"] == "2026-02-27T11:00:00+01:00"
    assert changes(engine) == [
        ("deadline-moved", {"old": "2026-02-16T12:00:00+01:00", "new": "2026-02-27T11:00:00+01:00"})
    ]
    kinds = [e.kind for e in procedure_history(engine, procedure_id=procedure_of(engine, "be", "ws-1")["id"])]
    assert kinds == ["published", "republished", "deadline-moved"]
    assert link_procedures(engine).notices == 0


def test_lots_added_and_removed_by_a_change_notice_of_the_same_source(engine: Engine) -> None:
    lots = [{"id": "1", "title": "Voirie"}, {"id": "2", "title": "Éclairage"}]
    store(
        engine,
        make_notice(**TED | {"lots": lots}),
        make_notice(
            **TED
            | {
                "source_id": "00050001-2026",
                "notice_type": "change",
                "published": "2026-02-01",
                "related": ["45678-2026"],
                "lots": [lots[0], {"id": "3", "title": "Signalisation"}],
            }
        ),
        # A corrigendum that lists no lots (the parser's default lot) removes nothing.
        make_notice(**TED | {"source_id": "00050002-2026", "notice_type": "change", "related": ["45678-2026"]}),
        # Nor does another call naming this one (the SDK's 3- and 100-lot variants of one procedure).
        make_notice(
            **TED
            | {
                "source_id": "00050003-2026",
                "published": "2026-02-10",
                "related": ["45678-2026"],
                "lots": [lots[0], {"id": "3"}, {"id": "4", "title": "Mobilier"}],
            }
        ),
    )
    link_procedures(engine)
    assert sorted(changes(engine), key=str) == [
        ("lot-added", {"lot": {"id": "3", "title": "Signalisation"}}),
        ("lot-removed", {"lot": {"id": "2", "title": "Éclairage"}}),
        ("modified", {}),
    ]


def test_a_notice_naming_two_procedures_merges_them_into_the_older(engine: Engine) -> None:
    boamp = make_notice(**BOAMP)
    ted = make_notice(**TED | {"title": "Interior works", "buyer": {"name": "Mairie de La Madeleine", "country": "FR"}})
    store(engine, boamp, ted)
    link_procedures(engine)
    first, second = open_procedures(engine)
    bridge = make_notice(
        **BOAMP | {"source_id": "26-9000", "notice_type": "change", "related": ["26-7298", "045678-2026"]}
    )
    store(engine, bridge)
    summary = link_procedures(engine)
    assert (summary.merged, summary.by_reference) == (1, 1)
    (kept,) = open_procedures(engine)
    assert kept["id"] == first["id"]
    merged = next(p for p in rows(engine, procedure_table) if p["id"] == second["id"])
    assert (merged["status"], merged["merged_into"]) == ("merged", first["id"])
    history = procedure_history(engine, procedure_id=second["id"])
    assert {e.source_id for e in history} == {"26-7298", "00045678-2026", "26-9000"}
    with pytest.raises(LookupError, match="no procedure 999"):
        procedure_history(engine, procedure_id=999)


def test_a_merge_within_a_run_is_seen_by_the_batches_after_it(engine: Engine) -> None:
    """A batch reads its candidates again when their procedure changed since the batch before (here merged):
    a later notice naming the absorbed procedure's notice joins the one that absorbed it."""
    school = {"name": "Mairie de l'École Numérique", "country": "FR"}
    boamp = make_notice(**BOAMP)
    ted = make_notice(**TED | {"title": "Interior works", "buyer": school})
    bridge = make_notice(
        **BOAMP
        | {
            "source_id": "26-9000",
            "notice_type": "change",
            "published": "2026-01-25",
            "related": ["26-7298", "045678-2026"],
        }
    )
    award = make_notice(
        **BOAMP
        | {"source_id": "26-9100", "notice_type": "award", "title": "Attribution", "buyer": school,
           "published": "2026-03-02", "deadline": None, "related": ["045678-2026"]}
    )  # fmt: skip
    store(engine, boamp, ted, bridge, award)
    summary = link_procedures(engine, batch_size=1)
    assert (summary.notices, summary.merged) == (4, 1)
    (kept,) = open_procedures(engine)
    assert {procedure_of(engine, "boamp", n)["id"] for n in ("26-7298", "26-9000", "26-9100")} == {kept["id"]}
    assert procedure_of(engine, "ted", "00045678-2026")["id"] == kept["id"]


def test_a_reference_across_countries_is_not_followed(engine: Engine) -> None:
    """A reference contradicted by the buyers' countries is a typo or a reused id, not a twin."""
    belgian = make_notice(**TED | {"buyer": {"name": "Commune de La Madeleine", "country": "BE"}, "nuts": ["BE1"]})
    store(engine, make_notice(**BOAMP | {"related": ["45678-2026"]}), belgian)
    link_procedures(engine)
    assert len(open_procedures(engine)) == 2


def test_contract_notices_that_name_the_same_prior_information_notice_stay_apart(engine: Engine) -> None:
    """A PIN may announce several procedures: the calls that follow it are not one procedure."""
    pin = make_notice(**TED | {"source_id": "00001000-2026", "notice_type": "prior-information", "deadline": None})
    call = {"related": ["1000-2026"], "published": "2026-03-01"}
    store(
        engine,
        pin,
        make_notice(**TED | call | {"source_id": "00002000-2026", "title": "Voirie"}),
        make_notice(**TED | call | {"source_id": "00002001-2026", "title": "Éclairage public"}),
    )
    link_procedures(engine)
    assert len(open_procedures(engine)) == 3


def test_real_eforms_change_notices_move_the_deadline_and_cancel(engine: Engine) -> None:
    store_files(
        engine,
        SDK / "change-cn_24_open_dates.xml",  # arrives before the notice it changes
        SDK / "cn_24_open.xml",
        SDK / "cn_24_minimal.xml",
        SDK / "change-cn_24_void.xml",  # change reason "cancel"
    )
    link_procedures(engine)
    assert len(open_procedures(engine)) == 2
    moved = procedure_of(engine, "ted", "c4c415ee-ac08-4465-8fa6-57568cf69462-01")
    assert moved == procedure_of(engine, "ted", "71397268-6c47-4f2f-8ab0-f41a26138f81-01")
    assert (moved["deadline"], moved["status"]) == ("2020-06-12T12:00:00+01:00", "open")
    cancelled = procedure_of(engine, "ted", "f42be27e-09cf-4f0e-a745-63ec689631e6-01")
    assert cancelled["status"] == "cancelled"
    assert sorted(kind for kind, _ in changes(engine)) == ["cancelled", "deadline-moved"]


def test_a_published_eforms_change_finds_its_notice_by_the_notice_identifier(engine: Engine) -> None:
    """Published eForms notices are known by their TED number; a change names the eForms notice identifier,
    which only the raw document of the original carries."""
    raw = (SDK / "cn_24_open.xml").read_bytes()
    parsed = parse_bytes(raw).notices[0]
    published = parsed.notice.model_copy(update={"source_id": "00123456-2020"})
    store_notices(engine, [Incoming(ParsedNotice(published, raw, "", "eforms"), "cn_24_open.xml")])
    store_files(engine, SDK / "change-cn_24_open_dates.xml")
    link_procedures(engine)
    assert procedure_of(engine, "ted", "00123456-2020")["deadline"] == "2020-06-12T12:00:00+01:00"


def test_a_belgian_cancellation_is_read_from_the_raw_record(engine: Engine) -> None:
    page = FIXTURES / "be_eprocurement" / "publicprocurement_2026-01-28T20-49-47-147Z.json"
    store_files(engine, page)
    link_procedures(engine)
    assert procedure_of(engine, "be", "94cee4d6-7856-4003-b530-700d5e3eb577")["status"] == "cancelled"
    assert procedure_of(engine, "be", "84320e98-96d9-49fe-8397-774ddec51568")["status"] == "open"


def test_a_procedure_id_shared_by_unrelated_notices_does_not_merge_them(engine: Engine) -> None:
    """The TED converter's drafts all carry one ContractFolderID and one notice id: buyers in several
    countries and unrelated titles, so the shared ids are not followed."""
    notices = store_files(engine, *sorted((FIXTURES / "ted_eforms" / "converted-from-ted-xml").glob("*.xml")))
    link_procedures(engine)
    assert len(open_procedures(engine)) == len(notices)


def test_a_feed_entry_pointing_at_a_notice_page_is_linked_to_that_notice(engine: Engine) -> None:
    boamp = make_notice(**BOAMP | {"url": "https://www.boamp.fr/pages/avis/?q=idweb:26-7298"})
    entry = make_notice(
        source="feed:aggregator",
        source_id="https://aggregator.example.org/item/991",
        title="Travaux d'aménagement (BOAMP)",
        buyer={"name": "Aggregator", "country": None},
        cpv_main=None,
        cpv_additional=[],
        nuts=[],
        deadline=None,
        estimated_value=None,
        currency=None,
        lots=[{"id": "1"}],
        url="HTTPS://WWW.BOAMP.FR/pages/avis/?q=idweb:26-7298#avis",
    )
    other = make_notice(**BOAMP | {"source_id": "26-7301", "url": "https://www.boamp.fr/pages/avis/?q=idweb:26-7301"})
    store(engine, boamp, entry, other)
    summary = link_procedures(engine)
    assert summary.by_reference == 1
    assert (
        procedure_of(engine, "feed:aggregator", entry.source_id)["id"] == procedure_of(engine, "boamp", "26-7298")["id"]
    )
    assert procedure_of(engine, "boamp", "26-7301")["id"] != procedure_of(engine, "boamp", "26-7298")["id"]

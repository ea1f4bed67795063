"""Organisations resolved from award winners (issue 14, item 2): identifier first, then name within a country with
legal forms folded; two identifiers never merged; incremental; members linked by identifier or proposed by name."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crawlers.store.service import notice_table, store_notices
from tests.factories import incoming, make_notice
from watch.members import import_members, read_yaml
from watch.models import Member
from watch.organisations import (
    award_table,
    decide_link,
    link_proposals,
    link_table,
    measure,
    organisation_key,
    organisation_table,
    resolve_awards,
    winner_table,
)


def award_notice(source_id: str, *awards: dict[str, Any], buyer: str = "Ville de Namur", **extra: Any) -> Any:
    lots = extra.pop("lots", [{"id": "1", "title": "Logiciel", "cpv_main": "72212000", "nuts": ["BE352"]}])
    return make_notice(
        source="ted",
        source_id=source_id,
        notice_type="award",
        deadline=None,
        buyer={"name": buyer, "country": "BE", "town": "Namur"},
        cpv_main="72000000",
        cpv_additional=[],
        nuts=["BE352"],
        lots=lots,
        awards=list(awards),
        **extra,
    )


def winner(name: str, identifier: str | None = None, country: str | None = "BE") -> dict[str, Any]:
    return {"name": name, "identifier": identifier, "country": country}


def organisations(engine: Engine) -> dict[int, tuple[str, str | None, list[str]]]:
    """Each organisation: its name, identifier, and the names its winners were written with."""
    with engine.connect() as connection:
        found = {
            row.id: (row.name, row.identifier, [])
            for row in connection.execute(sa.select(organisation_table).order_by(organisation_table.c.id))
        }
        for row in connection.execute(sa.select(winner_table).order_by(winner_table.c.id)):
            found[row.organisation_id][2].append(row.name)
    return found


def test_legal_forms_case_accents_and_punctuation_fold() -> None:
    assert organisation_key("Alpha Logiciels SRL") == organisation_key("ALPHA LOGICIELS S.R.L.") == "alpha logiciels"
    assert organisation_key("École Numérique SA") == organisation_key("ECOLE NUMERIQUE S.A.") == "ecole numerique"
    assert organisation_key("École Numérique société anonyme") == "ecole numerique"
    assert (
        organisation_key("Bouwbedrijf Peeters BVBA")
        == organisation_key("Bouwbedrijf Peeters bv")
        == "bouwbedrijf peeters"
    )
    assert organisation_key("Informatique Lilloise SAS") == organisation_key("INFORMATIQUE LILLOISE SARL")
    assert organisation_key("Müller Bau GmbH") == "muller bau"
    assert organisation_key("SA") == "sa"  # a name made only of a legal form keeps it
    assert organisation_key("Alpha Logiciels SRL") != organisation_key("Alpha Réseaux SRL")


def test_identifier_first_then_name_and_two_identifiers_never_merged(engine: Engine) -> None:
    store_notices(
        engine,
        [
            incoming(award_notice("1-2026", {"winners": [winner("Alpha Logiciels SRL", "BE0456.789.123")]})),
            # the same number written as an enterprise number, another spelling: joined by identifier
            incoming(award_notice("2-2026", {"winners": [winner("ALPHA-LOGICIELS", "0456789123")]})),
            # no number, the name with another legal form spelling: joined by name
            incoming(award_notice("3-2026", {"winners": [winner("ALPHA LOGICIELS S.R.L.")]})),
            # the same name, another number: another firm, never merged
            incoming(award_notice("4-2026", {"winners": [winner("Alpha Logiciels SRL", "BE0999888777")]})),
            # the same name in France: another firm
            incoming(award_notice("5-2026", {"winners": [winner("Alpha Logiciels SARL", country="FR")]})),
        ],
    )
    summary = resolve_awards(engine, batch_size=2)  # three batches: the firms of one are found by the next
    assert (summary.notices, summary.awards, summary.winners) == (5, 5, 5)
    assert (summary.created, summary.by_identifier, summary.by_name, summary.kept_apart) == (3, 1, 1, 1)
    found = list(organisations(engine).values())
    assert found == [
        ("Alpha Logiciels SRL", "BE0456789123", ["Alpha Logiciels SRL", "ALPHA-LOGICIELS", "ALPHA LOGICIELS S.R.L."]),
        ("Alpha Logiciels SRL", "BE0999888777", ["Alpha Logiciels SRL"]),
        ("Alpha Logiciels SARL", None, ["Alpha Logiciels SARL"]),
    ]
    measured = measure(engine)
    assert measured.merged_identifiers == 0
    assert (measured.variants_joined, measured.organisations_with_variants) == (2, 1)
    assert "merge precision 100%" in measured.describe()
    with engine.connect() as connection:
        how = [row.joined_by for row in connection.execute(sa.select(winner_table).order_by(winner_table.c.id))]
    assert how == ["new", "identifier", "name", "new", "new"]


def test_a_name_known_without_identifier_adopts_the_first_identifier_only(engine: Engine) -> None:
    store_notices(engine, [incoming(award_notice("1-2026", {"winners": [winner("École Numérique SA")]}))])
    resolve_awards(engine)
    store_notices(
        engine,
        [
            incoming(award_notice("2-2026", {"winners": [winner("ECOLE NUMERIQUE", "BE0111222333")]})),
            incoming(award_notice("3-2026", {"winners": [winner("École Numérique S.A.", "BE0444555666")]})),
            # without number, the name now finds two identified firms: which one is unknown, kept apart
            incoming(award_notice("4-2026", {"winners": [winner("ecole numerique sa")]})),
        ],
    )
    summary = resolve_awards(engine)
    assert (summary.notices, summary.identifiers_adopted, summary.kept_apart) == (3, 1, 2)
    found = list(organisations(engine).values())
    assert found[0] == ("École Numérique SA", "BE0111222333", ["École Numérique SA", "ECOLE NUMERIQUE"])
    assert found[1] == ("École Numérique S.A.", "BE0444555666", ["École Numérique S.A."])
    assert found[2] == ("ecole numerique sa", None, ["ecole numerique sa"])
    assert measure(engine).merged_identifiers == 0


def test_resolution_is_incremental_and_follows_a_newer_version(engine: Engine) -> None:
    group = {
        "lot_ids": ["1"],
        "winners": [winner("Alpha Logiciels SRL", "BE0456789123"), winner("École Numérique SA")],
        "value": 180000.0,
        "currency": "EUR",
        "tenders_received": 4,
        "date": "2026-03-02",
    }
    store_notices(engine, [incoming(award_notice("1-2026", group)), incoming(make_notice())])
    first = resolve_awards(engine)
    assert (first.notices, first.awards, first.winners) == (1, 1, 2)
    again = resolve_awards(engine)
    assert (again.notices, again.awards, again.winners) == (0, 0, 0)
    with engine.connect() as connection:
        row = connection.execute(sa.select(award_table)).one()
    assert (row.lot_ids, row.value, row.currency, row.tenders_received) == (["1"], 180000.0, "EUR", 4)
    assert (str(row.awarded_on), row.buyer_name, row.cpv, row.cpv_group, row.nuts) == (
        "2026-03-02",
        "Ville de Namur",
        "72212000",
        "72200000",
        ["BE352"],
    )
    # a corrected version of the notice: its awards are read again, the others are not touched
    corrected = {**group, "winners": [winner("Alpha Logiciels SRL", "BE0456789123")], "tenders_received": 5}
    store_notices(engine, [incoming(award_notice("1-2026", corrected)), incoming(award_notice("9-2026", group))])
    later = resolve_awards(engine)
    assert (later.notices, later.awards, later.winners) == (2, 2, 3)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(notice_table.c.source_id, award_table.c.tenders_received, sa.func.count(winner_table.c.id))
            .join(award_table, award_table.c.notice_id == notice_table.c.id)
            .join(winner_table, winner_table.c.award_id == award_table.c.id)
            .group_by(notice_table.c.source_id, award_table.c.tenders_received)
            .order_by(notice_table.c.source_id)
        ).all()
    assert [tuple(row) for row in rows] == [("1-2026", 5, 1), ("9-2026", 4, 2)]
    assert len(organisations(engine)) == 2


def test_members_linked_by_name_are_proposed_then_decided_by_staff(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all([Member(name="École Numérique SA"), Member(name="Brûlerie Öberg SPRL")])
        session.commit()
    store_notices(
        engine,
        [
            incoming(award_notice("1-2026", {"winners": [winner("ECOLE NUMERIQUE S.A.", "BE0111222333")]})),
            incoming(award_notice("2-2026", {"winners": [winner("Alpha Logiciels SRL")]})),
        ],
    )
    summary = resolve_awards(engine)
    assert (summary.links_confirmed, summary.links_proposed) == (0, 1)
    (proposal,) = link_proposals(engine)
    assert (proposal.member_name, proposal.organisation_name, proposal.identifier, proposal.how, proposal.awards) == (
        "École Numérique SA",
        "ECOLE NUMERIQUE S.A.",
        "BE0111222333",
        "name",
        1,
    )
    with engine.begin() as connection:
        decide_link(
            connection,
            member_id=proposal.member_id,
            organisation_id=proposal.organisation_id,
            accept=False,
            by="animation@cluster.example",
        )
    assert resolve_awards(engine).links_proposed == 0  # a refused link is not proposed again
    assert link_proposals(engine) == []
    (refused,) = link_proposals(engine, status="refused")
    assert refused.member_name == "École Numérique SA"
    with engine.connect() as connection:
        assert connection.execute(sa.select(link_table.c.decided_by)).scalar_one() == "animation@cluster.example"


def test_members_linked_by_identifier_are_confirmed(engine: Engine) -> None:
    """The identifiers come from the members file (normalized there), as `pib members import` stores them."""
    members = read_yaml(
        "members:\n"
        "  - name: École Numérique SA\n    identifier: BE 0202.239.951\n"
        "    users: [{email: direction@ecole-numerique.example}]\n"
        "  - name: Ecole Numerique\n    identifier: BE0403170701\n"
        "    users: [{email: contact@ecole.example}]\n"
    )
    assert not members.problems, members.problems
    import_members(engine, members)
    store_notices(engine, [incoming(award_notice("1-2026", {"winners": [winner("ECOLE NUMERIQUE", "0202239951")]}))])
    summary = resolve_awards(engine)
    # the firm with the number is linked at once; the other, whose number differs, is not proposed by its name
    assert (summary.links_confirmed, summary.links_proposed) == (1, 0)
    (confirmed,) = link_proposals(engine, status="confirmed")
    assert (confirmed.member_name, confirmed.organisation_name, confirmed.how) == (
        "École Numérique SA",
        "ECOLE NUMERIQUE",
        "identifier",
    )


def test_measured_on_the_recorded_award_notices(engine: Engine) -> None:
    """Every recorded notice of tests/fixtures (TED eForms and legacy, BOAMP, DECP...): no organisation holds two
    identifiers, spellings of one firm are joined, and a second run resolves nothing."""
    from crawlers.ingest import ingest_files
    from tests.conftest import FIXTURES

    ingest_files(engine, [FIXTURES])
    summary = resolve_awards(engine)
    assert summary.failed == []
    assert summary.notices >= 50 and summary.winners >= 100, summary.describe()
    measured = measure(engine)
    assert measured.merged_identifiers == 0
    assert measured.variants_joined >= 2, measured.describe()  # "Axis Europe PLC" / "Axis Europe plc"...
    assert measured.organisations < measured.winners
    with engine.connect() as connection:
        axis = connection.execute(
            sa.select(sa.func.count(sa.distinct(winner_table.c.organisation_id))).where(
                winner_table.c.name.in_(["Axis Europe PLC", "Axis Europe plc"])
            )
        ).scalar_one()
    assert axis == 1
    assert resolve_awards(engine).notices == 0

"""The award views as services (issue 14, item 3): a tender's buyer history, a firm's record, the co-bidding
network, the staff's partner suggestions from awards; the page and JSON twins are tested in tests/web."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from consortium.track_record import award_suggestions
from tests.watch.awards_data import ALPHA, NAMUR, SCHOOL, TENDER, load_cluster
from watch.awards import cobidding_network, firm_awards, member_firm_awards, tender_award_history


def test_the_buyers_earlier_awards_in_the_same_cpv_group(engine: Engine) -> None:
    load_cluster(engine)
    history = tender_award_history(engine, source=TENDER[0], source_id=TENDER[1])
    assert history is not None
    assert (history.buyer, history.cpv_groups, history.total) == (NAMUR, ["72200000"], 3)
    assert [award.source_id for award in history.awards] == ["1002-2025", "1001-2025", "1003-2024"]
    assert [[w.name for w in award.winners] for award in history.awards] == [
        ["ALPHA LOGICIELS S.R.L.", "ÉCOLE NUMÉRIQUE S.A."],
        [SCHOOL],
        ["Gamma Systèmes SA"],
    ]
    assert (history.tenders_received.median, history.tenders_received.low, history.tenders_received.high) == (5, 3, 7)
    assert (history.values.median, history.values.low, history.values.high, history.currency) == (
        250000,
        120000,
        300000,
        "EUR",
    )
    assert [(i.name, i.wins, str(i.last)) for i in history.incumbents] == [
        (SCHOOL, 2, "2025-09-15"),
        ("ALPHA LOGICIELS S.R.L.", 1, "2025-09-15"),
        ("Gamma Systèmes SA", 1, "2024-11-10"),
    ]
    assert tender_award_history(engine, source="ted", source_id="nope") is None


def test_a_firms_record_with_whom_and_against_how_many(engine: Engine) -> None:
    cluster = load_cluster(engine)
    (school,) = member_firm_awards(engine, member_id=cluster.school)
    assert (school.name, school.identifier, school.wins, school.alone, school.in_group) == (
        SCHOOL,
        "BE0111222333",
        3,
        2,
        1,
    )
    assert school.variants == [SCHOOL, "ÉCOLE NUMÉRIQUE S.A."]
    assert school.joined_by == {"new": 1, "identifier": 1, "name": 1}
    assert [(c.name, c.together) for c in school.co_winners] == [("ALPHA LOGICIELS S.R.L.", 1)]
    assert [a.tenders_received for a in school.awards] == [5, 2, 3]  # newest first
    assert member_firm_awards(engine, member_id=cluster.cafe) == []
    assert firm_awards(engine, organisation_id=10_000) is None


def test_the_cobidding_network_of_the_members(engine: Engine) -> None:
    cluster = load_cluster(engine)
    network = cobidding_network(engine)
    assert [(n.name, n.wins) for n in network.nodes] == [(ALPHA, 1), (SCHOOL, 3)]
    (edge,) = network.edges
    assert ({edge.source, edge.target}, edge.together) == ({cluster.school, cluster.alpha}, 1)


def test_partner_suggestions_from_awards_the_cluster_apart(engine: Engine) -> None:
    load_cluster(engine)
    found = award_suggestions(engine, tender=f"{TENDER[0]}:{TENDER[1]}")
    assert (found.cpv_groups, found.regions) == (["72200000"], ["BE3"])
    assert [(r.member_name, r.wins, r.wins_in_region, r.reason) for r in found.cluster] == [
        (SCHOOL, 3, 3, "won 3 contracts in 72200000 in BE3, one with ALPHA LOGICIELS S.R.L."),
        (ALPHA, 1, 1, "won 1 contract in 72200000 in BE3, one with École Numérique SA"),
    ]
    assert [(r.name, r.wins_in_region, r.region) for r in found.outside] == [
        ("Gamma Systèmes SA", 1, "BE3"),
        ("Informatique Lilloise SAS", 0, None),
    ]


def test_the_commands_resolve_list_links_and_suggest(engine: Engine, settings_env: None) -> None:
    import json

    from typer.testing import CliRunner

    from pib.cli import app

    load_cluster(engine)
    runner = CliRunner()
    resolved = runner.invoke(app, ["organisations", "resolve"])
    assert resolved.exit_code == 0, resolved.output
    assert "organisations merging two identifiers: 0 (merge precision 100%)" in resolved.stdout
    assert "1 name variants joined" in resolved.stdout
    links = runner.invoke(app, ["organisations", "links", "--status", "confirmed"])
    assert f"{SCHOOL}\t{SCHOOL} (#1, BE0111222333)\tname\t3 awards\t{SCHOOL} / ÉCOLE NUMÉRIQUE S.A." in links.stdout
    suggested = runner.invoke(app, ["organisations", "suggest", f"{TENDER[0]}:{TENDER[1]}"])
    assert f"  {SCHOOL}\twon 3 contracts in 72200000 in BE3, one with ALPHA LOGICIELS S.R.L." in suggested.stdout
    as_json = json.loads(runner.invoke(app, ["organisations", "suggest", TENDER[1], "--json"]).stdout)
    assert [r["name"] for r in as_json["outside"]] == ["Gamma Systèmes SA", "Informatique Lilloise SAS"]

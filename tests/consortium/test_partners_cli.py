"""`pib partners` and `pib groups` as staff and members read them: a firm is suggested for what it said it
brings or takes on, never for what it said it lacks; one role vocabulary; a group history in plain lines."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from consortium.catalogue import set_catalogue
from consortium.models import group_member_table
from crawlers.store.db import get_engine
from pib.cli_consortium import register

from .helpers import add_member, lots_notice, store

TENDER = "26-7001"
"""Lot 1 programming (72212000), lot 2 computer support (72611000), lot 3 advertising (79341000), in BE32."""


@pytest.fixture
def engine_url(settings_env: None, database_url: str) -> str:
    return database_url


@pytest.fixture
def pib(engine_url: str) -> typer.Typer:
    engine = get_engine(engine_url)
    store(engine, lots_notice(TENDER, ["72212000", "72611000", "79341000"]))
    add_member(engine, "École Numérique SA", cpv=("80500000",))
    donnees = add_member(engine, "Données Ouvertes SRL", cpv=("72000000",), regions=("BE3",))
    set_catalogue(engine, member_id=donnees, keywords=["hébergement souverain"], regions=["BE32"])
    add_member(engine, "Ingénierie Réseau SC")
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def run(app: typer.Typer, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _lot(output: str, lot_id: str) -> str:
    """The lines of one lot in `pib partners` output."""
    found = re.search(rf"^lot {lot_id}\b.*?(?=^lot |^lots |\Z)", output, re.S | re.M)
    assert found, output
    return found.group(0)


def _flag(pib: typer.Typer) -> tuple[str, str]:
    run(pib, "interest", "École Numérique SA", TENDER, "--role", "lead", "--seeks-partners")
    donnees = run(pib, "interest", "Données Ouvertes SRL", TENDER, "--lot", "2", "--lacks", "72611000")
    reseau = run(pib, "interest", "Ingénierie Réseau SC", TENDER, "--lot", "1", "--lot", "3", "--role", "partner")
    return donnees.split(" as ")[1].split(":")[0], reseau.split(" as ")[1].split(":")[0]


def test_partners_suggests_what_firms_said_not_what_they_lack(pib: typer.Typer) -> None:
    donnees, reseau = _flag(pib)

    member = run(pib, "partners", TENDER, "--as", "École Numérique SA")

    assert reseau in _lot(member, "1") and "interested in lot 1" in _lot(member, "1")
    assert reseau in _lot(member, "3") and "interested in lot 3" in _lot(member, "3")
    assert donnees not in _lot(member, "2"), "suggested for the very lot it said it lacks"
    assert "no firm found" in _lot(member, "2")
    # Its catalogue (72000000, BE32, its keywords) covers lot 1, but it said nothing of lot 1: not shown.
    assert donnees not in member
    for secret in ("72000000", "BE3", "hébergement", "works in", "Données", "Ingénierie"):
        assert secret not in member
    assert member.rstrip().endswith("lots no interested firm takes on yet: 2")

    staff = run(pib, "partners", TENDER, "--for", "École Numérique SA")
    assert "Données Ouvertes SRL: does CPV 72212000" in _lot(staff, "1")
    assert "Ingénierie Réseau SC: interested in lot 1" in _lot(staff, "1")
    assert "Données Ouvertes SRL" not in _lot(staff, "2")
    assert staff.rstrip().endswith("lots no interested firm takes on yet: 2")


def test_groups_speak_the_roles_of_interests_and_tell_their_history(pib: typer.Typer, engine_url: str) -> None:
    _flag(pib)
    created = run(pib, "groups", "create", TENDER, "--name", "Équipe Numérique")
    group = created.split()[1].lstrip("#")
    run(pib, "groups", "add", group, "École Numérique SA", "--role", "lead", "--lot", "1")
    shown = run(pib, "groups", "add", group, "Ingénierie Réseau SC", "--role", "partner", "--lot", "1", "--lot", "3")

    assert "  partner: [3] Ingénierie Réseau SC, lots 1, 3" in shown
    assert "suggestions for lot 3: none" in shown
    assert not re.search(r"suggestions for lot \S+:\n(?!      )", shown), "a heading without suggestions"
    assert "{" not in shown, "history printed as raw dicts"
    history = [line for line in shown.splitlines() if re.match(r"  \d{4}-\d\d-\d\d \d\d:\d\d  ", line)]
    assert [line[20:] for line in history] == [
        "group created for boamp:26-7001: Équipe Numérique",
        "École Numérique SA added as lead, lots 1",
        "Ingénierie Réseau SC added as partner, lots 1, 3",
    ]

    # The old spelling is still understood, in what staff type and in rows that already hold it.
    changed = run(pib, "groups", "add", group, "Données Ouvertes SRL", "--role", "co-contractor", "--lot", "2")
    assert "  partner: [2] Données Ouvertes SRL, lots 2" in changed
    assert "Données Ouvertes SRL added as partner, lots 2" in changed
    with get_engine(engine_url).begin() as connection:
        connection.execute(
            group_member_table.update().values(role="co-contractor").where(group_member_table.c.member_id == 3)
        )
    assert "  partner: [3] Ingénierie Réseau SC" in run(pib, "groups", "show", group)
    assert '"role": "partner"' in run(pib, "groups", "show", group, "--json")

    removed = run(pib, "groups", "remove", group, "Données Ouvertes SRL")
    assert "Données Ouvertes SRL removed" in removed
    run(pib, "groups", "status", group, "submitted", "--date", "2026-12-04", "--note", "dépôt fait")
    shown = run(pib, "groups", "show", group)
    assert "2026-12-04 12:00  forming → submitted: dépôt fait" in shown
    assert "role must be lead, partner or subcontractor, not 'mandataire'" in run(
        pib, "groups", "add", group, "1", "--role", "mandataire", code=1
    )
    assert "role must be lead, partner or subcontractor" in run(
        pib, "interest", "1", TENDER, "--role", "co-traitant", code=1
    )


def test_the_old_group_spelling_is_understood_when_flagging_interest(pib: typer.Typer) -> None:
    assert ": partner, the whole tender" in run(
        pib, "interest", "Ingénierie Réseau SC", TENDER, "--role", "co-contractor"
    )
    assert ": partner, the whole tender" in run(pib, "interests", TENDER, "--as", "École Numérique SA")

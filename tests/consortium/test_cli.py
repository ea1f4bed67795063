"""The commands: `pib interest`, `pib interests [--as MEMBER] [--json]` (docs/cli.md), and the others."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from crawlers.store.db import get_engine
from pib.cli_consortium import register

from .helpers import THREE_LOTS_ID, add_member, store, three_lot_notice


@pytest.fixture
def pib(settings_env: None, database_url: str) -> typer.Typer:
    """The `pib` commands of the consortium, on the test database, with a recorded three-lot notice."""
    engine = get_engine(database_url)
    store(engine, three_lot_notice())
    add_member(engine, "Studio Films", emails=("info@studio.example",), cpv=("92100000",))
    add_member(engine, "Démolitions Dupont", emails=("contact@dupont.example",), cpv=("45110000",))
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def run(app: typer.Typer, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_interest_then_the_member_and_staff_views(pib: typer.Typer) -> None:
    out = run(
        pib,
        "interest",
        "Studio Films",
        THREE_LOTS_ID,
        "--lot",
        "LOT-0001",
        "--role",
        "lead",
        "--seeks-partners",
        "--lacks",
        "45111000",
    )
    assert out.startswith("interest recorded as Firme ") and "lead, lots LOT-0001" in out
    run(pib, "interest", "2", f"ted:{THREE_LOTS_ID}", "--lot", "2", "--brings", "45111000")

    member = run(pib, "interests", THREE_LOTS_ID, "--as", "Studio Films")
    assert "2 firms interested" in member
    assert "1 firm interested in lot LOT-0002" in member
    assert "Dupont" not in member and "dupont.example" not in member
    as_json = json.loads(run(pib, "interests", THREE_LOTS_ID, "--as", "1", "--json"))
    assert set(as_json) == {
        "tender",
        "interested",
        "counts",
        "own",
        "entries",
        "requests_sent",
        "requests_received",
        "revealed",
    }
    (other,) = as_json["entries"]
    assert other["brings_cpv"] == ["45111000"] and "Dupont" not in json.dumps(as_json)

    staff = run(pib, "interests", THREE_LOTS_ID)
    assert "[2] Démolitions Dupont = Firme " in staff and "contact@dupont.example" not in staff
    staff_json = json.loads(run(pib, "interests", THREE_LOTS_ID, "--json"))
    assert {e["name"] for e in staff_json["entries"]} == {"Studio Films", "Démolitions Dupont"}

    search = run(pib, "partners", THREE_LOTS_ID, "--as", "Studio Films")
    assert "lot LOT-0002 (lacking 45111000)" in search and "Dupont" not in search
    assert "[2] Démolitions Dupont" in run(pib, "partners", THREE_LOTS_ID, "--for", "Studio Films")


def test_reveal_and_groups_from_the_command_line(pib: typer.Typer) -> None:
    run(pib, "interest", "1", THREE_LOTS_ID, "--role", "lead")
    dupont = run(pib, "interest", "2", THREE_LOTS_ID, "--lot", "2").split(" as ")[1].split(":")[0]
    studio = json.loads(run(pib, "interests", THREE_LOTS_ID, "--as", "1", "--json"))["own"]["pseudonym"]
    assert run(pib, "reveal", "ask", "1", THREE_LOTS_ID, dupont) == f"{dupont}: pending\n"
    assert f"{studio} asks to be put in touch" in run(pib, "interests", THREE_LOTS_ID, "--as", "2")
    assert run(pib, "reveal", "answer", "2", THREE_LOTS_ID, studio, "--accept") == (
        f"{studio} is Studio Films: info@studio.example\n"
    )
    assert f"{dupont} is Démolitions Dupont: contact@dupont.example" in run(
        pib, "interests", THREE_LOTS_ID, "--as", "1"
    )
    assert "Studio Films asked Démolitions Dupont: accepted" in run(pib, "reveal", "log")

    group = json.loads(run(pib, "groups", "create", THREE_LOTS_ID, "--name", "Trixes", "--json"))
    run(pib, "groups", "add", str(group["id"]), "Studio Films", "--role", "lead", "--lot", "1")
    shown = run(pib, "groups", "add", str(group["id"]), "2", "--role", "partner", "--lot", "2")
    assert "lot LOT-0003 Title vol3: NOT covered (no firm takes it)" in shown
    run(pib, "groups", "status", str(group["id"]), "submitted", "--date", "2026-02-10")
    assert run(pib, "groups", "list") == f"#{group['id']} Trixes: submitted, 2 firms, lots not covered: LOT-0003\n"


def test_errors_are_messages_and_exit_code_1(pib: typer.Typer) -> None:
    assert "no member 'Nobody'" in run(pib, "interest", "Nobody", THREE_LOTS_ID, code=1)
    assert "no lot 9" in run(pib, "interest", "1", THREE_LOTS_ID, "--lot", "9", code=1)
    assert "flag your interest" in run(pib, "reveal", "ask", "1", THREE_LOTS_ID, "Firme Nulle-1", code=1)
    run(pib, "interest", "1", THREE_LOTS_ID)
    assert "no firm 'Nulle-1' is interested" in run(pib, "reveal", "ask", "1", THREE_LOTS_ID, "Nulle-1", code=1)
    assert "--date: not a date" in run(pib, "groups", "status", "1", "submitted", "--date", "soon", code=1)

"""`pib members import|export`, `pib match`, `pib matches MEMBER --json`, `pib feedback` (docs/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from pib.cli import app
from tests.watch.helpers import recorded, store

MEMBERS = """\
members:
  - name: Afval Partners
    users: [{email: info@afval.example, language: nl}]
    profiles:
      - name: Afval
        keywords: [afval, déchets]
        regions: [BE2, FR]
  - name: Toitures du Nord
    users: [{email: info@toitures.example}]
    profiles:
      - name: Couverture
        cpv: ["45261000-4"]
        regions: [FRE1, FR]
        notice_types: contract-notice
        frecuency: daily
  - name: Logiciels SA
    users: [{email: info@logiciels.example, language: fr}]
    profiles:
      - name: IT
        cpv: ["72000000", "48000000"]
        notice_types: [contract-notice, prior-information, award]
"""


@pytest.fixture
def members_file(tmp_path: Path) -> Path:
    path = tmp_path / "members.yaml"
    path.write_text(MEMBERS, encoding="utf-8")
    return path


def test_import_match_and_list_matches(settings_env: None, engine: Engine, members_file: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["members", "import", str(members_file)])
    assert result.exit_code == 1
    assert f"{members_file}: line 15: member 'Toitures du Nord': unknown key 'frecuency'" in result.stderr
    assert "2 members created" in result.stderr

    again = runner.invoke(app, ["members", "import", str(members_file)])
    assert "0 members created, 0 updated, 2 unchanged" in again.stderr

    store(engine, *recorded().values())
    result = runner.invoke(app, ["match"])
    assert result.exit_code == 0, result.output
    assert "notices routed against 2 profiles" in result.stderr
    assert "0 notices routed" in runner.invoke(app, ["match"]).stderr

    result = runner.invoke(app, ["matches", "afval partners", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines, "the Dutch waste notice at least"
    assert set(lines[0]) >= {"source", "source_id", "score", "reasons", "title", "lot_ids"}
    assert [line["score"] for line in lines] == sorted((line["score"] for line in lines), reverse=True)
    waste = next(line for line in lines if line["source_id"] == "84320e98-96d9-49fe-8397-774ddec51568")
    assert waste["source"] == "be" and waste["reasons"] == [
        {"kind": "keyword", "keyword": "afval", "field": "title"},
        {"kind": "place", "code": "BE241"},
    ]
    assert waste["reasons_text"] == [
        "keyword 'afval' in the title",
        "place of performance: Arr. Halle-Vilvoorde (BE241)",
    ]
    assert waste["closed"] is True and waste["days_left"] is None  # its deadline passed long before today's clock

    text = runner.invoke(app, ["matches", "Afval Partners"])
    assert "keyword 'afval' in the title; place of performance: Arr. Halle-Vilvoorde (BE241)" in text.stdout
    [line] = [line for line in text.stdout.splitlines() if "84320e98-96d9-49fe-8397-774ddec51568" in line]
    assert line.endswith("[closed]")


def test_unknown_member(settings_env: None, engine: Engine) -> None:
    result = CliRunner().invoke(app, ["matches", "Nobody", "--json"])
    assert result.exit_code == 2
    assert "no member named 'Nobody'" in result.stderr


def test_check_only_validates(settings_env: None, engine: Engine, members_file: Path) -> None:
    result = CliRunner().invoke(app, ["members", "import", "--check", str(members_file)])
    assert result.exit_code == 1
    assert "2 members valid, 1 problems" in result.stderr
    assert "Afval" not in CliRunner().invoke(app, ["members", "export"]).stdout


def test_export_then_import_changes_nothing(
    settings_env: None, engine: Engine, members_file: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    runner.invoke(app, ["members", "import", str(members_file)])
    for name in ("out.yaml", "out.csv"):
        out = tmp_path / name
        assert runner.invoke(app, ["members", "export", "--output", str(out)]).exit_code == 0
        result = runner.invoke(app, ["members", "import", str(out)])
        assert result.exit_code == 0, result.stderr
        assert "0 members created, 0 updated, 2 unchanged" in result.stderr


def test_feedback_command(settings_env: None, engine: Engine, members_file: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["members", "import", str(members_file)])
    store(engine, *recorded().values())
    runner.invoke(app, ["match"])
    first = json.loads(runner.invoke(app, ["matches", "Logiciels SA", "--json"]).stdout.splitlines()[0])
    result = runner.invoke(
        app, ["feedback", "Logiciels SA", first["source_id"], "not-relevant", "--source", first["source"]]
    )
    assert result.exit_code == 0, result.output
    assert "not-relevant recorded" in result.stderr
    after = [json.loads(line) for line in runner.invoke(app, ["matches", "Logiciels SA", "--json"]).stdout.splitlines()]
    assert next(m for m in after if m["source_id"] == first["source_id"])["score"] < first["score"]
    assert runner.invoke(app, ["feedback", "Logiciels SA", "nope", "interesting"]).exit_code == 2


ACCENTED = """\
members:
  - name: École Numérique SA
    users: [{email: info@ecole-numerique.example}]
    profiles:
      - name: Logiciels
        cpv: ["72000000", "48000000"]
  - name: "Alpha\\0 SRL"
    profiles: [{name: P, cpv: ["72000000"]}]
  - name: Électro Wallonie
    users: [{email: contact@electro-wallonie.example}]
    profiles:
      - name: Câblage
        keywords: [câblage, électricité]
"""


def test_accented_members_import_twice_and_are_found_by_any_case(
    settings_env: None, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "membres.yaml"
    path.write_text(ACCENTED, encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["members", "import", str(path)])
    assert first.exit_code == 1
    assert f"{path}: line 7: member 'Alpha\\x00 SRL': name: contains a control character (U+0000)" in first.stderr
    assert "2 members created" in first.stderr
    again = runner.invoke(app, ["members", "import", str(path)])
    assert "UNIQUE" not in again.stderr and "unique" not in again.stderr
    assert "0 members created, 0 updated, 2 unchanged" in again.stderr

    store(engine, *recorded().values())
    assert runner.invoke(app, ["match"]).exit_code == 0
    folded = runner.invoke(app, ["matches", "école numérique sa", "--json"])
    assert folded.exit_code == 0, folded.stderr
    assert folded.stdout and folded.stdout == runner.invoke(app, ["matches", "ECOLE NUMERIQUE SA", "--json"]).stdout
    assert runner.invoke(app, ["matches", "electro-wallonie"]).exit_code == 0

    for typed in ("99999999999999999999", "Alpha\0 SRL"):
        result = runner.invoke(app, ["matches", typed])
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
        assert f"no member named {typed!r}" in result.stderr

"""Members' identifiers (members file §5 `identifier`, `country`): normalized, checked, stored, exported, listed."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from watch.members import export_csv, export_yaml, import_members, member_identifiers, read_csv, read_yaml
from watch.models import Member

FILE = """\
members:
  - name: École Numérique SA
    identifier: BE 0202.239.951
    users: [{email: lea@ecole-numerique.example, language: fr}]
  - name: Société Générale d'Études
    identifier: FR 89 380 129 866
  - name: Brasserie Ørsted SPRL
    identifier: 0202.239.952
  - name: Établissements Zoë
    country: FR
    identifier: 380 129 866 00022
  - name: Vlaamse Coöperatie NV
    identifier: NL803504107B01
  - name: Ancienne Firme SPRL
    country: BE
    identifier: 202.239.951
  - name: Firme Sans Numéro
"""


def _identifiers(engine: Engine) -> dict[str, str | None]:
    table: sa.Table = Member.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(table.c.name, table.c.identifier)).all())  # type: ignore[arg-type]


def test_identifiers_are_normalized_and_a_bad_one_is_reported_by_line(engine: Engine) -> None:
    members = read_yaml(FILE)
    [problem] = members.problems
    assert problem.line == 8
    assert problem.member == "Brasserie Ørsted SPRL"
    assert "Belgian enterprise number with a wrong check (mod 97)" in problem.reason

    summary = import_members(engine, members)

    # The old nine-digit Belgian number names the firm École Numérique already holds: refused, by its line.
    assert [(p.line, p.member) for p in summary.problems] == [(8, "Brasserie Ørsted SPRL"), (14, "Ancienne Firme SPRL")]
    assert "already the one of member 'École Numérique SA'" in summary.problems[1].reason
    assert _identifiers(engine) == {
        "École Numérique SA": "0202239951",
        "Société Générale d'Études": "380129866",
        "Établissements Zoë": "38012986600022",
        "Vlaamse Coöperatie NV": "NL803504107B01",
        "Firme Sans Numéro": None,
    }
    by_name = {name: member_id for member_id, name in _member_ids(engine).items()}
    assert member_identifiers(engine) == {
        by_name["École Numérique SA"]: "0202239951",
        by_name["Société Générale d'Études"]: "380129866",
        by_name["Établissements Zoë"]: "38012986600022",
        by_name["Vlaamse Coöperatie NV"]: "NL803504107B01",
    }


def _member_ids(engine: Engine) -> dict[int, str]:
    table: sa.Table = Member.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return dict(connection.execute(sa.select(table.c.id, table.c.name)).all())  # type: ignore[arg-type]


def test_a_wrong_french_vat_key_and_an_unknown_country_are_refused() -> None:
    members = read_yaml(
        "members:\n"
        "  - name: Société Générale d'Études\n"
        "    identifier: FR12380129866\n"
        "  - name: Zürich GmbH\n"
        "    country: ZZ\n"
        "    identifier: '123'\n"
    )
    assert [(p.line, p.member) for p in members.problems] == [
        (3, "Société Générale d'Études"),
        (5, "Zürich GmbH"),
        (6, "Zürich GmbH"),
    ]
    assert "French VAT number with a wrong key (89 for this SIREN)" in members.problems[0].reason
    assert "not a country code" in members.problems[1].reason
    assert "'123' not an enterprise number, SIREN, SIRET or VAT number" in members.problems[2].reason


def test_identifiers_are_exported_and_import_back_unchanged(engine: Engine) -> None:
    import_members(engine, read_yaml(FILE))
    yaml_text = export_yaml(engine)
    assert "identifier: 0202239951" in yaml_text or "identifier: '0202239951'" in yaml_text
    csv_text = export_csv(engine)
    assert "École Numérique SA,,lea@ecole-numerique.example:fr,0202239951,," in csv_text
    before = _identifiers(engine)
    for again in (read_yaml(yaml_text), read_csv(csv_text)):
        assert again.problems == []
        summary = import_members(engine, again)
        assert (summary.created, summary.updated, summary.problems) == (0, 0, [])
        assert _identifiers(engine) == before


def test_a_csv_identifier_changes_and_is_removed(engine: Engine) -> None:
    header = "member,identifier,country,users\n"
    import_members(engine, read_csv(header + "École Numérique SA,0202.239.951,,lea@ecole-numerique.example:fr\n"))
    summary = import_members(engine, read_csv(header + "École Numérique SA,380129866,FR,lea@ecole-numerique.example\n"))
    assert summary.updated == 1
    assert _identifiers(engine) == {"École Numérique SA": "380129866"}
    import_members(engine, read_csv(header + "École Numérique SA,,,lea@ecole-numerique.example\n"))
    assert _identifiers(engine) == {"École Numérique SA": None}
    assert member_identifiers(engine) == {}

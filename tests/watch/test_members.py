"""The members file (docs/members-file.md): YAML and CSV, problems by line, idempotent import, export round trip."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import watch.members
import watch.models
from watch.members import (
    MembersFileError,
    export_csv,
    export_yaml,
    find_member,
    import_members,
    read_csv,
    read_members_file,
    read_yaml,
)
from watch.models import Member, Profile, User, name_key

DESIGN_EXAMPLE = """\
members:
  - name: Alpha Logiciels SRL
    users:
      - {email: info@alpha.example, language: fr}
    competences: {cpv: ["72000000"], keywords: ["développement logiciel"], regions: ["BE3"]}
    profiles:
      - name: Services IT
        cpv: ["72000000", "48000000"]     # a code covers its sub-codes
        keywords: ["logiciel", "software", "cloud"]
        exclude: ["nettoyage"]
        regions: ["BE3", "FR"]           # NUTS prefixes or countries
        value: {min: 20000, max: 5000000}
        notice_types: [contract-notice, prior-information]
        frequency: daily                 # instant | daily | weekly
"""

THREE_MEMBERS = """\
members:
  - name: Alpha Logiciels SRL
    users: [{email: info@alpha.example, language: fr}]
    profiles:
      - name: Services IT
        cpv: ["72000000"]
  - name: Beta Bouw NV
    users: [{email: jan@beta.example, language: nl}]
    profiles:
      - name: Werken
        cpv: ["45000000"]
        keywordz: [afval]
  - name: Gamma Nettoyage
    users: [{email: contact@gamma.example, language: FR}]
    profiles:
      - name: Propreté
        cpv: [90910000-9]
        regions: [fre1, BE]
"""


def _profiles(engine: Engine) -> dict[str, Profile]:
    with Session(engine) as session:
        return {p.name: p for p in session.exec(select(Profile)).all()}


def test_the_design_example_loads(engine: Engine) -> None:
    summary = import_members(engine, read_yaml(DESIGN_EXAMPLE))
    assert summary.problems == []
    assert summary.created == 1 and summary.profiles_added == 1
    profile = _profiles(engine)["Services IT"]
    assert profile.cpv == ["72000000", "48000000"]
    assert profile.keywords == ["logiciel", "software", "cloud"]
    assert profile.exclude == ["nettoyage"]
    assert profile.regions == ["BE3", "FR"]
    assert (profile.value_min, profile.value_max) == (20000, 5000000)
    assert profile.notice_types == ["contract-notice", "prior-information"]
    assert profile.frequency == "daily" and profile.active
    with Session(engine) as session:
        member = session.exec(select(Member)).one()
        user = session.exec(select(User)).one()
    assert member.competences == {"cpv": ["72000000"], "keywords": ["développement logiciel"], "regions": ["BE3"]}
    assert (user.email, user.language, user.member_id) == ("info@alpha.example", "fr", member.id)


def test_an_unknown_key_is_reported_with_its_line_and_the_others_load(engine: Engine) -> None:
    members = read_yaml(THREE_MEMBERS)
    assert [str(p) for p in members.problems] == [
        "line 12: member 'Beta Bouw NV': unknown key 'keywordz' in profiles[0]"
    ]
    summary = import_members(engine, members)
    assert summary.created == 2
    gamma = _profiles(engine)["Propreté"]
    assert gamma.cpv == ["90910000"]  # the check digit is stripped
    assert gamma.regions == ["FRE1", "BE"]
    with Session(engine) as session:
        assert session.exec(select(User.language).where(User.email == "contact@gamma.example")).one() == "fr"


@pytest.mark.parametrize(
    ("profile", "line", "reason"),
    [
        ('cpv: ["7200"]', 6, "profiles[0].cpv[0]: not a CPV code (8 digits, check digit optional): '7200'"),
        ("cpv: [72000000]\n        regions: [XX1]", 7, "profiles[0].regions[0]: not a NUTS code or country"),
        ("cpv: [72000000]\n        frequency: hourly", 7, "profiles[0].frequency: Input should be"),
        ("cpv: [72000000]\n        notice_types: [tender]", 7, "profiles[0].notice_types[0]: Input should be"),
        ("regions: [BE]", 5, "profile 'P' has neither cpv nor keywords"),
        ("keywords: [de la]", 6, "has no word to look for"),
        ("cpv: [72000000]\n        value: {min: 9, max: 1}", 7, "value min 9 is above max 1"),
    ],
)
def test_bad_values_are_reported_by_line(profile: str, line: int, reason: str) -> None:
    head = "members:\n  - name: M\n    users: [{email: a@m.example}]\n    profiles:\n      - name: P\n"
    text = f"{head}        {profile}\n"
    members = read_yaml(text)
    assert members.members == []
    [problem] = members.problems
    assert problem.line == line, problem
    assert reason in problem.reason
    assert problem.member == "M"


def test_a_bad_user_is_reported() -> None:
    members = read_yaml("members:\n  - name: M\n    users:\n      - {email: not-an-address, language: de}\n")
    reasons = sorted(p.reason for p in members.problems)
    assert any("not an email address" in r for r in reasons)
    assert any("users[0].language" in r for r in reasons)
    assert all(p.line == 4 for p in members.problems)


def test_the_same_member_twice_in_a_file() -> None:
    members = read_yaml("members:\n  - name: M\n  - name: m\n")
    assert [str(p) for p in members.problems] == ["line 3: member 'm': member repeated (first at line 2)"]


def test_a_file_that_is_not_a_members_file() -> None:
    with pytest.raises(MembersFileError, match="members"):
        read_yaml("- just\n- a list\n")
    assert "not valid YAML" in read_yaml("members: [\n").problems[0].reason
    aliases = read_yaml("members:\n  - &a {name: M}\n  - *a\n")
    assert [(p.line, p.reason) for p in aliases.problems] == [
        (2, "an alias (*name) repeats the part at line 2: aliases are not allowed here")
    ]
    assert [m.name for _, m in aliases.members] == ["M"]
    assert read_yaml("version: 2\nmembers: []\n").problems[0].line == 1
    twice = read_yaml("members:\n  - name: A\n    name: B\n  - name: C\n")
    assert [str(p) for p in twice.problems] == ["line 3: key 'name' given twice"]
    assert [m.name for _, m in twice.members] == ["C"]


def test_importing_the_same_file_twice_changes_nothing(engine: Engine) -> None:
    import_members(engine, read_yaml(DESIGN_EXAMPLE))
    before = _profiles(engine)["Services IT"].updated_at
    again = import_members(engine, read_yaml(DESIGN_EXAMPLE))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert (again.profiles_added, again.profiles_changed, again.profiles_removed) == (0, 0, 0)
    assert _profiles(engine)["Services IT"].updated_at == before


def test_a_members_profiles_are_replaced_by_the_files(engine: Engine) -> None:
    import_members(engine, read_yaml(DESIGN_EXAMPLE))
    first_id = _profiles(engine)["Services IT"].id
    changed = DESIGN_EXAMPLE.replace('keywords: ["logiciel", "software", "cloud"]', 'keywords: ["cloud"]')
    changed += "      - name: Travaux\n        cpv: [45000000]\n"
    summary = import_members(engine, read_yaml(changed))
    assert (summary.updated, summary.profiles_added, summary.profiles_changed) == (1, 1, 1)
    profiles = _profiles(engine)
    assert profiles["Services IT"].keywords == ["cloud"]
    assert profiles["Services IT"].id == first_id  # kept: its matches stay
    only_travaux = (
        DESIGN_EXAMPLE.split("    profiles:")[0] + "    profiles:\n      - name: Travaux\n        cpv: [45000000]\n"
    )
    summary = import_members(engine, read_yaml(only_travaux))
    assert summary.profiles_removed == 1
    profiles = _profiles(engine)
    assert not profiles["Services IT"].active and profiles["Travaux"].active
    assert "Services IT" not in export_yaml(engine)


def test_users_not_listed_any_more_are_deactivated_not_deleted(engine: Engine) -> None:
    import_members(engine, read_yaml(DESIGN_EXAMPLE))
    moved = DESIGN_EXAMPLE.replace("info@alpha.example", "sales@alpha.example")
    import_members(engine, read_yaml(moved))
    with Session(engine) as session:
        users = {u.email: u.active for u in session.exec(select(User)).all()}
    assert users == {"info@alpha.example": False, "sales@alpha.example": True}


def test_an_email_of_another_member_is_refused(engine: Engine) -> None:
    import_members(engine, read_yaml(DESIGN_EXAMPLE))
    other = "members:\n  - name: Other\n    users: [{email: INFO@alpha.example}]\n"
    summary = import_members(engine, read_yaml(other))
    assert [str(p) for p in summary.problems] == [
        "line 2: member 'Other': email info@alpha.example is already a user of member 'Alpha Logiciels SRL'"
    ]
    with Session(engine) as session:
        assert session.exec(select(sa.func.count()).select_from(Member)).one() == 1


def test_yaml_export_imports_back_unchanged(engine: Engine, tmp_path: Path) -> None:
    gamma_and_beta = THREE_MEMBERS.split("  - name: Beta")[1].replace("keywordz", "keywords")
    import_members(engine, read_yaml(DESIGN_EXAMPLE + "  - name: Beta" + gamma_and_beta))
    path = tmp_path / "members.yaml"
    path.write_text(export_yaml(engine))
    members = read_members_file(path)
    assert members.problems == []
    summary = import_members(engine, members)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 3)


CSV_TEXT = """\
member,users,competence_cpv,profile,cpv,keywords,exclude,regions,value_min,value_max,notice_types,frequency
Alpha Logiciels SRL,info@alpha.example:fr; dev@alpha.example:en,72000000,Services IT,\
72000000; 48000000,logiciel; cloud,nettoyage,BE3; FR,20000,5000000,\
contract-notice,daily
Alpha Logiciels SRL,,,Travaux IT,45314000,,,,,,,weekly
Beta Bouw NV,jan@beta.example:nl,,Werken,45000000,afval,,BE2,,,,instant
Beta Bouw NV,other@beta.example:nl,,,,,,,,,,
Delta,d@delta.example:xx,,Rien,72000000,,,,,,,
"""


def test_csv_members_file() -> None:
    members = read_csv(CSV_TEXT)
    assert [str(p) for p in members.problems] == [
        "line 5: member 'Beta Bouw NV': column users differs from line 4 (a member's columns must agree)",
        "line 6: member 'Delta': users[0].language: Input should be 'fr', 'nl' or 'en'",
    ]
    [(line, alpha)] = members.members
    assert line == 2
    assert [u.email for u in alpha.users] == ["info@alpha.example", "dev@alpha.example"]
    assert [p.name for p in alpha.profiles] == ["Services IT", "Travaux IT"]
    assert alpha.profiles[0].value is not None and alpha.profiles[0].value.max == 5_000_000
    assert alpha.profiles[1].frequency == "weekly"
    assert alpha.competences.cpv == ["72000000"]


def test_csv_unknown_column_is_refused() -> None:
    with pytest.raises(MembersFileError, match="line 1: unknown columns 'keywordz'"):
        read_csv("member,keywordz\nA,x\n")


def test_csv_export_imports_back_unchanged(engine: Engine) -> None:
    import_members(engine, read_yaml(DESIGN_EXAMPLE + "  - name: '=cmd'\n    users: []\n"))
    text = export_csv(engine)
    assert "\n'=cmd," in text  # a spreadsheet would run it as a formula
    members = read_csv(text)
    assert members.problems == []
    summary = import_members(engine, members)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 2)


ACCENTED = """\
members:
  - name: École Numérique SA
    users: [{email: info@ecole-numerique.example}]
    profiles:
      - name: Logiciels
        cpv: ["72000000"]
  - name: Électro Wallonie
    users: [{email: contact@electro-wallonie.example, language: fr}]
    profiles:
      - name: Câblage
        keywords: [câblage]
"""


def test_accented_names_import_twice_and_are_found_folded(engine: Engine) -> None:
    first = import_members(engine, read_yaml(ACCENTED))
    assert (first.created, first.problems) == (2, [])
    again = import_members(engine, read_yaml(ACCENTED))
    assert [str(p) for p in again.problems] == []
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    for typed in ("école numérique sa", "ECOLE NUMERIQUE SA", " Ecole-Numérique  SA "):
        found = find_member(engine, typed)
        assert found is not None and found.name == "École Numérique SA", typed
    electro = find_member(engine, "electro-wallonie")
    assert electro is not None and electro.name == "Électro Wallonie"
    assert find_member(engine, str(electro.id)) == electro

    # The file spells it another way: the same member, renamed, its profile kept.
    renamed = import_members(engine, read_yaml(ACCENTED.replace("Électro Wallonie", "ÉLECTRO-WALLONIE")))
    assert (renamed.created, renamed.updated, renamed.unchanged) == (0, 1, 1)
    found = find_member(engine, "électro wallonie")
    assert found is not None and (found.id, found.name) == (electro.id, "ÉLECTRO-WALLONIE")
    assert sorted(_profiles(engine)) == ["Câblage", "Logiciels"]


def test_the_same_accented_member_twice_in_a_file() -> None:
    members = read_yaml("members:\n  - name: Électro Wallonie\n  - name: electro-wallonie\n")
    assert [str(p) for p in members.problems] == [
        "line 3: member 'electro-wallonie': member repeated (first at line 2)"
    ]
    grouped = read_csv("member,profile,keywords\nÉcole Numérique SA,A,logiciel\nECOLE NUMERIQUE SA,B,cloud\n")
    assert [(m.name, [p.name for p in m.profiles]) for _, m in grouped.members] == [("École Numérique SA", ["A", "B"])]


def test_control_characters_are_refused_and_the_members_around_load(engine: Engine) -> None:
    text = """\
members:
  - name: Alpha SA
    profiles: [{name: P, cpv: ["72000000"]}]
  - name: "Beta\\0 SRL"
    profiles: [{name: P, cpv: ["72000000"]}]
  - name: Gamma
    profiles: [{name: "P\\x1b[31m", keywords: ["câble\\0"]}]
  - name: Delta
    users: [{email: "info\\0@delta.example"}]
  - name: "---"
  - name: Epsilon
    profiles: [{name: P, cpv: ["72000000"]}]
"""
    members = read_yaml(text)
    assert [str(p) for p in members.problems] == [
        "line 4: member 'Beta\\x00 SRL': name: contains a control character (U+0000); remove it",
        "line 7: member 'Gamma': profiles[0].name: contains a control character (U+001B); remove it",
        "line 7: member 'Gamma': profiles[0].keywords[0]: contains a control character (U+0000); remove it",
        "line 9: member 'Delta': users[0].email: contains a control character (U+0000); remove it",
        "line 10: member '---': name: name '---' has no letter or digit to find the member by",
    ]
    summary = import_members(engine, members)
    assert summary.created == 2
    assert find_member(engine, "Beta\0 SRL") is None  # a name no member can have: no member, no database error
    assert find_member(engine, "alpha sa") is not None and find_member(engine, "EPSILON") is not None


def test_a_number_beyond_any_id_is_no_member(engine: Engine) -> None:
    import_members(engine, read_yaml(ACCENTED))
    assert find_member(engine, "99999999999999999999") is None
    assert find_member(engine, str(2**31)) is None and find_member(engine, str(2**63)) is None
    assert find_member(engine, "١") is None  # an Arabic-Indic digit is not an id


def test_name_key_folds_case_accents_and_punctuation() -> None:
    assert doctest.testmod(watch.models).failed == 0
    assert name_key("École Numérique SA") == name_key(" ÉCOLE—numérique,  sa. ") == "ecole numerique sa"
    assert name_key("Ærø Ĳssel ﬁbre") == "ærø ijssel fibre"
    assert name_key("A\0B") == "a b"


GOOD_BAD_GOOD = """\
members:
  - name: École Numérique SA
    users: [{email: info@ecole.example}]
    profiles: [{name: Logiciels, cpv: ["72000000"]}]
  - name: Brûlerie Öberg SPRL
    users: [{email: info@electro.example}]
    profiles: [{name: Café, keywords: [café]}]
  - name: Zéphyr Conseil SCRL
    users: [{email: info@zephyr.example}]
    profiles: [{name: Conseil, keywords: [conseil]}]
"""


def test_a_bad_member_between_two_good_ones_leaves_them_stored(engine: Engine) -> None:
    import_members(
        engine, read_yaml("members:\n  - name: Électro Wallonie\n    users: [{email: info@electro.example}]\n")
    )
    summary = import_members(engine, read_yaml(GOOD_BAD_GOOD))
    assert [str(p) for p in summary.problems] == [
        "line 5: member 'Brûlerie Öberg SPRL': "
        "email info@electro.example is already a user of member 'Électro Wallonie'"
    ]
    assert (summary.created, summary.profiles_added) == (2, 2)
    assert sorted(_profiles(engine)) == ["Conseil", "Logiciels"]
    with Session(engine) as session:
        assert sorted(session.exec(select(Member.name)).all()) == [
            "Zéphyr Conseil SCRL",
            "École Numérique SA",
            "Électro Wallonie",
        ]


def test_a_member_the_database_refuses_is_reported_alone(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row written meanwhile by someone else, unseen when the file was checked: the import is done again member
    by member, and only the member the database refuses is left out."""
    import_members(
        engine, read_yaml("members:\n  - name: Électro Wallonie\n    users: [{email: info@electro.example}]\n")
    )
    read = watch.members.Directory.read

    def blind_to_emails(session: Session, members: list[watch.members.MemberIn]) -> watch.members.Directory:
        directory = read(session, members)
        directory.emails.clear()
        return directory

    monkeypatch.setattr(watch.members.Directory, "read", blind_to_emails)
    summary = import_members(engine, read_yaml(GOOD_BAD_GOOD))
    assert [(p.line, p.member) for p in summary.problems] == [(5, "Brûlerie Öberg SPRL")]
    assert "unique" in summary.problems[0].reason.lower()  # the database's own words
    assert (summary.created, summary.profiles_added) == (2, 2)
    assert sorted(_profiles(engine)) == ["Conseil", "Logiciels"]

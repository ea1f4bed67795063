"""The members file's preview (watch/members_diff.py): the real import rehearsed and rolled back, each change
said, problems by line; applying does what the preview said or nothing; a firm saved from a form."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from watch.members import MemberIn, export_yaml, import_members, read_csv, read_yaml
from watch.members_diff import Change, FieldChange, MemberNotSaved, PlanChanged, member_in, plan_import, save_member
from watch.models import Member, User

BEFORE = """\
members:
  - name: École Numérique SA
    users:
      - {email: direction@ecole-numerique.example, language: fr}
      - {email: ancien@ecole-numerique.example, language: fr}
    profiles:
      - {name: Logiciels, cpv: ["72000000"], frequency: daily}
      - {name: Formation, keywords: ["formation"]}
  - name: Électro Wallonie SRL
    users: [{email: info@electro.example, language: nl}]
    profiles: [{name: Câblage, cpv: ["45310000"]}]
"""

UPLOAD = """\
members:
  - name: ecole numerique sa
    users:
      - {email: direction@ecole-numerique.example, language: nl}
      - {email: achats@ecole-numerique.example, language: en}
    profiles:
      - {name: Logiciels, cpv: ["72000000", "48000000"], frequency: weekly}
      - {name: Cloud, keywords: [cloud]}
  - name: Brûlerie Öberg SPRL
    profiles:
      - {name: Café, keywords: []}
  - name: Zéphyr Conseil SCRL
    users: [{email: info@electro.example}]
  - name: Ardenne Numérique SRL
    users: [{email: contact@ardenne.example, language: fr}]
    profiles: [{name: Réseaux, cpv: ["32400000"], regions: [BE3]}]
"""


def changes(plan_member: object) -> set[tuple[str, str, str]]:
    return {(c.kind, c.action, c.subject) for c in plan_member.changes}  # type: ignore[attr-defined]


def test_the_preview_says_what_the_import_would_do_and_changes_nothing(engine: Engine) -> None:
    import_members(engine, read_yaml(BEFORE))
    before = export_yaml(engine)
    plan = plan_import(engine, members=read_yaml(UPLOAD))
    assert export_yaml(engine) == before and not plan.applied

    ecole, ardenne = plan.members
    assert (ecole.line, ecole.name, ecole.outcome) == (2, "ecole numerique sa", "updated")
    assert changes(ecole) == {
        ("member", "updated", "ecole numerique sa"),
        ("user", "updated", "direction@ecole-numerique.example"),
        ("user", "created", "achats@ecole-numerique.example"),
        ("user", "removed", "ancien@ecole-numerique.example"),
        ("profile", "updated", "Logiciels"),
        ("profile", "created", "Cloud"),
        ("profile", "removed", "Formation"),
    }
    by_subject = {c.subject: c for c in ecole.changes}
    assert by_subject["Logiciels"].fields == (
        FieldChange("cpv", "72000000", "72000000; 48000000"),
        FieldChange("frequency", "daily", "weekly"),
    )
    assert by_subject["direction@ecole-numerique.example"].fields == (FieldChange("language", "fr", "nl"),)
    assert by_subject["ecole numerique sa"].fields == (FieldChange("name", "École Numérique SA", "ecole numerique sa"),)
    assert (ardenne.line, ardenne.outcome) == (14, "created")
    new_profile = (
        FieldChange("cpv", "", "32400000"),
        FieldChange("regions", "", "BE3"),
        FieldChange("frequency", "", "daily"),
    )
    assert Change("profile", "created", "Réseaux", new_profile) in ardenne.changes

    # the bad members between the good ones, by line: one the file itself refuses, one only the store does
    assert [(p.line, p.member) for p in plan.problems] == [(11, "Brûlerie Öberg SPRL"), (12, "Zéphyr Conseil SCRL")]
    assert "neither cpv nor keywords" in plan.problems[0].reason
    assert "info@electro.example is already a user of member 'Électro Wallonie SRL'" in plan.problems[1].reason
    assert (plan.count("profile", "created"), plan.count("profile", "removed"), plan.count("user", "created")) == (
        2,
        1,
        2,
    )


def test_the_preview_agrees_with_the_real_import(engine: Engine) -> None:
    import_members(engine, read_yaml(BEFORE))
    plan = plan_import(engine, members=read_yaml(UPLOAD))
    summary = import_members(engine, read_yaml(UPLOAD))
    assert (summary.created, summary.updated, summary.unchanged) == tuple(
        len(plan.outcomes(outcome)) for outcome in ("created", "updated", "unchanged")
    )
    assert (summary.profiles_added, summary.profiles_changed, summary.profiles_removed) == (
        plan.count("profile", "created"),
        plan.count("profile", "updated"),
        plan.count("profile", "removed"),
    )
    assert summary.problems == plan.problems


def test_applying_does_what_the_preview_said_and_the_others_are_applied(engine: Engine) -> None:
    import_members(engine, read_yaml(BEFORE))
    preview = plan_import(engine, members=read_yaml(UPLOAD))
    applied = plan_import(engine, members=read_yaml(UPLOAD), apply=True, expected=preview.digest)
    assert applied.applied and applied.members == preview.members and applied.problems == preview.problems
    again = plan_import(engine, members=read_yaml(UPLOAD))
    assert [m.outcome for m in again.members] == ["unchanged", "unchanged"]
    with Session(engine) as session:
        names = sorted(session.exec(select(Member.name)).all())
        assert names == ["Ardenne Numérique SRL", "ecole numerique sa", "Électro Wallonie SRL"]
        user = session.exec(select(User).where(User.email == "direction@ecole-numerique.example")).one()
        assert user.language == "nl"


def test_a_change_between_preview_and_apply_saves_nothing(engine: Engine) -> None:
    import_members(engine, read_yaml(BEFORE))
    preview = plan_import(engine, members=read_yaml(UPLOAD))
    import_members(engine, read_yaml(BEFORE.replace("language: nl", "language: en")))  # someone else, meanwhile
    import_members(engine, read_yaml(BEFORE.replace("Formation", "Formations")))
    before = export_yaml(engine)
    with pytest.raises(PlanChanged) as raised:
        plan_import(engine, members=read_yaml(UPLOAD), apply=True, expected=preview.digest)
    assert export_yaml(engine) == before
    assert ("profile", "removed", "Formations") in changes(raised.value.plan.members[0])


def test_an_email_listed_twice_in_the_file_is_a_problem_in_the_preview_too(engine: Engine) -> None:
    text = "member,users,profile,keywords\nAlpha SA,a@x.example:fr,P,cloud\nBeta SA,a@x.example:fr,Q,cloud\n"
    plan = plan_import(engine, members=read_csv(text))
    assert [(m.line, m.outcome) for m in plan.members] == [(2, "created")]
    assert [(p.line, p.member) for p in plan.problems] == [(3, "Beta SA")]
    assert "a@x.example is already a user of member 'Alpha SA'" in plan.problems[0].reason
    assert export_yaml(engine) == "members: []\n"


def test_a_firm_saved_from_a_form_is_renamed_not_duplicated(engine: Engine) -> None:
    import_members(engine, read_yaml(BEFORE))
    with Session(engine) as session:
        ecole = session.exec(select(Member).where(Member.name == "École Numérique SA")).one()
    assert ecole.id is not None
    edited = member_in(engine, member_id=ecole.id)
    assert edited is not None and [p.name for p in edited.profiles] == ["Logiciels", "Formation"]
    renamed = MemberIn.model_validate(edited.model_dump() | {"name": "École Numérique et Formation SA"})
    saved_id, result = save_member(engine, member=renamed, member_id=ecole.id)
    assert saved_id == ecole.id and result.outcome == "updated"
    name = FieldChange("name", "École Numérique SA", "École Numérique et Formation SA")
    assert result.changes == (Change("member", "updated", "École Numérique et Formation SA", (name,)),)
    taken = MemberIn.model_validate(edited.model_dump() | {"name": "ÉLECTRO wallonie srl"})
    with pytest.raises(MemberNotSaved) as refused:
        save_member(engine, member=taken, member_id=ecole.id)
    assert refused.value.problems[0].field == "name" and "Électro Wallonie SRL" in refused.value.problems[0].reason
    stolen = MemberIn.model_validate(edited.model_dump() | {"users": [{"email": "info@electro.example"}]})
    before = export_yaml(engine)
    with pytest.raises(MemberNotSaved):
        save_member(engine, member=stolen, member_id=ecole.id)
    assert export_yaml(engine) == before  # nothing saved half

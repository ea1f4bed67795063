"""`/staff/members` over real HTTP: the firms found by name with accents aside, a members file uploaded through
its preview and applied as previewed (or refused when the file or the members changed), hostile uploads, the
export, a firm edited with errors next to the fields and nothing saved half, a refused address enabled again,
the audit trail, and a member's session refused everywhere."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pib.web.audit import StaffAudit
from pib.web.auth import add_staff
from pib.web.routers.staff.members import UPLOADS
from tests.web.conftest import Portal, add_user
from tests.web.test_auth import TOKEN_FIELD, sign_in
from tests.web.test_tender import text_of
from watch.members import export_yaml, import_members, read_yaml
from watch.models import Member, User

STAFF = "animation@cluster.example"
BEFORE = """\
members:
  - name: École Numérique SA
    users:
      - {email: direction@ecole-numerique.example, language: fr}
    profiles:
      - {name: Logiciels, cpv: ["72000000"], frequency: daily}
      - {name: Formation, keywords: ["formation"]}
  - name: Électro Wallonie SRL
    users: [{email: info@electro.example, language: nl}]
    profiles: [{name: Câblage, cpv: ["45310000"]}]
"""
UPLOAD = """\
members:
  - name: École Numérique SA
    users:
      - {email: direction@ecole-numerique.example, language: nl}
      - {email: achats@ecole-numerique.example, language: en}
    profiles:
      - {name: Logiciels, cpv: ["72000000", "48000000"], frequency: weekly}
  - name: Brûlerie Öberg SPRL
    profiles:
      - {name: Café, cpv: ["1500000"]}
  - name: Ardenne Numérique SRL
    users: [{email: contact@ardenne.example, language: fr}]
    profiles: [{name: Réseaux, cpv: ["32400000"], regions: [BE3]}]
"""
HIDDEN = re.compile(r'<input type="hidden" name="(token|fmt|digest|filename)" value="([^"]*)">')


@pytest.fixture
def staff(portal: Portal) -> httpx.Client:
    import_members(portal.engine, read_yaml(BEFORE))
    add_staff(portal.engine, email=STAFF, language="en")
    return sign_in(portal, STAFF)


def csrf(client: httpx.Client, path: str = "/staff/members") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return TOKEN_FIELD.findall(page.text)[-1]


def upload(client: httpx.Client, name: str, data: bytes) -> httpx.Response:
    return client.post("/staff/members/upload", data={"csrf_token": csrf(client)}, files={"file": (name, data)})


def apply_form(preview: httpx.Response) -> dict[str, str]:
    return dict(HIDDEN.findall(preview.text)) | {"csrf_token": TOKEN_FIELD.findall(preview.text)[-1]}


def audit_lines(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(StaffAudit).order_by(col(StaffAudit.id))).all()
        return [(row.action, row.what, row.subject) for row in rows]


def test_a_members_file_through_its_preview_then_applied(portal: Portal, staff: httpx.Client) -> None:
    before = export_yaml(portal.engine)
    preview = upload(staff, "membres.yaml", UPLOAD.encode())
    assert preview.status_code == 200, preview.text
    seen = text_of(preview.text)
    assert "Preview of the members file Nothing is saved yet: this is what importing membres.yaml would change." in seen
    assert "Firms created 1 Firms updated 1 Firms unchanged 0 Profiles created 1 Profiles updated 1" in seen
    assert "Profiles removed 1 Users added 2 Problems 1" in seen
    assert (
        "10 Brûlerie Öberg SPRL profiles[0].cpv[0]: not a CPV code (8 digits, check digit optional): '1500000'" in seen
    )
    assert "École Numérique SA updated line 2" in seen
    assert "Profile Logiciels: updated cpv : 72000000 → 72000000; 48000000 frequency : daily → weekly" in seen
    assert "User direction@ecole-numerique.example: updated language : fr → nl" in seen
    assert "Profile Formation: removed" in seen and "User achats@ecole-numerique.example: created" in seen
    assert "Ardenne Numérique SRL created line 11" in seen
    assert export_yaml(portal.engine) == before  # a preview saves nothing

    applied = staff.post("/staff/members/apply", data=apply_form(preview))
    assert applied.status_code == 200, applied.text
    done = text_of(applied.text)
    assert "Members file applied membres.yaml was imported: the changes below are saved." in done
    assert "Profile Logiciels: updated cpv : 72000000 → 72000000; 48000000" in done
    assert "Apply these changes" not in done
    with Session(portal.engine) as session:
        names = sorted(session.exec(select(Member.name)).all())
        language = session.exec(select(User.language).where(User.email == "direction@ecole-numerique.example")).one()
    assert names == ["Ardenne Numérique SRL", "École Numérique SA", "Électro Wallonie SRL"] and language == "nl"
    again = staff.post("/staff/members/apply", data=apply_form(preview))  # the kept file went with the apply
    assert again.status_code == 400 and "no longer kept (applied or expired); upload again" in text_of(again.text)

    lines = audit_lines(portal.engine)
    assert ("view", "members file preview") in {(a, w) for a, w, _ in lines}
    (change,) = [subject for action, what, subject in lines if what == "members file applied"]
    assert change == "membres.yaml: created [Ardenne Numérique SRL]; updated [École Numérique SA]; problems at lines 10"


def test_the_apply_is_refused_when_the_file_or_the_members_changed(portal: Portal, staff: httpx.Client) -> None:
    preview = upload(staff, "membres.yaml", UPLOAD.encode())
    form = apply_form(preview)
    kept = UPLOADS / f"{form['token']}.yaml"
    kept.write_bytes(UPLOAD.replace("language: nl", "language: en").encode())
    tampered = staff.post("/staff/members/apply", data=form)
    assert tampered.status_code == 400 and "the uploaded file changed on the server" in text_of(tampered.text)

    preview = upload(staff, "membres.yaml", UPLOAD.encode())
    import_members(portal.engine, read_yaml(BEFORE.replace("Formation", "Formations")))  # meanwhile, by the CLI
    before = export_yaml(portal.engine)
    stale = staff.post("/staff/members/apply", data=apply_form(preview))
    assert "The members changed since the preview, so nothing was saved." in text_of(stale.text)
    assert "Profile Formations: removed" in text_of(stale.text)
    assert export_yaml(portal.engine) == before
    applied = staff.post("/staff/members/apply", data=apply_form(stale))  # the new preview applies
    assert "Members file applied" in text_of(applied.text)
    assert "Formations" not in export_yaml(portal.engine)


def test_a_csv_file_with_a_bad_member_between_two_good_ones(portal: Portal, staff: httpx.Client) -> None:
    text = (
        "member,users,profile,cpv,keywords,frequency\n"
        "École Numérique SA,direction@ecole-numerique.example:fr,Logiciels,72000000,,instant\n"
        "Zéphyr Conseil SCRL,info@electro.example:fr,Conseil,,conseil,daily\n"
        "Ardenne Numérique SRL,contact@ardenne.example:nl,Réseaux,32400000,,weekly\n"
    )
    preview = upload(staff, "membres.csv", text.encode())
    seen = text_of(preview.text)
    assert "3 Zéphyr Conseil SCRL email info@electro.example is already a user of member 'Électro Wallonie SRL'" in seen
    applied = text_of(staff.post("/staff/members/apply", data=apply_form(preview)).text)
    assert "Firms created 1 Firms updated 1" in applied
    with Session(portal.engine) as session:
        names = set(session.exec(select(Member.name)).all())
    assert "Ardenne Numérique SRL" in names and "Zéphyr Conseil SCRL" not in names


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("membres.txt", b"members: []", "membres.txt: a members file ends in .yaml, .yml or .csv"),
        ("membres.yaml", b"\xff\xfe\x00", "membres.yaml: not UTF-8 text"),
        ("membres.yaml", b"- just a list", "a members file is a mapping with a `members:` list"),
        ("membres.csv", b"membre;nom\nx;y\n", "unknown columns 'membre;nom'"),
        ("membres.yaml", b"members: []\n" + b"#" * (5 * 1024 * 1024), "the file is too large"),
    ],
)
def test_a_bad_upload_is_refused_next_to_the_field(
    portal: Portal, staff: httpx.Client, name: str, data: bytes, reason: str
) -> None:
    before = export_yaml(portal.engine)
    refused = upload(staff, name, data)
    assert refused.status_code == 400
    assert 'aria-invalid="true" aria-describedby="file-error"' in refused.text
    (error,) = re.findall(r'<p class="field-error" id="file-error" role="alert">([^<]*)</p>', refused.text)
    assert reason in error.replace("&#39;", "'").replace("&#96;", "`")
    assert export_yaml(portal.engine) == before


def test_an_alias_bomb_is_a_problem_by_line_not_a_hang(portal: Portal, staff: httpx.Client) -> None:
    bomb = "members:\n  - name: &a École\n    profiles: [&b {name: x, keywords: [*a, *a, *a, *a]}, *b, *b, *b]\n"
    bomb += "  - name: Ardenne Numérique SRL\n    profiles: [{name: Réseaux, cpv: ['32400000']}]\n"
    preview = upload(staff, "bomb.yaml", bomb.encode())
    seen = text_of(preview.text)
    assert "an alias (*name) repeats the part at line 2: aliases are not allowed here" in seen
    assert "Ardenne Numérique SRL created line 4" in seen


def test_the_firms_are_found_by_name_whatever_the_case_and_accents(portal: Portal, staff: httpx.Client) -> None:
    for query in ("ecole numerique", "ÉCOLE", "numérique sa"):
        found = text_of(staff.get("/staff/members", params={"q": query}).text)
        assert "1 firms" in found and "École Numérique SA active 1 2 0" in found
        assert "Électro Wallonie" not in found
    everything = text_of(staff.get("/staff/members").text)
    assert "2 firms" in everything and "Électro Wallonie SRL active 1 1 0" in everything
    assert "0 firms No firm matches." in text_of(staff.get("/staff/members", params={"q": "50%_"}).text)
    assert ("view", "members list", "search 'ÉCOLE': 1") in audit_lines(portal.engine)


def test_the_export_downloads(portal: Portal, staff: httpx.Client) -> None:
    yaml_file = staff.get("/staff/members/export.yaml")
    assert yaml_file.headers["content-disposition"] == 'attachment; filename="members.yaml"'
    assert yaml_file.text == export_yaml(portal.engine) and "École Numérique SA" in yaml_file.text
    csv_file = staff.get("/staff/members/export.csv")
    assert csv_file.text.splitlines()[0].startswith("member,active,users") and "Électro Wallonie SRL" in csv_file.text
    assert staff.get("/staff/members/export.xml").status_code == 404


def firm_id(engine: Engine, name: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(Member.id).where(Member.name == name)).one()
        assert found is not None
        return found


def test_a_firm_edited_with_errors_next_to_the_fields_and_nothing_saved_half(
    portal: Portal, staff: httpx.Client
) -> None:
    ecole = firm_id(portal.engine, "École Numérique SA")
    page = staff.get(f"/staff/members/{ecole}")
    assert 'value="direction@ecole-numerique.example"' in page.text and 'value="Logiciels"' in page.text
    form = {
        "csrf_token": TOKEN_FIELD.findall(page.text)[-1],
        "name": "École Numérique SA",
        "active": "on",
        "competence_cpv": "72000000",
        "user-0-email": "direction@ecole-numerique.example",
        "user-0-language": "nl",
        "user-1-email": "nouveau@ecole-numerique",
        "user-1-language": "en",
        "profile-0-name": "Logiciels",
        "profile-0-cpv": "72000000; 4800",
        "profile-0-frequency": "weekly",
        "profile-1-name": "Formation",
        "profile-1-keywords": "formation",
        "profile-1-remove": "on",
    }
    before = export_yaml(portal.engine)
    refused = staff.post(f"/staff/members/{ecole}", data=form)
    assert refused.status_code == 400
    assert "Some fields need correcting; nothing was saved." in text_of(refused.text)
    errors = dict(re.findall(r'<p class="field-error" id="([\w-]+)-error">([^<]*)</p>', refused.text))
    assert (
        errors["profile-0-cpv"].startswith("profiles[0].cpv[1]: not a CPV code") and "4800" in errors["profile-0-cpv"]
    )
    assert errors["user-1-email"].startswith("users[1].email: not an email address")
    assert 'id="profile-0-cpv" name="profile-0-cpv" value="72000000; 4800" aria-invalid="true"' in refused.text
    assert export_yaml(portal.engine) == before

    form |= {"profile-0-cpv": "72000000; 48000000", "user-1-email": "nouveau@ecole-numerique.example"}
    saved = staff.post(f"/staff/members/{ecole}", data=form)
    assert saved.status_code == 200, saved.text
    said = text_of(saved.text)
    assert "Saved. Firm École Numérique SA: updated (competences)" in said
    assert "User direction@ecole-numerique.example: updated (language)" in said
    assert "User nouveau@ecole-numerique.example: created" in said and "Profile Formation: removed" in said
    exported = export_yaml(portal.engine)
    assert "nouveau@ecole-numerique.example" in exported and "Formation" not in exported
    assert "frequency: weekly" in exported and "competences:\n    cpv:\n    - '72000000'" in exported

    renamed = staff.post(f"/staff/members/{ecole}", data=form | {"name": "electro WALLONIE srl"})
    assert renamed.status_code == 400
    assert "a member named 'Électro Wallonie SRL' already exists" in text_of(renamed.text).replace("&#39;", "'")
    assert firm_id(portal.engine, "École Numérique SA") == ecole


def test_a_new_firm_and_a_refused_address_enabled_again(portal: Portal, staff: httpx.Client) -> None:
    token = csrf(staff, "/staff/members/new")
    form = {"csrf_token": token, "name": "Brûlerie Öberg SPRL", "active": "on", "user-0-email": "bureau@oberg.example"}
    form |= {"user-0-language": "nl", "profile-0-name": "Café", "profile-0-keywords": "café; torréfaction"}
    created = staff.post("/staff/members/new", data=form)
    assert created.status_code == 303
    oberg = firm_id(portal.engine, "Brûlerie Öberg SPRL")
    assert created.headers["location"] == f"/staff/members/{oberg}"
    assert staff.post("/staff/members/new", data=form).status_code == 400  # the same name again

    with portal.engine.begin() as connection:
        connection.execute(
            sa.update(User)
            .where(sa.column("email") == "bureau@oberg.example")
            .values(email_disabled_reason="550 5.1.1 mailbox unknown")
        )
    page = staff.get(f"/staff/members/{oberg}")
    assert "Address refused by the mail server: 550 5.1.1 mailbox unknown" in text_of(page.text)
    assert "Oberg" not in text_of(staff.get("/staff/members").text) and "Brûlerie Öberg SPRL active 1 1 1" in text_of(
        staff.get("/staff/members").text
    )
    (action,) = re.findall(r'action="(/staff/members/\d+/users/\d+/reenable)"', page.text)
    enabled = staff.post(action, data={"csrf_token": TOKEN_FIELD.findall(page.text)[-1]})
    assert enabled.status_code == 303
    after = text_of(staff.get(enabled.headers["location"]).text)
    assert "The address is enabled again: the next digest is sent to it." in after and "550 5.1.1" not in after
    other = firm_id(portal.engine, "École Numérique SA")
    wrong_firm = action.replace(f"/members/{oberg}/", f"/members/{other}/")
    assert staff.post(wrong_firm, data={"csrf_token": TOKEN_FIELD.findall(page.text)[-1]}).status_code == 404
    assert ("change", "address re-enabled", f"bureau@oberg.example (member {oberg})") in audit_lines(portal.engine)


def test_a_members_session_is_refused_on_every_staff_members_url(portal: Portal, staff: httpx.Client) -> None:
    add_user(portal.engine, firm="Zéphyr Conseil SCRL", address="info@zephyr.example")
    member = sign_in(portal, "info@zephyr.example")
    token = TOKEN_FIELD.findall(member.get("/").text)[-1]
    ecole = firm_id(portal.engine, "École Numérique SA")
    for path in ("/staff/members", "/staff/members/export.yaml", "/staff/members/export.csv", "/staff/members/new"):
        assert member.get(path).status_code == 403, path
        assert member.get(f"/staff/members/{ecole}").status_code == 403
    data = {"csrf_token": token, "name": "Pirate SA"}
    posts = ("/staff/members/new", f"/staff/members/{ecole}", "/staff/members/apply")
    for path in (*posts, f"/staff/members/{ecole}/users/1/reenable"):
        assert member.post(path, data=data).status_code == 403, path
    refused = member.post(
        "/staff/members/upload", data={"csrf_token": token}, files={"file": ("m.yaml", UPLOAD.encode())}
    )
    assert refused.status_code == 403 and "École" not in refused.text
    assert firm_id(portal.engine, "École Numérique SA") == ecole

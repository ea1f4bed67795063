"""Partner groups over real HTTP: formed from a tender's interested firms in their declared roles, roles and
lots set, the coverage grid and its gap, suggestions with why, status forming → submitted with a note and the
history, a refused transition next to the form, an invitation that emails the reveal request under a pseudonym
only, the printable summary; each change audited."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from consortium.models import group_table
from consortium.services import record_interest
from pib.web.audit import list_audit
from tests.web.conftest import Portal
from tests.web.test_staff_interests import (
    ADDRESS_D,
    BIG,
    FIRM_A,
    FIRM_B,
    FIRM_C,
    FIRM_D,
    Cluster,
    cluster,
    csrf,
    staff_client,
    text_of,
)


def form(client: httpx.Client, found: Cluster, *members: int) -> str:
    """Form a group through the page's form; the group's address."""
    token = csrf(client, f"/staff/groups/new?notice={BIG}")
    answer = client.post(
        "/staff/groups",
        data={"csrf_token": token, "notice": BIG, "name": "Écoles 2026", "member": [str(m) for m in members]},
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("?")[0]


def act(client: httpx.Client, path: str, action: str, **fields: str | list[str]) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf(client, path), "action": action, **fields})


def grid_row(seen: str, lot: str) -> str:
    """The text of one row of the coverage grid."""
    grid = seen[seen.index("Coverage: lots × firms") :]
    row = grid[grid.index(f"Lot {lot} ") :]
    following = row.find(f"Lot {int(lot) + 1} ")
    return row[: following if following > 0 else row.index("Status and notes")]


def test_staff_form_a_group_set_roles_and_lots_see_the_gap_and_submit(portal: Portal) -> None:
    found = cluster(portal.engine)
    client = staff_client(portal)
    new = text_of(client.get(f"/staff/groups/new?notice={BIG}").text)
    assert f"{FIRM_A} — Lead, seeks partners" in new and f"{FIRM_B} — Partner" in new and FIRM_C not in new
    refused = client.post(
        "/staff/groups", data={"csrf_token": csrf(client, "/staff/groups"), "notice": BIG, "name": "x"}
    )
    assert refused.status_code == 422 and "Tick at least one interested firm." in text_of(refused.text)

    path = form(client, found, found.a, found.b)
    seen = text_of(client.get(path).text)
    assert "Écoles 2026" in seen and "Status: Forming" in seen
    assert "Gaps: lot 3" in seen
    assert "Gap: no firm of the group takes this lot" in grid_row(seen, "3")
    assert "Covered" in grid_row(seen, "1") and "covers 72212000" in grid_row(seen, "1")
    # Ålesund does advertising: suggested for lot 3, with why, though it flagged nothing
    suggestions = seen[seen.index("Partner suggestions") : seen.index("Invitations (reveal requests)")]
    assert "Lot 3: Publicité" in suggestions and FIRM_C in suggestions and "not interested yet" in suggestions
    assert "does CPV 79341000" in suggestions

    saved = act(client, path, "set", member_id=str(found.b), role="subcontractor", lot=["2"])
    assert saved.status_code == 303
    seen = text_of(client.get(saved.headers["location"]).text)
    assert "Role and lots saved." in seen
    assert f"{FIRM_B} now Subcontractor, lots 2" in seen  # the history
    row1 = grid_row(seen, "1")
    assert row1.count("takes it") == 1  # only École Numérique takes lot 1

    added = act(client, path, "add", member_id=str(found.c), role="subcontractor", lot=["3"])
    assert added.status_code == 303
    seen = text_of(client.get(path).text)
    assert "Every lot is covered." in seen and "Covered" in grid_row(seen, "3")
    removed = act(client, path, "remove", member_id=str(found.c))
    assert removed.status_code == 303
    seen = text_of(client.get(path).text)
    assert "Gaps: lot 3" in seen and f"{FIRM_C} removed" in seen

    wrong = act(client, path, "status", status="won")
    assert wrong.status_code == 422
    assert "group 1 is forming: it can become submitted, not 'won'" in text_of(wrong.text)
    submitted = act(client, path, "status", status="submitted", note="Dépôt sur la plateforme à 11 h")
    assert submitted.status_code == 303
    seen = text_of(client.get(path).text)
    assert "Status: Submitted" in seen and "Forming → Submitted: Dépôt sur la plateforme à 11 h" in seen
    assert act(client, path, "note", note="Réunion jeudi").status_code == 303
    assert "note: Réunion jeudi" in text_of(client.get(path).text)

    with portal.engine.connect() as connection:
        assert connection.execute(sa.select(group_table.c.status)).scalar_one() == "submitted"
    changes = [line for line in list_audit(portal.engine, action="change").lines]
    whats = [line.what for line in changes]
    assert whats.count("group status") == 1 and "group formed" in whats and "group firm removed" in whats
    formed = next(line for line in changes if line.what == "group formed")
    assert FIRM_A in formed.subject and FIRM_B in formed.subject


def test_two_leads_declared_one_lead_in_the_group(portal: Portal) -> None:
    found = cluster(portal.engine)
    record_interest(portal.engine, member_id=found.b, tender=BIG, lots=["2"], role="lead")
    client = staff_client(portal)
    seen = text_of(client.get(form(client, found, found.a, found.b)).text)
    assert f"{FIRM_A} added as Lead" in seen and f"{FIRM_B} added as Partner" in seen


def test_inviting_a_firm_emails_it_the_reveal_request_under_pseudonyms(portal: Portal) -> None:
    found = cluster(portal.engine)
    record_interest(portal.engine, member_id=found.d, tender=BIG, lots=["3"], role="subcontractor")
    client = staff_client(portal)
    path = form(client, found, found.a)
    before = len(portal.emails())
    not_interested = act(client, path, "invite", member_id=str(found.c))
    assert not_interested.status_code == 422
    assert f"{FIRM_C} has not flagged {BIG}" in text_of(not_interested.text)
    assert len(portal.emails()) == before

    invited = act(client, path, "invite", member_id=str(found.d))
    assert invited.status_code == 303
    seen = text_of(client.get(invited.headers["location"]).text)
    assert "Reveal request sent by email" in seen
    assert f"{FIRM_A} asked {FIRM_D} on" in seen and "Waiting for an answer" in seen
    (message,) = [m for m in portal.emails()[before:] if str(m["To"]) == ADDRESS_D]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Firme " in text  # the asker by its pseudonym
    assert FIRM_A not in text and "ecole-numerique" not in text and FIRM_A not in str(message["Subject"])


def test_the_summary_is_one_printable_page(portal: Portal) -> None:
    found = cluster(portal.engine)
    client = staff_client(portal)
    path = form(client, found, found.a, found.b)
    answer = client.get(f"{path}/summary")
    assert answer.status_code == 200 and "/static/staff-groups.css" in answer.text
    seen = text_of(answer.text)
    assert "Écoles 2026" in seen and "Plateforme numérique des écoles" in seen
    assert f"{FIRM_A} Lead 1, 2" in seen and f"{FIRM_B} Partner 2" in seen  # the lots each declared
    assert "Gap: no firm of the group takes this lot" in seen
    assert "Staff console" not in seen  # no console nav on the sheet
    css = client.get("/static/staff-groups.css").text
    assert "@media print" in css and ".site-header" in css
    assert list_audit(portal.engine).lines[0].what == "group summary"
    assert client.get("/staff/groups/999").status_code == 404
    assert client.get("/staff/groups/999/summary").status_code == 404
    assert client.get("/staff/groups/new?notice=boamp:nothing").status_code == 404

    listing = text_of(client.get("/staff/groups").text)
    assert "Écoles 2026 Forming 2 3" in listing
    board = text_of(client.get("/staff/interests").text)  # the board links the tender's groups
    assert "Écoles 2026 (Forming) Form a group" in board

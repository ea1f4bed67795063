"""The staff audit trail (issue 11 point 6): what staff saw of identities and changed, who and when, listed on
/staff/audit; a change's line is committed or rolled back with the change; members never read it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from pib.web.audit import StaffAudit, list_audit, record_audit
from pib.web.auth import Principal, add_staff
from pib.web.charts import Series, bar_chart, sparkline
from tests.web.conftest import Portal, add_user
from tests.web.test_auth import sign_in

STAFF = "animation@cluster.example"


def text(page: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _staff(engine: Engine, email: str = STAFF) -> Principal:
    staff_id = add_staff(engine, email=email, language="fr")
    return Principal(kind="staff", id=staff_id, email=email, language="fr")


def _lines(engine: Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(StaffAudit).order_by(col(StaffAudit.id))).all()
    return [(row.action, row.what, row.subject) for row in rows]


def test_a_change_is_recorded_with_its_transaction_and_a_view_at_once(engine: Engine) -> None:
    staff = _staff(engine)
    with Session(engine) as session:  # the change fails: its line goes with it
        record_audit(session, staff=staff, action="change", what="group status", subject="group 3: → submitted")
        session.rollback()
    assert _lines(engine) == []
    with Session(engine) as session:
        record_audit(session, staff=staff, action="change", what="firm edited", subject="École Numérique SA (#12)")
        session.commit()
    record_audit(engine, staff=staff, action="view", what="interest board", subject="ted 12345-2026:\x00 lot 2\n")
    assert _lines(engine) == [
        ("change", "firm edited", "École Numérique SA (#12)"),
        ("view", "interest board", "ted 12345-2026: lot 2"),
    ]


def test_only_staff_and_known_actions_are_recorded(engine: Engine) -> None:
    member = Principal(kind="member", id=1, email="direction@ecole-numerique.example", language="fr", member_id=1)
    with pytest.raises(ValueError, match="is not staff"):
        record_audit(engine, staff=member, action="view", what="interest board")
    with pytest.raises(ValueError, match="action must be one of view, change"):
        record_audit(engine, staff=_staff(engine), action="delete", what="firm")  # type: ignore[arg-type]
    assert _lines(engine) == []


def test_the_trail_is_filtered_newest_first(engine: Engine) -> None:
    anne, bert = _staff(engine), _staff(engine, "bert@cluster.example")
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    record_audit(engine, staff=anne, action="view", what="interest board", subject="Électro Wallonie", at=start)
    record_audit(engine, staff=bert, action="change", what="group status", subject="group 1", at=start + timedelta(1))
    record_audit(engine, staff=anne, action="change", what="firm edited", subject="100%_Bio", at=start + timedelta(2))
    everything = list_audit(engine)
    assert [line.what for line in everything.lines] == ["firm edited", "group status", "interest board"]
    assert everything.total == 3 and everything.staff == [STAFF, "bert@cluster.example"]
    assert [line.what for line in list_audit(engine, staff_email=STAFF, action="change").lines] == ["firm edited"]
    assert [line.subject for line in list_audit(engine, search="wallonie").lines] == ["Électro Wallonie"]
    assert [line.subject for line in list_audit(engine, search="0%_").lines] == ["100%_Bio"]  # wildcards literal
    assert list_audit(engine, search="%").total == 1
    assert [line.what for line in list_audit(engine, limit=1, offset=1).lines] == ["group status"]


def test_the_audit_page_lists_who_what_when_and_members_never_see_it(portal: Portal) -> None:
    staff = _staff(portal.engine)
    add_user(portal.engine, firm="École Numérique SA", address="direction@ecole-numerique.example")
    record_audit(portal.engine, staff=staff, action="view", what="interest board", subject="École Numérique SA, lot 2")
    browser = sign_in(portal, STAFF)
    page = browser.get("/staff/audit")
    assert page.status_code == 200
    body = text(page.text)
    assert re.search(
        rf"\d\d/\d\d/\d\d\d\d \d\d:\d\d {STAFF} A vu des identités interest board École Numérique SA, lot 2", body
    )
    assert "1 lignes." in body
    changed = text(browser.get("/staff/audit", params={"action": "change"}).text)
    assert "Rien n’est enregistré." in changed
    found = text(browser.get("/staff/audit", params={"q": "numérique", "staff": STAFF}).text)
    assert "interest board" in found
    member = sign_in(portal, "direction@ecole-numerique.example")
    refused = member.get("/staff/audit")
    assert refused.status_code == 403 and "École Numérique SA, lot 2" not in refused.text


def test_charts_are_named_escaped_and_refuse_mismatched_series() -> None:
    chart = bar_chart(
        title="Marchés <par> semaine",
        categories=["2 nov.", "9 nov."],
        series=[Series("ted", [3, 0]), Series("Électro & Co", [1, 4])],
    )
    assert '<svg class="chart" role="img" aria-labelledby="' in chart and "Marchés &lt;par&gt; semaine</title>" in chart
    assert "<title>9 nov. · Électro &amp; Co: 4</title>" in chart
    assert "9 nov. · ted: 0" not in chart  # a zero draws no bar
    assert re.search(r'text-anchor="end">5</text>', chart)  # the axis top, rounded up from 4
    with pytest.raises(ValueError, match="one value per category"):
        bar_chart(title="x", categories=["a"], series=[Series("ted", [1, 2])])
    line = sparkline(title="ted: avis par jour", values=[0, 2, 7], labels=["1 nov.", "2 nov.", "3 nov."])
    assert '<rect class="zero"' in line and "<title>3 nov.: 7</title>" in line and ">7</text>" in line

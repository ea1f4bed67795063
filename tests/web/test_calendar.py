"""The private calendar feed (issue 10, point 7): made on the account page, read without a session by its secret
address, parsed back by a strict RFC 5545 reader (CRLF, lines of at most 75 octets, folding, escaped text, UID
stable across fetches, DTSTAMP); only the followed tenders of the user's own firm; a replaced or revoked address
answers 404; the token never reaches the access log."""

from __future__ import annotations

import doctest
import importlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from crawlers.store.models import utcnow
from crawlers.store.procedures import link_procedures
from pib.web.calendar import procedure_table
from pib.web.ics import calendar, escape, fold
from tests.notifications.helpers import add_firm, add_notice
from tests.web.conftest import Portal
from tests.web.test_account import post, text
from tests.web.test_auth import sign_in
from watch.feedback import record_feedback

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
OTHER = "offres@electro-wallonie.example"
LONG_TITLE = (
    "Marché de services; fourniture, installation et maintenance d'un système d'archivage électronique "
    "« cloud » pour la Ville de Liège\\Verviers — lot unique"
)
URL = re.compile(r'id="feed-url" type="text" readonly value="([^"]+)"')


@dataclass
class Component:
    name: str
    properties: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def get(self, name: str) -> str:
        values = [value for key, _params, value in self.properties if key == name]
        assert len(values) == 1, (name, values)
        return values[0]


def unescape(value: str) -> str:
    """A TEXT value as RFC 5545 §3.3.11 reads it; a lone backslash or an unescaped comma/semicolon is an error."""
    out, index = [], 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            following = value[index + 1]
            assert following in "\\;,nN", f"bad escape \\{following} in {value!r}"
            out.append("\n" if following in "nN" else following)
            index += 2
            continue
        assert char not in ",;", f"unescaped {char!r} in TEXT {value!r}"
        out.append(char)
        index += 1
    return "".join(out)


def parse(body: bytes) -> Component:
    """A strict reader: CRLF only, every physical line at most 75 octets, folded lines unfolded, nesting checked."""
    assert body.endswith(b"\r\n")
    physical = body[:-2].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in physical), "a bare LF or CR"
    assert max(len(line) for line in physical) <= 75
    logical: list[bytes] = []
    for line in physical:
        if line[:1] in (b" ", b"\t"):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    stack = [Component("ROOT")]
    for raw in logical:
        content = raw.decode("utf-8")  # folding never cut a character: each logical line decodes whole
        head, _, value = content.partition(":")
        name, *params = head.split(";")
        if name == "BEGIN":
            stack.append(Component(value))
        elif name == "END":
            done = stack.pop()
            assert done.name == value, f"END:{value} closes {done.name}"
            stack[-1].children.append(done)
        else:
            stack[-1].properties.append((name, dict(param.split("=", 1) for param in params), value))
    assert len(stack) == 1 and len(stack[0].children) == 1
    return stack[0].children[0]


def moment(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def test_the_calendar_feed_of_the_followed_tenders(portal: Portal, caplog: pytest.LogCaptureFixture) -> None:
    engine = portal.engine
    firm = add_firm(engine, name=FIRM, users=[(ADDRESS, "fr")])
    other = add_firm(engine, name="Électro Wallonie SRL", users=[(OTHER, "fr")])
    soon = (utcnow() + timedelta(days=12)).replace(microsecond=0)
    followed = add_notice(
        engine,
        source_id="26-0101",
        title=LONG_TITLE,
        deadline=soon.isoformat(),
        buyer={"name": "Ville de Liège", "country": "BE", "town": "Liège"},
    )
    cancelled = add_notice(engine, source_id="26-0102", title="Éclairage public", deadline=soon.isoformat())
    unfollowed = add_notice(engine, source_id="26-0103", title="Nettoyage des bureaux", deadline=soon.isoformat())
    theirs = add_notice(engine, source_id="26-0104", title="Câblage réseau", deadline=soon.isoformat())
    long_past = add_notice(engine, source_id="26-0105", title="Ancien marché", deadline="2020-01-10T12:00:00+01:00")
    link_procedures(engine)
    for notice in (followed, cancelled, long_past):
        record_feedback(engine, member_id=firm.member_id, notice_id=notice, verdict="interesting")
    record_feedback(engine, member_id=firm.member_id, notice_id=unfollowed, verdict="not-relevant")
    record_feedback(engine, member_id=other.member_id, notice_id=theirs, verdict="interesting")
    with engine.begin() as connection:
        connection.execute(
            procedure_table.update().where(procedure_table.c.title == "Éclairage public").values(status="cancelled")
        )

    client = sign_in(portal, ADDRESS)
    assert "Créer mon adresse de calendrier" in text(client.get("/account"))
    made = post(client, "/account", action="calendar-create")
    assert made.status_code == 201
    found = URL.search(made.text)
    assert found, made.text
    address = found.group(1)
    assert address.startswith(portal.url + "/calendar/") and address.endswith(".ics")
    assert address not in client.get("/account").text, "the address is shown once"

    caplog.set_level(logging.WARNING, logger="httpx")  # the test's own client logs the URL it asks; not the server
    caplog.set_level(logging.INFO, logger="pib.web.access")  # last: it also sets the capture's own level
    caplog.set_level(logging.INFO, logger="uvicorn.access")  # the server's own access line must not carry it either
    with httpx.Client(timeout=30) as calendar_app:  # no session, no cookie: what Outlook or Google does
        first = calendar_app.get(address)
        second = calendar_app.get(address)
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    token = address.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in caplog.text and "GET /calendar/… 200" in caplog.text

    feed = parse(first.content)
    assert feed.name == "VCALENDAR"
    assert feed.get("VERSION") == "2.0" and feed.get("PRODID")
    assert unescape(feed.get("X-WR-CALNAME")) == f"Échéances PIB de {FIRM}"
    events = {unescape(event.get("SUMMARY")): event for event in feed.children}
    assert set(events) == {f"Date limite : {' '.join(LONG_TITLE.split())}", "Date limite : Éclairage public"}
    event = events[f"Date limite : {' '.join(LONG_TITLE.split())}"]
    assert moment(event.get("DTSTART")) == soon
    assert abs(moment(event.get("DTSTAMP")) - utcnow()) < timedelta(minutes=5)
    description = unescape(event.get("DESCRIPTION"))
    assert description.splitlines() == [
        "Acheteur : Ville de Liège",
        f"Suivi dans PIB par {FIRM}.",
        f"{portal.url}/tenders/boamp/26-0101",
    ]
    assert event.get("URL") == f"{portal.url}/tenders/boamp/26-0101"
    assert event.get("STATUS") == "CONFIRMED"
    assert events["Date limite : Éclairage public"].get("STATUS") == "CANCELLED"
    assert "Cette procédure a été annulée." in unescape(events["Date limite : Éclairage public"].get("DESCRIPTION"))
    again = {unescape(event.get("SUMMARY")): event.get("UID") for event in parse(second.content).children}
    assert again == {summary: event.get("UID") for summary, event in events.items()}, "UIDs are stable"
    assert len(set(again.values())) == 2
    assert "Dernière lecture par un calendrier" in text(client.get("/account"))

    # A new address replaces the old; revoking leaves none: both old addresses answer 404, as an unknown one.
    renewed = URL.search(post(client, "/account", action="calendar-create").text)
    assert renewed
    with httpx.Client(timeout=30) as calendar_app:
        assert calendar_app.get(address).status_code == 404
        assert calendar_app.get(renewed.group(1)).status_code == 200
        revoked = post(client, "/account", action="calendar-revoke")
        assert "L’adresse du calendrier est révoquée" in text(client.get(revoked.headers["location"]))
        assert calendar_app.get(renewed.group(1)).status_code == 404
        assert calendar_app.get(portal.url + "/calendar/nothing.ics").status_code == 404


def test_a_feed_follows_the_language_and_the_firm_of_its_user(portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "nl")])
    deadline = (utcnow() + timedelta(days=3)).replace(microsecond=0).isoformat()
    notice = add_notice(portal.engine, source_id="26-0201", deadline=deadline)
    record_feedback(portal.engine, member_id=firm.member_id, notice_id=notice, verdict="interesting")
    client = sign_in(portal, ADDRESS)
    found = URL.search(post(client, "/account", action="calendar-create").text)
    assert found
    feed = parse(httpx.get(found.group(1), timeout=30).content)
    assert [unescape(event.get("SUMMARY")) for event in feed.children] == [
        "Uiterste datum: Développement d'un logiciel de gestion"
    ]
    with portal.engine.begin() as connection:
        connection.execute(sa.text("UPDATE member SET active = :no"), {"no": False})
    assert httpx.get(found.group(1), timeout=30).status_code == 404, "a firm no longer active has no feed"


def test_ics_text_rules() -> None:
    """The writer's rules on their own: escapes read back, folding at 75 octets never inside a character."""
    title = "Lot 2; voirie, éclairage\\n\n" + "é" * 80
    assert unescape(escape(title)) == title
    for length in range(60, 200):
        line = "SUMMARY:" + "€" * length
        physical = fold(line).encode().split(b"\r\n")
        assert max(len(part) for part in physical) <= 75
        assert b"".join(part[1:] if index else part for index, part in enumerate(physical)).decode() == line
    text = calendar(events=[], name="Nom, avec; tout", now=datetime(2026, 3, 1, tzinfo=UTC))
    assert parse(text.encode()).get("NAME") == "Nom\\, avec\\; tout"


@pytest.mark.parametrize("name", ["pib.web.ics", "pib.web.calendar", "pib.web.routers.firm"])
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0

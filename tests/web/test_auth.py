"""Signing in by emailed link (design §7): the link read from the outbox, a scanner's GET signs nobody in,
single use, expiry, the same answer for unknown addresses, hourly limits, sessions signed out everywhere,
CSRF on every POST, cookie flags, staff, and the bearer tokens of the API."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from crawlers.store.models import utcnow
from pib.cli import app as cli
from pib.web.app import create_app
from pib.web.auth import LINKS_PER_ADDRESS_PER_HOUR, link_table, request_table, session_table, token_table
from pib.web.deps import ApiUser, CurrentMember, StaffUser
from tests.web.conftest import Portal, add_user

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf(client: httpx.Client | TestClient, path: str = "/login") -> str:
    """The token of this browser's forms, from a page, as a browser gets it."""
    found = TOKEN_FIELD.search(client.get(path).text)
    assert found
    return found.group(1)


def ask_link(portal: Portal, client: httpx.Client, address: str = ADDRESS) -> httpx.Response:
    return client.post("/login", data={"email": address, "csrf_token": csrf(client)})


def sign_in(portal: Portal, address: str = ADDRESS) -> httpx.Client:
    """A browser signed in through the whole flow: ask, read the email, open the link, confirm."""
    client = portal.client()
    assert ask_link(portal, client, address).status_code == 200
    link = portal.sign_in_link(address)
    page = client.get(link)
    answer = client.post(link, data={"csrf_token": TOKEN_FIELD.findall(page.text)[-1], "next": "/"})
    assert answer.status_code == 303, answer.text
    return client


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_sign_in_by_the_emailed_link(portal: Portal, caplog: pytest.LogCaptureFixture) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS, language="fr")
    client = portal.client()
    with caplog.at_level(logging.INFO, logger="pib.web"):
        sent = ask_link(portal, client)
    assert sent.status_code == 200 and "un lien de connexion est en route" in sent.text
    (message,) = portal.emails()
    assert message["Subject"] == "Votre lien de connexion à PIB" and message["To"] == ADDRESS
    link = portal.sign_in_link(ADDRESS)
    assert link.startswith(f"{portal.url}/login/")
    assert link in caplog.text  # the outbox backend: `pib serve` logs the link for a person trying PIB locally

    scanner = portal.client()  # a mail scanner opens the link: a form, nobody signed in
    opened = scanner.get(link)
    assert opened.status_code == 200 and "Confirmez pour vous connecter" in opened.text
    assert "pib_session" not in opened.headers.get("set-cookie", "")
    assert count(portal.engine, session_table) == 0

    page = client.get(link)
    confirmed = client.post(link, data={"csrf_token": TOKEN_FIELD.findall(page.text)[-1], "next": "/"})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/"
    cookie = next(value for value in confirmed.headers.get_list("set-cookie") if value.startswith("pib_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # http here
    home = client.get("/")
    assert FIRM in home.text and "Mes profils" in home.text and "Se déconnecter" in home.text

    again = portal.client()
    reused = again.post(link, data={"csrf_token": csrf(again)})
    assert reused.status_code == 410 and "déjà été utilisé" in reused.text
    assert "pib_session" not in reused.headers.get("set-cookie", "")
    assert again.get("/").text.count(FIRM) == 0


def test_an_expired_link_is_refused(portal: Portal) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS, language="en")
    client = portal.client()
    ask_link(portal, client)
    link = portal.sign_in_link(ADDRESS)
    with portal.engine.begin() as connection:
        connection.execute(sa.update(link_table).values(expires_at=utcnow() - timedelta(seconds=1)))
    opened = client.get(link)
    assert opened.status_code == 410 and "Il a expiré" in opened.text  # the browser's language: nobody signed in
    refused = client.post(link, data={"csrf_token": csrf(client)})
    assert refused.status_code == 410 and count(portal.engine, session_table) == 0


def test_two_submits_of_one_link_at_once_sign_in_one_browser(portal: Portal) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    ask_link(portal, portal.client())
    link = portal.sign_in_link(ADDRESS)
    browsers = [portal.client() for _ in range(4)]
    tokens = [csrf(browser) for browser in browsers]
    statuses: list[int] = []
    start = threading.Barrier(len(browsers))

    def submit(browser: httpx.Client, token: str) -> None:
        start.wait()
        statuses.append(browser.post(link, data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(browsers, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 410, 410, 410]
    assert count(portal.engine, session_table) == 1


def test_unknown_and_known_addresses_get_the_same_answer_and_limits_count_both(portal: Portal) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    client = portal.client()
    known = ask_link(portal, client, ADDRESS).text
    unknown = ask_link(portal, client, "nobody@ecole-numerique.example").text
    assert known.replace(ADDRESS, "@") == unknown.replace("nobody@ecole-numerique.example", "@")
    assert len(portal.emails()) == 1

    for _ in range(LINKS_PER_ADDRESS_PER_HOUR - 1):
        assert ask_link(portal, client, ADDRESS).status_code == 200
    limited = ask_link(portal, client, ADDRESS)
    assert limited.status_code == 429 and "Trop de demandes de connexion" in limited.text
    assert len(portal.emails()) == LINKS_PER_ADDRESS_PER_HOUR
    for _ in range(LINKS_PER_ADDRESS_PER_HOUR):  # the same for an unknown address: the limit tells nothing
        last = ask_link(portal, client, "nobody@ecole-numerique.example")
    assert last.status_code == 429


def test_the_limit_per_client_counts_every_address(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    from pib.web import auth

    monkeypatch.setattr(auth, "LINKS_PER_CLIENT_PER_HOUR", 3)
    client = portal.client()
    statuses = [ask_link(portal, client, f"user{n}@example.be").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_bad_addresses_are_answered_next_to_the_field(portal: Portal) -> None:
    client = portal.client()
    for value in ("", "not an address", "x" * 400 + "@example.be"):
        answer = client.post("/login", data={"email": value, "csrf_token": csrf(client)})
        assert answer.status_code == 422, value
        assert "Veuillez saisir une adresse e-mail" in answer.text or "Requête invalide" in answer.text


def test_sign_out_everywhere_ends_the_other_sessions(portal: Portal) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    laptop, phone = sign_in(portal), sign_in(portal)
    assert FIRM in phone.get("/").text
    answer = laptop.post("/logout/everywhere", data={"csrf_token": csrf(laptop, "/")})
    assert answer.status_code == 303
    assert count(portal.engine, session_table) == 0
    assert FIRM not in phone.get("/").text and "Se connecter" in phone.get("/").text
    assert FIRM not in laptop.get("/").text

    office, home = sign_in(portal), sign_in(portal)
    office.post("/logout", data={"csrf_token": csrf(office, "/")})
    assert FIRM not in office.get("/").text and FIRM in home.get("/").text


def test_every_post_needs_the_csrf_token(portal: Portal) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    client = sign_in(portal)
    other = portal.client()
    foreign_token = csrf(other)  # a valid token, of another browser
    for data in ({}, {"csrf_token": "0" * 64}, {"csrf_token": foreign_token}):
        for path in ("/logout", "/logout/everywhere", "/language", "/login"):
            answer = client.post(path, data={**data, "email": ADDRESS, "language": "nl"})
            assert answer.status_code == 403, (path, data)
            assert "Non autorisé" in answer.text
    assert count(portal.engine, session_table) == 1 and FIRM in client.get("/").text
    assert len(portal.emails()) == 1  # the refused /login sent nothing


def test_session_cookie_is_secure_behind_https(engine: Engine, tmp_path: Path) -> None:
    add_user(engine, firm=FIRM, address=ADDRESS)
    settings = Settings(
        database_url="sqlite://", outbox_dir=tmp_path / "outbox", public_url="https://pib.example", secret_key="k" * 64
    )
    client = TestClient(create_app(engine=engine, settings=settings), base_url="https://pib.example")
    client.post("/login", data={"email": ADDRESS, "csrf_token": csrf(client)})
    outbox = Portal("https://pib.example", engine, tmp_path / "outbox", server=None)  # type: ignore[arg-type]
    link = outbox.sign_in_link(ADDRESS).removeprefix("https://pib.example")
    answer = client.post(link, data={"csrf_token": csrf(client)}, follow_redirects=False)
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith("pib_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_staff_and_tokens_from_the_command_line(portal: Portal) -> None:
    """`pib staff add`, `pib tokens create`; the dependencies routers use: bearer for the API, roles for pages."""
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    runner = CliRunner()
    added = runner.invoke(cli, ["staff", "add", "Animation@Cluster.example", "--language", "nl"])
    assert added.exit_code == 0 and "Animation@Cluster.example (nl)" in added.output
    refused = runner.invoke(cli, ["staff", "add", ADDRESS])
    assert refused.exit_code == 1 and "member firm's user" in refused.output
    assert runner.invoke(cli, ["staff", "add", "x@y.be", "--language", "de"]).exit_code == 2

    created = runner.invoke(cli, ["tokens", "create", ADDRESS])
    assert created.exit_code == 0
    token = created.stdout.strip()
    assert runner.invoke(cli, ["tokens", "create", "nobody@example.be"]).exit_code == 1
    with portal.engine.connect() as connection:
        stored = connection.execute(sa.select(token_table.c.token_hash)).scalars().all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64

    app = create_app(engine=portal.engine, settings=get_settings())

    @app.get("/api/v1/whoami")
    def whoami(user: ApiUser) -> dict[str, object]:
        return {"email": user.email, "member": user.member_name}

    @app.get("/members-only")
    def members_only(user: CurrentMember) -> dict[str, object]:
        return {"member": user.member_id}

    @app.get("/staff-only")
    def staff_only(user: StaffUser) -> dict[str, object]:
        return {"staff": user.email}

    client = TestClient(app, follow_redirects=False)
    assert client.get("/api/v1/whoami").status_code == 401
    assert client.get("/api/v1/whoami", headers={"Authorization": "Bearer pib_wrong"}).status_code == 401
    answer = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.json() == {"email": ADDRESS, "member": FIRM}

    signed_out = client.get("/members-only")
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login?next=/members-only"
    client.cookies.set("pib_session", sign_in(portal).cookies["pib_session"])
    assert client.get("/members-only").status_code == 200
    assert client.get("/staff-only").status_code == 403
    staff = sign_in(portal, "animation@cluster.example")  # case ignored
    assert "Clusterteam" in staff.get("/").text  # the staff member's own language, Dutch
    client.cookies.set("pib_session", staff.cookies["pib_session"])
    assert client.get("/staff-only").json() == {"staff": "Animation@Cluster.example"}
    assert client.get("/members-only").status_code == 403


def test_old_requests_links_and_sessions_are_forgotten(portal: Portal) -> None:
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    sign_in(portal)
    long_ago = utcnow() - timedelta(days=40)
    with portal.engine.begin() as connection:
        for table in (link_table, session_table):
            connection.execute(sa.update(table).values(expires_at=long_ago))
        connection.execute(sa.update(request_table).values(created_at=long_ago))
    ask_link(portal, portal.client())  # any later request sweeps them
    assert count(portal.engine, session_table) == 0
    assert count(portal.engine, link_table) == 1 and count(portal.engine, request_table) == 1  # the new ones

"""A live portal for the web tests: uvicorn on a free port over the test database (SQLite, and PostgreSQL when
`PIB_TEST_POSTGRES_URL` is set), the outbox in a temporary folder; Debian's chromium driven by Playwright."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import get_settings
from pib.web import WebServer, start_web
from watch.models import Member, User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
LINK = re.compile(r"https?://\S+/login/[A-Za-z0-9_\-]+(?:\?\S*)?")


@dataclass
class Portal:
    url: str
    engine: Engine
    outbox: Path
    server: WebServer

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30, **options)

    def emails(self) -> list[email.message.EmailMessage]:
        """The emails written to the outbox, oldest first."""
        files = sorted(self.outbox.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in files
        ]

    def sign_in_link(self, to: str) -> str:
        """The link of the latest sign-in email to an address, read from its text part as a person would."""
        for message in reversed(self.emails()):
            if str(message["To"]).lower() == to.lower():
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                found = LINK.search(body.get_content())
                assert found, body.get_content()
                return found.group(0)
        raise AssertionError(f"no email to {to} in {self.outbox}")


def add_user(engine: Engine, *, firm: str, address: str, language: str = "fr") -> int:
    with Session(engine) as session:
        member = Member(name=firm)
        session.add(member)
        session.flush()
        assert member.id is not None
        user = User(member_id=member.id, email=address, language=language)
        session.add(user)
        session.commit()
        assert user.id is not None
        return user.id


@pytest.fixture
def portal(engine: Engine, settings_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Portal]:
    """The portal served over real HTTP, as `pib serve` serves it (`start_web`), on a free port."""
    with socket.socket() as probe:  # a free port first: the links the portal emails name it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PIB_PUBLIC_URL", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    server, _thread = start_web("127.0.0.1", port, engine)
    try:
        yield Portal(f"http://127.0.0.1:{port}", engine, tmp_path / "outbox", server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium (Playwright cannot download its own here); missing, it is an error, never a skip."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium (make test does it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, portal: Portal) -> Iterator[Any]:
    """A French-speaking browser tab on the portal; `page.refused` collects what the CSP refused."""
    context = browser.new_context(locale="fr-BE", extra_http_headers={"Accept-Language": "fr-BE,fr;q=0.9"})
    opened = context.new_page()
    refused: list[str] = []
    opened.refused = refused
    opened.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    yield opened
    context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical accessibility violations of the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]

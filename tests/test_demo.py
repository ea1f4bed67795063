"""What a new user meets first: `pib demo` (the whole loop offline, from the replay server to the alert emails
in the outbox), `make help`, and a project that needs nothing outside itself."""

from __future__ import annotations

import email
import html
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from email import policy
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crawlers.store.db import get_engine
from pib.cli import app


def test_demo_crawls_matches_and_writes_the_alert_emails(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--folder", str(folder)])
    assert result.exit_code == 0, result.stderr + result.stdout

    for source in ("ted", "boamp", "be", "decp", "feeds"):
        assert f"crawl {source} " in result.stderr
    assert ": ok in " in result.stderr
    emails = sorted((folder / "outbox").glob("*.eml"))
    assert f"{len(emails)} alert emails written to {(folder / 'outbox').resolve()}" in result.stdout
    engine = get_engine(f"sqlite:///{folder / 'pib.sqlite'}")
    with engine.connect() as connection:
        users: dict[str, int] = dict(connection.execute(sa.text("SELECT email, member_id FROM member_user")).all())
        members: dict[int, str] = dict(connection.execute(sa.text("SELECT id, name FROM member")).all())
        sources = set(connection.execute(sa.text("SELECT DISTINCT source FROM notice")).scalars())
        unsent = connection.execute(sa.text("SELECT count(*) FROM watch_match WHERE notified_at IS NULL")).scalar()
        sent = connection.execute(sa.text("SELECT count(*) FROM watch_match WHERE notified_at IS NOT NULL")).scalar()
        newest = connection.execute(sa.text("SELECT max(published) FROM notice")).scalar()
    engine.dispose()
    assert sources == {"ted", "boamp", "be", "decp", "feed:recorded-rss"}
    # The recorded notices are old: the demo runs as of the newest one's day, emails what was open then and
    # lists the others as closed, so that every match is either emailed or shown closed.
    assert f"the demo runs as of {str(newest)[:10]}, the date of its newest recorded notice" in result.stderr
    assert sent and unsent, (sent, unsent)
    assert f"closed as of {str(newest)[:10]}, not emailed: {unsent} matched tenders" in result.stderr
    assert result.stderr.count("  closed (") == min(unsent, 10)
    assert len(emails) >= 8
    for path in emails:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        recipient = str(message["To"])
        name = members[users[recipient]]
        assert name in str(message["Subject"])
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        others = [other for other in members.values() if other != name]
        assert not any(other in text for other in others), "a digest names only its own firm"


def test_demo_serve_serves_the_portal_over_the_demo_until_ctrl_c(tmp_path: Path) -> None:
    """`make demo`: after the demo, the portal over its data, with a sign-in link that signs a demo member in."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "PIB_WEB_PORT": str(port), "PIB_WEB_HOST": "127.0.0.1"}
    command = [str(Path(sys.executable).parent / "pib"), "demo", "--serve", "--folder", str(tmp_path / "demo")]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        printed = ""
        for line in process.stdout:
            printed += line
            if line.startswith("Sign in as "):
                break
        found = re.search(r"Sign in as (\S+) \((.+)\), within \d+ minutes, once: (http://\S+/login/\S+)", printed)
        assert found, printed
        address, firm, link = found.groups()
        assert link.startswith(f"http://127.0.0.1:{port}/login/")
        with httpx.Client(timeout=30) as browser:
            page = browser.get(link)
            assert page.status_code == 200, page.text
            token = re.findall(r'name="csrf_token" value="([0-9a-f]+)"', page.text)[-1]
            home = browser.post(link, data={"csrf_token": token, "next": "/"}, follow_redirects=True)
            assert home.status_code == 200
            assert f"<h1>{html.escape(firm)}</h1>" in home.text and address in home.text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert process.stderr is not None
        assert "stopped cleanly" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


ROOT = Path(__file__).resolve().parents[1]


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_help_shows_values_not_variables() -> None:
    out = subprocess.run(
        ["make", "--no-print-directory", "help", "PG_URL=postgresql://pib@db.example:5432/École"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "make test" in out and "make bench" in out
    assert "$(" not in out, out
    assert "postgresql://pib@db.example:5432/École" in out


def test_nothing_in_the_project_reads_outside_it() -> None:
    """The project stands alone: no code, test, benchmark or document leads to the design notes outside it."""
    outside = re.compile(r"""(\.\./|parents\[2\]\s*/\s*)["']?shared|design\.md""")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in tracked_files()
        if path.suffix in {".py", ".md", ".toml", ".cfg", ".yaml", ".yml"} or path.name == "Makefile"
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if outside.search(line)
    ]
    assert not found, "\n".join(found)


def test_every_document_the_project_names_is_in_it() -> None:
    named = re.compile(r"\bdocs/[\w./-]+\.md\b")
    missing = {
        f"{path.relative_to(ROOT)} names {link}"
        for path in tracked_files()
        if path.suffix in {".py", ".md"}
        for link in named.findall(path.read_text(encoding="utf-8", errors="replace"))
        if not (ROOT / link).is_file()
    }
    assert not missing, "\n".join(sorted(missing))

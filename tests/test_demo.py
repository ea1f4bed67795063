"""What a new user meets first: `pib demo` (the whole loop offline, from the replay server to the alert emails
in the outbox), `make help`, and a project that needs nothing outside itself."""

from __future__ import annotations

import email
import re
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crawlers.store.db import get_engine
from pib.cli import app


def test_demo_crawls_matches_and_writes_the_alert_emails(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--folder", str(folder)])
    assert result.exit_code == 0, result.stderr + result.stdout

    for source in ("ted", "boamp", "be", "feeds"):
        assert f"crawl {source} " in result.stderr
    assert ": ok in " in result.stderr
    emails = sorted((folder / "outbox").glob("*.eml"))
    assert f"{len(emails)} alert emails written to {(folder / 'outbox').resolve()}" in result.stdout
    engine = get_engine(f"sqlite:///{folder / 'pib.sqlite'}")
    with engine.connect() as connection:
        users: dict[str, int] = dict(connection.execute(sa.text("SELECT email, member_id FROM member_user")).all())
        members: dict[int, str] = dict(connection.execute(sa.text("SELECT id, name FROM member")).all())
        sources = set(connection.execute(sa.text("SELECT DISTINCT source FROM notice")).scalars())
        matched = connection.execute(sa.text("SELECT count(*) FROM watch_match WHERE notified_at IS NULL")).scalar()
    engine.dispose()
    assert sources == {"ted", "boamp", "be", "feed:recorded-rss"}
    assert matched == 0, "every match went out in a digest"
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

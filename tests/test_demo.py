"""`pib demo`: the whole loop offline, from the replay server to the alert emails in the outbox."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

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
        users = dict(connection.execute(sa.text("SELECT email, member_id FROM member_user")).all())
        members = dict(connection.execute(sa.text("SELECT id, name FROM member")).all())
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

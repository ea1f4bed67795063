"""Upgrading an SQLite database keeps the rows that point at a rebuilt table: a batch migration copies, drops and
renames a table, and with foreign keys enforced the drop cascaded to the member's users, profiles and pseudonyms."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from crawlers.store.db import get_engine
from pib.db import upgrade

NOW = "2026-12-04 10:00:00"


def test_upgrading_past_the_member_rebuild_keeps_the_members_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pib.sqlite'}"
    upgrade(url, "0009")
    engine = get_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO member (id, name, active, competences, created_at, updated_at)"
                " VALUES (1, 'École Numérique SA', 1, '{}', :now, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            sa.text(
                "INSERT INTO member_user (member_id, email, language, active, created_at)"
                " VALUES (1, 'direction@ecole-numerique.example', 'fr', 1, :now)"
            ),
            {"now": NOW},
        )
    upgrade(url)
    with engine.begin() as connection:
        assert connection.execute(sa.text("SELECT email FROM member_user")).scalars().all() == [
            "direction@ecole-numerique.example"
        ]
        assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()

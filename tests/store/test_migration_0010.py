"""Migration 0010 on a database that already holds members and parse errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from crawlers.store.db import get_engine
from crawlers.store.service import failure_fingerprint
from pib.db import alembic_config, upgrade


def test_existing_members_get_name_keys_and_repeated_failures_are_folded(fresh_url: str) -> None:
    upgrade(fresh_url, "0009")
    engine = get_engine(fresh_url)
    with engine.begin() as connection:
        for name in ("École Numérique SA", "Électro Wallonie", "ELECTRO-WALLONIE", "Alpha SA"):
            connection.execute(
                sa.text(
                    "INSERT INTO member (name, active, competences, created_at, updated_at)"
                    " VALUES (:name, true, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"name": name},
            )
        for origin in ("a.xml", "b.xml", "a.xml"):
            connection.execute(
                sa.text(
                    "INSERT INTO parse_error (origin, record, reason, created_at)"
                    " VALUES (:origin, '', 'not XML', CURRENT_TIMESTAMP)"
                ),
                {"origin": origin},
            )

    upgrade(fresh_url, "0010")

    with engine.connect() as connection:
        keys = connection.execute(sa.text("SELECT id, name, name_key FROM member ORDER BY id")).all()
        errors = connection.execute(sa.text("SELECT id, origin, fingerprint FROM parse_error ORDER BY id")).all()
    assert [(name, key) for _, name, key in keys] == [
        ("École Numérique SA", "ecole numerique sa"),
        ("Électro Wallonie", "electro wallonie"),
        ("ELECTRO-WALLONIE", f"electro wallonie #{keys[2].id}"),  # both firms kept; this one is found by id
        ("Alpha SA", "alpha sa"),
    ]
    assert [(error_id, origin) for error_id, origin, _ in errors] == [(1, "a.xml"), (2, "b.xml")]
    assert errors[0].fingerprint == failure_fingerprint("a.xml", "", "not XML", None)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.text("UPDATE member SET name_key = 'alpha sa' WHERE name = 'Électro Wallonie'"))

    command.downgrade(alembic_config(fresh_url), "0009")
    columns = {column["name"] for column in sa.inspect(get_engine(fresh_url)).get_columns("member")}
    assert "name_key" not in columns and "name" in columns

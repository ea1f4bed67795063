"""Migration 0022: the bodies of outbox emails compressed with lz4 on PostgreSQL (when the server has it), and
back to the default on downgrade; nothing to do on SQLite."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from crawlers.store.db import get_engine
from pib.db import alembic_config, upgrade

_COMPRESSION = sa.text(
    "SELECT attname, attcompression FROM pg_attribute"
    " WHERE attrelid = 'notification_content'::regclass AND attname IN ('text', 'html') ORDER BY attname"
)
_HAS_LZ4 = sa.text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")


def _store_email(connection: sa.Connection, html: str) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO member (id, name, name_key, active, competences, created_at, updated_at)"
            " VALUES (1, 'École Numérique SA', 'ecole numerique', true, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO member_user (id, member_id, email, language, active, created_at)"
            " VALUES (1, 1, 'info@ecole.example', 'fr', true, CURRENT_TIMESTAMP)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO notification_outbox (id, key, kind, user_id, state, match_ids, attempts, created_at)"
            " VALUES (1, 'digest.20261206.u1.abc', 'digest', 1, 'pending', '[]', 0, CURRENT_TIMESTAMP)"
        )
    )
    connection.execute(
        sa.text("INSERT INTO notification_content (outbox_id, text, html, meta) VALUES (1, :text, :html, '{}')"),
        {"text": html, "html": html},
    )


def test_email_bodies_are_compressed_with_lz4_where_the_server_has_it(fresh_url: str) -> None:
    upgrade(fresh_url)
    engine = get_engine(fresh_url)
    html = "".join(f"<tr><td>Lot {n} : rénovation de l'école n°{n}</td></tr>\n" for n in range(800))
    with engine.begin() as connection:
        _store_email(connection, html)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT html FROM notification_content")).scalar_one() == html
        if engine.dialect.name != "postgresql":
            return
        if not connection.execute(_HAS_LZ4).scalar():  # a server built without lz4 keeps its default
            assert {method for _, method in connection.execute(_COMPRESSION)} == {""}
            return
        assert connection.execute(_COMPRESSION).all() == [("html", "l"), ("text", "l")]
        stored = connection.execute(sa.text("SELECT pg_column_compression(html) FROM notification_content"))
        assert stored.scalar_one() == "lz4"

    command.downgrade(alembic_config(fresh_url), "0021")
    with engine.connect() as connection:
        assert connection.execute(_COMPRESSION).all() == [("html", ""), ("text", "")]
        assert connection.execute(sa.text("SELECT html FROM notification_content")).scalar_one() == html

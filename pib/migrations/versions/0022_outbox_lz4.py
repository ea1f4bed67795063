"""rendered emails compressed with lz4 on PostgreSQL

The bodies of an outbox email (`notification_content.text` and `.html`, 32 KB a digest) are stored out of line
and compressed by PostgreSQL; its default compression (pglz) took 0.8 s for the 2,000 digests of a run, lz4
a quarter of that. Only where the server has lz4 (PostgreSQL 14 and later, built with it, as Debian's is);
rows already stored keep their compression. Nothing changes on SQLite.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERVER_HAS_LZ4 = sa.text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")


def _set_compression(method: str) -> None:
    if op.get_bind().dialect.name != "postgresql" or not op.get_bind().execute(_SERVER_HAS_LZ4).scalar():
        return
    op.execute(
        f"ALTER TABLE notification_content ALTER COLUMN text SET COMPRESSION {method},"
        f" ALTER COLUMN html SET COMPRESSION {method}"
    )


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")

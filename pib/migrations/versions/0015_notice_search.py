"""notice search: full-text index

`notice_search` holds each notice's folded words (title, body, codes; crawlers/store/search.py). SQLite
indexes it with an FTS5 table (external content, kept in step by triggers); PostgreSQL with a stored tsvector
('simple' configuration: the text is folded in Python, so no unaccent) and a GIN index. The notices stored
before this revision are indexed here; new ones are indexed by the store as they come.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE = [
    "CREATE VIRTUAL TABLE notice_fts USING fts5(title, body, codes, content='notice_search', "
    "content_rowid='notice_id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER notice_search_ai AFTER INSERT ON notice_search BEGIN "
    "INSERT INTO notice_fts(rowid, title, body, codes) VALUES (new.notice_id, new.title, new.body, new.codes); END",
    "CREATE TRIGGER notice_search_ad AFTER DELETE ON notice_search BEGIN "
    "INSERT INTO notice_fts(notice_fts, rowid, title, body, codes) "
    "VALUES ('delete', old.notice_id, old.title, old.body, old.codes); END",
    "CREATE TRIGGER notice_search_au AFTER UPDATE ON notice_search BEGIN "
    "INSERT INTO notice_fts(notice_fts, rowid, title, body, codes) "
    "VALUES ('delete', old.notice_id, old.title, old.body, old.codes); "
    "INSERT INTO notice_fts(rowid, title, body, codes) VALUES (new.notice_id, new.title, new.body, new.codes); END",
]
POSTGRESQL = [
    "ALTER TABLE notice_search ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), 'B') || "
    "setweight(to_tsvector('simple', codes), 'C')) STORED",
    "CREATE INDEX ix_notice_search_tsv ON notice_search USING gin (tsv)",
]


def upgrade() -> None:
    op.create_table(
        "notice_search",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("codes", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id"),
    )
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)
    from crawlers.store.search import index_notices  # the same document as the store writes

    index_notices(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("notice_search_ai", "notice_search_ad", "notice_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS notice_fts")
    op.drop_table("notice_search")

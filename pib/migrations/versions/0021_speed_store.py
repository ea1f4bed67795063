"""store-side speed at scale (ingest, linking)

`ix_notice_unlinked`: the notices not linked into a procedure yet, in linking order (published, id), a partial
index (`WHERE procedure_id IS NULL`) on SQLite and PostgreSQL, so that each linking batch reads its next notices
without scanning the store (crawlers/store/procedures.py, `UNLINKED_INDEX`).

`ix_notice_source` dropped: the unique index on (source, source_id) serves every look-up by source. Kept, it made
PostgreSQL, with statistics a few thousand notices old, read a batch's known notices through it (every notice of
the source, then filtered) instead of through the unique index: each batch slower as the store grows.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    unlinked = sa.text("procedure_id IS NULL")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notice_unlinked", ["published", "id"], unique=False, postgresql_where=unlinked, sqlite_where=unlinked
        )
        batch_op.drop_index("ix_notice_source")


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index("ix_notice_source", ["source"], unique=False)
        batch_op.drop_index("ix_notice_unlinked")

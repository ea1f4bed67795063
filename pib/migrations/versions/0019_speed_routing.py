"""routing speed at scale: no schema change

The step was reserved for the routing speed work (matches written in bulk, candidates narrowed in memory),
which needed no new table, column or index in the end. It stays, empty, so that the chain 0018 -> 0020
of databases already upgraded is unchanged.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from collections.abc import Sequence

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""watch routing: notices routed, base score of matches, profiles deactivated

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watch_routed",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("routed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], name="fk_watch_routed_notice_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id"),
    )
    with op.batch_alter_table("watch_routed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_routed_routed_at"), ["routed_at"], unique=False)

    with op.batch_alter_table("watch_match", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_score", sa.Float(), nullable=True))

    with op.batch_alter_table("watch_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("watch_profile", schema=None) as batch_op:
        batch_op.drop_column("active")

    with op.batch_alter_table("watch_match", schema=None) as batch_op:
        batch_op.drop_column("base_score")

    with op.batch_alter_table("watch_routed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_routed_routed_at"))

    op.drop_table("watch_routed")

"""procedure links: keys and links of notices, procedure merges, change identities

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "procedure_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=340), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "key", name="uq_procedure_key_notice_key"),
    )
    with op.batch_alter_table("procedure_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procedure_key_key"), ["key"], unique=False)

    op.create_table(
        "procedure_link",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("evidence", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("linked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id"),
    )

    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buyer_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True))
        batch_op.add_column(sa.Column("first_published", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_published", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_procedure_merged_into", "procedure", ["merged_into"], ["id"])

    with op.batch_alter_table("procedure_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_key", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True))
        batch_op.create_unique_constraint("uq_procedure_change_key", ["notice_id", "change_key"])


def downgrade() -> None:
    with op.batch_alter_table("procedure_change", schema=None) as batch_op:
        batch_op.drop_constraint("uq_procedure_change_key", type_="unique")
        batch_op.drop_column("change_key")

    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.drop_constraint("fk_procedure_merged_into", type_="foreignkey")
        batch_op.drop_column("merged_into")
        batch_op.drop_column("last_published")
        batch_op.drop_column("first_published")
        batch_op.drop_column("buyer_country")

    op.drop_table("procedure_link")
    with op.batch_alter_table("procedure_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procedure_key_key"))

    op.drop_table("procedure_key")

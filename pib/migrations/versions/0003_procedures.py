"""procedures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "procedure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("buyer_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("deadline", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("deadline_utc", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procedure_deadline_utc"), ["deadline_utc"], unique=False)

    op.create_table(
        "procedure_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedure.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("procedure_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procedure_change_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_procedure_change_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_procedure_change_procedure_id"), ["procedure_id"], unique=False)

    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("procedure_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notice_procedure_id"), ["procedure_id"], unique=False)
        batch_op.create_foreign_key("fk_notice_procedure_id", "procedure", ["procedure_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_constraint("fk_notice_procedure_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_notice_procedure_id"))
        batch_op.drop_column("procedure_id")

    with op.batch_alter_table("procedure_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procedure_change_procedure_id"))
        batch_op.drop_index(batch_op.f("ix_procedure_change_notice_id"))
        batch_op.drop_index(batch_op.f("ix_procedure_change_created_at"))

    op.drop_table("procedure_change")
    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procedure_deadline_utc"))

    op.drop_table("procedure")

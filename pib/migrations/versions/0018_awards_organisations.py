"""award results and organisations (awards of notices, firms resolved)

The awards of the stored notices as rows, their winners joined to organisations (watch/organisations.py), which
awards notices were resolved in which version, and the member firms' links to their organisations.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("identifier", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("identifier"),
    )
    op.create_index(op.f("ix_organisation_name_key"), "organisation", ["name_key"], unique=False)
    op.create_table(
        "member_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("how", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("proposed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.CheckConstraint("status IN ('proposed', 'confirmed', 'refused')", name="ck_member_organisation_status"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "organisation_id", name="uq_member_organisation"),
    )
    op.create_index(op.f("ix_member_organisation_member_id"), "member_organisation", ["member_id"], unique=False)
    op.create_index(
        op.f("ix_member_organisation_organisation_id"), "member_organisation", ["organisation_id"], unique=False
    )
    op.create_table(
        "award",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("lot_ids", JSON, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("tenders_received", sa.Integer(), nullable=True),
        sa.Column("awarded_on", sa.Date(), nullable=True),
        sa.Column("buyer_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("buyer_key", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("buyer_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("cpv", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("cpv_group", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("nuts", JSON, nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "position", name="uq_award_notice_position"),
    )
    op.create_index(op.f("ix_award_buyer_key"), "award", ["buyer_key"], unique=False)
    op.create_index(op.f("ix_award_cpv_group"), "award", ["cpv_group"], unique=False)
    op.create_index(op.f("ix_award_notice_id"), "award", ["notice_id"], unique=False)
    op.create_table(
        "award_notice",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id"),
    )
    op.create_table(
        "award_winner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("identifier", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("canonical_identifier", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("town", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("sme", sa.Boolean(), nullable=True),
        sa.Column("joined_by", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.ForeignKeyConstraint(["award_id"], ["award.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("award_id", "position", name="uq_award_winner_position"),
    )
    op.create_index(op.f("ix_award_winner_award_id"), "award_winner", ["award_id"], unique=False)
    op.create_index(op.f("ix_award_winner_organisation_id"), "award_winner", ["organisation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_award_winner_organisation_id"), table_name="award_winner")
    op.drop_index(op.f("ix_award_winner_award_id"), table_name="award_winner")
    op.drop_table("award_winner")
    op.drop_table("award_notice")
    op.drop_index(op.f("ix_award_notice_id"), table_name="award")
    op.drop_index(op.f("ix_award_cpv_group"), table_name="award")
    op.drop_index(op.f("ix_award_buyer_key"), table_name="award")
    op.drop_table("award")
    op.drop_index(op.f("ix_member_organisation_organisation_id"), table_name="member_organisation")
    op.drop_index(op.f("ix_member_organisation_member_id"), table_name="member_organisation")
    op.drop_table("member_organisation")
    op.drop_index(op.f("ix_organisation_name_key"), table_name="organisation")
    op.drop_table("organisation")

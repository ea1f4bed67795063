"""consortium: competence catalogue, interests, pseudonyms, reveals, partner groups

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "consortium_catalogue",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("cpv", _json(), nullable=False),
        sa.Column("keywords", _json(), nullable=False),
        sa.Column("regions", _json(), nullable=False),
        sa.Column("certifications", _json(), nullable=False),
        sa.Column("size_band", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("references", _json(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "consortium_pseudonym",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tender_key", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tender_key", "member_id", name="uq_pseudonym_tender_member"),
        sa.UniqueConstraint("tender_key", "pseudonym", name="uq_pseudonym_tender_name"),
    )
    with op.batch_alter_table("consortium_pseudonym", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consortium_pseudonym_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_pseudonym_tender_key"), ["tender_key"], unique=False)

    op.create_table(
        "consortium_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tender_key", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("lots", _json(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("brings_cpv", _json(), nullable=False),
        sa.Column("brings_keywords", _json(), nullable=False),
        sa.Column("lacks_cpv", _json(), nullable=False),
        sa.Column("lacks_keywords", _json(), nullable=False),
        sa.Column("seeks_partners", sa.Boolean(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tender_key", "member_id", name="uq_interest_tender_member"),
    )
    with op.batch_alter_table("consortium_interest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consortium_interest_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_interest_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_interest_tender_key"), ["tender_key"], unique=False)

    op.create_table(
        "consortium_reveal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tender_key", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("target_notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("requester_reveal_notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("target_reveal_notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requester_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["target_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tender_key", "requester_id", "target_id", name="uq_reveal_tender_pair"),
    )
    with op.batch_alter_table("consortium_reveal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consortium_reveal_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_reveal_requester_id"), ["requester_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_reveal_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_reveal_target_id"), ["target_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_reveal_tender_key"), ["tender_key"], unique=False)

    op.create_table(
        "consortium_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tender_key", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("result_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consortium_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consortium_group_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_group_tender_key"), ["tender_key"], unique=False)

    op.create_table(
        "consortium_group_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("detail", _json(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["consortium_group.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consortium_group_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consortium_group_event_group_id"), ["group_id"], unique=False)

    op.create_table(
        "consortium_group_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("lots", _json(), nullable=False),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["consortium_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "member_id", name="uq_group_member"),
    )
    with op.batch_alter_table("consortium_group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consortium_group_member_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consortium_group_member_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ("consortium_group_member", ("member_id", "group_id")),
        ("consortium_group_event", ("group_id",)),
        ("consortium_group", ("tender_key", "notice_id")),
        ("consortium_reveal", ("tender_key", "target_id", "state", "requester_id", "notice_id")),
        ("consortium_interest", ("tender_key", "notice_id", "member_id")),
        ("consortium_pseudonym", ("tender_key", "member_id")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
    op.drop_table("consortium_catalogue")

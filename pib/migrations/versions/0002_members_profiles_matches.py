"""members profiles matches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "competences",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "member_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("email_disabled_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("unsubscribed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    with op.batch_alter_table("member_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_user_member_id"), ["member_id"], unique=False)

    op.create_table(
        "watch_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "cpv",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "keywords",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "exclude",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "regions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("value_min", sa.Float(), nullable=True),
        sa.Column("value_max", sa.Float(), nullable=True),
        sa.Column(
            "notice_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "procedure_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("frequency", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "name", name="uq_profile_member_name"),
    )
    with op.batch_alter_table("watch_profile", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_profile_member_id"), ["member_id"], unique=False)

    op.create_table(
        "watch_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "notice_id", name="uq_feedback_member_notice"),
    )
    with op.batch_alter_table("watch_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_feedback_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_feedback_notice_id"), ["notice_id"], unique=False)

    op.create_table(
        "watch_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "lot_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["profile_id"], ["watch_profile.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "notice_id", name="uq_match_member_notice"),
    )
    with op.batch_alter_table("watch_match", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_match_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_match_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_match_notice_id"), ["notice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_match_notified_at"), ["notified_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_match_profile_id"), ["profile_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("watch_match", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_match_profile_id"))
        batch_op.drop_index(batch_op.f("ix_watch_match_notified_at"))
        batch_op.drop_index(batch_op.f("ix_watch_match_notice_id"))
        batch_op.drop_index(batch_op.f("ix_watch_match_member_id"))
        batch_op.drop_index(batch_op.f("ix_watch_match_created_at"))

    op.drop_table("watch_match")
    with op.batch_alter_table("watch_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_feedback_notice_id"))
        batch_op.drop_index(batch_op.f("ix_watch_feedback_member_id"))

    op.drop_table("watch_feedback")
    with op.batch_alter_table("watch_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_profile_member_id"))

    op.drop_table("watch_profile")
    with op.batch_alter_table("member_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_user_member_id"))

    op.drop_table("member_user")
    op.drop_table("member")

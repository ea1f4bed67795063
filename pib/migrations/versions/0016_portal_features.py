"""portal features: follows, calendar feeds, profile edits

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# --- staff console: audit trail and the scheduler jobs' last results (pib/web/audit.py, pib/job_results.py) ---


def _upgrade_staff_console() -> None:
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("staff_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("what", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.CheckConstraint("action IN ('view', 'change')", name="ck_staff_audit_action"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_audit_at", "staff_audit", ["at"])
    op.create_index("ix_staff_audit_staff_id", "staff_audit", ["staff_id"])
    op.create_index("ix_staff_audit_what", "staff_audit", ["what"])
    op.create_table(
        "scheduler_job_result",
        sa.Column("job_id", sqlmodel.sql.sqltypes.AutoString(length=191), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.create_index("ix_notice_first_seen", "notice", ["first_seen"])  # new tenders today and this week


def _downgrade_staff_console() -> None:
    op.drop_index("ix_notice_first_seen", table_name="notice")
    op.drop_table("scheduler_job_result")
    op.drop_index("ix_staff_audit_what", table_name="staff_audit")
    op.drop_index("ix_staff_audit_staff_id", table_name="staff_audit")
    op.drop_index("ix_staff_audit_at", table_name="staff_audit")
    op.drop_table("staff_audit")


# --- end of staff console ---


# --- calendar feeds: a user's secret ICS address (pib/web/calendar.py) ---


def _upgrade_calendar() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["member_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.UniqueConstraint("user_id"),
    )


def _downgrade_calendar() -> None:
    op.drop_table("calendar_feed")


# --- end of calendar feeds ---


def upgrade() -> None:
    _upgrade_staff_console()
    _upgrade_calendar()


def downgrade() -> None:
    _downgrade_calendar()
    _downgrade_staff_console()

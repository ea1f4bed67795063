"""The staff audit trail: who of the staff saw which identities, and changed what, when (issue 11 point 6).

Staff see identities (design §4); the anonymity promise holds only if what they look at and change can be
listed afterwards. Every staff route that shows firms' identities, and every staff change, records one line:

    from pib.web.audit import record_audit

    # a page that shows identities: its own short transaction, so the view is kept even if nothing is changed
    record_audit(engine, staff=user, action="view", what="interest board", subject=f"{source} {source_id}")

    # a change: the line goes in the change's own session and is committed with it (or rolled back with it)
    record_audit(session, staff=user, action="change", what="group status", subject=f"group {gid}: → submitted")
    session.commit()

`what` names the page or the change in a few stable words (it is what the audit page filters on); `subject`
says which objects, by name and id (firm names included: the trail is for staff only). Both are cut to their
column's length, control characters dropped. `/staff/audit` lists the lines, newest first (`list_audit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, func, select

from crawlers.store.models import utcnow

from .auth import Principal

Action = Literal["view", "change"]
ACTIONS: tuple[Action, ...] = ("view", "change")
WHAT_LENGTH = 100
SUBJECT_LENGTH = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class StaffAudit(SQLModel, table=True):
    """One thing a staff user saw of identities (`view`) or changed (`change`); never updated or deleted."""

    __tablename__ = "staff_audit"
    __table_args__ = (sa.CheckConstraint("action IN ('view', 'change')", name="ck_staff_audit_action"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True, ondelete="SET NULL")
    staff_email: str = Field(max_length=320)
    """Kept as it was, so the line still says who after the staff user is removed."""
    action: str = Field(max_length=6)
    what: str = Field(max_length=WHAT_LENGTH, index=True)
    subject: str = Field(default="", max_length=SUBJECT_LENGTH)


def _clean(text: str, length: int) -> str:
    """One line of at most `length` characters.

    >>> _clean("École\\x00 Numérique\\nSA", 100), _clean("abcdef", 4)
    ('École Numérique SA', 'abc…')
    """
    text = _CONTROL.sub(" ", text).replace("  ", " ").strip()
    return text if len(text) <= length else text[: length - 1] + "…"


def record_audit(
    target: Engine | Session,
    *,
    staff: Principal,
    action: Action,
    what: str,
    subject: str = "",
    at: datetime | None = None,
) -> None:
    """Record what a staff user saw or changed; with a `Session` the line is committed with the caller's change."""
    if not staff.is_staff:
        raise ValueError(f"record_audit: {staff.email} is not staff; only staff actions are audited")
    if action not in ACTIONS:
        raise ValueError(f"record_audit: action must be one of {', '.join(ACTIONS)}, not {action!r}")
    row = StaffAudit(
        at=at or utcnow(),
        staff_id=staff.id,
        staff_email=staff.email,
        action=action,
        what=_clean(what, WHAT_LENGTH),
        subject=_clean(subject, SUBJECT_LENGTH),
    )
    if isinstance(target, Session):
        target.add(row)
        target.flush()
        return
    with Session(target) as session:
        session.add(row)
        session.commit()


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    staff_email: str
    action: str
    what: str
    subject: str


@dataclass(frozen=True)
class AuditPage:
    lines: list[AuditLine]
    total: int
    staff: list[str]
    """Every staff address found in the trail, for the filter."""


def list_audit(
    engine: Engine,
    *,
    staff_email: str | None = None,
    action: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AuditPage:
    """The trail newest first, filtered by staff address, action, and a text found in `what` or `subject`."""
    conditions = []
    if staff_email:
        conditions.append(col(StaffAudit.staff_email) == staff_email)
    if action:
        conditions.append(col(StaffAudit.action) == action)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            sa.or_(
                col(StaffAudit.what).ilike(pattern, escape="\\"),
                col(StaffAudit.subject).ilike(pattern, escape="\\"),
            )
        )
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(StaffAudit).where(*conditions)).one()
        rows = session.exec(
            select(StaffAudit)
            .where(*conditions)
            .order_by(col(StaffAudit.at).desc(), col(StaffAudit.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
        staff = session.exec(select(StaffAudit.staff_email).distinct().order_by(StaffAudit.staff_email)).all()
    lines = [AuditLine(row.at, row.staff_email, row.action, row.what, row.subject) for row in rows]
    return AuditPage(lines=lines, total=total, staff=list(staff))

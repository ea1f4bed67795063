"""Linking the publications of one procedure across sources and versions.

A procedure is what a firm bids on; its publications are notices (a BOAMP notice and its TED twin, a
contract notice and the change notices that move its deadline, the award). Watch routes procedures, not
publications, so a member never receives the same tender twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from .models import JSONColumn, utcnow


class Procedure(SQLModel, table=True):
    __tablename__ = "procedure"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    buyer_name: str
    deadline: str | None = Field(default=None, max_length=40)
    """The current deadline (§2 form), after every change notice known."""
    deadline_utc: datetime | None = Field(default=None, index=True)
    status: str = Field(default="open", max_length=20)
    """open | cancelled | awarded"""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProcedureChange(SQLModel, table=True):
    """Something that changed in a procedure, and the publication that said so (change alerts read these)."""

    __tablename__ = "procedure_change"

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=30)
    """deadline-moved | lot-added | lot-removed | cancelled | awarded | modified"""
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONColumn)
    """What changed: e.g. {"old": "2026-02-16T12:00:00+01:00", "new": "2026-03-02T12:00:00+01:00"}."""
    created_at: datetime = Field(default_factory=utcnow, index=True)

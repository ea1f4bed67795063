"""Tables of the consortium: competence catalogue, interests, pseudonyms, reveals, partner groups.

A tender is keyed by `tender_key`: `p<procedure id>` when the notice is linked to a procedure (a BOAMP
notice and its TED twin are one tender), else `n<notice id>`. Linking may come after an interest was
recorded, so every read looks under all the keys of a tender (`tenders.Tender.keys`).

These rows are never shown as they are: `views` builds the public shapes, so that a firm's identity
cannot reach another member by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crawlers.store.models import JSONColumn, utcnow


class CatalogueEntry(SQLModel, table=True):
    """What a firm does, beyond the members file's `competences` (cpv, keywords, regions): staff-facing."""

    __tablename__ = "consortium_catalogue"

    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    cpv: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    keywords: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    regions: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    certifications: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    size_band: str | None = Field(default=None, max_length=10)
    """micro | small | medium | large (EU SME bands)"""
    references: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    """Past contracts in a few words; shown to staff only (they often name clients and the firm)."""
    updated_at: datetime = Field(default_factory=utcnow)


class Interest(SQLModel, table=True):
    """A member's expression of interest in a tender, or some of its lots."""

    __tablename__ = "consortium_interest"
    __table_args__ = (sa.UniqueConstraint("tender_key", "member_id", name="uq_interest_tender_member"),)

    id: int | None = Field(default=None, primary_key=True)
    tender_key: str = Field(max_length=30, index=True)
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    """The publication through which it was flagged."""
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    lots: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    """Lot keys (`tenders.lot_key`); empty for the whole tender."""
    role: str = Field(max_length=20)
    """lead | partner | subcontractor"""
    brings_cpv: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    brings_keywords: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    lacks_cpv: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    lacks_keywords: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    seeks_partners: bool = False
    note: str | None = Field(default=None, max_length=500)
    """Free text for the staff; never shown to other members."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None


class Pseudonym(SQLModel, table=True):
    """The name a firm goes by on one tender: assigned once, so it stays stable within the tender."""

    __tablename__ = "consortium_pseudonym"
    __table_args__ = (
        sa.UniqueConstraint("tender_key", "member_id", name="uq_pseudonym_tender_member"),
        sa.UniqueConstraint("tender_key", "pseudonym", name="uq_pseudonym_tender_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tender_key: str = Field(max_length=30, index=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    pseudonym: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=utcnow)


class RevealRequest(SQLModel, table=True):
    """A member asked to be put in touch with a pseudonymous firm on a tender; the record of every reveal."""

    __tablename__ = "consortium_reveal"
    __table_args__ = (sa.UniqueConstraint("tender_key", "requester_id", "target_id", name="uq_reveal_tender_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    tender_key: str = Field(max_length=30, index=True)
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    requester_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    target_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    state: str = Field(default="pending", max_length=10, index=True)
    """pending | accepted | refused | cancelled (the asker withdrew its interest)"""
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    target_notified_at: datetime | None = None
    """When the target was told of the request (by the notifications' sender)."""
    requester_reveal_notified_at: datetime | None = None
    target_reveal_notified_at: datetime | None = None


class PartnerGroup(SQLModel, table=True):
    """A group of firms the staff assemble to bid together on a tender."""

    __tablename__ = "consortium_group"

    id: int | None = Field(default=None, primary_key=True)
    tender_key: str = Field(max_length=30, index=True)
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    status: str = Field(default="forming", max_length=10)
    """forming | submitted | won | lost"""
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    result_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class GroupMember(SQLModel, table=True):
    __tablename__ = "consortium_group_member"
    __table_args__ = (sa.UniqueConstraint("group_id", "member_id", name="uq_group_member"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="consortium_group.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    """lead (mandataire) | co-contractor | subcontractor"""
    lots: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    """Lot keys this firm covers; empty for every lot."""
    added_at: datetime = Field(default_factory=utcnow)


class GroupEvent(SQLModel, table=True):
    """The history of a group: created, firm added or removed, status changed, note."""

    __tablename__ = "consortium_group_event"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="consortium_group.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONColumn)
    at: datetime = Field(default_factory=utcnow)


catalogue_table: sa.Table = CatalogueEntry.__table__  # type: ignore[attr-defined]
interest_table: sa.Table = Interest.__table__  # type: ignore[attr-defined]
pseudonym_table: sa.Table = Pseudonym.__table__  # type: ignore[attr-defined]
reveal_table: sa.Table = RevealRequest.__table__  # type: ignore[attr-defined]
group_table: sa.Table = PartnerGroup.__table__  # type: ignore[attr-defined]
group_member_table: sa.Table = GroupMember.__table__  # type: ignore[attr-defined]
group_event_table: sa.Table = GroupEvent.__table__  # type: ignore[attr-defined]

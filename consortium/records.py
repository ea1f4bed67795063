"""Reading the consortium's rows of one tender into plain records, and the two ways of naming firms.

`identities` is the only place that reads firms' names and addresses for a view; member-facing code calls
it only with the ids of firms revealed to that member.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from watch.models import Member, User

from .errors import ConsortiumError
from .models import interest_table
from .tenders import Tender
from .views import AnonymousEntry, Contact, LotCount

member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
user_table: sa.Table = User.__table__  # type: ignore[attr-defined]


def require_member(connection: Connection, member_id: int) -> str:
    """The name of the acting member (for its own messages); an unknown member is an error."""
    name = connection.execute(sa.select(member_table.c.name).where(member_table.c.id == member_id)).scalar()
    if name is None:
        raise ConsortiumError(f"no member {member_id}")
    return str(name)


@dataclass(frozen=True)
class InterestRecord:
    id: int
    member_id: int
    lots: tuple[str, ...]
    """Lot keys; empty for the whole tender."""
    role: str
    brings_cpv: tuple[str, ...]
    brings_keywords: tuple[str, ...]
    lacks_cpv: tuple[str, ...]
    lacks_keywords: tuple[str, ...]
    seeks_partners: bool
    note: str | None
    created_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None

    def takes(self, lot_key: str) -> bool:
        return not self.lots or lot_key in self.lots

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


def interests(connection: Connection, tender: Tender, *, withdrawn: bool = False) -> dict[int, InterestRecord]:
    """The interests in a tender by member id (under any of its keys, the latest kept); withdrawn ones
    only when asked."""
    rows = connection.execute(
        sa.select(interest_table)
        .where(interest_table.c.tender_key.in_(tender.keys))
        .order_by(interest_table.c.updated_at, interest_table.c.id)
    ).mappings()
    result: dict[int, InterestRecord] = {}
    for row in rows:
        result[row["member_id"]] = InterestRecord(
            id=row["id"],
            member_id=row["member_id"],
            lots=tuple(row["lots"]),
            role=row["role"],
            brings_cpv=tuple(row["brings_cpv"]),
            brings_keywords=tuple(row["brings_keywords"]),
            lacks_cpv=tuple(row["lacks_cpv"]),
            lacks_keywords=tuple(row["lacks_keywords"]),
            seeks_partners=row["seeks_partners"],
            note=row["note"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            withdrawn_at=row["withdrawn_at"],
        )
    if withdrawn:
        return result
    return {member: record for member, record in result.items() if record.active}


@dataclass(frozen=True)
class Identity:
    name: str
    contacts: tuple[Contact, ...]


def identities(connection: Connection, member_ids: Iterable[int]) -> dict[int, Identity]:
    """Names and reachable addresses of the given firms. Member-facing code passes revealed firms only."""
    wanted = sorted(set(member_ids))
    if not wanted:
        return {}
    names = dict(
        connection.execute(sa.select(member_table.c.id, member_table.c.name).where(member_table.c.id.in_(wanted))).all()
    )
    contacts: dict[int, list[Contact]] = {member: [] for member in names}
    users = connection.execute(
        sa.select(user_table.c.member_id, user_table.c.email, user_table.c.language)
        .where(
            user_table.c.member_id.in_(wanted),
            user_table.c.active.is_(True),
            user_table.c.email_disabled_reason.is_(None),
        )
        .order_by(user_table.c.email)
    )
    for user in users:
        contacts[user.member_id].append(Contact(email=user.email, language=user.language))
    return {member: Identity(name, tuple(contacts[member])) for member, name in names.items()}


def anonymous_entry(tender: Tender, record: InterestRecord, pseudonym: str) -> AnonymousEntry:
    """A firm's interest as the others see it: what it declared for this tender, under its pseudonym."""
    return AnonymousEntry(
        pseudonym=pseudonym,
        role=record.role,  # type: ignore[arg-type]
        lots=[tender.lot_id(key) for key in record.lots],
        brings_cpv=list(record.brings_cpv),
        brings_keywords=list(record.brings_keywords),
        lacks_cpv=list(record.lacks_cpv),
        lacks_keywords=list(record.lacks_keywords),
        seeks_partners=record.seeks_partners,
    )


def lot_counts(tender: Tender, records: Iterable[InterestRecord]) -> list[LotCount]:
    """Per lot, how many firms are interested, in which role, and how many seek partners or a lead."""
    active = [record for record in records if record.active]
    counts = []
    for lot in tender.lots:
        taking = [record for record in active if record.takes(lot.key)]
        counts.append(
            LotCount(
                lot_id=lot.id,
                interested=len(taking),
                leads=sum(r.role == "lead" for r in taking),
                partners=sum(r.role == "partner" for r in taking),
                subcontractors=sum(r.role == "subcontractor" for r in taking),
                seeking_partners=sum(r.seeks_partners for r in taking),
                seeking_lead=sum(r.seeks_partners and r.role != "lead" for r in taking),
            )
        )
    return counts

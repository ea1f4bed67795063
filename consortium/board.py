"""The interest board (staff): every tender some firm is interested in, soonest deadline first, lot by lot.

Staff read, per lot, which firms (by name) flagged it, in which role, what each brings and lacks, who seeks
partners, and the lots no interested firm takes on (`search.uncovered_lots`). The order is decided in a few
batched queries over the interests and their publications (a cluster has thousands of interests on as many
tenders, in a store of a hundred thousand notices); only the tenders of the page shown are loaded whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.store.models import utcnow
from crawlers.store.service import lot_table, notice_table

from .models import group_table, interest_table
from .records import Identity, InterestRecord, identities, interests
from .search import lacks_part, uncovered_lots
from .tenders import _TYPE_RANK, Tender, load_tender
from .views import GroupStatus, PublicModel, Role, TenderInfo

PER_PAGE = 20
Show = Literal["open", "closed"]


class BoardFirm(PublicModel):
    """A firm's interest as staff read it on the board: by name, with what it declared."""

    member_id: int
    name: str
    role: Role
    lots: list[str]
    """The lots it flagged; empty for the whole tender."""
    whole_tender: bool
    brings: list[str]
    lacks: list[str]
    seeks_partners: bool
    takes_on: bool
    """It flagged the lot and lacks no part of it (`search.takes_on`)."""


class BoardLot(PublicModel):
    lot_id: str
    title: str | None
    firms: list[BoardFirm]
    covered: bool
    """Some interested firm takes it on."""


class BoardGroup(PublicModel):
    id: int
    name: str
    status: GroupStatus


class BoardTender(PublicModel):
    tender: TenderInfo
    source: str
    source_id: str
    """The main publication's, for its page's address (a feed's source may hold a colon)."""
    deadline_utc: datetime | None
    firms: list[BoardFirm]
    """Every interested firm, in the order they flagged the tender."""
    lots: list[BoardLot]
    uncovered_lots: list[str]
    seeking_partners: int
    groups: list[BoardGroup]


class InterestBoard(PublicModel):
    show: Show
    page: int
    pages: int
    total: int
    """Tenders with interest shown by this board (open, or closed), across its pages."""
    tenders: list[BoardTender]


@dataclass(frozen=True)
class _Candidate:
    """A tender with interest, before it is loaded: its main publication and that publication's deadline."""

    notice_id: int
    deadline_utc: datetime | None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _candidates(connection: Connection) -> list[_Candidate]:
    """One per tender with an active interest: its main publication chosen as `tenders.load_tender` does."""
    flagged = connection.execute(
        sa.select(notice_table.c.id, notice_table.c.procedure_id)
        .select_from(interest_table.join(notice_table, notice_table.c.id == interest_table.c.notice_id))
        .where(interest_table.c.withdrawn_at.is_(None))
        .distinct()
    ).all()
    procedures = {row.procedure_id for row in flagged if row.procedure_id is not None}
    alone = {row.id for row in flagged if row.procedure_id is None}
    columns = (
        notice_table.c.id,
        notice_table.c.procedure_id,
        notice_table.c.notice_type,
        notice_table.c.published,
        notice_table.c.deadline_utc,
    )
    publications: list[Any] = []
    for chunk in _chunks(sorted(procedures)):
        publications += connection.execute(sa.select(*columns).where(notice_table.c.procedure_id.in_(chunk))).all()
    for chunk in _chunks(sorted(alone)):
        publications += connection.execute(sa.select(*columns).where(notice_table.c.id.in_(chunk))).all()
    lots: dict[int, int] = {}
    for chunk in _chunks(sorted({p.id for p in publications})):
        lots.update(
            connection.execute(
                sa.select(lot_table.c.notice_id, sa.func.count())
                .where(lot_table.c.notice_id.in_(chunk))
                .group_by(lot_table.c.notice_id)
            ).all()
        )
    tenders: dict[str, list[Any]] = defaultdict(list)
    for publication in publications:
        key = f"p{publication.procedure_id}" if publication.procedure_id is not None else f"n{publication.id}"
        tenders[key].append(publication)
    result = []
    for rows in tenders.values():
        main = min(
            rows,
            key=lambda p: (_TYPE_RANK.get(p.notice_type, 9), -lots.get(p.id, 0), -p.published.toordinal(), p.id),
        )
        result.append(_Candidate(int(main.id), _utc(main.deadline_utc)))
    return result


def _chunks(values: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _ordered(candidates: Sequence[_Candidate], show: Show, now: datetime) -> list[_Candidate]:
    """Open tenders soonest deadline first (those without a deadline last); closed ones, latest closed first."""
    if show == "open":
        kept = [c for c in candidates if c.deadline_utc is None or c.deadline_utc >= now]
        return sorted(kept, key=lambda c: (c.deadline_utc is None, c.deadline_utc or now, c.notice_id))
    kept = [c for c in candidates if c.deadline_utc is not None and c.deadline_utc < now]
    return sorted(kept, key=lambda c: (-(c.deadline_utc or now).timestamp(), c.notice_id))


def _board_firm(
    tender: Tender, record: InterestRecord, who: Mapping[int, Identity], *, lot_key: str | None
) -> BoardFirm:
    lot = tender.lot(lot_key) if lot_key is not None else None
    return BoardFirm(
        member_id=record.member_id,
        name=who[record.member_id].name if record.member_id in who else f"member {record.member_id}",
        role=record.role,  # type: ignore[arg-type]
        lots=[tender.lot_id(key) for key in record.lots],
        whole_tender=not record.lots,
        brings=[*record.brings_cpv, *record.brings_keywords],
        lacks=[*record.lacks_cpv, *record.lacks_keywords],
        seeks_partners=record.seeks_partners,
        takes_on=lot is not None and record.takes(lot.key) and not lacks_part(record, lot),
    )


def _board_tender(
    connection: Connection, tender: Tender, deadline_utc: datetime | None, records: Mapping[int, InterestRecord]
) -> BoardTender:
    who = identities(connection, records)
    groups = connection.execute(
        sa.select(group_table.c.id, group_table.c.name, group_table.c.status)
        .where(group_table.c.tender_key.in_(tender.keys))
        .order_by(group_table.c.id)
    ).all()
    uncovered = uncovered_lots(tender, records)
    ordered = sorted(records.values(), key=lambda record: (record.created_at, record.id))
    return BoardTender(
        tender=TenderInfo.of(tender),
        source=tender.source,
        source_id=tender.source_id,
        deadline_utc=deadline_utc,
        firms=[_board_firm(tender, record, who, lot_key=None) for record in ordered],
        lots=[
            BoardLot(
                lot_id=lot.id,
                title=lot.title,
                firms=[_board_firm(tender, r, who, lot_key=lot.key) for r in ordered if r.takes(lot.key)],
                covered=lot.id not in uncovered,
            )
            for lot in tender.lots
        ],
        uncovered_lots=uncovered,
        seeking_partners=sum(record.seeks_partners for record in ordered),
        groups=[BoardGroup(id=g.id, name=g.name, status=g.status) for g in groups],
    )


def interest_board(
    engine: Engine, *, show: Show = "open", page: int = 1, per_page: int = PER_PAGE, now: datetime | None = None
) -> InterestBoard:
    """One page of the board: the tenders with interest, open ones soonest deadline first (or closed ones)."""
    now = now or utcnow()
    with engine.connect() as connection:
        ordered = _ordered(_candidates(connection), show, now)
        pages = max(1, -(-len(ordered) // per_page))
        page = min(max(page, 1), pages)
        shown = []
        for candidate in ordered[(page - 1) * per_page : page * per_page]:
            tender = load_tender(connection, candidate.notice_id)
            shown.append(_board_tender(connection, tender, candidate.deadline_utc, interests(connection, tender)))
    return InterestBoard(show=show, page=page, pages=pages, total=len(ordered), tenders=shown)


def tender_board(engine: Engine, *, tender: str | int) -> BoardTender:
    """One tender's part of the board (the page where staff form a group from its interested firms)."""
    with engine.connect() as connection:
        found = load_tender(connection, tender)
        deadline = connection.execute(
            sa.select(notice_table.c.deadline_utc).where(notice_table.c.id == found.notice_id)
        ).scalar()
        return _board_tender(connection, found, _utc(deadline), interests(connection, found))

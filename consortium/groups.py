"""Partner groups (staff): firms assembled to bid together on a tender, followed to the result.

A group has firms with roles (one lead, the mandataire; partners; subcontractors: the roles of an interest,
`views.Role`) and the lots each takes. Its view shows, lot by lot, which firms take it and which of the
codes the lot requires they cover, suggests firms for the gaps, and keeps the history: forming →
submitted → won or lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.codelists import cpv_label
from crawlers.store.models import utcnow

from .catalogue import catalogues, firm_summaries, load_competences
from .competences import Competences, covers, serves
from .errors import ConsortiumError
from .models import group_event_table, group_member_table, group_table
from .pseudonyms import pseudonyms
from .records import InterestRecord, interests
from .search import LotResult, Pool, declared, every_firm, lacks_part, rank, staff_lots
from .tenders import Tender, load_tender
from .views import (
    GroupEventView,
    GroupFirm,
    GroupLot,
    GroupStatus,
    GroupSummary,
    GroupView,
    Requirement,
    TenderInfo,
    parse_role,
)

STATUSES: tuple[str, ...] = get_args(GroupStatus)
NEXT_STATUS = {"forming": ("submitted",), "submitted": ("won", "lost"), "won": (), "lost": ()}
SUGGESTIONS = 5


def _moment(at: datetime | date | None) -> datetime:
    """When something happened: now, or the date staff give (noon UTC for a date alone)."""
    if at is None:
        return utcnow()
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    return datetime.combine(at, time(12), tzinfo=UTC)


def _event(connection: Connection, group_id: int, kind: str, detail: dict[str, Any], at: datetime) -> None:
    connection.execute(group_event_table.insert().values(group_id=group_id, kind=kind, detail=detail, at=at))
    connection.execute(group_table.update().where(group_table.c.id == group_id).values(updated_at=utcnow()))


def _group(connection: Connection, group_id: int) -> sa.RowMapping:
    row = connection.execute(sa.select(group_table).where(group_table.c.id == group_id)).mappings().first()
    if row is None:
        raise ConsortiumError(f"no partner group {group_id}")
    return row


def create_group(engine: Engine, *, tender: str | int, name: str | None = None) -> GroupView:
    """A new group, forming, for a tender."""
    with engine.begin() as connection:
        found = load_tender(connection, tender)
        name = " ".join((name or f"Group for {found.reference}").split())[:200]
        now = utcnow()
        group_id: int = connection.execute(
            group_table.insert().values(
                tender_key=found.key,
                notice_id=found.notice_id,
                name=name,
                status="forming",
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        _event(connection, group_id, "created", {"name": name, "tender": found.reference}, now)
    return group_view(engine, group_id=group_id)


def add_firm(engine: Engine, *, group_id: int, member_id: int, role: str, lots: Sequence[str] = ()) -> GroupView:
    """Put a firm in the group (or change its role and lots) with the lots it takes (none named: all)."""
    role = parse_role(role)
    with engine.begin() as connection:
        group = _group(connection, group_id)
        found = load_tender(connection, group["notice_id"])
        keys = found.lot_keys(list(lots))
        names = catalogues(connection, [member_id])
        if member_id not in names:
            raise ConsortiumError(f"no member {member_id}")
        firms = (
            connection.execute(sa.select(group_member_table).where(group_member_table.c.group_id == group_id))
            .mappings()
            .all()
        )
        lead = next((f for f in firms if f["role"] == "lead" and f["member_id"] != member_id), None)
        if role == "lead" and lead is not None:
            lead_name = catalogues(connection, [lead["member_id"]])[lead["member_id"]].name
            raise ConsortiumError(f"group {group_id} already has a lead ({lead_name}); change its role first")
        detail = {
            "member_id": member_id,
            "name": names[member_id].name,
            "role": role,
            "lots": [found.lot_id(k) for k in keys],
        }
        if any(f["member_id"] == member_id for f in firms):
            connection.execute(
                group_member_table.update()
                .where(group_member_table.c.group_id == group_id, group_member_table.c.member_id == member_id)
                .values(role=role, lots=keys)
            )
            _event(connection, group_id, "firm-changed", detail, utcnow())
        else:
            connection.execute(
                group_member_table.insert().values(
                    group_id=group_id, member_id=member_id, role=role, lots=keys, added_at=utcnow()
                )
            )
            _event(connection, group_id, "firm-added", detail, utcnow())
    return group_view(engine, group_id=group_id)


def remove_firm(engine: Engine, *, group_id: int, member_id: int) -> GroupView:
    with engine.begin() as connection:
        _group(connection, group_id)
        removed = connection.execute(
            group_member_table.delete().where(
                group_member_table.c.group_id == group_id, group_member_table.c.member_id == member_id
            )
        ).rowcount
        if not removed:
            raise ConsortiumError(f"member {member_id} is not in group {group_id}")
        names = catalogues(connection, [member_id])
        detail = {"member_id": member_id, "name": names[member_id].name if member_id in names else None}
        _event(connection, group_id, "firm-removed", detail, utcnow())
    return group_view(engine, group_id=group_id)


def set_status(
    engine: Engine, *, group_id: int, status: str, note: str | None = None, at: datetime | date | None = None
) -> GroupView:
    """Move the group on: forming → submitted → won or lost, on a date (today unless given), with a note."""
    with engine.begin() as connection:
        group = _group(connection, group_id)
        if status not in NEXT_STATUS.get(group["status"], ()):
            allowed = " or ".join(NEXT_STATUS.get(group["status"], ())) or "nothing (it is closed)"
            raise ConsortiumError(f"group {group_id} is {group['status']}: it can become {allowed}, not {status!r}")
        moment = _moment(at)
        values: dict[str, Any] = {"status": status}
        values["submitted_at" if status == "submitted" else "result_at"] = moment
        connection.execute(group_table.update().where(group_table.c.id == group_id).values(**values))
        _event(connection, group_id, "status", {"from": group["status"], "to": status, "note": note}, moment)
    return group_view(engine, group_id=group_id)


def add_note(engine: Engine, *, group_id: int, text: str, at: datetime | date | None = None) -> GroupView:
    text = text.strip()
    if not text or len(text) > 2000:
        raise ConsortiumError("a note is 1 to 2000 characters")
    with engine.begin() as connection:
        _group(connection, group_id)
        _event(connection, group_id, "note", {"text": text}, _moment(at))
    return group_view(engine, group_id=group_id)


def _coverage(
    tender: Tender,
    firms: Sequence[sa.RowMapping],
    competences: Mapping[int, Competences],
    names: Mapping[int, str],
    interested: Mapping[int, InterestRecord],
) -> list[GroupLot]:
    """Lot by lot, the group's firms that take it and which of its codes they cover; a code a firm said
    it lacks on the tender is not covered by it, whatever its catalogue says."""
    result = []
    for lot in tender.lots:
        taking = [f for f in firms if not f["lots"] or lot.key in f["lots"]]
        requirements = []
        for code in lot.cpv:
            doing = [
                f
                for f in taking
                if not any(covers(c, code) or covers(code, c) for c in _lacked(interested, f["member_id"]))
            ]
            full = [f for f in doing if any(covers(c, code) for c in _cpv(competences, f["member_id"]))]
            part = [
                f for f in doing if f not in full and any(covers(code, c) for c in _cpv(competences, f["member_id"]))
            ]
            requirements.append(
                Requirement(
                    cpv=code,
                    label=cpv_label(code, "en"),
                    covered_by=[names[f["member_id"]] for f in full],
                    partly_by=[names[f["member_id"]] for f in part],
                )
            )
        if lot.cpv:
            covered = bool(taking) and all(r.covered_by for r in requirements)
        else:
            covered = any(
                serves(competences.get(f["member_id"], Competences()), lot.need)
                and not lacks_part(interested.get(f["member_id"]), lot)
                for f in taking
            )
        result.append(
            GroupLot(
                lot_id=lot.id,
                title=lot.title,
                firms=[names[f["member_id"]] for f in taking],
                requirements=requirements,
                covered=covered,
            )
        )
    return result


def _cpv(competences: Mapping[int, Competences], member_id: int) -> tuple[str, ...]:
    return competences.get(member_id, Competences()).cpv


def _lacked(interested: Mapping[int, InterestRecord], member_id: int) -> tuple[str, ...]:
    record = interested.get(member_id)
    return record.lacks_cpv if record else ()


def _firm_competences(
    connection: Connection, tender: Tender, member_ids: Sequence[int]
) -> tuple[dict[int, Competences], dict[int, InterestRecord]]:
    """Competences of the given firms, with what they declared on the tender; and every interest in it."""
    interested = interests(connection, tender)
    competences = {
        member: firm.merged(declared(interested.get(member)))
        for member, firm in load_competences(connection, member_ids).items()
    }
    return competences, interested


def _firms(connection: Connection, group_id: int) -> list[sa.RowMapping]:
    return list(
        connection.execute(
            sa.select(group_member_table)
            .where(group_member_table.c.group_id == group_id)
            .order_by(group_member_table.c.added_at, group_member_table.c.id)
        ).mappings()
    )


def _suggestions(
    connection: Connection,
    tender: Tender,
    lots: Sequence[GroupLot],
    firms: Sequence[sa.RowMapping],
    competences: Mapping[int, Competences],
    interested: Mapping[int, InterestRecord],
    limit: int,
) -> tuple[list[LotResult], Pool]:
    """For each lot the group does not cover, the firms outside it that have what its firms lack."""
    in_group = {f["member_id"] for f in firms}
    pool = every_firm(connection, interested, in_group)
    outside = {m: r for m, r in interested.items() if m not in in_group}
    results = []
    for lot, shown in zip(tender.lots, lots, strict=True):
        if shown.covered:
            continue
        own = Competences()
        for firm in firms:
            if not firm["lots"] or lot.key in firm["lots"]:
                own = own.merged(competences.get(firm["member_id"], Competences()))
        results += rank(
            tender, own=own, own_interest=None, pool=pool, interested=outside, order=None, lots=[lot], limit=limit
        )
    return results, pool


def group_view(engine: Engine, *, group_id: int, suggestions: int = SUGGESTIONS) -> GroupView:
    """The group, lot by lot, with the firms to suggest for each lot it does not cover yet."""
    with engine.connect() as connection:
        group = _group(connection, group_id)
        found = load_tender(connection, group["notice_id"])
        firms = _firms(connection, group_id)
        history = _history(connection, group_id)
        competences, interested = _firm_competences(connection, found, [f["member_id"] for f in firms])
        names = {m: c.name for m, c in catalogues(connection, [f["member_id"] for f in firms]).items()}
        lots = _coverage(found, firms, competences, names, interested)
        gaps, pool = _suggestions(connection, found, lots, firms, competences, interested, suggestions)
        details = firm_summaries(connection, {r.member_id for gap in gaps for r in gap.ranked})
        pseudonym_names = pseudonyms(connection, found, interested)
    return GroupView(
        id=group["id"],
        name=group["name"],
        tender=TenderInfo.of(found),
        status=group["status"],
        created_at=group["created_at"],
        submitted_at=group["submitted_at"],
        result_at=group["result_at"],
        firms=[
            GroupFirm(
                member_id=f["member_id"],
                name=names[f["member_id"]],
                role=f["role"],
                lots=[found.lot_id(k) for k in f["lots"]],
            )
            for f in firms
        ],
        lots=lots,
        uncovered_lots=[lot.lot_id for lot in lots if not lot.covered],
        suggestions=staff_lots(gaps, details, interested, pseudonym_names, pool.competences),
        history=history,
    )


def _history(connection: Connection, group_id: int) -> list[GroupEventView]:
    """The group's events in order, each firm by the name recorded with the event (its present name for
    older events that recorded only its id)."""
    rows = (
        connection.execute(
            sa.select(group_event_table)
            .where(group_event_table.c.group_id == group_id)
            .order_by(group_event_table.c.id)
        )
        .mappings()
        .all()
    )
    ids = {row["detail"].get("member_id") for row in rows if row["detail"]} - {None}
    present = {member: firm.name for member, firm in catalogues(connection, ids).items()}
    return [_event_view(row, present) for row in rows]


def _event_view(row: sa.RowMapping, present: Mapping[int, str]) -> GroupEventView:
    detail: dict[str, Any] = row["detail"] or {}
    at: datetime = row["at"] if row["at"].tzinfo is None else row["at"].astimezone(UTC)
    match row["kind"]:
        case "created":
            return GroupEventView(at=at, kind="created", tender=detail.get("tender"), text=detail.get("name"))
        case "status":
            return GroupEventView(
                at=at,
                kind="status",
                status_from=detail.get("from"),
                status_to=detail.get("to"),
                text=detail.get("note"),
            )
        case "note":
            return GroupEventView(at=at, kind="note", text=detail.get("text"))
    member_id: int | None = detail.get("member_id")
    return GroupEventView(
        at=at,
        kind=row["kind"],
        member_id=member_id,
        firm=detail.get("name") or present.get(member_id or 0) or f"member {member_id}",
        role=detail.get("role"),
        lots=list(detail.get("lots") or []),
    )


def group_summaries(connection: Connection, tender: Tender) -> list[GroupSummary]:
    """The groups formed for a tender, with the lots each does not cover yet."""
    groups = (
        connection.execute(
            sa.select(group_table).where(group_table.c.tender_key.in_(tender.keys)).order_by(group_table.c.id)
        )
        .mappings()
        .all()
    )
    summaries = []
    for group in groups:
        firms = _firms(connection, group["id"])
        competences, interested = _firm_competences(connection, tender, [f["member_id"] for f in firms])
        names = {f["member_id"]: str(f["member_id"]) for f in firms}
        lots = _coverage(tender, firms, competences, names, interested)
        summaries.append(
            GroupSummary(
                id=group["id"],
                name=group["name"],
                status=group["status"],
                firms=len(firms),
                uncovered_lots=[lot.lot_id for lot in lots if not lot.covered],
            )
        )
    return summaries


def list_groups(engine: Engine, *, tender: str | int | None = None) -> list[GroupSummary]:
    """Every group (staff), or those of one tender."""
    with engine.connect() as connection:
        if tender is not None:
            return group_summaries(connection, load_tender(connection, tender))
        notices = (
            connection.execute(sa.select(group_table.c.notice_id).distinct().order_by(group_table.c.notice_id))
            .scalars()
            .all()
        )
        summaries = []
        seen: set[str] = set()
        for notice_id in notices:
            found = load_tender(connection, notice_id)
            if found.key not in seen:
                seen.add(found.key)
                summaries += group_summaries(connection, found)
    return sorted(summaries, key=lambda summary: summary.id)

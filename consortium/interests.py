"""Expressions of interest: a member flags a tender or some of its lots, and what each one may see of them.

A member sees the counts per lot, the other firms' entries under their pseudonyms (ordered by pseudonym),
its own entry, its reveal requests, and the firms revealed to it on this tender; staff see everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.store.models import utcnow

from .competences import phrase_in, split_codes_and_words, words
from .errors import ConsortiumError
from .groups import group_summaries
from .models import interest_table, reveal_table
from .pseudonyms import pseudonym_for, pseudonyms
from .records import Identity, InterestRecord, anonymous_entry, identities, interests, lot_counts, require_member
from .tenders import Tender, load_tender
from .views import (
    IncomingRequest,
    MemberTenderView,
    OutgoingRequest,
    OwnInterest,
    RevealedFirm,
    StaffEntry,
    StaffReveal,
    StaffTenderView,
    TenderInfo,
    parse_role,
)

MAX_DECLARED = 50
_LEGAL_FORMS = frozenset(
    words("sa srl sprl sc scrl scs snc sas sasu sarl eurl sa nv bv bvba cv cvba vof gmbh ag ltd llc inc plc asbl vzw")
)


def _declared(label: str, values: Sequence[str], firm_name: str) -> tuple[list[str], list[str]]:
    """Codes and keywords a member declares; a keyword that spells out its own name is refused, since
    the others would read it."""
    codes, keywords = split_codes_and_words(values)
    if len(codes) + len(keywords) > MAX_DECLARED:
        raise ConsortiumError(f"{label}: at most {MAX_DECLARED} codes and keywords")
    for keyword in keywords:
        if len(keyword) > 100:
            raise ConsortiumError(f"{label}: a keyword is at most 100 characters, {keyword[:40]!r}... is longer")
    name = tuple(w for w in words(firm_name) if w not in _LEGAL_FORMS)
    for keyword in keywords:
        if name and phrase_in(name, words(keyword)):
            raise ConsortiumError(f"{label}: {keyword!r} names your firm, which the other members would read")
    return codes, keywords


def record_interest(
    engine: Engine,
    *,
    member_id: int,
    tender: str | int,
    lots: Sequence[str] = (),
    role: str = "partner",
    brings: Sequence[str] = (),
    lacks: Sequence[str] = (),
    seeks_partners: bool = False,
    note: str | None = None,
) -> OwnInterest:
    """Flag a tender (or some of its lots: then they replace the lots flagged before) with a role, what
    the firm brings and lacks (CPV codes or keywords), and whether it seeks partners."""
    role = parse_role(role)
    if note is not None and len(note) > 500:
        raise ConsortiumError("note: at most 500 characters")
    with engine.begin() as connection:
        found = load_tender(connection, tender)
        firm_name = require_member(connection, member_id)
        lot_keys = found.lot_keys(list(lots))
        brings_cpv, brings_keywords = _declared("brings", brings, firm_name)
        lacks_cpv, lacks_keywords = _declared("lacks", lacks, firm_name)
        now = utcnow()
        values = {
            "tender_key": found.key,
            "notice_id": found.notice_id,
            "lots": lot_keys,
            "role": role,
            "brings_cpv": brings_cpv,
            "brings_keywords": brings_keywords,
            "lacks_cpv": lacks_cpv,
            "lacks_keywords": lacks_keywords,
            "seeks_partners": seeks_partners,
            "note": note,
            "updated_at": now,
            "withdrawn_at": None,
        }
        existing = interests(connection, found, withdrawn=True).get(member_id)
        if existing is None:
            connection.execute(interest_table.insert().values(member_id=member_id, created_at=now, **values))
        else:
            connection.execute(interest_table.update().where(interest_table.c.id == existing.id).values(**values))
        pseudonym_for(connection, found, member_id)
        own = _own(connection, found, member_id)
    assert own is not None
    return own


def withdraw_interest(
    engine: Engine, *, member_id: int, tender: str | int, lots: Sequence[str] = ()
) -> OwnInterest | None:
    """Withdraw from some lots, or from the whole tender (then the firm's pending requests are dropped);
    returns what remains of the interest, None when nothing does."""
    with engine.begin() as connection:
        found = load_tender(connection, tender)
        record = interests(connection, found).get(member_id)
        if record is None:
            raise ConsortiumError(f"you have no interest in {found.reference} to withdraw")
        remaining: list[str] = []
        if lots:
            dropped = set(found.lot_keys(list(lots)))
            remaining = [k for k in (record.lots or [lot.key for lot in found.lots]) if k not in dropped]
        now = utcnow()
        if remaining:
            connection.execute(
                interest_table.update().where(interest_table.c.id == record.id).values(lots=remaining, updated_at=now)
            )
            return _own(connection, found, member_id)
        connection.execute(
            interest_table.update().where(interest_table.c.id == record.id).values(withdrawn_at=now, updated_at=now)
        )
        connection.execute(
            reveal_table.update()
            .where(
                reveal_table.c.tender_key.in_(found.keys),
                reveal_table.c.requester_id == member_id,
                reveal_table.c.state == "pending",
            )
            .values(state="cancelled", decided_at=now)
        )
        return None


def _own(connection: Connection, tender: Tender, member_id: int) -> OwnInterest | None:
    record = interests(connection, tender).get(member_id)
    if record is None:
        return None
    return OwnInterest(
        pseudonym=pseudonym_for(connection, tender, member_id),
        role=record.role,  # type: ignore[arg-type]
        lots=[tender.lot_id(key) for key in record.lots],
        brings_cpv=list(record.brings_cpv),
        brings_keywords=list(record.brings_keywords),
        lacks_cpv=list(record.lacks_cpv),
        lacks_keywords=list(record.lacks_keywords),
        seeks_partners=record.seeks_partners,
        note=record.note,
        since=record.created_at,
        updated=record.updated_at,
    )


def member_view(engine: Engine, *, tender: str | int, member_id: int) -> MemberTenderView:
    """Exactly what one member may see of the interests in a tender."""
    with engine.connect() as connection:
        found = load_tender(connection, tender)
        require_member(connection, member_id)
        active = interests(connection, found)
        requests = (
            connection.execute(
                sa.select(reveal_table)
                .where(
                    reveal_table.c.tender_key.in_(found.keys),
                    sa.or_(reveal_table.c.requester_id == member_id, reveal_table.c.target_id == member_id),
                )
                .order_by(reveal_table.c.id)
            )
            .mappings()
            .all()
        )
        names = pseudonyms(connection, found)
        revealed = _revealed_to(connection, found, member_id, requests, names)
        own = _own(connection, found, member_id)
    sent = [
        OutgoingRequest(pseudonym=names[r["target_id"]], state="revealed" if r["state"] == "accepted" else "pending")
        for r in requests
        if r["requester_id"] == member_id and r["state"] != "cancelled"
    ]
    received = [
        IncomingRequest(
            pseudonym=names[r["requester_id"]],
            asked_on=r["created_at"].date(),
            entry=anonymous_entry(found, active[r["requester_id"]], names[r["requester_id"]])
            if r["requester_id"] in active
            else None,
        )
        for r in requests
        if r["target_id"] == member_id and r["state"] == "pending"
    ]
    others = [anonymous_entry(found, record, names[m]) for m, record in active.items() if m != member_id]
    return MemberTenderView(
        tender=TenderInfo.of(found),
        interested=len(active),
        counts=lot_counts(found, active.values()),
        own=own,
        entries=sorted(others, key=lambda entry: entry.pseudonym),
        requests_sent=sorted(sent, key=lambda request: request.pseudonym),
        requests_received=sorted(received, key=lambda request: request.pseudonym),
        revealed=revealed,
    )


def _revealed_to(
    connection: Connection, tender: Tender, member_id: int, requests: Sequence[sa.RowMapping], names: dict[int, str]
) -> list[RevealedFirm]:
    """The firms that agreed to be known by this member on this tender: the only identities it may read."""
    accepted = {
        (r["target_id"] if r["requester_id"] == member_id else r["requester_id"]): r["decided_at"]
        for r in requests
        if r["state"] == "accepted"
    }
    found = identities(connection, accepted)
    return sorted(
        (
            RevealedFirm(
                pseudonym=names[other],
                name=found[other].name,
                contacts=list(found[other].contacts),
                revealed_at=accepted[other],
            )
            for other in accepted
            if other in found
        ),
        key=lambda firm: firm.pseudonym,
    )


def staff_view(engine: Engine, *, tender: str | int) -> StaffTenderView:
    """Everything about the interests in a tender, with identities: for staff only."""
    with engine.connect() as connection:
        found = load_tender(connection, tender)
        every = interests(connection, found, withdrawn=True)
        requests = (
            connection.execute(
                sa.select(reveal_table).where(reveal_table.c.tender_key.in_(found.keys)).order_by(reveal_table.c.id)
            )
            .mappings()
            .all()
        )
        names = pseudonyms(connection, found)
        who = identities(
            connection, {*every, *(r["requester_id"] for r in requests), *(r["target_id"] for r in requests)}
        )
        groups = group_summaries(connection, found)
    return StaffTenderView(
        tender=TenderInfo.of(found),
        interested=sum(record.active for record in every.values()),
        counts=lot_counts(found, every.values()),
        entries=[_staff_entry(found, record, who, names) for record in every.values()],
        reveals=[
            StaffReveal(
                id=r["id"],
                tender=found.reference,
                requester_id=r["requester_id"],
                requester=who[r["requester_id"]].name,
                target_id=r["target_id"],
                target=who[r["target_id"]].name,
                state=r["state"],
                created_at=r["created_at"],
                decided_at=r["decided_at"],
            )
            for r in requests
        ],
        groups=groups,
    )


def _staff_entry(
    tender: Tender, record: InterestRecord, who: Mapping[int, Identity], names: Mapping[int, str]
) -> StaffEntry:
    return StaffEntry(
        member_id=record.member_id,
        name=who[record.member_id].name,
        emails=[contact.email for contact in who[record.member_id].contacts],
        pseudonym=names[record.member_id],
        role=record.role,  # type: ignore[arg-type]
        lots=[tender.lot_id(key) for key in record.lots],
        brings_cpv=list(record.brings_cpv),
        brings_keywords=list(record.brings_keywords),
        lacks_cpv=list(record.lacks_cpv),
        lacks_keywords=list(record.lacks_keywords),
        seeks_partners=record.seeks_partners,
        note=record.note,
        created_at=record.created_at,
        updated_at=record.updated_at,
        withdrawn_at=record.withdrawn_at,
    )

"""Mutual reveal: a member asks to be put in touch with a pseudonymous firm on a tender; that firm
accepts or refuses; only when both agree do the two learn each other's name and contacts.

A refusal is silent: the asker's request stays `pending` in its view, and nothing is sent. Asking a firm
that already asked you is agreeing. Every request is kept with who, whom, which tender, when and the
answer (`reveal_log`). The consortium sends no email itself: `pending_reveal_notifications` lists what
the notifications' sender is to send, and `mark_reveal_notifications_sent` records that it was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.store.models import utcnow

from .errors import ConsortiumError
from .models import reveal_table
from .pseudonyms import member_of, pseudonyms
from .records import anonymous_entry, identities, interests
from .tenders import Tender, load_tender
from .views import OutgoingRequest, RevealedFirm, RevealNotification, StaffReveal, TenderInfo

_NOTIFICATION_ID = re.compile(r"reveal-(\d+)-(requested|accepted-asker|accepted-target)")


def _shown(pseudonym: str) -> str:
    """The pseudonym as the member typed it, bounded, for an error message."""
    return repr(" ".join(pseudonym.split())[:60])


def _pair(connection: Connection, tender: Tender, asker: int, target: int) -> sa.RowMapping | None:
    return (
        connection.execute(
            sa.select(reveal_table).where(
                reveal_table.c.tender_key.in_(tender.keys),
                reveal_table.c.requester_id == asker,
                reveal_table.c.target_id == target,
            )
        )
        .mappings()
        .first()
    )


def request_reveal(engine: Engine, *, member_id: int, tender: str | int, pseudonym: str) -> OutgoingRequest:
    """Ask to be put in touch with the firm of `pseudonym` on a tender; the member must be interested in
    it too (the firm asked sees what the member declared)."""
    with engine.begin() as connection:
        found = load_tender(connection, tender)
        active = interests(connection, found)
        if member_id not in active:
            raise ConsortiumError(f"flag your interest in {found.reference} first: the firm you ask sees your entry")
        target = member_of(connection, found, pseudonym)
        if target is None or target not in active:
            raise ConsortiumError(f"no firm {_shown(pseudonym)} is interested in {found.reference}")
        names = pseudonyms(connection, found, [target])
        if target == member_id:
            raise ConsortiumError(f"{_shown(pseudonym)} is your own pseudonym on {found.reference}")
        now = utcnow()
        reverse = _pair(connection, found, target, member_id)
        if reverse is not None and reverse["state"] in ("pending", "refused", "accepted"):
            if reverse["state"] != "accepted":
                connection.execute(
                    reveal_table.update()
                    .where(reveal_table.c.id == reverse["id"])
                    .values(state="accepted", decided_at=now)
                )
            return OutgoingRequest(pseudonym=names[target], state="revealed")
        mine = _pair(connection, found, member_id, target)
        if mine is None:
            connection.execute(
                reveal_table.insert().values(
                    tender_key=found.key,
                    notice_id=found.notice_id,
                    requester_id=member_id,
                    target_id=target,
                    state="pending",
                    created_at=now,
                )
            )
        elif mine["state"] == "cancelled":
            connection.execute(
                reveal_table.update()
                .where(reveal_table.c.id == mine["id"])
                .values(state="pending", created_at=now, decided_at=None, target_notified_at=None)
            )
        state = "revealed" if mine is not None and mine["state"] == "accepted" else "pending"
        return OutgoingRequest(pseudonym=names[target], state=state)


def answer_reveal(
    engine: Engine, *, member_id: int, tender: str | int, pseudonym: str, accept: bool
) -> RevealedFirm | None:
    """Accept or refuse the request of the firm of `pseudonym`; on acceptance, who it is. A refusal can
    later become an acceptance, not the other way round (the names are known by then)."""
    with engine.begin() as connection:
        found = load_tender(connection, tender)
        asker = member_of(connection, found, pseudonym)
        request = _pair(connection, found, asker, member_id) if asker is not None else None
        answerable = ("pending", "refused") if accept else ("pending",)
        if asker is None or request is None or request["state"] not in answerable:
            raise ConsortiumError(f"no request from {_shown(pseudonym)} waits for your answer on {found.reference}")
        now = utcnow()
        connection.execute(
            reveal_table.update()
            .where(reveal_table.c.id == request["id"])
            .values(state="accepted" if accept else "refused", decided_at=now)
        )
        if not accept:
            return None
        who = identities(connection, [asker])[asker]
        names = pseudonyms(connection, found, [asker])
    return RevealedFirm(pseudonym=names[asker], name=who.name, contacts=list(who.contacts), revealed_at=now)


def pending_reveal_notifications(engine: Engine) -> list[RevealNotification]:
    """The reveal emails not sent yet: a request to the firm asked, an acceptance to each of the two."""
    with engine.connect() as connection:
        rows = (
            connection.execute(
                sa.select(reveal_table)
                .where(
                    sa.or_(
                        sa.and_(reveal_table.c.state == "pending", reveal_table.c.target_notified_at.is_(None)),
                        sa.and_(
                            reveal_table.c.state == "accepted",
                            sa.or_(
                                reveal_table.c.requester_reveal_notified_at.is_(None),
                                reveal_table.c.target_reveal_notified_at.is_(None),
                            ),
                        ),
                    )
                )
                .order_by(reveal_table.c.id)
            )
            .mappings()
            .all()
        )
        tenders: dict[int, Tender] = {}
        notifications = []
        for row in rows:
            if row["notice_id"] not in tenders:
                tenders[row["notice_id"]] = load_tender(connection, row["notice_id"])
            notifications += _notifications(connection, tenders[row["notice_id"]], row)
    return notifications


def _notifications(connection: Connection, tender: Tender, row: sa.RowMapping) -> list[RevealNotification]:
    asker, target = row["requester_id"], row["target_id"]
    names = pseudonyms(connection, tender, [asker, target])
    info = TenderInfo.of(tender)
    if row["state"] == "pending":
        record = interests(connection, tender).get(asker)
        return [
            RevealNotification(
                id=f"reveal-{row['id']}-requested",
                kind="reveal-requested",
                recipients=list(identities(connection, [target])[target].contacts),
                pseudonym=names[target],
                tender=info,
                asker=anonymous_entry(tender, record, names[asker]) if record else None,
                counterpart=None,
            )
        ]
    who = identities(connection, [asker, target])
    result = []
    for recipient, other, column, suffix in (
        (asker, target, "requester_reveal_notified_at", "asker"),
        (target, asker, "target_reveal_notified_at", "target"),
    ):
        if row[column] is None:
            result.append(
                RevealNotification(
                    id=f"reveal-{row['id']}-accepted-{suffix}",
                    kind="reveal-accepted",
                    recipients=list(who[recipient].contacts),
                    pseudonym=names[recipient],
                    tender=info,
                    asker=None,
                    counterpart=RevealedFirm(
                        pseudonym=names[other],
                        name=who[other].name,
                        contacts=list(who[other].contacts),
                        revealed_at=row["decided_at"],
                    ),
                )
            )
    return result


def mark_reveal_notifications_sent(engine: Engine, *, ids: Iterable[str]) -> None:
    """Record that these notifications (ids from `pending_reveal_notifications`) were sent."""
    columns = {
        "requested": "target_notified_at",
        "accepted-asker": "requester_reveal_notified_at",
        "accepted-target": "target_reveal_notified_at",
    }
    now = utcnow()
    with engine.begin() as connection:
        for notification_id in ids:
            match = _NOTIFICATION_ID.fullmatch(notification_id)
            if match is None:
                raise ConsortiumError(f"not a reveal notification id: {notification_id!r}")
            connection.execute(
                reveal_table.update()
                .where(reveal_table.c.id == int(match.group(1)))
                .values({columns[match.group(2)]: now})
            )


def reveal_log(engine: Engine, *, tender: str | int | None = None) -> list[StaffReveal]:
    """Every reveal request recorded (staff): who asked whom, on which tender, when, and the answer."""
    with engine.connect() as connection:
        query = sa.select(reveal_table).order_by(reveal_table.c.created_at, reveal_table.c.id)
        if tender is not None:
            query = query.where(reveal_table.c.tender_key.in_(load_tender(connection, tender).keys))
        rows = connection.execute(query).mappings().all()
        who = identities(connection, {m for r in rows for m in (r["requester_id"], r["target_id"])})
        references: dict[int, str] = {}
        for row in rows:
            if row["notice_id"] not in references:
                references[row["notice_id"]] = load_tender(connection, row["notice_id"]).reference
    return [
        StaffReveal(
            id=row["id"],
            tender=references[row["notice_id"]],
            requester_id=row["requester_id"],
            requester=who[row["requester_id"]].name,
            target_id=row["target_id"],
            target=who[row["target_id"]].name,
            state=row["state"],
            created_at=row["created_at"],
            decided_at=row["decided_at"],
        )
        for row in rows
    ]

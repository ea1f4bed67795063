"""Staff invite a firm to a partner group through the mutual reveal, so identities are still exchanged only
with consent (design §4): the invitation is a reveal request from one of the group's firms (its lead unless
staff name another) to the firm invited, which the reveal emails tell by pseudonym; names go out only once it
accepts. Both firms must have flagged the tender, since the firm asked reads the asker's entry.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .errors import ConsortiumError
from .models import group_member_table, group_table, reveal_table
from .pseudonyms import pseudonyms
from .records import identities, interests
from .reveal import request_reveal
from .tenders import load_tender
from .views import StaffReveal


def invite_firm(engine: Engine, *, group_id: int, member_id: int, on_behalf_of: int | None = None) -> StaffReveal:
    """Ask the firm `member_id` to be put in touch with a firm of the group (`on_behalf_of`, else its lead,
    else its first firm); the request as recorded (`accepted` at once when that firm had asked it first)."""
    with engine.connect() as connection:
        group = connection.execute(sa.select(group_table).where(group_table.c.id == group_id)).mappings().first()
        if group is None:
            raise ConsortiumError(f"no partner group {group_id}")
        tender = load_tender(connection, group["notice_id"])
        firms = connection.execute(
            sa.select(group_member_table.c.member_id, group_member_table.c.role)
            .where(group_member_table.c.group_id == group_id)
            .order_by(group_member_table.c.added_at, group_member_table.c.id)
        ).all()
        if not firms:
            raise ConsortiumError(f"group {group_id} has no firm yet to invite on behalf of: add one first")
        in_group = [firm.member_id for firm in firms]
        if on_behalf_of is None:
            on_behalf_of = next((f.member_id for f in firms if f.role == "lead"), in_group[0])
        elif on_behalf_of not in in_group:
            raise ConsortiumError(f"member {on_behalf_of} is not in group {group_id}")
        if member_id in in_group:
            raise ConsortiumError(f"member {member_id} is already in group {group_id}")
        who = identities(connection, [member_id, on_behalf_of])
        if member_id not in who:
            raise ConsortiumError(f"no member {member_id}")
        active = interests(connection, tender)
        for firm in (on_behalf_of, member_id):
            if firm not in active:
                raise ConsortiumError(
                    f"{who[firm].name} has not flagged {tender.reference}: a reveal request needs both firms "
                    "interested (the firm asked reads the asker's entry)"
                )
        pseudonym = pseudonyms(connection, tender, [member_id])[member_id]
    request_reveal(engine, member_id=on_behalf_of, tender=tender.notice_id, pseudonym=pseudonym)
    with engine.connect() as connection:
        row = (
            connection.execute(
                sa.select(reveal_table)
                .where(
                    reveal_table.c.tender_key.in_(tender.keys),
                    sa.or_(
                        sa.and_(reveal_table.c.requester_id == on_behalf_of, reveal_table.c.target_id == member_id),
                        sa.and_(reveal_table.c.requester_id == member_id, reveal_table.c.target_id == on_behalf_of),
                    ),
                )
                .order_by(reveal_table.c.id)
            )
            .mappings()
            .first()
        )
    assert row is not None  # request_reveal recorded the pair, one way or the other
    return StaffReveal(
        id=row["id"],
        tender=tender.reference,
        requester_id=row["requester_id"],
        requester=who[row["requester_id"]].name,
        target_id=row["target_id"],
        target=who[row["target_id"]].name,
        state=row["state"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
    )

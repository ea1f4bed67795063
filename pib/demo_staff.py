"""The staff side of `pib demo`: a staff user, interest from the sample firms in one tender they matched, and one
partner group formed of them, so the console's interest board and groups have something to show; and the
staff sign-in line `pib demo --serve` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from consortium.models import group_table
from consortium.services import add_firm, add_note, create_group, record_interest
from consortium.tenders import load_tender
from crawlers.store.models import utcnow
from crawlers.store.service import notice_table
from watch.models import Match, Member

STAFF_EMAIL = "animation@cluster.example"
match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StaffDemo:
    tender: str
    """The tender the sample firms flagged (`SOURCE:SOURCE_ID`)."""
    group_id: int
    firms: int

    def describe(self) -> str:
        return f"staff: {STAFF_EMAIL}; {self.firms} firms interested in {self.tender}, partner group {self.group_id}"


def _tender(engine: Engine, *, now: datetime) -> tuple[int, list[int]]:
    """The notice most sample firms matched, open as of the demo's date (any if none is), and the firms to flag
    it: those that matched it first, then the others of the sample cluster (a group needs two)."""
    with engine.connect() as connection:
        matched = sa.func.count(sa.distinct(match_table.c.member_id))
        query = (
            sa.select(match_table.c.notice_id)
            .join(notice_table, notice_table.c.id == match_table.c.notice_id)
            .group_by(match_table.c.notice_id)
            .order_by(matched.desc(), match_table.c.notice_id)
            .limit(1)
        )
        notice = (
            connection.execute(
                query.where(sa.or_(notice_table.c.deadline_utc.is_(None), notice_table.c.deadline_utc >= now))
            ).scalar()
            or connection.execute(query).scalar()
        )
        if notice is None:
            raise ValueError("the demo matched no tender: no interest to show staff")
        matched_members = (
            connection.execute(
                sa.select(match_table.c.member_id)
                .where(match_table.c.notice_id == notice)
                .order_by(match_table.c.score.desc(), match_table.c.member_id)
            )
            .scalars()
            .all()
        )
        others = (
            connection.execute(sa.select(member_table.c.id).where(member_table.c.active).order_by(member_table.c.id))
            .scalars()
            .all()
        )
        members = [*matched_members, *others]
    return int(notice), list(dict.fromkeys(members))


def seed_staff_demo(engine: Engine, *, now: datetime) -> StaffDemo:
    """A staff user; the firms that matched one tender flag it (the first leads and seeks partners, the second
    takes the first lot as a partner, a third the whole tender as a subcontractor); a group of the first two."""
    from pib.web.auth import add_staff

    add_staff(engine, email=STAFF_EMAIL, language="fr")
    notice, members = _tender(engine, now=now)
    with engine.connect() as connection:
        tender = load_tender(connection, notice)
        existing = connection.execute(
            sa.select(group_table.c.id).where(group_table.c.tender_key.in_(tender.keys)).order_by(group_table.c.id)
        ).scalar()
    first_lot = [tender.lots[0].id] if len(tender.lots) > 1 else []
    plans: list[tuple[str, bool, list[str]]] = [("lead", True, []), ("partner", False, first_lot)]
    plans.append(("subcontractor", True, []))
    for member_id, (role, seeks, lots) in zip(members, plans, strict=False):
        record_interest(engine, member_id=member_id, tender=notice, role=role, lots=lots, seeks_partners=seeks)
    group_id = existing
    if group_id is None:
        group_id = create_group(engine, tender=notice, name=f"Groupement {tender.source_id}"[:200]).id
        for member_id, (role, _seeks, lots) in zip(members[:2], plans, strict=False):
            add_firm(engine, group_id=group_id, member_id=member_id, role=role, lots=lots)
        add_note(engine, group_id=group_id, text="Réunion de lancement avec les entreprises intéressées (démo).")
    return StaffDemo(tender=tender.reference, group_id=group_id, firms=min(len(members), len(plans)))


def staff_sign_in_lines(engine: Engine, *, public_url: str) -> list[str]:
    """What `pib demo --serve` prints for staff: a sign-in link, and where the demo's interest and group are
    (the closed tenders' tab of the board when the demo's tender closed before today)."""
    from pib.web.auth import LINK_LIFETIME, add_staff, request_link

    add_staff(engine, email=STAFF_EMAIL, language="fr")
    link = request_link(engine, email=STAFF_EMAIL, client="pib demo")
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    lines = [f"Sign in as staff ({STAFF_EMAIL}), within {minutes} minutes, once: {public_url}/login/{link.token}"]
    with engine.connect() as connection:
        group = connection.execute(
            sa.select(group_table.c.id, notice_table.c.deadline_utc)
            .join(notice_table, notice_table.c.id == group_table.c.notice_id)
            .order_by(group_table.c.id)
            .limit(1)
        ).first()
    if group is not None:
        due = group.deadline_utc
        closed = due is not None and (due if due.tzinfo else due.replace(tzinfo=UTC)) < utcnow()
        board = "/staff/interests?show=closed" if closed else "/staff/interests"
        lines.append(
            f"  then the interest board {public_url}{board} and a partner group {public_url}/staff/groups/{group.id}"
        )
    return lines

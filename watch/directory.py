"""The members as the staff console lists them: found by a piece of the name, case and accents aside."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .models import Member, Profile, User, name_key

member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MemberRow:
    id: int
    name: str
    active: bool
    users: int
    profiles: int
    disabled_addresses: int
    """Addresses refused for good by the mail server (`pib users --disabled`): staff may re-enable them."""


def _like(text: str) -> str:
    r"""A LIKE pattern that finds `text` anywhere, its wildcards taken literally.

    >>> _like("50%_off")
    '%50\\%\\_off%'
    """
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_members(engine: Engine, *, query: str = "", limit: int = 500) -> tuple[list[MemberRow], int]:
    """The members whose folded name holds the folded query (all without one), by name; and how many match."""
    key = name_key(query)
    users = (
        sa.select(
            user_table.c.member_id,
            sa.func.count().filter(user_table.c.active).label("users"),
            sa.func.count().filter(user_table.c.email_disabled_reason.is_not(None)).label("disabled"),
        )
        .group_by(user_table.c.member_id)
        .subquery()
    )
    profiles = (
        sa.select(profile_table.c.member_id, sa.func.count().label("profiles"))
        .where(profile_table.c.active)
        .group_by(profile_table.c.member_id)
        .subquery()
    )
    where = member_table.c.name_key.like(_like(key), escape="\\") if key else sa.true()
    select = (
        sa.select(
            member_table.c.id,
            member_table.c.name,
            member_table.c.active,
            sa.func.coalesce(users.c.users, 0),
            sa.func.coalesce(profiles.c.profiles, 0),
            sa.func.coalesce(users.c.disabled, 0),
        )
        .outerjoin(users, users.c.member_id == member_table.c.id)
        .outerjoin(profiles, profiles.c.member_id == member_table.c.id)
        .where(where)
    )
    with engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(member_table).where(where)).scalar_one()
        rows = connection.execute(select.order_by(member_table.c.name_key).limit(limit)).all()
    return [MemberRow(*row) for row in rows], total

"""Who is signed in: emailed sign-in links, server-side sessions, personal API tokens, staff users (design §7).

Every secret handed out (link, session cookie, API token) is 32 random bytes; the database keeps only its
SHA-256, so reading the database signs nobody in. A sign-in link works once (its row is spent by the same
UPDATE that checks it, so two submits at once sign in one browser), for `LINK_LIFETIME`, for the person it
was sent to. Signing out everywhere deletes the person's sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.store.models import utcnow
from watch.models import Member, User

from .models import ApiToken, LoginLink, LoginRequest, StaffUser, WebSession

LINK_LIFETIME = timedelta(minutes=20)
SESSION_LIFETIME = timedelta(days=30)
LINKS_PER_ADDRESS_PER_HOUR = 5
LINKS_PER_CLIENT_PER_HOUR = 30
TOKEN_PREFIX = "pib_"

user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
staff_table: sa.Table = StaffUser.__table__  # type: ignore[attr-defined]
request_table: sa.Table = LoginRequest.__table__  # type: ignore[attr-defined]
link_table: sa.Table = LoginLink.__table__  # type: ignore[attr-defined]
session_table: sa.Table = WebSession.__table__  # type: ignore[attr-defined]
token_table: sa.Table = ApiToken.__table__  # type: ignore[attr-defined]


class AuthError(Exception):
    """A command-line request that cannot be done (unknown address, already staff...)."""


@dataclass(frozen=True)
class Principal:
    """A signed-in person: a member firm's user (`member_id` set) or a staff user of the cluster."""

    kind: Literal["member", "staff"]
    id: int
    email: str
    language: str
    member_id: int | None = None
    member_name: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def columns(self) -> dict[str, int | None]:
        """The `user_id`/`staff_id` pair naming this person in the token tables."""
        return {"user_id": self.id if self.kind == "member" else None, "staff_id": self.id if self.is_staff else None}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def normalize_email(address: str) -> str:
    """
    >>> normalize_email("  Info@École.example ")
    'info@école.example'
    """
    return address.strip().lower()


def _member_principal() -> sa.Select[Any]:
    return sa.select(
        user_table.c.id, user_table.c.email, user_table.c.language, member_table.c.id, member_table.c.name
    ).join(member_table, member_table.c.id == user_table.c.member_id)


def _principal(connection: Connection, *, user_id: int | None, staff_id: int | None) -> Principal | None:
    if staff_id is not None:
        staff = connection.execute(
            sa.select(staff_table.c.email, staff_table.c.language).where(staff_table.c.id == staff_id)
        ).first()
        return None if staff is None else Principal("staff", staff_id, staff.email, staff.language)
    row = connection.execute(
        _member_principal().where(user_table.c.id == user_id, user_table.c.active, member_table.c.active)
    ).first()
    return None if row is None else Principal("member", row[0], row[1], row[2], row[3], row[4])


def find_principal(connection: Connection, *, email: str) -> Principal | None:
    """The person of an address (case ignored): staff first, then an active user of an active member."""
    address = normalize_email(email)
    staff_id = connection.execute(
        sa.select(staff_table.c.id).where(sa.func.lower(staff_table.c.email) == address)
    ).scalar()
    if staff_id is not None:
        return _principal(connection, user_id=None, staff_id=staff_id)
    user_id = connection.execute(
        sa.select(user_table.c.id).where(sa.func.lower(user_table.c.email) == address)
    ).scalar()
    return None if user_id is None else _principal(connection, user_id=user_id, staff_id=None)


# Sign-in links ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRequest:
    """What `POST /login` decided: `limited` (too many this hour), else maybe a link for a known person."""

    limited: bool
    principal: Principal | None = None
    token: str | None = None


def request_link(engine: Engine, *, email: str, client: str, now: datetime | None = None) -> LinkRequest:
    """Count the request, then make a link if the address is known and neither limit is reached.

    The limits count requests, known address or not, so the answer never tells who is a user.
    """
    now = now or utcnow()
    address = normalize_email(email)[:320]
    hour_ago = now - timedelta(hours=1)
    with engine.begin() as connection:
        recent = sa.select(sa.func.count()).select_from(request_table).where(request_table.c.created_at > hour_ago)
        by_address = connection.execute(recent.where(request_table.c.email == address)).scalar_one()
        by_client = connection.execute(recent.where(request_table.c.client == client[:64])).scalar_one()
        if by_address >= LINKS_PER_ADDRESS_PER_HOUR or by_client >= LINKS_PER_CLIENT_PER_HOUR:
            return LinkRequest(limited=True)
        connection.execute(sa.insert(request_table).values(email=address, client=client[:64], created_at=now))
        _forget_old(connection, now=now)
        principal = find_principal(connection, email=address)
        if principal is None:
            return LinkRequest(limited=False)
        token = new_token()
        connection.execute(
            sa.insert(link_table).values(
                token_hash=digest(token), created_at=now, expires_at=now + LINK_LIFETIME, **principal.columns
            )
        )
    return LinkRequest(limited=False, principal=principal, token=token)


def _forget_old(connection: Connection, *, now: datetime) -> None:
    """Requests past the limits' hour, links and sessions a day past their end: nothing keeps them."""
    day_ago = now - timedelta(days=1)
    connection.execute(sa.delete(request_table).where(request_table.c.created_at < now - timedelta(hours=1)))
    connection.execute(sa.delete(link_table).where(link_table.c.expires_at < day_ago))
    connection.execute(sa.delete(session_table).where(session_table.c.expires_at < day_ago))


LinkState = Literal["valid", "used", "expired", "unknown"]


def link_state(engine: Engine, *, token: str, now: datetime | None = None) -> LinkState:
    """What opening a link shows (opening it changes nothing: mail scanners open links)."""
    now = now or utcnow()
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(link_table.c.used_at, link_table.c.expires_at).where(link_table.c.token_hash == digest(token))
        ).first()
    if row is None:
        return "unknown"
    if row.used_at is not None:
        return "used"
    return "expired" if row.expires_at <= now else "valid"


def use_link(engine: Engine, *, token: str, now: datetime | None = None) -> tuple[Principal, str] | LinkState:
    """Spend the link and open a session: (the person, the session token), or why not."""
    now = now or utcnow()
    with engine.begin() as connection:
        spent = connection.execute(
            sa.update(link_table)
            .where(link_table.c.token_hash == digest(token), link_table.c.used_at.is_(None))
            .where(link_table.c.expires_at > now)
            .values(used_at=now)
            .returning(link_table.c.user_id, link_table.c.staff_id)
        ).first()
        principal = spent and _principal(connection, user_id=spent.user_id, staff_id=spent.staff_id)
        if principal:
            return principal, _open_session(connection, principal=principal, now=now)
    return "unknown" if spent else link_state(engine, token=token, now=now)


# Sessions ---------------------------------------------------------------------------------------------------


def _open_session(connection: Connection, *, principal: Principal, now: datetime) -> str:
    token = new_token()
    connection.execute(
        sa.insert(session_table).values(
            token_hash=digest(token), created_at=now, expires_at=now + SESSION_LIFETIME, **principal.columns
        )
    )
    return token


def session_principal(engine: Engine, *, token: str, now: datetime | None = None) -> Principal | None:
    """The person of a session cookie, while the session lasts and the person may still sign in."""
    now = now or utcnow()
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(session_table.c.user_id, session_table.c.staff_id).where(
                session_table.c.token_hash == digest(token), session_table.c.expires_at > now
            )
        ).first()
        return None if row is None else _principal(connection, user_id=row.user_id, staff_id=row.staff_id)


def close_session(engine: Engine, *, token: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.delete(session_table).where(session_table.c.token_hash == digest(token)))


def close_all_sessions(engine: Engine, *, principal: Principal) -> int:
    """Sign a person out everywhere: every browser of theirs is signed out at its next request."""
    column = session_table.c.staff_id if principal.is_staff else session_table.c.user_id
    with engine.begin() as connection:
        return connection.execute(sa.delete(session_table).where(column == principal.id)).rowcount


def set_language(engine: Engine, *, principal: Principal, language: str) -> None:
    """The account's language: the portal's and the emails'."""
    table = staff_table if principal.is_staff else user_table
    with engine.begin() as connection:
        connection.execute(sa.update(table).where(table.c.id == principal.id).values(language=language))


# API tokens and staff ---------------------------------------------------------------------------------------


def create_api_token(engine: Engine, *, email: str, name: str = "", now: datetime | None = None) -> str:
    """A personal API token for the person of an address; only its hash is kept, so it is shown once."""
    with engine.begin() as connection:
        principal = find_principal(connection, email=email)
        if principal is None:
            raise AuthError(f"no active user or staff with the address {email.strip()!r}")
        token = TOKEN_PREFIX + new_token()
        connection.execute(
            sa.insert(token_table).values(
                token_hash=digest(token), name=name[:100], created_at=now or utcnow(), **principal.columns
            )
        )
    return token


def token_principal(engine: Engine, *, token: str, now: datetime | None = None) -> Principal | None:
    """The person of a bearer token, unless it was revoked; records when it was last used."""
    with engine.begin() as connection:
        row = connection.execute(
            sa.update(token_table)
            .where(token_table.c.token_hash == digest(token), token_table.c.revoked_at.is_(None))
            .values(last_used_at=now or utcnow())
            .returning(token_table.c.user_id, token_table.c.staff_id)
        ).first()
        return None if row is None else _principal(connection, user_id=row.user_id, staff_id=row.staff_id)


def add_staff(engine: Engine, *, email: str, language: str = "fr", now: datetime | None = None) -> int:
    """A staff user of the cluster; an address of a member's user cannot also be staff (one person, one role)."""
    address = email.strip()
    if "@" not in address or len(address) > 320 or any(char.isspace() for char in address):
        raise AuthError(f"not an email address: {address!r}")
    with engine.begin() as connection:
        if connection.execute(
            sa.select(user_table.c.id).where(sa.func.lower(user_table.c.email) == address.lower())
        ).first():
            raise AuthError(f"{address} is the address of a member firm's user; staff need an address of their own")
        existing = connection.execute(
            sa.select(staff_table.c.id).where(sa.func.lower(staff_table.c.email) == address.lower())
        ).scalar()
        if existing is not None:
            connection.execute(sa.update(staff_table).where(staff_table.c.id == existing).values(language=language))
            return int(existing)
        return int(
            connection.execute(
                sa.insert(staff_table)
                .values(email=address, language=language, created_at=now or utcnow())
                .returning(staff_table.c.id)
            ).scalar_one()
        )

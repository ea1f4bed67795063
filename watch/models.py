"""Tables of the watch: member firms, their users, watch profiles, matches and feedback.

Members and users are shared by the later stages (notifications email the users, the consortium
records the members' interests), which read these tables but never write their columns.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from crawlers.store.models import JSONColumn, utcnow

_SEPARATORS = re.compile(r"[\W_]+")


def name_key(name: str) -> str:
    """A member name as names are compared: case, accents, punctuation and spacing aside, so `École Numérique SA`
    is found as `ecole numerique sa` and `Électro-Wallonie` is `Électro Wallonie`. Computed in Python and stored
    (`member.name_key`, unique): SQLite's lower() folds ASCII letters only.

    >>> name_key("  École-Numérique   S.A. ")
    'ecole numerique s a'
    >>> name_key("STRAẞE & Œuvres")
    'strasse œuvres'
    """
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    letters = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(part for part in _SEPARATORS.split(letters) if part)


def _name_key_default(context: DefaultExecutionContext) -> str:
    return name_key(context.get_current_parameters()["name"])


class Member(SQLModel, table=True):
    """A member firm of the cluster."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    name_key: str | None = Field(
        default=None, nullable=False, unique=True, index=True, sa_column_kwargs={"default": _name_key_default}
    )
    """`name_key(name)`, how a member is found by name; set on insert from `name`, and on rename."""
    identifier: str | None = Field(default=None, max_length=40, index=True)
    """The firm's enterprise, SIREN/SIRET or VAT number, normalized (crawlers/identifiers.py; members file §5)."""
    active: bool = True
    competences: dict[str, Any] = Field(default_factory=dict, sa_type=JSONColumn)
    """What the firm does (members file §5 `competences`): cpv, keywords, regions, and more."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


@sa.event.listens_for(Member, "before_update")
def _rekey(_mapper: Mapper[Member], _connection: Connection, member: Member) -> None:
    member.name_key = name_key(member.name)


class User(SQLModel, table=True):
    """A person of a member firm who receives the alerts."""

    __tablename__ = "member_user"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320, sa_column_kwargs={"unique": True})
    language: str = Field(default="fr", max_length=2)
    active: bool = True
    email_disabled_reason: str | None = None
    """Set when the address was refused for good (bounce); staff see why."""
    unsubscribed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Profile(SQLModel, table=True):
    """A watch profile of a member (docs/members-file.md and docs/matching.md)."""

    __tablename__ = "watch_profile"
    __table_args__ = (sa.UniqueConstraint("member_id", "name", name="uq_profile_member_name"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    cpv: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    keywords: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    exclude: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    regions: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    value_min: float | None = None
    value_max: float | None = None
    notice_types: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    procedure_types: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    frequency: str = Field(default="daily", max_length=10)
    """instant | daily | weekly"""
    active: bool = True
    """False once a members import no longer lists it: it matches nothing new, its matches are kept."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Match(SQLModel, table=True):
    """A notice routed to a member, through one of its profiles, with the score and the reasons."""

    __tablename__ = "watch_match"
    __table_args__ = (sa.UniqueConstraint("member_id", "notice_id", name="uq_match_member_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    profile_id: int = Field(foreign_key="watch_profile.id", index=True, ondelete="CASCADE")
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    score: float
    """The rank among the member's matches: `base_score` adjusted by the member's feedback."""
    base_score: float | None = None
    """The score from the profile alone (watch/matching.py), before feedback; null on rows older than it."""
    reasons: list[dict[str, Any] | str] = Field(default_factory=list, sa_type=JSONColumn)
    """Why it matched, structured (watch/reasons.py: kind and parameters), written out in each reader's language;
    a string is an English reason of before 0013 that the migration could not read."""
    lot_ids: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    """The lots that matched; empty when the notice matched as a whole."""
    created_at: datetime = Field(default_factory=utcnow, index=True)
    notified_at: datetime | None = Field(default=None, index=True)
    """When a digest carried it; null while it waits for the next digest of its profile's frequency."""


class Feedback(SQLModel, table=True):
    """A member's verdict on a notice it received: `not-relevant` or `interesting`."""

    __tablename__ = "watch_feedback"
    __table_args__ = (sa.UniqueConstraint("member_id", "notice_id", name="uq_feedback_member_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    verdict: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class RoutedNotice(SQLModel, table=True):
    """A notice the routing has seen (watch/routing.py): it is never routed again, whatever it matched."""

    __tablename__ = "watch_routed"

    notice_id: int = Field(foreign_key="notice.id", primary_key=True, ondelete="CASCADE")
    routed_at: datetime = Field(default_factory=utcnow, index=True)
    error: str | None = None
    """Why the notice could not be matched, when it could not (it is not retried)."""

"""Tables of the portal: staff users, sign-in links, sessions and personal API tokens.

A signed-in person is a member firm's user (`member_user`, of the watch) or a cluster staff user
(`staff_user`, here): every row below names exactly one of the two. Tokens (links, sessions, API) are
stored as SHA-256 hashes, so a copy of the database signs nobody in.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crawlers.store.models import utcnow

ONE_PRINCIPAL = "(user_id IS NULL) <> (staff_id IS NULL)"
"""A row acts for a member user or for a staff user, never both, never none."""


class StaffUser(SQLModel, table=True):
    """A person of the cluster's staff (design §7): sees identities, belongs to no firm."""

    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, sa_column_kwargs={"unique": True})
    language: str = Field(default="fr", max_length=2)
    created_at: datetime = Field(default_factory=utcnow)


class LoginRequest(SQLModel, table=True):
    """Every `POST /login`, known address or not: the hourly limits per address and per client count these."""

    __tablename__ = "web_login_request"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    client: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LoginLink(SQLModel, table=True):
    """An emailed sign-in link: works once (`used_at`), until `expires_at`, for one user."""

    __tablename__ = "web_login_link"
    __table_args__ = (sa.CheckConstraint(ONE_PRINCIPAL, name="ck_web_login_link_principal"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int | None = Field(default=None, foreign_key="member_user.id", index=True, ondelete="CASCADE")
    staff_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A signed-in browser; deleting the rows of a person signs them out everywhere."""

    __tablename__ = "web_session"
    __table_args__ = (sa.CheckConstraint(ONE_PRINCIPAL, name="ck_web_session_principal"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int | None = Field(default=None, foreign_key="member_user.id", index=True, ondelete="CASCADE")
    staff_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class ApiToken(SQLModel, table=True):
    """A personal token of the JSON API (`Authorization: Bearer`), shown once when created."""

    __tablename__ = "api_token"
    __table_args__ = (sa.CheckConstraint(ONE_PRINCIPAL, name="ck_api_token_principal"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    user_id: int | None = Field(default=None, foreign_key="member_user.id", index=True, ondelete="CASCADE")
    staff_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True, ondelete="CASCADE")
    name: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

"""The dependencies routers declare (`Annotated`, as in the FastAPI template), so that every route says who may
call it in its signature:

- `EngineDep`, `SessionDep` (a SQLModel session, closed after the request), `SettingsDep`, `LanguageDep`;
- `OptionalUser`: the signed-in person or None; `CurrentUser`: signed in, else a redirect to the sign-in page;
- `CurrentMember`: a member firm's user (`.member_id` is set; staff get 403); `StaffUser`: staff only (403);
- `ApiUser`: the person of `Authorization: Bearer TOKEN` (401 without a valid token), for `/api/v1`.

Checking that an object (a profile, an interest, a match) belongs to `CurrentMember.member_id` is the router's
job: answer 404, not 403, for another firm's object, so ids reveal nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings

from .auth import Principal, token_principal
from .pages import current_principal, request_language


class SignInRequired(Exception):
    """Raised by `CurrentUser` without a session; the app answers with a redirect to `/login?next=...`."""


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


def optional_user(request: Request) -> Principal | None:
    return current_principal(request)


def current_user(request: Request) -> Principal:
    principal = current_principal(request)
    if principal is None:
        raise SignInRequired
    return principal


def current_member(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    if user.member_id is None:
        raise HTTPException(status_code=403, detail="members only")
    return user


def staff_user(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    if not user.is_staff:
        raise HTTPException(status_code=403, detail="staff only")
    return user


def api_user(request: Request) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    principal = token_principal(request.app.state.engine, token=token.strip()) if scheme.lower() == "bearer" else None
    if principal is None:
        raise HTTPException(
            status_code=401, detail="a valid personal API token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
LanguageDep = Annotated[str, Depends(request_language)]
OptionalUser = Annotated[Principal | None, Depends(optional_user)]
CurrentUser = Annotated[Principal, Depends(current_user)]
CurrentMember = Annotated[Principal, Depends(current_member)]
StaffUser = Annotated[Principal, Depends(staff_user)]
ApiUser = Annotated[Principal, Depends(api_user)]

"""`/account`: the signed-in person's own settings (issue 10, point 6): language, the emails (how often, stop and
start again), signing out everywhere, personal API tokens (design §7) and the private calendar address.

Stopping the emails sets `member_user.unsubscribed_at`, the same state the emails' one-click unsubscribe link
sets (`pib/links.py`); starting again clears it. How often is the frequency of the firm's watch profiles (each
profile can differ: My profiles). A new API token or calendar address is shown once, on the answer to the form
that made it: only its hash is kept. Every action is a POST with `action` and the CSRF token; a token of
someone else answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from crawlers.store.models import utcnow
from watch.models import Profile

from ..auth import Principal, create_api_token, token_table, user_table
from ..calendar import create_feed, feed_path, feed_state, revoke_feed
from ..deps import CurrentUser, EngineDep, SettingsDep
from ..pages import N_, render

router = APIRouter(include_in_schema=False)
profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]

FREQUENCIES = {"instant": N_("As soon as found"), "daily": N_("Once a day"), "weekly": N_("Once a week")}
MAX_TOKEN_NAME = 100
DONE = {
    "unsubscribed": N_("Done: PIB no longer emails you. You can start again at any time, here."),
    "subscribed": N_("Done: PIB emails you again."),
    "frequency": N_("Saved: how often your firm's alerts come."),
    "revoked": N_("The token is revoked: it no longer opens the API."),
    "calendar-revoked": N_("The calendar address is revoked: calendars subscribed to it get nothing more."),
}
"""The confirmations shown after an action (`?done=...`), by key, so that no text travels in the URL."""


@dataclass(frozen=True)
class TokenLine:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _owner(principal: Principal) -> sa.ColumnElement[bool]:
    column = token_table.c.staff_id if principal.is_staff else token_table.c.user_id
    return column == principal.id


def tokens_of(engine: Engine, *, principal: Principal) -> list[TokenLine]:
    """The person's API tokens still valid, newest first (names and dates: the tokens themselves are not kept)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(token_table.c.id, token_table.c.name, token_table.c.created_at, token_table.c.last_used_at)
            .where(_owner(principal), token_table.c.revoked_at.is_(None))
            .order_by(token_table.c.created_at.desc(), token_table.c.id.desc())
        )
        return [TokenLine(*row) for row in rows]


def revoke_token(engine: Engine, *, principal: Principal, token_id: int) -> bool:
    """Revoke one of the person's own tokens; False when it has no such token (another's, or already revoked)."""
    with engine.begin() as connection:
        done = connection.execute(
            token_table.update()
            .where(token_table.c.id == token_id, _owner(principal), token_table.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(done.rowcount)


@dataclass(frozen=True)
class EmailState:
    unsubscribed_at: datetime | None
    disabled_reason: str | None
    frequencies: list[str]
    """The distinct frequencies of the firm's active profiles."""


def email_state(engine: Engine, *, principal: Principal) -> EmailState | None:
    if principal.member_id is None:
        return None
    with engine.connect() as connection:
        user = connection.execute(
            sa.select(user_table.c.unsubscribed_at, user_table.c.email_disabled_reason).where(
                user_table.c.id == principal.id
            )
        ).one()
        frequencies = connection.execute(
            sa.select(profile_table.c.frequency)
            .where(profile_table.c.member_id == principal.member_id, profile_table.c.active)
            .distinct()
        ).scalars()
        return EmailState(user.unsubscribed_at, user.email_disabled_reason, sorted(frequencies))


def set_subscribed(engine: Engine, *, user_id: int, subscribed: bool) -> None:
    """Start or stop the emails of a user: the state the emails' one-click unsubscribe sets."""
    with engine.begin() as connection:
        connection.execute(
            user_table.update()
            .where(user_table.c.id == user_id)
            .values(unsubscribed_at=None if subscribed else sa.func.coalesce(user_table.c.unsubscribed_at, utcnow()))
        )


def set_frequency(engine: Engine, *, member_id: int, frequency: str) -> int:
    """The frequency of every active profile of the firm; how many profiles it set."""
    with engine.begin() as connection:
        return connection.execute(
            profile_table.update()
            .where(profile_table.c.member_id == member_id, profile_table.c.active)
            .values(frequency=frequency, updated_at=utcnow())
        ).rowcount


def _page(request: Request, engine: Engine, user: Principal, status_code: int = 200, **extra: Any) -> HTMLResponse:
    context = {
        "done": DONE.get(request.query_params.get("done") or ""),
        "emails": email_state(engine, principal=user),
        "frequencies": FREQUENCIES,
        "tokens": tokens_of(engine, principal=user),
        "calendar": feed_state(engine, user_id=user.id) if user.member_id else None,
        "new_token": None,
        "new_feed": None,
        "token_name": "",
        "token_error": None,
        **extra,
    }
    return render(request, "account/page.html", context, status_code=status_code)


@router.get("/account")
def account(request: Request, engine: EngineDep, user: CurrentUser) -> HTMLResponse:
    return _page(request, engine, user)


def _done(key: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/account?done={key}#{anchor}", status_code=303)


@router.post("/account")
def account_action(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    user: CurrentUser,
    action: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    token_id: Annotated[int | None, Form()] = None,
    frequency: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    member_only = {"unsubscribe", "subscribe", "frequency", "calendar-create", "calendar-revoke"}
    if action in member_only and user.member_id is None:
        raise HTTPException(status_code=404)
    if action in ("unsubscribe", "subscribe"):
        set_subscribed(engine, user_id=user.id, subscribed=action == "subscribe")
        return _done(f"{action}d", "emails")
    if action == "frequency":
        if frequency not in FREQUENCIES:
            raise HTTPException(status_code=422, detail=f"frequency: one of {', '.join(FREQUENCIES)}")
        assert user.member_id is not None
        set_frequency(engine, member_id=user.member_id, frequency=frequency)
        return _done("frequency", "emails")
    if action == "token-create":
        label = " ".join(name.split())
        if not label or len(label) > MAX_TOKEN_NAME:
            error = N_("Give the token a name of at most 100 characters, such as the tool that will use it.")
            return _page(request, engine, user, 422, token_name=name[:MAX_TOKEN_NAME], token_error=error)
        token = create_api_token(engine, email=user.email, name=label)
        return _page(request, engine, user, 201, new_token=token)
    if action == "token-revoke":
        if token_id is None or not revoke_token(engine, principal=user, token_id=token_id):
            raise HTTPException(status_code=404)
        return _done("revoked", "tokens")
    if action == "calendar-create":
        feed = create_feed(engine, user_id=user.id)
        url = str(settings.public_url).rstrip("/") + feed_path(feed)
        return _page(request, engine, user, 201, new_feed=url)
    if action == "calendar-revoke":
        revoke_feed(engine, user_id=user.id)
        return _done("calendar-revoked", "calendar")
    raise HTTPException(status_code=400, detail="unknown action")

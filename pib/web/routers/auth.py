"""Signing in by emailed link, signing out (here or everywhere) and the language switch (design §7).

`POST /login` answers the same page whether the address is known or not and, for a known one, emails a link
`/login/<token>`. Opening the link shows one form; only submitting it signs in, so a mail scanner that opens
links signs nobody in. With the outbox backend (the default, for trying PIB locally) the link is also logged.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from notifications.senders import Email, SendError, sender_from_settings

from .. import i18n
from ..auth import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    Principal,
    close_all_sessions,
    close_session,
    link_state,
    request_link,
    set_language,
    use_link,
)
from ..auth import digest as token_digest
from ..deps import CurrentUser, EngineDep, OptionalUser, SettingsDep
from ..pages import LANGUAGE_COOKIE, SESSION_COOKIE, render, render_text, request_language, secure_cookies

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

MAX_EMAIL = 320


def local_path(value: str | None) -> str:
    """Where to go after a form: a path of this site only (never `//elsewhere` or a full URL).

    >>> local_path("/tenders?q=cloud"), local_path("//evil.example/"), local_path("https://evil.example")
    ('/tenders?q=cloud', '/', '/')
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 2000:
        return "/"
    return value


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user:
        return _see(local_path(next))
    return render(request, "login.html", {"next": local_path(next), "email": "", "error": None})


def _send_link(settings: SettingsDep, principal: Principal, token: str, next_path: str) -> None:
    url = f"{str(settings.public_url).rstrip('/')}/login/{token}"
    if next_path != "/":
        url += f"?next={quote(next_path, safe='/')}"
    context = {"url": url, "email": principal.email, "minutes": int(LINK_LIFETIME.total_seconds() // 60)}
    language = i18n.known(principal.language) or i18n.DEFAULT_LANGUAGE
    email = Email(
        key=f"login-{token_digest(token)[:24]}",
        to=principal.email,
        sender=settings.mail_from,
        subject=i18n.translate(language, "Your PIB sign-in link"),
        text=render_text("email/login.txt", context, language=language),
        html=render_text("email/login.html", context, language=language),
        category="login",
        language=language,
    )
    sender = sender_from_settings(settings)
    try:
        sender.send(email)
    except SendError as error:
        log.error("sign-in link for %s not sent: %s", principal.email, error)
        return
    finally:
        sender.close()
    if settings.email_backend == "outbox":
        log.info("sign-in link for %s (outbox backend, emailed to %s): %s", principal.email, settings.outbox_dir, url)


@router.post("/login")
def login_request(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=MAX_EMAIL)] = "",
    next: Annotated[str, Form()] = "/",
) -> HTMLResponse:
    """Same answer for a known and an unknown address; the hourly limits count both alike."""
    address = email.strip()
    if "@" not in address or any(char.isspace() for char in address):
        error = i18n.translate(request_language(request), "Please enter an email address, like name@firm.be.")
        return render(
            request, "login.html", {"next": local_path(next), "email": address, "error": error}, status_code=422
        )
    client = request.client.host if request.client else "unknown"
    outcome = request_link(engine, email=address, client=client)
    if outcome.limited:
        return render(request, "login_sent.html", {"limited": True, "email": address}, status_code=429)
    if outcome.principal and outcome.token:
        _send_link(settings, outcome.principal, outcome.token, local_path(next))
    return render(request, "login_sent.html", {"limited": False, "email": address})


@router.get("/login/{token}")
def login_link(request: Request, token: str, engine: EngineDep, next: str | None = None) -> HTMLResponse:
    """Opening the link only shows the form: it signs nobody in."""
    state = link_state(engine, token=token)
    status = {"valid": 200, "used": 410, "expired": 410, "unknown": 404}[state]
    return render(request, "login_link.html", {"state": state, "next": local_path(next)}, status_code=status)


@router.post("/login/{token}")
def login_confirm(request: Request, token: str, engine: EngineDep, next: Annotated[str, Form()] = "/") -> Response:
    outcome = use_link(engine, token=token)
    if isinstance(outcome, str):
        status = 404 if outcome == "unknown" else 410
        return render(request, "login_link.html", {"state": outcome, "next": "/"}, status_code=status)
    _principal, session = outcome
    response = _see(local_path(next))
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    return response


def _signed_out(request: Request) -> RedirectResponse:
    response = _see("/")
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=secure_cookies(request), path="/")
    return response


@router.post("/logout")
def logout(request: Request, engine: EngineDep) -> RedirectResponse:
    if token := request.cookies.get(SESSION_COOKIE):
        close_session(engine, token=token)
    return _signed_out(request)


@router.post("/logout/everywhere")
def logout_everywhere(request: Request, engine: EngineDep, user: CurrentUser) -> RedirectResponse:
    close_all_sessions(engine, principal=user)
    return _signed_out(request)


@router.post("/language")
def switch_language(
    request: Request,
    engine: EngineDep,
    user: OptionalUser,
    language: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> RedirectResponse:
    """The account's language when signed in; a cookie before (it also keeps the choice after sign-out)."""
    chosen = i18n.known(language)
    response = _see(local_path(next))
    if chosen is None:
        return response
    if user:
        set_language(engine, principal=user, language=chosen)
    response.set_cookie(
        LANGUAGE_COOKIE, chosen, max_age=365 * 86400, httponly=True, samesite="lax", secure=secure_cookies(request)
    )
    return response

"""Rendering the portal's pages: one Jinja2 environment per language (Babel catalogue installed, autoescape
on), and the context every page shares (the signed-in person, the language, the CSRF token, the nav).

Routers call `render(request, "tenders/list.html", {...})`. In templates: `{{ _("Text") }}` or
`{{ _("%(n)s tenders", n=count) }}` (values are escaped), `{{ day|date }}`, `{{ amount|money("EUR") }}`,
`{{ n|number }}`, and `{{ csrf_field() }}` inside every `<form method="post">`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from . import i18n
from .auth import Principal, session_principal
from .csrf import COOKIE as CSRF_COOKIE
from .csrf import FIELD as CSRF_FIELD
from .csrf import token_for

SESSION_COOKIE = "pib_session"
LANGUAGE_COOKIE = "pib_lang"


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


NAV = (
    ("/tenders", N_("Tenders"), False),
    ("/matches", N_("My matches"), False),
    ("/profiles", N_("My profiles"), False),
    ("/firm", N_("My firm"), False),
    ("/staff", N_("Staff"), True),
)
"""(path, label, staff only): the header's links; a member sees all but Staff, staff see Tenders and Staff."""


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("pib.web", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = lambda value, form="long": i18n.format_date(value, language, form)
    env.filters["number"] = lambda value: i18n.format_number(value, language)
    env.filters["money"] = lambda value, currency=None: i18n.format_money(value, currency, language)
    env.globals.update(languages=i18n.LANGUAGES, language_names=i18n.NAMES, language=language)
    return env


def current_principal(request: Request) -> Principal | None:
    """The person of the session cookie, looked up once per request."""
    if not hasattr(request.state, "principal"):
        token = request.cookies.get(SESSION_COOKIE)
        request.state.principal = session_principal(request.app.state.engine, token=token) if token else None
    principal: Principal | None = request.state.principal
    return principal


def request_language(request: Request) -> str:
    """The account's language; before sign-in the switch's cookie, then Accept-Language, then French."""
    principal = current_principal(request)
    return (
        i18n.known(principal.language if principal else None)
        or i18n.known(request.cookies.get(LANGUAGE_COOKIE))
        or i18n.from_accept_language(request.headers.get("accept-language"))
        or i18n.DEFAULT_LANGUAGE
    )


def secure_cookies(request: Request) -> bool:
    return str(request.app.state.settings.public_url).startswith("https://")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    language: str | None = None,
) -> HTMLResponse:
    """A page of the portal in the reader's language, with the CSRF cookie set if the browser had none."""
    language = language or request_language(request)
    principal = current_principal(request)
    csrf = token_for(request)
    page = {
        "request": request,
        "user": principal,
        "path": request.url.path,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "nav": [
            (path, label)
            for path, label, staff in NAV
            if principal and (staff == principal.is_staff or path == "/tenders")
        ],
        "csrf_token": csrf,
        "csrf_field": lambda: Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf),
        **(context or {}),
    }
    response = HTMLResponse(environment(language).get_template(template).render(page), status_code=status_code)
    new_cookie = getattr(request.state, "new_csrf_cookie", None)
    if new_cookie:
        response.set_cookie(
            CSRF_COOKIE, new_cookie, httponly=True, samesite="lax", secure=secure_cookies(request), path="/"
        )
    return response


def render_text(template: str, context: dict[str, Any], *, language: str) -> str:
    """A text template (an email body) in a language; not escaped, since it is not HTML."""
    return environment(language).get_template(template).render(context)

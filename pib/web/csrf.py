"""CSRF: every POST of the portal carries a token tied to a random cookie of the browser, checked before
the route runs (an app-wide dependency, so a new router cannot forget it).

The cookie (`pib_csrf`) is set on the first page with a form, before sign-in too (the sign-in forms are forms);
the token in the forms is its HMAC under the secret key, so another site can neither read nor forge it, and
SameSite=Lax keeps the cookie off cross-site POSTs anyway. Exempt: the one-click links `/l/` (mail clients
POST them, RFC 8058; the signed token in the URL is the proof) and the JSON API `/api/` (bearer tokens, no
cookies).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request

COOKIE = "pib_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
EXEMPT = ("/l/", "/api/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _sign(secret: str, cookie: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def token_for(request: Request) -> str:
    """The token of this browser's forms; makes the cookie if the browser has none (`set_cookie` sends it)."""
    cookie = request.cookies.get(COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not cookie:
        cookie = request.state.new_csrf_cookie = secrets.token_urlsafe(32)
    return _sign(request.app.state.settings.secret_key.get_secret_value(), cookie)


async def check_csrf(request: Request) -> None:
    """403 for a POST (or PUT, PATCH, DELETE) without this browser's token, in the form or the header."""
    if request.method in SAFE_METHODS or request.url.path.startswith(EXEMPT):
        return
    cookie = request.cookies.get(COOKIE)
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(FIELD)
        sent = value if isinstance(value, str) else None
    secret = request.app.state.settings.secret_key.get_secret_value()
    if not cookie or not sent or not hmac.compare_digest(sent, _sign(secret, cookie)):
        raise HTTPException(status_code=403, detail="csrf")

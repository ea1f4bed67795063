"""Security headers on every answer, built in one place, and the 414 of an over-long URL.

The Content-Security-Policy allows only PIB's own files: no inline script or style (templates have no
`style=` attribute and no `<script>` body), no third-party host, no framing; forms post only to PIB. Pages
are `no-store` (they show a firm's own data) and send no Referer (sign-in and one-click links carry tokens
in their path); static files may be cached.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]
MAX_URL = 8192
"""Longer request targets get 414 (no route of PIB needs more; the server reads up to 256 KB of head)."""
TOO_LONG = b"<!DOCTYPE html><html lang=en><title>414</title><p>URI too long. / URL trop longue. / URL te lang.</p>"
FAILED = (
    b"<!DOCTYPE html><html lang=en><title>500</title><p>Internal error: nothing was changed. / Erreur interne : "
    b"rien n'a \xc3\xa9t\xc3\xa9 modifi\xc3\xa9. / Interne fout: er is niets gewijzigd.</p>"
)


class SecurityHeaders:
    """ASGI middleware: refuses over-long URLs, then adds the headers to whatever the app answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b"")) > MAX_URL:
            await _answer(send, 414, TOO_LONG)
            return
        static = scope["path"].startswith("/static/")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [header for header in HEADERS if header[0] not in names]
                if not static and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"][:200])
            if not started:  # else the client sees a cut answer, which is all that can be done
                await _answer(send, 500, FAILED)


async def _answer(send: Send, status: int, page: bytes) -> None:
    """A whole page of our own, with the security headers (over-long URL, unhandled error)."""
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(page)).encode()),
        (b"cache-control", b"no-store"),
        *HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": page})

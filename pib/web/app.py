"""The application factory: settings and engine on `app.state`, the routers, static files, error pages,
the CSRF check on every unsafe request and the security headers on every answer."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import Settings, get_settings
from crawlers.store.db import get_engine

from .csp import SecurityHeaders
from .csrf import check_csrf
from .deps import SignInRequired
from .pages import render
from .routers import ROUTERS

log = logging.getLogger(__name__)
access_log = logging.getLogger("pib.web.access")
STATIC = Path(__file__).parent / "static"
_TOKEN_PATH = re.compile(r"^/(l|login|calendar)/[^/]+")


def loggable_path(path: str) -> str:
    """A path for the access log: tokens (one-click and sign-in links act for a user, a calendar address reads
    its deadlines) hidden, length capped.

    >>> loggable_path("/l/abc.def"), loggable_path("/login/xyz"), loggable_path("/calendar/k.ics")
    ('/l/…', '/login/…', '/calendar/…')
    """
    path = _TOKEN_PATH.sub(lambda match: f"/{match.group(1)}/…", path)
    return path if len(path) <= 200 else path[:200] + "…"


class AccessLog:
    """One line per request (method, path without tokens or query, status, milliseconds)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            access_log.info("%s %s %s %.0f ms", scope["method"], loggable_path(scope["path"]), status, elapsed)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if _is_api(request):
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
    return render(request, "error.html", {"status": error.status_code}, status_code=error.status_code)


async def _invalid(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    if _is_api(request):
        return JSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=422)
    return render(request, "error.html", {"status": 422}, status_code=422)


async def _sign_in(request: Request, _error: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def create_app(*, engine: Engine | None = None, settings: Settings | None = None) -> FastAPI:
    """The portal over a database (the settings' one by default; migrated by whoever made the engine)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="PIB",
        summary="Tender alerts, anonymous interest and partner search for the member firms of a cluster.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: no third-party host
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(check_csrf)],
    )
    app.state.settings = settings
    app.state.engine = engine or get_engine(settings.database_url)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_middleware(AccessLog)
    app.add_middleware(SecurityHeaders)  # outermost: every answer gets the headers, error pages too
    return app

"""The one-click links of the emails (`/l/<token>`, logic in `pib.links`) and the health check `/healthz`.

GET shows what the link will do, POST does it (mail clients POST `List-Unsubscribe=One-Click`, RFC 8058,
without a CSRF token: the signed token in the URL is the proof, so `/l/` is exempt from the CSRF check).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from pib.links import handle_link

from ..deps import EngineDep, SettingsDep

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

FAILED = '<!DOCTYPE html><html lang="en"><title>PIB</title><p>Internal error: nothing was changed.</p></html>'


@router.get("/healthz")
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok\n")


@router.api_route("/l/{token:path}", methods=["GET", "HEAD", "POST"])
def link(token: str, request: Request, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    """The page of a link; its body is whatever `handle_link` wrote, sent whole with its own length."""
    try:
        status, page = handle_link(engine, token, method=request.method, settings=settings)
    except Exception:
        log.exception("link handler failed: %s /l/…", request.method)
        status, page = 500, FAILED
    return HTMLResponse(page, status_code=status)

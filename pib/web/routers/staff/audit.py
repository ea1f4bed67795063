"""`/staff/audit`: what staff saw of identities and what they changed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...pages import render

router = APIRouter()


@router.get("/audit")
def audit(request: Request) -> HTMLResponse:
    return render(request, "staff/audit.html", {})

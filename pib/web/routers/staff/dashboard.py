"""`/staff`: the dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...pages import render

router = APIRouter()


@router.get("")
def dashboard(request: Request) -> HTMLResponse:
    return render(request, "staff/dashboard.html", {})

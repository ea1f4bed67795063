"""`/staff/activity`: charts of what the cluster does."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...pages import render

router = APIRouter()


@router.get("/activity")
def activity(request: Request) -> HTMLResponse:
    return render(request, "staff/activity.html", {})

"""`/`: what PIB is and the sign-in form; once signed in, the home page with the ways in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..deps import OptionalUser
from ..pages import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, user: OptionalUser) -> HTMLResponse:
    return render(request, "home.html" if user else "welcome.html", {"next": "/", "email": "", "error": None})

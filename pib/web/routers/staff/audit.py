"""`/staff/audit`: the audit trail (issue 11 point 6), newest first, filtered by staff user, by kind (views of
identities or changes) and by a word of what or which, 100 lines a page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ...audit import ACTIONS, list_audit
from ...deps import EngineDep, StaffUser
from ...pages import render

router = APIRouter()
PER_PAGE = 100


@router.get("/audit")
def audit(
    request: Request,
    _user: StaffUser,
    engine: EngineDep,
    staff: Annotated[str, Query(max_length=320)] = "",
    action: Annotated[str, Query(max_length=10)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    action = action if action in ACTIONS else ""
    trail = list_audit(
        engine,
        staff_email=staff or None,
        action=action or None,
        search=q.strip() or None,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    pages = max(1, -(-trail.total // PER_PAGE))
    return render(
        request,
        "staff/audit.html",
        {"trail": trail, "staff": staff, "action": action, "q": q, "page": page, "pages": pages},
    )

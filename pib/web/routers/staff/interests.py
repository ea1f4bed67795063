"""`/staff/interests`: the interest board, the tenders with interest soonest deadline first, with the firms by
name lot by lot and the lots nobody covers (`consortium.board`). It shows identities, so each view is audited."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from consortium.board import interest_board

from ...audit import record_audit
from ...deps import EngineDep, StaffUser
from ...pages import render
from ..tender import ROLE_NAMES, tender_path
from .groups import STATUS_NAMES

router = APIRouter()


@router.get("/interests")
def board(
    request: Request,
    user: StaffUser,
    engine: EngineDep,
    show: Literal["open", "closed"] = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    shown = interest_board(engine, show=show, page=page)
    references = ", ".join(item.tender.reference for item in shown.tenders)
    record_audit(
        engine, staff=user, action="view", what="interest board", subject=f"{show} p{shown.page}: {references}"
    )
    return render(
        request,
        "staff/interests/board.html",
        {"board": shown, "tender_path": tender_path, "role_names": ROLE_NAMES, "status_names": STATUS_NAMES},
    )

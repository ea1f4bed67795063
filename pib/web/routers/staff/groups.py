"""`/staff/groups`: partner groups, formed from a tender's interested firms and followed to the result.

A group's page shows its firms with their roles and lots, the coverage grid (lots × firms, the gaps marked),
the partner suggestions for the lots it does not cover with why, the invitations (reveal requests, so a firm
learns who asks only if it agrees: `consortium.invite`), and the history; `/summary` is the page to print for a
meeting. The consortium does the work (`consortium.groups`, `consortium.board`); every view and change is audited.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from config.settings import Settings
from consortium.board import BoardTender, tender_board
from consortium.errors import ConsortiumError
from consortium.groups import NEXT_STATUS
from consortium.invite import invite_firm
from consortium.services import (
    add_firm,
    add_note,
    create_group,
    group_view,
    list_groups,
    remove_firm,
    reveal_log,
    set_status,
)
from consortium.views import GroupView, StaffReveal
from notifications.senders import sender_from_settings

from ...audit import record_audit
from ...auth import Principal
from ...deps import EngineDep, SettingsDep, StaffUser
from ...pages import N_, render
from ..tender import ROLE_NAMES, tender_path

log = logging.getLogger(__name__)
router = APIRouter()

STATUS_NAMES = {"forming": N_("Forming"), "submitted": N_("Submitted"), "won": N_("Won"), "lost": N_("Lost")}
REVEAL_STATES = {
    "pending": N_("Waiting for an answer"),
    "accepted": N_("Accepted: names exchanged"),
    "refused": N_("Refused"),
    "cancelled": N_("Cancelled"),
}
DONE = {
    "created": N_("Group formed."),
    "added": N_("Firm added to the group."),
    "saved": N_("Role and lots saved."),
    "removed": N_("Firm removed from the group."),
    "status": N_("Status changed."),
    "note": N_("Note added."),
    "invited": N_("Reveal request sent by email: the firm learns who asks only if it agrees."),
}
MAX_NOTE = 2000


@dataclass(frozen=True)
class Cell:
    takes: bool
    covers: list[str]
    partly: list[str]


@dataclass(frozen=True)
class GridRow:
    lot_id: str
    title: str | None
    cells: list[Cell]
    covered: bool
    missing: list[str]
    """The lot's codes no firm of the group covers fully."""
    nobody: bool
    """No firm of the group takes the lot."""


def coverage_grid(view: GroupView) -> list[GridRow]:
    """The lots × firms grid of a group: what each firm takes and covers of each lot, and each lot's gap."""
    rows = []
    for lot in view.lots:
        cells = [
            Cell(
                takes=firm.name in lot.firms,
                covers=[r.cpv for r in lot.requirements if firm.name in r.covered_by],
                partly=[r.cpv for r in lot.requirements if firm.name in r.partly_by],
            )
            for firm in view.firms
        ]
        rows.append(
            GridRow(
                lot_id=lot.lot_id,
                title=lot.title,
                cells=cells,
                covered=lot.covered,
                missing=[r.cpv for r in lot.requirements if not r.covered_by],
                nobody=not lot.firms,
            )
        )
    return rows


_REASONS = (
    (re.compile(r"does CPV (\d{8})(?: \((?P<label>.*)\))?"), N_("does CPV %(code)s %(label)s")),
    (re.compile(r"does part of CPV (\d{8})(?: \((?P<label>.*)\))?"), N_("does part of CPV %(code)s %(label)s")),
    (re.compile(r"'(.*)' in lot (.*)"), N_("'%(words)s' in lot %(lot)s")),
    (re.compile(r"has '(.*)', which you lack"), N_("has '%(words)s', which the firm lacks")),
    (re.compile(r"interested in the whole tender"), N_("interested in the whole tender")),
    (re.compile(r"interested in lot (.*)"), N_("interested in lot %(lot)s")),
    (re.compile(r"seeks partners"), N_("seeks partners")),
    (re.compile(r"would lead"), N_("would lead")),
    (re.compile(r"would join as (.*)"), N_("would join as %(role)s")),
    (re.compile(r"works in (.*)"), N_("works in %(place)s")),
)


def reason_parts(reason: str) -> tuple[str, dict[str, str]]:
    """A suggestion's reason (written in English by `consortium.search`) as a message and its values, so the
    page shows it in the reader's language; an unknown form is shown as written.

    >>> reason_parts("does CPV 72212000 (Programming services)")
    ('does CPV %(code)s %(label)s', {'code': '72212000', 'label': '(Programming services)'})
    >>> reason_parts("works in BE32")
    ('works in %(place)s', {'place': 'BE32'})
    """
    for pattern, message in _REASONS:
        found = pattern.fullmatch(reason)
        if found is None:
            continue
        groups = found.groups()
        if message.startswith("does"):
            return message, {"code": groups[0], "label": f"({groups[1]})" if groups[1] else ""}
        names = re.findall(r"%\((\w+)\)s", message)
        return message, dict(zip(names, groups, strict=True))
    return "%(reason)s", {"reason": reason}


def _audit(engine: Engine, user: Principal, action: str, what: str, subject: str) -> None:
    record_audit(engine, staff=user, action="view" if action == "view" else "change", what=what, subject=subject)


def _names(view: GroupView) -> str:
    return ", ".join(f"{firm.name} (#{firm.member_id})" for firm in view.firms)


@router.get("/groups")
def groups(request: Request, user: StaffUser, engine: EngineDep) -> HTMLResponse:
    return render(request, "staff/groups/list.html", {"groups": list_groups(engine), "status_names": STATUS_NAMES})


@router.get("/groups/new")
def new_group(
    request: Request, user: StaffUser, engine: EngineDep, notice: Annotated[str, Query(max_length=400)]
) -> Response:
    try:
        board = tender_board(engine, tender=notice)
    except ConsortiumError:
        raise HTTPException(status_code=404) from None
    _audit(engine, user, "view", "group form", f"{board.tender.reference}: {_interested(board)}")
    return _new_page(request, board)


def _interested(board: BoardTender) -> str:
    return ", ".join(f"{firm.name} (#{firm.member_id})" for firm in board.firms)


def _new_page(request: Request, board: BoardTender, *, error: str | None = None, status_code: int = 200) -> Response:
    context = {"board": board, "role_names": ROLE_NAMES, "error": error, "tender_path": tender_path}
    return render(request, "staff/groups/new.html", context, status_code=status_code)


@router.post("/groups")
def form_group(
    request: Request,
    user: StaffUser,
    engine: EngineDep,
    notice: Annotated[str, Form(max_length=400)],
    name: Annotated[str, Form(max_length=200)] = "",
    member: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """A new group of the firms ticked, each in the role and lots it declared (a second lead joins as partner)."""
    try:
        board = tender_board(engine, tender=notice)
    except ConsortiumError:
        raise HTTPException(status_code=404) from None
    declared = {firm.member_id: firm for firm in board.firms}
    chosen = [declared[m] for m in dict.fromkeys(member or []) if m in declared]
    if not chosen:
        return _new_page(request, board, error=N_("Tick at least one interested firm."), status_code=422)
    view = create_group(engine, tender=notice, name=name.strip() or None)
    lead_taken = False
    for firm in chosen:
        role = "partner" if firm.role == "lead" and lead_taken else firm.role
        lead_taken = lead_taken or role == "lead"
        view = add_firm(engine, group_id=view.id, member_id=firm.member_id, role=role, lots=firm.lots)
    _audit(engine, user, "change", "group formed", f"group {view.id} for {board.tender.reference}: {_names(view)}")
    return RedirectResponse(f"/staff/groups/{view.id}?done=created", status_code=303)


def _view(engine: Engine, group_id: int) -> GroupView:
    try:
        return group_view(engine, group_id=group_id)
    except ConsortiumError:
        raise HTTPException(status_code=404) from None


def _group_page(
    request: Request,
    engine: Engine,
    view: GroupView,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    board = tender_board(engine, tender=view.tender.reference)
    in_group = {firm.member_id for firm in view.firms}
    invitations = [r for r in reveal_log(engine, tender=view.tender.reference) if _concerns(r, in_group)]
    context: dict[str, Any] = {
        "group": view,
        "board": board,
        "outside": [firm for firm in board.firms if firm.member_id not in in_group],
        "interested": {firm.member_id for firm in board.firms},
        "grid": coverage_grid(view),
        "invitations": invitations,
        "next_statuses": NEXT_STATUS[view.status],
        "role_names": ROLE_NAMES,
        "status_names": STATUS_NAMES,
        "reveal_states": REVEAL_STATES,
        "reason_parts": reason_parts,
        "tender_path": tender_path,
        "done": DONE.get(request.query_params.get("done", "")),
        "error": error,
    }
    return render(request, "staff/groups/page.html", context, status_code=status_code)


def _concerns(reveal: StaffReveal, in_group: set[int]) -> bool:
    return reveal.requester_id in in_group or reveal.target_id in in_group


@router.get("/groups/{group_id}")
def group_page(request: Request, group_id: int, user: StaffUser, engine: EngineDep) -> Response:
    view = _view(engine, group_id)
    _audit(engine, user, "view", "group", f"group {group_id} ({view.tender.reference}): {_names(view)}")
    return _group_page(request, engine, view)


@router.get("/groups/{group_id}/summary")
def group_summary(request: Request, group_id: int, user: StaffUser, engine: EngineDep) -> Response:
    view = _view(engine, group_id)
    _audit(engine, user, "view", "group summary", f"group {group_id} ({view.tender.reference}): {_names(view)}")
    context = {
        "group": view,
        "grid": coverage_grid(view),
        "role_names": ROLE_NAMES,
        "status_names": STATUS_NAMES,
    }
    return render(request, "staff/groups/summary.html", context)


@router.post("/groups/{group_id}")
def group_action(
    request: Request,
    group_id: int,
    user: StaffUser,
    engine: EngineDep,
    settings: SettingsDep,
    action: Annotated[str, Form(max_length=20)],
    member_id: Annotated[int | None, Form(ge=1, le=2**62)] = None,
    role: Annotated[str, Form(max_length=20)] = "partner",
    lot: Annotated[list[str] | None, Form()] = None,
    status: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE + 100)] = "",
    on_behalf_of: Annotated[int | None, Form(ge=1, le=2**62)] = None,
) -> Response:
    view = _view(engine, group_id)
    lots = [value for value in (lot or []) if value]
    try:
        if action in ("add", "set"):
            if member_id is None:
                raise ConsortiumError("choose a firm")
            view = add_firm(engine, group_id=group_id, member_id=member_id, role=role, lots=lots)
            firm = next(f for f in view.firms if f.member_id == member_id)
            scope = ", ".join(firm.lots) or "all lots"
            subject = f"group {group_id}: {firm.name} (#{member_id}) as {firm.role}, {scope}"
            _audit(engine, user, "change", "group firm", subject)
            return _done(group_id, "added" if action == "add" else "saved")
        if action == "remove":
            if member_id is None:
                raise ConsortiumError("choose a firm")
            name = next((f.name for f in view.firms if f.member_id == member_id), f"#{member_id}")
            remove_firm(engine, group_id=group_id, member_id=member_id)
            _audit(engine, user, "change", "group firm removed", f"group {group_id}: {name} (#{member_id})")
            return _done(group_id, "removed")
        if action == "status":
            view = set_status(engine, group_id=group_id, status=status, note=note.strip() or None)
            _audit(engine, user, "change", "group status", f"group {group_id}: → {view.status}")
            return _done(group_id, "status")
        if action == "note":
            add_note(engine, group_id=group_id, text=note)
            _audit(engine, user, "change", "group note", f"group {group_id}")
            return _done(group_id, "note")
        if action == "invite":
            if member_id is None:
                raise ConsortiumError("choose a firm")
            invited = invite_firm(engine, group_id=group_id, member_id=member_id, on_behalf_of=on_behalf_of)
            subject = f"group {group_id}: {invited.requester} asks {invited.target} ({invited.state})"
            _audit(engine, user, "change", "group invitation", subject)
            _send_reveal_emails(engine, settings)
            return _done(group_id, "invited")
    except ConsortiumError as error:
        return _group_page(request, engine, _view(engine, group_id), error=str(error), status_code=422)
    raise HTTPException(status_code=422, detail=f"unknown action {action[:20]!r}")


def _done(group_id: int, key: str) -> RedirectResponse:
    return RedirectResponse(f"/staff/groups/{group_id}?done={key}", status_code=303)


def _send_reveal_emails(engine: Engine, settings: Settings) -> None:
    """Send the reveal request now rather than at the next run of the reveal emails job, which still takes over
    (the outbox keys make the second run send nothing twice) if sending fails here."""
    from pib.jobs import send_reveal_emails

    sender = sender_from_settings(settings)
    try:
        send_reveal_emails(engine, sender=sender, settings=settings)
    except Exception:  # the request is recorded: the scheduled job sends it
        log.exception("reveal emails not sent now; the reveal emails job will send them")
    finally:
        sender.close()

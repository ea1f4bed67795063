"""A tender's page, `/tenders/{source}/{source_id}`: the procedure's publications, its history, its lots, the
member's verdict (follow / not relevant) and the anonymous interest of the firms (issue 10, points 2 and 3).

What the member may see of the other firms comes whole from `consortium.services.member_view`, the same call
that answers `GET /api/v1/interests/{source_id}` and `pib interests --as`: anonymity is decided there, once.
The page adds only public facts read from the store (publications, changes, values, places).

Following a tender is the `interesting` verdict of `watch.feedback`, the state the deadline reminders and
change alerts read (`notifications/reminders.py`) and the emails' "interested" link records: "Interesting,
follow it" sets it, "Not relevant" replaces it, "Stop following" clears it. A verdict is the member's for the
procedure, so setting one clears those it gave on the procedure's other publications.

Every action is a POST to the page's address with `action` (and the CSRF token); an action on an object that
is not the member's (a reveal request it did not receive, an interest it does not have) answers 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection, Engine

from consortium.errors import ConsortiumError
from consortium.services import answer_reveal, member_view, record_interest, request_reveal, withdraw_interest
from consortium.views import ROLES, MemberTenderView
from crawlers.codelists import cpv_label, nuts_label
from crawlers.store.models import utcnow
from crawlers.store.procedures import change_table, procedure_table
from crawlers.store.service import notice_table
from notifications.i18n import format_deadline
from notifications.reminders import describe_change
from notifications.render import web_url
from watch.awards import tender_award_history
from watch.deadlines import days_until
from watch.feedback import feedback_table, record_feedback, rescore

from ..deps import CurrentUser, EngineDep
from ..pages import N_, render, request_language

router = APIRouter(include_in_schema=False)

NOTICE_TYPES = {
    "contract-notice": N_("Contract notice"),
    "prior-information": N_("Prior information notice"),
    "award": N_("Award notice"),
    "change": N_("Change notice"),
    "other": N_("Other notice"),
}
STATUSES = {"open": N_("Open"), "cancelled": N_("Cancelled"), "awarded": N_("Awarded"), "merged": N_("Open")}
ROLE_NAMES = {"lead": N_("Lead"), "partner": N_("Partner"), "subcontractor": N_("Subcontractor")}
SOURCES = {"ted": "TED", "boamp": "BOAMP", "be": "e-Procurement (BE)", "decp": "DECP"}
DONE = {
    "followed": N_("Saved: you follow this tender."),
    "rejected": N_("Marked not relevant: similar tenders will rank lower in your alerts."),
    "cleared": N_("You no longer follow this tender."),
    "interest": N_("Your interest is recorded. The other members see it under your pseudonym only."),
    "withdrawn": N_("Your interest is withdrawn."),
    "asked": N_("Your request is sent. The firm is told your pseudonym and what you declared, not your name."),
    "accepted": N_("You accepted: you can now see each other's name and contacts."),
    "refused": N_("You refused. The firm that asked is not told."),
}
"""The confirmations a page shows after an action (`?done=...`), by key, so no text travels in the URL."""
MAX_FIELD = 2000
_SPLIT = re.compile(r"[,;\n]+")


def tender_path(source: str, source_id: str) -> str:
    """The address of a publication's page (a feed's `source_id` may be a URL: every character escaped).

    >>> tender_path("boamp", "26-0001"), tender_path("feed:ville", "https://x.example/a?b=1")
    ('/tenders/boamp/26-0001', '/tenders/feed%3Aville/https%3A%2F%2Fx.example%2Fa%3Fb%3D1')
    """
    return f"/tenders/{quote(source, safe='')}/{quote(source_id, safe='')}"


def source_name(source: str) -> str:
    """
    >>> source_name("ted"), source_name("feed:ville-de-namur")
    ('TED', 'ville-de-namur')
    """
    return SOURCES.get(source, source.removeprefix("feed:"))


@dataclass(frozen=True)
class Coded:
    code: str
    label: str | None


@dataclass(frozen=True)
class PublicationLine:
    id: int
    source: str
    source_id: str
    notice_type: str
    published: date
    url: str | None
    path: str
    here: bool
    """The publication this page was opened at."""


@dataclass(frozen=True)
class Event:
    """One step of the procedure's history: a publication, or a change a publication announced."""

    on: date
    kind: str
    """`published`, or a `procedure_change` kind: deadline-moved, lot-added, lot-removed, cancelled..."""
    text: str | None
    """The change in the reader's language (the change alerts' sentence); None for a publication."""
    source: str
    source_id: str
    notice_type: str
    url: str | None


@dataclass(frozen=True)
class LotLine:
    id: str
    title: str | None
    cpv: list[Coded]
    places: list[Coded]
    value: float | None
    interested: int


@dataclass(frozen=True)
class TenderPage:
    """The public facts of a tender as the page shows them, in the reader's language."""

    notice_id: int
    source: str
    source_id: str
    title: str
    description: str | None
    buyer: str
    buyer_town: str | None
    notice_type: str
    status: str
    deadline: str | None
    days_left: int | None
    """Brussels calendar days to the deadline; negative once it is past."""
    closed: bool
    value: float | None
    currency: str | None
    cpv: list[Coded]
    places: list[Coded]
    url: str | None
    documents_url: str | None
    publications: list[PublicationLine]
    timeline: list[Event]
    lots: list[LotLine] = field(default_factory=list)

    @property
    def publication_ids(self) -> tuple[int, ...]:
        return tuple(publication.id for publication in self.publications)


def _coded(codes: list[str], label: Any, language: str) -> list[Coded]:
    return [Coded(code, label(code, language)) for code in dict.fromkeys(c for c in codes if c)]


def _find(connection: Connection, source: str, source_id: str) -> Any:
    return connection.execute(
        sa.select(notice_table).where(notice_table.c.source == source, notice_table.c.source_id == source_id)
    ).first()


def load_page(engine: Engine, *, source: str, source_id: str, language: str, now: datetime) -> TenderPage | None:
    """The page of the publication `source`/`source_id` with its procedure's other publications and changes;
    None when there is no such publication."""
    with engine.connect() as connection:
        notice = _find(connection, source, source_id)
        if notice is None:
            return None
        procedure = None
        publications = [notice]
        changes: list[Any] = []
        if notice.procedure_id is not None:
            procedure = connection.execute(
                sa.select(procedure_table).where(procedure_table.c.id == notice.procedure_id)
            ).first()
            publications = list(
                connection.execute(
                    sa.select(notice_table)
                    .where(notice_table.c.procedure_id == notice.procedure_id)
                    .order_by(notice_table.c.published, notice_table.c.id)
                )
            )
            changes = list(
                connection.execute(
                    sa.select(change_table, notice_table.c.published, notice_table.c.source, notice_table.c.source_id)
                    .add_columns(notice_table.c.notice_type, notice_table.c.data)
                    .join(notice_table, notice_table.c.id == change_table.c.notice_id)
                    .where(change_table.c.procedure_id == notice.procedure_id)
                    .order_by(notice_table.c.published, change_table.c.id)
                )
            )
    data = notice.data
    deadline, deadline_utc = notice.deadline, notice.deadline_utc
    if procedure is not None and procedure.deadline_utc is not None:
        deadline, deadline_utc = procedure.deadline, procedure.deadline_utc
    if deadline_utc is not None and deadline_utc.tzinfo is None:
        deadline_utc = deadline_utc.replace(tzinfo=UTC)
    status = procedure.status if procedure is not None else "open"
    timeline = [
        Event(p.published, "published", None, p.source, p.source_id, p.notice_type, web_url(p.data.get("url")))
        for p in publications
    ] + [
        Event(
            c.published,
            c.kind,
            describe_change(c.kind, c.detail or {}, language),
            c.source,
            c.source_id,
            c.notice_type,
            web_url(c.data.get("url")),
        )
        for c in changes
    ]
    return TenderPage(
        notice_id=notice.id,
        source=notice.source,
        source_id=notice.source_id,
        title=data["title"],
        description=data.get("description"),
        buyer=data["buyer"]["name"],
        buyer_town=data["buyer"].get("town"),
        notice_type=notice.notice_type,
        status=status,
        deadline=format_deadline(deadline, deadline_utc, language),
        days_left=days_until(deadline_utc, now) if deadline_utc is not None else None,
        closed=status in ("cancelled", "awarded") or (deadline_utc is not None and deadline_utc <= now),
        value=data.get("estimated_value") or None,
        currency=data.get("currency"),
        cpv=_coded([data.get("cpv_main"), *data.get("cpv_additional", [])], cpv_label, language),
        places=_coded(data.get("nuts") or [], nuts_label, language),
        url=web_url(data.get("url")),
        documents_url=web_url(data.get("documents_url")),
        publications=[
            PublicationLine(
                p.id,
                p.source,
                p.source_id,
                p.notice_type,
                p.published,
                web_url(p.data.get("url")),
                tender_path(p.source, p.source_id),
                p.id == notice.id,
            )
            for p in publications
        ],
        timeline=sorted(timeline, key=lambda event: (event.on, event.kind != "published")),
    )


def with_lots(page: TenderPage, view: MemberTenderView | None, *, engine: Engine, language: str) -> TenderPage:
    """The lots as the consortium names them (interest is flagged on those: the lots of the tender's main
    publication), with the values of that publication; without a member's view, the page's publication's."""
    main = page.notice_id
    if view is not None:
        main = next((p.id for p in page.publications if f"{p.source}:{p.source_id}" == view.tender.reference), main)
    with engine.connect() as connection:
        data = connection.execute(sa.select(notice_table.c.data).where(notice_table.c.id == main)).scalar_one()
    written = {str(lot["id"]): lot for lot in data.get("lots") or []}
    if view is None:
        lots = [
            (lot_id, lot.get("title"), [lot.get("cpv_main"), *lot.get("cpv_additional", [])], lot.get("nuts") or [])
            for lot_id, lot in written.items()
        ]
    else:
        lots = [(lot.id, lot.title, list(lot.cpv), list(lot.nuts)) for lot in view.tender.lots]
    counts = {count.lot_id: count.interested for count in view.counts} if view is not None else {}
    lines = [
        LotLine(
            id=lot_id,
            title=title,
            cpv=_coded(codes, cpv_label, language),
            places=_coded(places, nuts_label, language),
            value=written.get(lot_id, {}).get("estimated_value") or None,
            interested=counts.get(lot_id, 0),
        )
        for lot_id, title, codes, places in lots
    ]
    return replace(page, lots=lines)


# Following: the `interesting` verdict -----------------------------------------------------------------------


def verdict_of(engine: Engine, *, member_id: int, notice_ids: tuple[int, ...]) -> str | None:
    """The member's latest verdict on any publication of the tender (`interesting` means followed)."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(feedback_table.c.verdict)
            .where(feedback_table.c.member_id == member_id, feedback_table.c.notice_id.in_(notice_ids))
            .order_by(feedback_table.c.created_at.desc(), feedback_table.c.id.desc())
            .limit(1)
        ).scalar()


def set_verdict(
    engine: Engine, *, member_id: int, notice_id: int, notice_ids: tuple[int, ...], verdict: str | None
) -> None:
    """Record the member's verdict on the publication (None clears it), after clearing those it gave on the
    procedure's other publications, so that one tender has one verdict and reminders follow it or not."""
    others = [other for other in notice_ids if other != notice_id or verdict is None]
    with engine.begin() as connection:
        connection.execute(
            feedback_table.delete().where(
                feedback_table.c.member_id == member_id, feedback_table.c.notice_id.in_(others)
            )
        )
        if verdict is None:
            rescore(connection, [member_id])
    if verdict is not None:
        record_feedback(engine, member_id=member_id, notice_id=notice_id, verdict=verdict)  # type: ignore[arg-type]


# The routes ------------------------------------------------------------------------------------------------


def _words(text: str | None) -> list[str]:
    """What a member typed in a brings/lacks field: CPV codes or keywords, separated by commas or lines.

    >>> _words(" 72212000, éclairage public ;\\n\\n maintenance ")
    ['72212000', 'éclairage public', 'maintenance']
    """
    return [part.strip() for part in _SPLIT.split(text or "") if part.strip()]


def _page(
    request: Request,
    engine: Engine,
    user: Any,
    source: str,
    source_id: str,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    language = request_language(request)
    page = load_page(engine, source=source, source_id=source_id, language=language, now=utcnow())
    if page is None:
        raise HTTPException(status_code=404)
    view = None
    verdict = None
    if user.member_id is not None:
        view = member_view(engine, tender=f"{source}:{source_id}", member_id=user.member_id)
        verdict = verdict_of(engine, member_id=user.member_id, notice_ids=page.publication_ids)
    page = with_lots(page, view, engine=engine, language=language)
    own = view.own if view is not None else None
    done = request.query_params.get("done")
    context = {
        "page": page,
        "view": view,
        "sent": {request.pseudonym: request.state for request in view.requests_sent} if view else {},
        "revealed": {firm.pseudonym for firm in view.revealed} if view else set(),
        "asking": {request.pseudonym for request in view.requests_received} if view else set(),
        "verdict": verdict,
        "done": DONE.get(done or ""),
        "notice_types": NOTICE_TYPES,
        "statuses": STATUSES,
        "roles": ROLES,
        "role_names": ROLE_NAMES,
        "source_name": source_name,
        "action": tender_path(source, source_id),
        "form": form
        or {
            "lots": list(own.lots) if own else [],
            "role": own.role if own else "partner",
            "brings": ", ".join([*own.brings_cpv, *own.brings_keywords]) if own else "",
            "lacks": ", ".join([*own.lacks_cpv, *own.lacks_keywords]) if own else "",
            "seeks_partners": own.seeks_partners if own else False,
            "note": (own.note or "") if own else "",
        },
        "error": error,
        "award_history": tender_award_history(engine, source=source, source_id=source_id),  # public: no interest read
        "tender_path": tender_path,
        "cpv_codes": staff_cpv_codes(engine, source, source_id, language) if user.is_staff else None,
    }
    return render(request, "tender/page.html", context, status_code=status_code)


def staff_cpv_codes(engine: Engine, source: str, source_id: str, language: str) -> Any:
    """The notice's real and inferred CPV codes (staff only: the classifier's view, watch/cpv/notice_codes.py)."""
    from watch.cpv.notice_codes import notice_codes  # loads the classifier: only where staff look

    return notice_codes(engine, source=source, source_id=source_id, language=language)


@router.get("/tenders/{source}/{source_id:path}")
def tender_page(request: Request, source: str, source_id: str, user: CurrentUser, engine: EngineDep) -> Response:
    return _page(request, engine, user, source, source_id)


def _done(source: str, source_id: str, key: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"{tender_path(source, source_id)}?done={key}#{anchor}", status_code=303)


@router.post("/tenders/{source}/{source_id:path}")
def tender_action(
    request: Request,
    source: str,
    source_id: str,
    user: CurrentUser,
    engine: EngineDep,
    action: Annotated[str, Form(max_length=20)],
    lot: Annotated[list[str] | None, Form()] = None,
    role: Annotated[str, Form(max_length=20)] = "partner",
    brings: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    lacks: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    seeks_partners: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    pseudonym: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if user.member_id is None:  # staff see the page; acting on a tender is for member firms
        raise HTTPException(status_code=403)
    with engine.connect() as connection:
        notice = _find(connection, source, source_id)
    if notice is None:
        raise HTTPException(status_code=404)
    tender = f"{source}:{source_id}"
    member_id = user.member_id
    if action in ("interesting", "not-relevant", "clear"):
        ids = load_page(engine, source=source, source_id=source_id, language="en", now=utcnow())
        assert ids is not None
        verdict = None if action == "clear" else action
        set_verdict(engine, member_id=member_id, notice_id=notice.id, notice_ids=ids.publication_ids, verdict=verdict)
        key = {"interesting": "followed", "not-relevant": "rejected", "clear": "cleared"}[action]
        return _done(source, source_id, key, "verdict")
    if action == "interest":
        form = {
            "lots": lot or [],
            "role": role,
            "brings": brings,
            "lacks": lacks,
            "seeks_partners": seeks_partners,
            "note": note,
        }
        try:
            record_interest(
                engine,
                member_id=member_id,
                tender=tender,
                lots=lot or [],
                role=role,
                brings=_words(brings),
                lacks=_words(lacks),
                seeks_partners=seeks_partners,
                note=note.strip() or None,
            )
        except ConsortiumError as error:
            return _page(request, engine, user, source, source_id, form=form, error=str(error), status_code=422)
        return _done(source, source_id, "interest", "interest")
    try:
        if action == "withdraw":
            withdraw_interest(engine, member_id=member_id, tender=tender, lots=lot or [])
            return _done(source, source_id, "withdrawn", "interest")
        if action == "ask":
            request_reveal(engine, member_id=member_id, tender=tender, pseudonym=pseudonym)
            return _done(source, source_id, "asked", "others")
        if action in ("accept", "refuse"):
            answer_reveal(engine, member_id=member_id, tender=tender, pseudonym=pseudonym, accept=action == "accept")
            return _done(source, source_id, "accepted" if action == "accept" else "refused", "requests")
    except ConsortiumError:  # not the member's to act on (another firm's request, no interest): ids say nothing
        raise HTTPException(status_code=404) from None
    raise HTTPException(status_code=422, detail=f"unknown action {action[:20]!r}")

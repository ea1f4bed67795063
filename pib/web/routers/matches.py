"""My matches, `/matches`: what the firm's profiles caught, best first, with the reasons in the reader's language
(issue 10, point 4). The same service call as `pib matches MEMBER` and `GET /api/v1/matches`
(`watch.routing.member_matches`); the page adds the firm's verdicts and the two feedback buttons.

New: a match no email has carried yet (`notified_at` empty). Closed: its deadline is past or its procedure ended
(watch/deadlines.py), still listed so the firm sees what it missed. The verdicts are `watch.feedback`'s, the
state the emails' links record: "Interesting" also follows the tender (deadline reminders and change alerts read
it), "Not relevant" ranks similar notices lower. A verdict on a notice that is not one of the firm's matches is 404.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.engine import Engine

from crawlers.store.service import notice_table
from notifications.i18n import format_deadline
from watch.feedback import VERDICTS, Verdict, feedback_table, match_table, record_feedback
from watch.routing import member_matches

from ..deps import CurrentMember, EngineDep, LanguageDep
from ..pages import N_, render

router = APIRouter(include_in_schema=False)

PER_PAGE = 30
DONE = {
    "interesting": N_("Marked interesting: you follow this tender (reminders before the deadline, change alerts)."),
    "not-relevant": N_("Marked not relevant: similar tenders will rank lower."),
}


def tender_path(source: str, source_id: str) -> str:
    """The tender page of a publication (a feed's `source_id` may be a URL: every character escaped).

    >>> tender_path("feed:ville", "https://x.example/a?b=1")
    '/tenders/feed%3Aville/https%3A%2F%2Fx.example%2Fa%3Fb%3D1'
    """
    return f"/tenders/{quote(source, safe='')}/{quote(source_id, safe='')}"


def anchor(source: str, source_id: str) -> str:
    """A short id for a match's place in the page, whatever characters its source id holds."""
    return "m-" + hashlib.sha256(f"{source}\n{source_id}".encode()).hexdigest()[:12]


def _verdicts(engine: Engine, *, member_id: int) -> dict[tuple[str, str], str]:
    """The firm's verdicts on the notices it matched, by (source, source_id)."""
    query = (
        sa.select(notice_table.c.source, notice_table.c.source_id, feedback_table.c.verdict)
        .join(feedback_table, feedback_table.c.notice_id == notice_table.c.id)
        .join(
            match_table,
            sa.and_(match_table.c.notice_id == notice_table.c.id, match_table.c.member_id == member_id),
        )
        .where(feedback_table.c.member_id == member_id)
    )
    with engine.connect() as connection:
        return {(source, source_id): verdict for source, source_id, verdict in connection.execute(query)}


def _matched_notice(engine: Engine, *, member_id: int, source: str, source_id: str) -> int | None:
    """The notice's id if it is one of the firm's matches."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(notice_table.c.id)
            .join(match_table, match_table.c.notice_id == notice_table.c.id)
            .where(
                match_table.c.member_id == member_id,
                notice_table.c.source == source,
                notice_table.c.source_id == source_id,
            )
        ).scalar()


@router.get("/matches")
def matches_page(
    request: Request,
    user: CurrentMember,
    engine: EngineDep,
    language: LanguageDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    assert user.member_id is not None
    found = member_matches(engine, user.member_id, language=language)
    verdicts = _verdicts(engine, member_id=user.member_id)
    pages = max(1, -(-len(found) // PER_PAGE))
    page = min(page, pages)
    shown: list[dict[str, Any]] = []
    for match in found[(page - 1) * PER_PAGE : page * PER_PAGE]:
        key = (match["source"], match["source_id"])
        shown.append(
            {
                **match,
                "href": tender_path(*key),
                "anchor": anchor(*key),
                "new": match["notified_at"] is None,
                "verdict": verdicts.get(key),
                "deadline_text": format_deadline(match["deadline"], None, language),
            }
        )
    return render(
        request,
        "matches/list.html",
        {
            "matches": shown,
            "total": len(found),
            "new_count": sum(match["notified_at"] is None for match in found),
            "page": page,
            "pages": pages,
            "done": DONE.get(done),
        },
    )


@router.post("/matches/feedback")
def matches_feedback(
    user: CurrentMember,
    engine: EngineDep,
    source: Annotated[str, Form(max_length=60)],
    source_id: Annotated[str, Form(max_length=300)],
    verdict: Annotated[str, Form(max_length=20)],
    page: Annotated[int, Form(ge=1, le=100_000)] = 1,
) -> RedirectResponse:
    assert user.member_id is not None
    if verdict not in VERDICTS:
        raise HTTPException(status_code=422, detail=f"verdict must be one of {', '.join(VERDICTS)}")
    notice_id = _matched_notice(engine, member_id=user.member_id, source=source, source_id=source_id)
    if notice_id is None:
        raise HTTPException(status_code=404)
    chosen: Verdict = "interesting" if verdict == "interesting" else "not-relevant"
    record_feedback(engine, member_id=user.member_id, notice_id=notice_id, verdict=chosen)
    return RedirectResponse(f"/matches?page={page}&done={verdict}#{anchor(source, source_id)}", status_code=303)

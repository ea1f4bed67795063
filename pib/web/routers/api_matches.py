"""The JSON API of a firm's matches (design §7): `GET /api/v1/matches`, the token's member's matches, best first,
each as `pib matches MEMBER --json` prints it (the same `watch.routing.member_matches` call and the same fields).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from watch.routing import member_matches

from ..deps import ApiUser, EngineDep

router = APIRouter(prefix="/api/v1", tags=["matches"])

MAX_LIMIT = 1000


class MatchOut(BaseModel):
    """One match: the publication, the score that ranks it, the reasons (structured, and written out in
    `reasons_text`), the lots that matched, the profile that caught it, and whether it is still open."""

    source: str
    source_id: str
    score: float
    reasons: list[dict[str, Any] | str]
    reasons_text: list[str]
    title: str
    lot_ids: list[str]
    profile: str
    notice_type: str
    published: date
    deadline: str | None
    url: str | None
    notified: bool
    """Whether an email has carried it."""
    closed: bool
    days_left: int | None


class MatchesOut(BaseModel):
    items: list[MatchOut]


def public_match(found: dict[str, Any]) -> MatchOut:
    """A match of `member_matches` in its public shape (the fields of `pib matches --json`)."""
    return MatchOut(
        source=found["source"],
        source_id=found["source_id"],
        score=found["score"],
        reasons=found["reasons"],
        reasons_text=found["reasons_text"],
        title=found["title"],
        lot_ids=found["lot_ids"],
        profile=found["profile"],
        notice_type=found["notice_type"],
        published=found["published"],
        deadline=found["deadline"],
        url=found["url"],
        notified=found["notified_at"] is not None,
        closed=found["closed"],
        days_left=found["days_left"],
    )


@router.get("/matches", response_model=MatchesOut)
def api_matches(
    user: ApiUser,
    engine: EngineDep,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="At most this many, best first.")] = None,
    language: Annotated[
        Literal["fr", "nl", "en"], Query(description="The language of `reasons_text` (English, as the CLI).")
    ] = "en",
) -> MatchesOut:
    """The token's member's matches, best first, as `pib matches MEMBER --json` prints them."""
    if user.member_id is None:
        raise HTTPException(status_code=403, detail="matches belong to a member firm: use a member's token")
    found = member_matches(engine, user.member_id, limit=limit, language=language)
    return MatchesOut(items=[public_match(match) for match in found])

"""The JSON twin of the tender page's staff section on CPV codes: `GET /api/v1/cpv/{source}/{source_id}`, a
notice's real CPV codes and those the active classifier infers from its text, with their confidence (the same
`watch.cpv.notice_codes.notice_codes` call and public model as the page). Staff tokens only: 403 for a member's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from watch.cpv.notice_codes import NoticeCodes, notice_codes

from ..deps import ApiUser, EngineDep

router = APIRouter(prefix="/api/v1", tags=["cpv"])


@router.get("/cpv/{source}/{source_id:path}", response_model=NoticeCodes)
def api_notice_cpv(
    source: str,
    source_id: str,
    user: ApiUser,
    engine: EngineDep,
    language: Annotated[Literal["fr", "nl", "en"], Query(description="Language of the CPV labels.")] = "en",
) -> NoticeCodes:
    """A notice's real CPV codes and the inferred ones (code, level, confidence, whether routing would use it,
    whether the real codes confirm it), with the classifier version. Staff only."""
    if not user.is_staff:
        raise HTTPException(status_code=403, detail="staff only")
    found = notice_codes(engine, source=source, source_id=source_id, language=language)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no notice {source} {source_id}")
    return found

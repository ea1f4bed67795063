"""`/calendar/<token>.ics`: a user's private calendar feed (issue 10, point 7), read by calendar programs without
a session: the secret token in the address is the proof. An unknown or revoked address answers 404, the same
for both, so an address tells nothing once revoked. The token is hidden from the access log (`app.loggable_path`).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from ..calendar import feed_owner, feed_text
from ..deps import EngineDep, SettingsDep

router = APIRouter(include_in_schema=False)


@router.get("/calendar/{name}")
def calendar_feed(name: str, engine: EngineDep, settings: SettingsDep) -> Response:
    token = name.removesuffix(".ics")
    owner = feed_owner(engine, token=token) if name.endswith(".ics") and 0 < len(token) <= 100 else None
    if owner is None:
        raise HTTPException(status_code=404, detail="no such calendar")
    text = feed_text(engine, owner=owner, public_url=str(settings.public_url))
    return Response(
        text.encode(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="pib.ics"', "Cache-Control": "private, max-age=300"},
    )

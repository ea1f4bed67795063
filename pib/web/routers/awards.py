"""Award results in the portal and the JSON API (issue 14, item 3; docs/awards.md).

Each page and its JSON twin render one service call's public model (`watch.awards`, `consortium.track_record`):

- `GET /firm/awards` and `GET /api/v1/firm/awards`: what the member's own firm won (its organisations confirmed);
- `GET /api/v1/awards/history/{source}/{source_id}`: a tender's buyer history, the section of the tender page;
- `GET /api/v1/organisations/{id}`: an organisation's record, for staff, or for a member that is it (else 404);
- `GET /api/v1/awards/network`, `GET /api/v1/awards/suggestions/{source}/{source_id}`: staff only (403).

The buyer history is public data, the same for every reader; it never reads who flagged interest (§4).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse

from consortium.errors import ConsortiumError
from consortium.track_record import AwardSuggestions, award_suggestions
from watch.awards import (
    CoBiddingNetwork,
    FirmAwards,
    TenderAwardHistory,
    cobidding_network,
    firm_awards,
    member_firm_awards,
    member_owns,
    tender_award_history,
)

from ..auth import Principal
from ..deps import ApiUser, CurrentMember, EngineDep
from ..pages import render
from .tender import tender_path

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["awards"])


@router.get("/firm/awards")
def own_awards(request: Request, engine: EngineDep, user: CurrentMember) -> HTMLResponse:
    assert user.member_id is not None
    firms = member_firm_awards(engine, member_id=user.member_id)
    return render(request, "awards/firm.html", {"firms": firms, "tender_path": tender_path, "staff_links": False})


@api.get("/firm/awards", response_model=list[FirmAwards])
def api_own_awards(user: ApiUser, engine: EngineDep) -> list[FirmAwards]:
    """The awards of the token's member firm (empty until its organisation is linked); staff: 403."""
    if user.member_id is None:
        raise HTTPException(status_code=403, detail="members only")
    return member_firm_awards(engine, member_id=user.member_id)


@api.get("/awards/history/{source}/{source_id:path}", response_model=TenderAwardHistory)
def api_history(source: str, source_id: str, _user: ApiUser, engine: EngineDep) -> TenderAwardHistory:
    """The buyer's earlier awards in the tender's CPV groups: winners, tenders received, values (public data)."""
    found = tender_award_history(engine, source=source, source_id=source_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no notice {source} {source_id}")
    return found


def _staff(user: Principal) -> None:
    if not user.is_staff:
        raise HTTPException(status_code=403, detail="staff only")


@api.get("/organisations/{organisation_id}", response_model=FirmAwards)
def api_organisation(
    organisation_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: ApiUser, engine: EngineDep
) -> FirmAwards:
    """An organisation's awards and co-winners: staff for any, a member for its own (404 for another)."""
    if not user.is_staff and (
        user.member_id is None or not member_owns(engine, member_id=user.member_id, organisation_id=organisation_id)
    ):
        raise HTTPException(status_code=404, detail=f"no organisation {organisation_id}")
    found = firm_awards(engine, organisation_id=organisation_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no organisation {organisation_id}")
    return found


@api.get("/awards/network", response_model=CoBiddingNetwork)
def api_network(user: ApiUser, engine: EngineDep) -> CoBiddingNetwork:
    """The cluster's members linked to organisations and the contracts they won together (staff)."""
    _staff(user)
    return cobidding_network(engine)


@api.get("/awards/suggestions/{source}/{source_id:path}", response_model=AwardSuggestions)
def api_suggestions(source: str, source_id: str, user: ApiUser, engine: EngineDep) -> AwardSuggestions:
    """The firms that won contracts in the tender's CPV groups, the cluster's apart, ranked with the reason."""
    _staff(user)
    try:
        return award_suggestions(engine, tender=f"{source}:{source_id}")
    except ConsortiumError as error:
        raise HTTPException(status_code=404, detail=str(error)) from None

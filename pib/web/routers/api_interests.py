"""The JSON API of anonymous interest (design §7): `POST /api/v1/interests` and `GET /api/v1/interests/{source_id}`.

A member's token gets exactly what `pib interests SOURCE_ID --as MEMBER --json` prints (the same
`member_view`, serialized the same way), a staff token the staff view with identities. A tender is named by a
publication's `source_id`, or `SOURCE:SOURCE_ID` when two sources use the same id.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine

from consortium.errors import ConsortiumError
from consortium.services import member_view, record_interest, staff_view
from consortium.views import MemberTenderView, OwnInterest, Role, StaffTenderView
from crawlers.store.service import notice_table

from ..deps import ApiUser, EngineDep

router = APIRouter(prefix="/api/v1", tags=["interests"])

Reference = Annotated[str, Field(min_length=1, max_length=400)]
Declared = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=50)]


class InterestIn(BaseModel):
    """An expression of interest, as `pib interest` takes it; `lots` empty for the whole tender."""

    model_config = ConfigDict(extra="forbid")

    source_id: Reference
    lots: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=100)] = []
    role: Role = "partner"
    seeks_partners: bool = False
    brings: Declared = []
    """CPV codes or keywords the firm brings (the other members read them: never the firm's name)."""
    lacks: Declared = []
    note: Annotated[str, Field(max_length=500)] | None = None
    """For the cluster staff; never shown to other members."""


def _known(engine: Engine, reference: str) -> bool:
    """Whether some publication is named by the reference, as `source_id` or `SOURCE:SOURCE_ID`."""
    pairs = [(reference[:i], reference[i + 1 :]) for i, char in enumerate(reference) if char == ":"]
    named = [notice_table.c.source_id == reference]
    named += [sa.and_(notice_table.c.source == s, notice_table.c.source_id == i) for s, i in pairs]
    with engine.connect() as connection:
        return connection.execute(sa.select(notice_table.c.id).where(sa.or_(*named)).limit(1)).first() is not None


def _refused(engine: Engine, reference: str, error: ConsortiumError) -> HTTPException:
    """404 for a tender that does not exist, else 422 with the reason (an unknown lot, an ambiguous id...)."""
    if not _known(engine, reference):
        return HTTPException(status_code=404, detail=f"no notice {reference[:100]!r}")
    return HTTPException(status_code=422, detail=str(error))


@router.post(
    "/interests",
    status_code=201,
    response_model=OwnInterest,
    responses={403: {"description": "Staff tokens cannot flag interest"}, 404: {}, 422: {}},
)
def post_interest(body: InterestIn, user: ApiUser, engine: EngineDep) -> OwnInterest:
    """Record the token's firm's anonymous interest in a tender (the other members see its pseudonym only)."""
    if user.member_id is None:
        raise HTTPException(status_code=403, detail="interest is flagged by a member firm's user, not by staff")
    try:
        return record_interest(
            engine,
            member_id=user.member_id,
            tender=body.source_id,
            lots=body.lots,
            role=body.role,
            brings=body.brings,
            lacks=body.lacks,
            seeks_partners=body.seeks_partners,
            note=body.note,
        )
    except ConsortiumError as error:
        raise _refused(engine, body.source_id, error) from None


@router.get(
    "/interests/{source_id:path}",
    response_class=Response,
    responses={
        200: {
            "model": MemberTenderView | StaffTenderView,
            "description": "A member's view (pseudonyms only), or the staff view with identities",
        },
        404: {},
        422: {},
    },
)
def get_interests(source_id: Annotated[str, Path(max_length=400)], user: ApiUser, engine: EngineDep) -> Response:
    """The interests in a tender: for a member exactly what `pib interests SOURCE_ID --as MEMBER --json` shows,
    for staff the staff view."""
    view: MemberTenderView | StaffTenderView
    try:
        if user.member_id is not None:
            view = member_view(engine, tender=source_id, member_id=user.member_id)
        else:
            view = staff_view(engine, tender=source_id)
    except ConsortiumError as error:
        raise _refused(engine, source_id, error) from None
    return Response(view.model_dump_json(), media_type="application/json")

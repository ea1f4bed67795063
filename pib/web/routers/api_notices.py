"""The JSON API of the tender search (design §7): `GET /api/v1/notices` and `GET /api/v1/notices/{source}/{id}`.

The same `crawlers.store.search.search_notices` call and the same public model (`SearchResult`) as the
`/tenders` page: the page is this answer rendered. Without `open`, every notice whatever its deadline (§7);
the page shows open tenders by default. A bad parameter is a 422 naming it and saying why.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from crawlers.store.models import utcnow
from crawlers.store.search import (
    MAX_PER_PAGE,
    NoticeDetail,
    SearchError,
    SearchResult,
    notice_detail,
    query_from_params,
    search_notices,
)

from ..deps import ApiUser, EngineDep

router = APIRouter(prefix="/api/v1", tags=["notices"])


def url_params(request: Request) -> dict[str, list[str]]:
    """Every URL parameter with all its values (a repeated `cpv` or `region` is several)."""
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


@router.get("/notices", response_model=SearchResult)
def api_notices(
    request: Request,
    _user: ApiUser,
    engine: EngineDep,
    q: Annotated[str | None, Query(description="Words of the title, description, lot titles or buyer.")] = None,
    cpv: Annotated[
        list[str] | None, Query(description="CPV codes (each covers its sub-codes) or one label to look up.")
    ] = None,
    region: Annotated[list[str] | None, Query(description="NUTS codes or countries (BE3, FR).")] = None,
    notice_type: Annotated[list[str] | None, Query(description="contract-notice, prior-information...")] = None,
    source: Annotated[list[str] | None, Query(description="ted, boamp, be or feed:<name>.")] = None,
    open: Annotated[bool | None, Query(description="true: only what can still be answered.")] = None,
    value_min: Annotated[float | None, Query(ge=0)] = None,
    value_max: Annotated[float | None, Query(ge=0)] = None,
    published_since: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    sort: Annotated[str | None, Query(description="relevance (default), deadline or published.")] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, description=f"At most {MAX_PER_PAGE}; more is capped.")] = 20,
) -> SearchResult:
    """Search the stored notices: one item per procedure (a notice and its twins of other sources once, with
    `publications`), the total, and facets by notice type, source, country and CPV division."""
    try:
        query = query_from_params(url_params(request), default_open=False)
    except SearchError as error:
        raise HTTPException(status_code=422, detail=f"{error.parameter}: {error.reason}") from None
    return search_notices(engine, query=query, now=utcnow())


@router.get("/notices/{source}/{source_id:path}", response_model=NoticeDetail)
def api_notice(source: str, source_id: str, _user: ApiUser, engine: EngineDep) -> NoticeDetail:
    """One notice, with every publication of its procedure and the procedure's changes."""
    found = notice_detail(engine, source=source, source_id=source_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no notice {source} {source_id}")
    return found

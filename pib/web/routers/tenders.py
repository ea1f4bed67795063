"""The tender search, `/tenders` (issue 10, point 1), and its CSV export, `/tenders.csv` (point 7).

The page is the answer of `GET /api/v1/notices` rendered: the same `search_notices` call on the same query read
from the URL (so a search is shared by its link), the same public model. What the page adds is presentation:
labels in the reader's language, days left, the facets as links that narrow the URL, and, for a member, which
of its profiles a line matches (`watch.matching`, judged on the line's notice as routing judges it). Open
tenders only by default (`open=false` shows every deadline).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from babel import Locale
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.engine import Engine

from crawlers.codelists import cpv_label, nuts_label
from crawlers.store.models import utcnow
from crawlers.store.search import (
    NoticeItem,
    SearchError,
    SearchQuery,
    SearchResult,
    cpv_prefix,
    query_from_params,
    search_notices,
)
from notifications.i18n import format_deadline
from watch.deadlines import days_until
from watch.matching import ProfileIndex, ProfileSpec, notice_facts
from watch.routing import profile_table

from ..deps import CurrentUser, EngineDep
from ..pages import N_, render, request_language
from .api_notices import url_params
from .tender import NOTICE_TYPES, SOURCES, tender_path

router = APIRouter(include_in_schema=False)

EXPORT_MAX = 5000
"""Lines of a CSV export at most (the search's first ones, in its order)."""
SORT_NAMES = {"relevance": N_("Relevance"), "deadline": N_("Deadline, soonest first"), "published": N_("Newest")}
FACET_NAMES = {
    "notice_type": N_("Notice type"),
    "source": N_("Source"),
    "country": N_("Country"),
    "cpv_division": N_("CPV division"),
}
FILTERS = ("cpv", "region", "value_min", "value_max", "published_since", "notice_type", "source")
"""The fields behind "Filters": shown open when one is in use."""
CHECKED = ("notice_type", "source")
"""The filters of the form shown as check boxes (several may be chosen, through the facets too)."""
ERRORS = {
    "cpv": N_("No CPV code or label matches “%(value)s”."),
    "cpv-vague": N_("“%(value)s” matches too many CPV codes: say more, or type a code."),
    "region": N_("“%(value)s” is not a NUTS code, a country or the name of a region."),
    "number": N_("“%(value)s” is not an amount."),
    "range": N_("The minimum is above the maximum."),
    "date": N_("“%(value)s” is not a date."),
    "too-long": N_("Use at most 20 words."),
}
"""The message shown next to a field for a `SearchError.kind` (other kinds come only from hand-made URLs)."""


@dataclass(frozen=True)
class Line:
    """A search line as the page shows it."""

    item: NoticeItem
    href: str
    place: str
    deadline: str | None
    days_left: int | None
    profiles: list[str]


def country_name(code: str, language: str) -> str:
    """
    >>> country_name("BE", "nl"), country_name("EL", "fr")
    ('België', 'Grèce')
    """
    iso = {"EL": "GR", "UK": "GB"}.get(code, code)
    return Locale.parse(language).territories.get(iso, code)


def place_label(code: str, language: str) -> str:
    if len(code) == 2:
        return country_name(code, language)
    return nuts_label(code, language) or code


def _place(item: NoticeItem, language: str) -> str:
    codes = list(item.nuts) or ([item.buyer.country] if item.buyer.country else [])
    shown = [place_label(code, language) for code in codes[:3]]
    return ", ".join(shown) + (" …" if len(codes) > 3 else "")


def _profiles(engine: Engine, member_id: int | None) -> tuple[ProfileIndex | None, dict[int, str]]:
    if member_id is None:
        return None, {}
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(profile_table)
            .where(profile_table.c.member_id == member_id, profile_table.c.active.is_(True))
            .order_by(profile_table.c.id)
        ).all()
    return ProfileIndex(ProfileSpec.of(row) for row in rows), {row.id: row.name for row in rows}


def _lines(result: SearchResult, *, engine: Engine, member_id: int | None, language: str, now: datetime) -> list[Line]:
    index, names = _profiles(engine, member_id)
    lines = []
    for item in result.items:
        matched: list[str] = []
        if index is not None and len(index):
            hits = index.match(notice_facts(item.model_dump(mode="json")))
            matched = [names[hit.profile_id] for hit in hits if hit.profile_id in names]
        deadline_utc = item.current_deadline_utc
        lines.append(
            Line(
                item=item,
                href=tender_path(item.source, item.source_id),
                place=_place(item, language),
                deadline=format_deadline(item.current_deadline, deadline_utc, language),
                days_left=days_until(deadline_utc, now) if deadline_utc else None,
                profiles=matched,
            )
        )
    return lines


def _url(path: str, query: SearchQuery, **changes: Any) -> str:
    return f"{path}?{urlencode(query.to_params(**changes))}"


def _facet_links(result: SearchResult, query: SearchQuery, language: str) -> list[dict[str, Any]]:
    """Each facet's values with their counts, a link that narrows the search to it (or widens it back)."""
    chosen = {
        "notice_type": set(query.notice_types),
        "source": set(query.sources),
        "country": set(query.region),
        "cpv_division": {cpv_prefix(code) for code in query.cpv} if not query.cpv_text else set(),
    }
    facets = []
    for name, counts in result.facets.items():
        values = []
        for value, count in list(counts.items())[:12]:
            selected = value in chosen[name]
            changes: dict[str, Any]
            if name == "notice_type":
                label, changes = NOTICE_TYPES.get(value, value), {"notice_types": _toggle(query.notice_types, value)}
            elif name == "source":
                label, changes = SOURCES.get(value, value), {"sources": _toggle(query.sources, value)}
            elif name == "country":
                label, changes = country_name(value, language), {"region": _toggle(query.region, value)}
            else:
                code = f"{value}000000"
                label = f"{value} · {cpv_label(code, language) or ''}"
                changes = {"cpv": _toggle(query.cpv, code) if not selected else (), "cpv_text": ""}
            values.append(
                {
                    "label": label,
                    "translate": name == "notice_type",
                    "count": count,
                    "selected": selected,
                    "href": _url("/tenders", query, page=1, **changes),
                }
            )
        facets.append({"name": FACET_NAMES[name], "values": values})
    return facets


def _toggle(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    return tuple(v for v in values if v != value) if value in values else (*values, value)


@router.get("/tenders", response_class=HTMLResponse)
def tenders(request: Request, user: CurrentUser, engine: EngineDep) -> Response:
    """The search form, the lines of the search in the URL, the facets and the pages."""
    language = request_language(request)
    params = url_params(request)
    form = {name: ", ".join(v.strip() for v in values if v.strip()) for name, values in params.items()}
    form.setdefault("open", "true")
    checked = {name: {v.strip() for value in params.get(name, []) for v in value.split(",")} for name in CHECKED}
    filtering = any(form.get(name) for name in FILTERS)
    try:
        query = query_from_params(params, default_open=True)
    except SearchError as error:
        message = ERRORS.get(error.kind)
        context = {"form": form, "checked": checked, "filtering": True, "error": error, "message": message}
        context["result"] = None
        return render(request, "tenders/list.html", {**_choices(), **context}, status_code=422)
    now = utcnow()
    result = search_notices(engine, query=query, now=now)
    pages = max(1, -(-result.total // query.per_page))
    context = {
        "form": form,
        "checked": checked,
        "filtering": filtering,
        "error": None,
        "message": None,
        "query": query,
        "result": result,
        "lines": _lines(result, engine=engine, member_id=user.member_id, language=language, now=now),
        "facets": _facet_links(result, query, language),
        "pages": pages,
        "previous": _url("/tenders", query, page=query.page - 1) if query.page > 1 else None,
        "next": _url("/tenders", query, page=query.page + 1) if query.page < pages else None,
        "export": _url("/tenders.csv", query, page=1),
        "all_deadlines": _url("/tenders", query, open_only=False, page=1),
        "cpv_found": [(code, cpv_label(code.ljust(8, "0"), language) or "") for code in query.cpv],
        "regions": [(code, place_label(code, language)) for code in query.region],
        "clear": {
            "cpv": _url("/tenders", query, cpv=(), cpv_text="", page=1),
            "region": _url("/tenders", query, region=(), page=1),
        },
    }
    return render(request, "tenders/list.html", {**_choices(), **context})


def _choices() -> dict[str, Any]:
    return {"notice_types": NOTICE_TYPES, "sources": SOURCES, "sorts": SORT_NAMES}


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (a buyer named `=HYPERLINK(...)`)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/tenders.csv")
def tenders_csv(request: Request, user: CurrentUser, engine: EngineDep) -> Response:
    """The search of the URL as CSV (its first `EXPORT_MAX` lines), one line per procedure."""
    try:
        query = query_from_params(url_params(request), default_open=True)
    except SearchError as error:
        return Response(f"{error}\n", status_code=422, media_type="text/plain; charset=utf-8")
    query = replace(query, page=1, per_page=EXPORT_MAX)
    result = search_notices(engine, query=query, now=utcnow())
    public = str(request.app.state.settings.public_url).rstrip("/")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            *("title", "buyer", "country", "nuts", "notice_type", "published", "deadline", "estimated_value"),
            *("currency", "cpv_main", "sources", "page", "url"),
        ]
    )
    for item in result.items:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    item.title,
                    item.buyer.name,
                    item.buyer.country,
                    " ".join(item.nuts),
                    item.notice_type,
                    item.published.isoformat(),
                    item.current_deadline,
                    item.estimated_value,
                    item.currency,
                    item.cpv_main,
                    " ".join(f"{p.source}:{p.source_id}" for p in item.publications),
                    public + tender_path(item.source, item.source_id),
                    item.url,
                )
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),  # the BOM lets a spreadsheet read accents as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="tenders.csv"'},
    )

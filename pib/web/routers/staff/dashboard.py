"""`/staff`: the dashboard. New tenders per source, each source's health with its last 30 days and the silence
alarm, the scheduler's jobs ("run now"), the outbox and refused addresses, the files and records set aside
("parse again"). The numbers come from the domain services; this module only reads the form and renders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from crawlers.crawl.context import SOURCES
from crawlers.crawl.dashboard import source_dashboard
from crawlers.crawl.runner import brussels_today
from crawlers.store.reparse import CannotParseAgain, parse_again, set_aside
from notifications.overview import outbox_counts, refused_addresses
from pib.job_results import job_statuses, run_now

from ...audit import record_audit
from ...charts import sparkline
from ...deps import EngineDep, SettingsDep, StaffUser
from ...pages import render

router = APIRouter()


@router.get("")
def dashboard(request: Request, user: StaffUser, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    feed_names = [feed.name for feed in settings.feeds]
    sources = source_dashboard(
        engine, sources=SOURCES, today=brussels_today(), now=datetime.now(UTC), feed_names=feed_names
    )
    refused = refused_addresses(engine)
    if refused:
        record_audit(
            engine,
            staff=user,
            action="view",
            what="dashboard: refused addresses",
            subject=", ".join(f"{item.member} <{item.email}>" for item in refused),
        )
    errors, errors_total = set_aside(engine, limit=25)
    return render(
        request,
        "staff/dashboard.html",
        {
            "sources": sources,
            "sparkline": sparkline,
            "jobs": job_statuses(engine),
            "outbox": outbox_counts(engine),
            "refused": refused,
            "errors": errors,
            "errors_total": errors_total,
            "ran": request.query_params.get("ran"),
            "parsed": {key: request.query_params.get(key) for key in ("origin", "stored", "cleared", "failing")}
            if "origin" in request.query_params
            else None,
        },
    )


@router.post("/jobs/run")
def run_job(user: StaffUser, engine: EngineDep, job: Annotated[str, Form(max_length=191)]) -> RedirectResponse:
    if not run_now(engine, job_id=job):
        raise HTTPException(status_code=404, detail=f"no scheduled job {job!r}")
    record_audit(engine, staff=user, action="change", what="job run now", subject=job)
    return RedirectResponse("/staff?" + urlencode({"ran": job}) + "#jobs", status_code=303)


@router.post("/errors/{error_id}/parse-again")
def parse_error_again(user: StaffUser, engine: EngineDep, error_id: int) -> RedirectResponse:
    try:
        result = parse_again(engine, error_id=error_id)
    except CannotParseAgain as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    record_audit(
        engine,
        staff=user,
        action="change",
        what="parse again",
        subject=f"{result.origin}: {result.stored} stored, {result.cleared} cleared, {len(result.still_failing)} fail",
    )
    query = {
        "origin": result.origin,
        "stored": result.stored + result.updated,
        "cleared": result.cleared,
        "failing": len(result.still_failing),
    }
    return RedirectResponse("/staff?" + urlencode(query) + "#errors", status_code=303)

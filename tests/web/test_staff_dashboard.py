"""The staff console's dashboard (issue 11 point 1) and activity (point 5), read as staff read them: new
tenders per source, the silence alarm, the jobs and "run now", the outbox and refused addresses, files set
aside and "parse again"; and a member's session refused on every staff URL, found from the app's routes."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path

import httpx
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from sqlalchemy.engine import Engine

from config.settings import Settings
from consortium.groups import create_group, set_status
from consortium.interests import record_interest
from crawlers.crawl.dashboard import working_day
from crawlers.crawl.runner import brussels_today
from crawlers.ingest import ingest_files
from crawlers.store.service import Failure, error_table, notice_table, record_failures, store_notices
from notifications.models import outbox_table
from pib.job_results import record_result
from pib.job_store import job_store
from pib.scheduler import build_scheduler, job_specs
from pib.web.app import create_app
from pib.web.audit import StaffAudit
from pib.web.auth import add_staff
from tests.factories import incoming, make_notice
from tests.web.conftest import Portal, add_user
from tests.web.test_auth import csrf, sign_in

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STAFF = "animation@cluster.example"
FIRM = "École Numérique SA"
MEMBER = "direction@ecole-numerique.example"


def staff_client(portal: Portal) -> httpx.Client:
    add_staff(portal.engine, email=STAFF, language="en")
    return sign_in(portal, STAFF)


def text(page: str) -> str:
    """The page as a person reads it: tags out, spaces folded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _audit(engine: Engine) -> list[tuple[str, str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(StaffAudit.__table__).order_by(sa.column("id"))).mappings().all()  # type: ignore[attr-defined]
    return [(row["staff_email"], row["action"], row["what"], row["subject"]) for row in rows]


def test_a_member_is_refused_on_every_staff_url(portal: Portal) -> None:
    """Every route under /staff, now and added later, answers a member's session with 403 or 404."""
    add_user(portal.engine, firm=FIRM, address=MEMBER)
    member = sign_in(portal, MEMBER)
    staff = staff_client(portal)
    app = create_app(engine=portal.engine, settings=Settings())
    routes = [
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path and (route.path == "/staff" or route.path.startswith("/staff/"))
        for method in sorted(route.methods or ())
        if method != "HEAD"
    ]
    assert ("GET", "/staff") in routes and ("GET", "/staff/audit") in routes and ("POST", "/staff/jobs/run") in routes
    token = csrf(member, "/")
    for method, path in routes:
        url = re.sub(r"\{[^}]+\}", "1", path)
        answer = member.request(method, url, data={"csrf_token": token} if method == "POST" else None)
        assert answer.status_code in (403, 404), (method, url, answer.status_code)
        assert STAFF not in answer.text and "Run now" not in answer.text
        if method == "GET" and "{" not in path:
            assert staff.get(url).status_code in (200, 422), url  # staff pass: the refusal is the role
    assert member.get("/staff").status_code == 403
    assert portal.client().get("/staff").headers["location"] == "/login?next=/staff"  # signed out: sign in first


def _store_week(engine: Engine, today: date) -> date:
    """TED published on each working day of the last 30 days but the last complete one; BOAMP on 3 days."""
    last_working = next(day for n in range(1, 8) if working_day(day := today - timedelta(days=n)))
    notices = [
        make_notice(source="ted", source_id=f"{n}-2026", published=(today - timedelta(days=n)).isoformat())
        for n in range(1, 30)
        if working_day(today - timedelta(days=n)) and today - timedelta(days=n) != last_working
    ]
    notices += [
        make_notice(source="boamp", source_id=f"26-{n:04}", published=(today - timedelta(days=n)).isoformat())
        for n in (0, 2, 9)
    ]
    store_notices(engine, [incoming(notice) for notice in notices])
    with engine.begin() as connection:  # each was first stored at noon on the day it was published
        for notice_id, published in connection.execute(sa.select(notice_table.c.id, notice_table.c.published)).all():
            noon = datetime(published.year, published.month, published.day, 11, tzinfo=UTC)
            connection.execute(sa.update(notice_table).where(notice_table.c.id == notice_id).values(first_seen=noon))
    return last_working


def test_the_dashboard_shows_sources_jobs_emails_and_what_was_set_aside(portal: Portal) -> None:
    engine = portal.engine
    today = brussels_today()
    last_working = _store_week(engine, today)
    member_user = add_user(engine, firm=FIRM, address=MEMBER)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE member_user SET email_disabled_reason = :reason WHERE id = :id"),
            {"reason": "550 5.1.1 mailbox unknown", "id": member_user},
        )
        for n, (state, attempts) in enumerate(
            [("pending", 0), ("pending", 2), ("sent", 1), ("sent", 1), ("sent", 1), ("failed", 3)]
        ):
            connection.execute(
                sa.insert(outbox_table).values(
                    key=f"k{n}",
                    user_id=member_user,
                    kind="digest",
                    state=state,
                    attempts=attempts,
                    match_ids=[],
                    created_at=datetime.now(UTC),
                )
            )
    record_failures(engine, [Failure("boamp/page-7.json", "results[3]", "no 'objet': cannot make a title")])
    scheduler = build_scheduler(engine, job_specs(Settings()))
    scheduler.shutdown(wait=False)
    record_result(engine, job_id="crawl:boamp", ok=False, summary="crawl boamp failed (run #4): HTTP 503")

    page = staff_client(portal).get("/staff")
    assert page.status_code == 200
    body = text(page.text)
    monday = today - timedelta(days=today.weekday())
    ted_week = sum(1 for n in range(1, 30) if (day := today - timedelta(days=n)) >= monday and working_day(day))
    ted_week -= last_working >= monday
    boamp_week = sum(1 for n in (0, 2, 9) if today - timedelta(days=n) >= monday)
    assert f"ted 0 {ted_week} " in body, body
    assert f"boamp 1 {boamp_week} " in body, body
    assert f"Alarm: ted published nothing on {last_working:%B} {last_working.day}, {last_working.year}" in body
    assert "Alarm: boamp" not in body  # it publishes on few days: its quiet days are not an alarm
    assert "crawl:boamp" in body and "failed" in body and "HTTP 503" in body and "not run yet" in body
    assert "Queued 1 Sent 3 To retry 1 Failed 1" in body
    assert f"{FIRM} {MEMBER} 550 5.1.1 mailbox unknown" in body
    assert "boamp/page-7.json [results[3]] no 'objet': cannot make a title file not kept" in body
    assert _audit(engine) == [(STAFF, "view", "dashboard: refused addresses", f"{FIRM} <{MEMBER}>")]


def test_run_now_makes_the_job_due_in_the_job_store(portal: Portal) -> None:
    engine = portal.engine
    scheduler = build_scheduler(engine, job_specs(Settings()))
    scheduler.shutdown(wait=False)
    before = job_store(engine).lookup_job("digests:weekly").next_run_time
    assert before > datetime.now(UTC) + timedelta(minutes=10)
    client = staff_client(portal)
    answer = client.post("/staff/jobs/run", data={"job": "digests:weekly", "csrf_token": csrf(client, "/staff")})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/staff?ran=digests%3Aweekly")
    due = job_store(engine).lookup_job("digests:weekly").next_run_time
    assert abs(due - datetime.now(UTC)) < timedelta(minutes=1)
    assert job_store(engine).get_due_jobs(datetime.now(UTC) + timedelta(seconds=1))[0].id == "digests:weekly"
    shown = text(client.get(answer.headers["location"]).text)
    assert "digests:weekly will run at the service's next wake-up" in shown
    missing = client.post("/staff/jobs/run", data={"job": "crawl:nowhere", "csrf_token": csrf(client, "/staff")})
    assert missing.status_code == 404
    assert _audit(engine) == [(STAFF, "change", "job run now", "digests:weekly")]


def test_parse_again_stores_what_now_parses_and_clears_the_error(portal: Portal, tmp_path: Path) -> None:
    engine = portal.engine
    page = json.loads((FIXTURES / "boamp/opendatasoft-json/json_api_boamp.json").read_bytes())
    # A file an older parser refused whole: the raw file was kept; today's parser reads it.
    fixed = json.dumps({"results": page["results"][:2]}).encode()
    record_failures(engine, [Failure("crawl:boamp page 1", "", "unknown BOAMP schema")], {"crawl:boamp page 1": fixed})
    # A file with a bad record between two good ones: still bad after parsing again.
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps({"results": [page["results"][2], {"idweb": "26-BAD"}, page["results"][3]]}))
    ingest_files(engine, [mixed])
    with engine.connect() as connection:
        errors = {row.origin: row.id for row in connection.execute(sa.select(error_table))}
        stored_before = connection.execute(sa.select(sa.func.count()).select_from(notice_table)).scalar_one()
    assert stored_before == 2 and len(errors) == 2

    client = staff_client(portal)
    listed = text(client.get("/staff").text)
    assert "crawl:boamp page 1 unknown BOAMP schema Parse again" in listed
    answer = client.post(
        f"/staff/errors/{errors['crawl:boamp page 1']}/parse-again", data={"csrf_token": csrf(client, "/staff")}
    )
    assert answer.status_code == 303
    shown = text(client.get(answer.headers["location"]).text)
    assert "crawl:boamp page 1 parsed again: 2 notices stored, 1 errors cleared, 0 still failing." in shown
    assert "unknown BOAMP schema" not in shown

    again = client.post(f"/staff/errors/{errors[str(mixed)]}/parse-again", data={"csrf_token": csrf(client, "/staff")})
    shown = text(client.get(again.headers["location"]).text)
    assert f"{mixed} parsed again: 0 notices stored, 0 errors cleared, 1 still failing." in shown
    with engine.connect() as connection:
        assert [row.origin for row in connection.execute(sa.select(error_table))] == [str(mixed)]
        assert connection.execute(sa.select(sa.func.count()).select_from(notice_table)).scalar_one() == 4
    gone = client.post(
        f"/staff/errors/{errors['crawl:boamp page 1']}/parse-again", data={"csrf_token": csrf(client, "/staff")}
    )
    assert gone.status_code == 404
    assert [line[2] for line in _audit(engine)] == ["parse again", "parse again"]


def test_the_activity_page_draws_each_chart_with_its_numbers(portal: Portal) -> None:
    engine = portal.engine
    today = brussels_today()
    store_notices(
        engine,
        [
            incoming(make_notice(source="ted", source_id="1-2026", published=today.isoformat())),
            incoming(make_notice(source="feed:wallonie", source_id="w1", published=today.isoformat())),
            incoming(make_notice(source="feed:lille", source_id="l1", published=today.isoformat())),
        ],
    )
    firms = [
        add_user(engine, firm=name, address=f"{n}@firm.example") for n, name in enumerate([FIRM, "Électro Wallonie"])
    ]
    with engine.connect() as connection:
        members = list(connection.execute(sa.text("SELECT member_id FROM member_user ORDER BY id")).scalars())
    assert len(firms) == 2
    for member_id in members:
        record_interest(engine, member_id=member_id, tender="ted:1-2026")
    group = create_group(engine, tender="ted:1-2026", name="Wallonie numérique")
    set_status(engine, group_id=group.id, status="submitted")

    page = staff_client(portal).get("/staff/activity")
    assert page.status_code == 200
    assert page.text.count('<svg class="chart" role="img"') == 3
    assert "<title id=" in page.text and "Tenders per week, by source</title>" in page.text
    body = text(page.text)
    month = f"{today:%b} {today.year}"
    assert re.search(rf"Period interests reveals asked reveals agreed .* {month} 2 0 0", body), body
    assert re.search(rf"Period formed submitted won .* {month} 1 1 0", body), body
    monday = today - timedelta(days=today.weekday())
    assert re.search(rf"Period feeds ted .* {monday.day} {monday:%b} 2 1 Interests and reveals", body), body


def test_the_service_keeps_each_jobs_last_result_for_the_dashboard(engine: Engine, settings_env: None) -> None:
    """The real scheduler of `pib serve` runs a job that works and one that fails; the dashboard's rows say so."""
    import time

    from pib.job_results import job_statuses, run_now
    from pib.scheduler import JobSpec, crawl_job, outbox_job

    specs = [
        JobSpec("outbox", outbox_job, (), "0 3 1 1 *"),
        JobSpec("crawl:nowhere", crawl_job, ("nowhere",), "0 3 1 1 *"),
    ]
    scheduler = build_scheduler(engine, specs)
    try:
        assert run_now(engine, job_id="outbox") and run_now(engine, job_id="crawl:nowhere")
        scheduler.resume()
        scheduler.wakeup()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            statuses = {status.id: status for status in job_statuses(engine)}
            if all(status.last_finished for status in statuses.values()):
                break
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert statuses["outbox"].last_ok is True and statuses["outbox"].last_summary == "done"
    failed = statuses["crawl:nowhere"]
    assert failed.last_ok is False and failed.last_summary.startswith("crawl nowhere:"), failed.last_summary
    assert statuses["outbox"].next_run is not None and statuses["outbox"].next_run > datetime.now(UTC)  # crontab again

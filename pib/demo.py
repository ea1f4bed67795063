"""`pib demo`: the whole loop offline, on the recorded notices.

A local replay server serves the recorded notices in each source's real API shape; the real spiders crawl
it (each in a process of its own, as `pib serve` does), publications are linked into procedures, a sample
cluster of eight firms is loaded, notices are routed to them, and their alert emails are written as `.eml`
files to a folder a person can open. Everything lives in one demo folder, started afresh each time, so the
demo never touches the service's own database.

The demo runs "as of" the date of its newest recorded notice (`demo_clock`): emails carry only tenders still
open at that moment, so with today's clock the recorded notices, long closed, would email nothing. The demo
says so, and lists the matched tenders that were already closed then. `pib demo --serve` then serves the portal
over the demo's database (`serve_demo`) with a sign-in link for a demo member.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.settings import Settings, get_settings
from crawlers.crawl import SOURCES, crawl_in_subprocess
from crawlers.replay.server import replay_server
from crawlers.store.procedures import Procedure, link_procedures
from crawlers.store.service import notice_table
from notifications.digests import send_digests
from notifications.senders import OutboxSender
from pib.db import ready_engine
from watch.deadlines import BRUSSELS, current_deadline, open_condition
from watch.members import import_members, read_members_file
from watch.models import Match, Member, User
from watch.routing import route_new

log = logging.getLogger(__name__)
REPOSITORY = Path(__file__).resolve().parent.parent
RECORDED = REPOSITORY / "tests" / "fixtures"
CLUSTER = Path(__file__).resolve().parent / "demo" / "cluster.yaml"
FREQUENCIES = ("instant", "daily", "weekly")
LINK_DAYS_FROM_TODAY = 30
DEMO_CPV_SAMPLE = 20
"""The demo's CPV model learns from every 20th shipped example: seconds of training, not the minutes of the
service's model (`pib cpv retrain`), enough to show notices without codes routed on inferred ones."""
"""The emails' one-click links stay valid this long from today, not from the demo's date (long past)."""
SHOWN_CLOSED = 10

procedure_table: sa.Table = Procedure.__table__  # type: ignore[attr-defined]
match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
user_table: sa.Table = User.__table__  # type: ignore[attr-defined]


@dataclass
class DemoReport:
    folder: Path
    outbox: Path
    database_url: str = ""
    clock: datetime | None = None
    closed: int = 0
    lines: list[str] = field(default_factory=list)
    emails: list[Path] = field(default_factory=list)


def demo_clock(engine: Engine) -> datetime:
    """Noon in Brussels on the publication day of the newest recorded notice: the demo's "now", so that what
    was open when the notices were recorded is emailed, as it would have been that day."""
    with engine.connect() as connection:
        newest = connection.execute(sa.select(sa.func.max(notice_table.c.published))).scalar()
    if newest is None:
        raise ValueError("the demo crawled no notice with a publication date: nothing to run the demo as of")
    day = newest if isinstance(newest, date) else date.fromisoformat(str(newest)[:10])
    return datetime.combine(day, time(12), tzinfo=BRUSSELS).astimezone(UTC)


def closed_matches(engine: Engine, *, now: datetime) -> list[Any]:
    """The matches of tenders no longer open at `now` (deadline past, procedure ended, old news), which no
    email carries: the demo lists them rather than let them vanish."""
    query = (
        sa.select(
            member_table.c.name.label("member"),
            notice_table.c.source,
            notice_table.c.source_id,
            notice_table.c.title,
            notice_table.c.notice_type,
            current_deadline(notice_table, procedure_table).label("deadline_utc"),
            procedure_table.c.status,
        )
        .select_from(
            match_table.join(notice_table, notice_table.c.id == match_table.c.notice_id)
            .outerjoin(procedure_table, procedure_table.c.id == notice_table.c.procedure_id)
            .join(member_table, member_table.c.id == match_table.c.member_id)
        )
        .where(~open_condition(notice_table, procedure_table, now=now))
        .order_by(member_table.c.name, notice_table.c.published.desc(), notice_table.c.id)
    )
    with engine.connect() as connection:
        return list(connection.execute(query))


def _why_closed(row: Any) -> str:
    if row.status in ("cancelled", "awarded"):
        return row.status
    if row.deadline_utc is not None:
        return f"deadline {row.deadline_utc:%Y-%m-%d}"
    return "old news"


def run_demo(
    *,
    folder: Path,
    fixtures: Path = RECORDED,
    members: Path = CLUSTER,
    say: Callable[[str], None] = print,
    public_url: str = "http://127.0.0.1:8000",
) -> DemoReport:
    """Crawl the recorded notices from a local replay server, match them to a sample cluster, and write
    the alert emails to `folder/outbox`, as of the date of the newest recorded notice; the emails' links
    lead to `public_url`."""
    if not fixtures.is_dir():
        raise FileNotFoundError(f"no recorded notices at {fixtures} (pass --fixtures)")
    if folder.exists():
        shutil.rmtree(folder)
    outbox = folder / "outbox"
    outbox.mkdir(parents=True)
    database_url = f"sqlite:///{folder / 'pib.sqlite'}"
    report = DemoReport(folder, outbox, database_url)
    engine = ready_engine(database_url)

    def tell(line: str) -> None:
        report.lines.append(line)
        say(line)

    with replay_server(fixtures) as server:
        tell(f"replay server on {server.base_url}, serving {fixtures}")
        feeds = [{"name": "recorded-rss", "url": f"{server.base_url}/feeds/all.rss"}]
        environment = {
            "PIB_DATABASE_URL": database_url,
            "PIB_TED_API_URL": server.base_url,
            "PIB_BOAMP_API_URL": server.base_url,
            "PIB_BE_API_URL": server.base_url,
            "PIB_DECP_API_URL": server.base_url,
            "PIB_FEEDS": json.dumps(feeds),
            "PIB_DOWNLOAD_DELAY": "0",
            "PIB_AUTOTHROTTLE": "false",
        }
        for source in SOURCES:
            crawl = crawl_in_subprocess(
                source=source, since=date(2000, 1, 1), until=date.today(), env=environment, timeout=900
            )
            tell(f"crawl {crawl.describe()}")
    tell(f"procedures: {link_procedures(engine).describe()}")
    imported = import_members(engine, read_members_file(members))
    tell(f"members: {imported.describe()}")
    from watch.cpv.registry import retrain

    # the feed entries have no CPV code: a model trained on a twentieth of the shipped corpus infers theirs
    tell(retrain(engine, sample=DEMO_CPV_SAMPLE, progress=lambda message: None).describe())
    tell(f"routing: {route_new(engine).describe()}")
    clock = report.clock = demo_clock(engine)
    day = clock.astimezone(BRUSSELS).date()
    tell(f"the demo runs as of {day.isoformat()}, the date of its newest recorded notice")
    from pib.demo_staff import seed_staff_demo  # the staff console's interest board and group (issue 11)

    tell(seed_staff_demo(engine, now=clock).describe())
    settings = Settings(
        database_url=database_url,
        outbox_dir=outbox,
        email_backend="outbox",
        public_url=public_url,
        link_ttl_days=(date.today() - day).days + LINK_DAYS_FROM_TODAY,
    )
    sender = OutboxSender(outbox)
    for frequency in FREQUENCIES:
        summary = send_digests(engine, frequency=frequency, sender=sender, settings=settings, now=clock)
        tell(f"digests: {summary.describe()}")
    closed = closed_matches(engine, now=clock)
    report.closed = len(closed)
    tell(f"closed as of {day.isoformat()}, not emailed: {len(closed)} matched tenders (`pib matches` lists them)")
    for row in closed[:SHOWN_CLOSED]:
        tell(f"  closed ({_why_closed(row)})  {row.source}:{row.source_id}  {(row.title or '')[:60]}  → {row.member}")
    if len(closed) > SHOWN_CLOSED:
        tell(f"  … and {len(closed) - SHOWN_CLOSED} more")
    engine.dispose()
    report.emails = sorted(outbox.glob("*.eml"))
    return report


def demo_member(engine: Engine) -> tuple[str, str]:
    """The address and firm of the first user of the sample cluster, the one the demo signs in."""
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(user_table.c.email, member_table.c.name)
            .join(member_table, member_table.c.id == user_table.c.member_id)
            .where(user_table.c.active, member_table.c.active)
            .order_by(user_table.c.id)
            .limit(1)
        ).first()
    if row is None:
        raise ValueError("the demo's database has no active user to sign in")
    return row.email, row.name


def serve_demo(report: DemoReport, *, host: str, port: int, say: Callable[[str], None] = print) -> None:
    """Serve the portal over the demo's database until Ctrl-C or SIGTERM, giving a sign-in link for a demo member
    once it listens; sign-in emails go to the demo's outbox (their links to the log too). `OSError`: port busy."""
    from pib.demo_staff import staff_sign_in_lines
    from pib.web import start_web
    from pib.web.auth import LINK_LIFETIME, request_link

    public_url = f"http://{host}:{port}"
    os.environ.update(
        PIB_DATABASE_URL=report.database_url,
        PIB_OUTBOX_DIR=str(report.outbox),
        PIB_EMAIL_BACKEND="outbox",
        PIB_PUBLIC_URL=public_url,
    )
    get_settings.cache_clear()  # the portal reads the settings: the demo's database, outbox and address
    engine = ready_engine(report.database_url)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _number, _frame: stop.set())
    server, thread = start_web(host, port, engine)
    try:
        email, firm = demo_member(engine)
        link = request_link(engine, email=email, client="pib demo")
        minutes = int(LINK_LIFETIME.total_seconds() // 60)
        say(f"\nThe portal over the demo's data: {public_url}/ (Ctrl-C stops it)")
        say(f"Sign in as {email} ({firm}), within {minutes} minutes, once: {public_url}/login/{link.token}")
        say(f"A new link: the sign-in page, with that address (the link is logged and written to {report.outbox}/)")
        for line in staff_sign_in_lines(engine, public_url=public_url):
            say(line)
        while thread.is_alive() and not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        engine.dispose()
    log.info("stopped cleanly")

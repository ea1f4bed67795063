"""`pib demo`: the whole loop offline, on the recorded notices.

A local replay server serves the recorded notices in each source's real API shape; the real spiders crawl
it (each in a process of its own, as `pib serve` does), publications are linked into procedures, a sample
cluster of eight firms is loaded, notices are routed to them, and their alert emails are written as `.eml`
files to a folder a person can open. Everything lives in one demo folder, started afresh each time, so the
demo never touches the service's own database.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from config.settings import Settings
from crawlers.crawl import SOURCES, crawl_in_subprocess
from crawlers.replay.server import replay_server
from crawlers.store.procedures import link_procedures
from notifications.digests import send_digests
from notifications.senders import OutboxSender
from pib.db import ready_engine
from watch.members import import_members, read_members_file
from watch.routing import route_new

REPOSITORY = Path(__file__).resolve().parent.parent
RECORDED = REPOSITORY / "tests" / "fixtures"
CLUSTER = Path(__file__).resolve().parent / "demo" / "cluster.yaml"
FREQUENCIES = ("instant", "daily", "weekly")


@dataclass
class DemoReport:
    folder: Path
    outbox: Path
    lines: list[str] = field(default_factory=list)
    emails: list[Path] = field(default_factory=list)


def run_demo(
    *, folder: Path, fixtures: Path = RECORDED, members: Path = CLUSTER, say: Callable[[str], None] = print
) -> DemoReport:
    """Crawl the recorded notices from a local replay server, match them to a sample cluster, and write
    the alert emails to `folder/outbox`."""
    if not fixtures.is_dir():
        raise FileNotFoundError(f"no recorded notices at {fixtures} (pass --fixtures)")
    if folder.exists():
        shutil.rmtree(folder)
    outbox = folder / "outbox"
    outbox.mkdir(parents=True)
    report = DemoReport(folder, outbox)
    database_url = f"sqlite:///{folder / 'pib.sqlite'}"
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
    tell(f"routing: {route_new(engine).describe()}")
    settings = Settings(database_url=database_url, outbox_dir=outbox, email_backend="outbox")
    sender = OutboxSender(outbox)
    for frequency in FREQUENCIES:
        tell(f"digests: {send_digests(engine, frequency=frequency, sender=sender, settings=settings).describe()}")
    engine.dispose()
    report.emails = sorted(outbox.glob("*.eml"))
    return report

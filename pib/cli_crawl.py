"""Commands of the crawl: `pib crawl`, `pib sources`."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated

import typer


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"{option}: not a date (YYYY-MM-DD): {value!r}", err=True)
        raise typer.Exit(2) from None


def crawl(
    source: Annotated[str, typer.Argument(help="One of: ted, boamp, be, decp, feeds.")],
    since: Annotated[
        str | None, typer.Option(help="First publication date (a backfill); default: the checkpoint.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last publication date; default: today.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's report as JSON on stdout.")] = False,
) -> None:
    """Run one spider: incremental from the source's checkpoint, or a backfill of the dates given.

    Exit code 0 when the run is ok, 1 when it failed or was interrupted (its health record says why).
    """
    from crawlers.crawl import SOURCES, CrawlError, run_crawl
    from pib.db import ready_engine

    if source not in SOURCES:
        typer.echo(f"unknown source {source!r}: one of {', '.join(SOURCES)}", err=True)
        raise typer.Exit(2)
    first, last = _date(since, "--since"), _date(until, "--until")
    ready_engine()
    try:
        report = run_crawl(source=source, since=first, until=last)
    except CrawlError as error:
        typer.echo(f"crawl {source}: {error}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    typer.echo(report.describe(), err=True)
    if not report.ok:
        raise typer.Exit(1)


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone():%Y-%m-%d %H:%M}" if moment else "never"


def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per source.")] = False,
) -> None:
    """Each source's health: last good crawl, last run, checkpoint, notices per day, warnings."""
    from config.settings import get_settings
    from crawlers.crawl.context import SOURCES
    from crawlers.crawl.health import WEEKS, source_health
    from crawlers.crawl.runner import brussels_today
    from pib.db import ready_engine

    feed_names = [feed.name for feed in get_settings().feeds]
    healths = source_health(
        ready_engine(), sources=SOURCES, today=brussels_today(), now=datetime.now(UTC), feed_names=feed_names
    )
    if as_json:
        for health in healths:
            typer.echo(json.dumps(asdict(health), default=str, ensure_ascii=False))
        return
    typer.echo(
        f"{'source':<7} {'last good crawl':<17} {'last run':<22} {'checkpoint':<11} notices/day, last {WEEKS} weeks"
    )
    for health in healths:
        last_run = f"#{health.last_run_id} {health.last_status}" if health.last_run_id else "-"
        per_day = " ".join(f"{value:>6.1f}" for value in health.per_day)
        checkpoint = str(health.checkpoint or "-")
        typer.echo(f"{health.source:<7} {_when(health.last_good):<17} {last_run:<22} {checkpoint:<11} {per_day}")
        for warning in health.warnings:
            typer.echo(f"        ! {warning}")


def register(app: typer.Typer) -> None:
    """Add the crawl commands to the `pib` app."""
    app.command()(crawl)
    app.command()(sources)

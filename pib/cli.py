"""`pib`: the one entry point of the service (commands in docs/cli.md).

Only typer is imported here: each command imports what it needs in its body, so `pib --help` and a
mistyped command answer at once instead of loading the store, Scrapy and SQLAlchemy first.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from crawlers.store.service import StoreSummary

app = typer.Typer(
    help="PIB: tender alerts, anonymous interest and partner groups for business clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

Paths = Annotated[list[Path], typer.Argument(help="Notice files, or folders searched for .xml and .json files.")]


def _err(message: str) -> None:
    typer.echo(message, err=True)


@app.callback()
def _settings_first() -> None:
    """Settings the service cannot run with (a bad PIB_SECRET_KEY in production): one line, exit 2."""
    from config.settings import SettingsError, get_settings

    try:
        get_settings()
    except SettingsError as error:
        _err(f"pib: {error}")
        raise typer.Exit(2) from None


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[], None]]:
    """A progress bar on a terminal (stderr); nothing when stderr is redirected, so logs stay clean."""
    from rich.console import Console
    from rich.progress import MofNCompleteColumn, Progress

    console = Console(stderr=True)
    with Progress(
        *Progress.get_default_columns(),
        MofNCompleteColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


@app.command()
def parse(paths: Paths) -> None:
    """Print the normalized notices of files as JSON Lines; failures on stderr, exit 1 if any."""
    from crawlers.ingest import iter_files, parse_file

    failed = 0
    for path in iter_files(paths):
        result = parse_file(path)
        for parsed in result.outcome.notices:
            sys.stdout.write(json.dumps(parsed.notice.to_json_dict(), ensure_ascii=False) + "\n")
        for failure in result.outcome.failures:
            failed += 1
            where = f"{path} [{failure.record}]" if failure.record else str(path)
            _err(f"{where}: {failure.reason}")
    if failed:
        raise typer.Exit(1)


def _print_summary(summary: StoreSummary, files: int) -> None:
    _err(f"ingested {files} files: {summary.describe()}")
    for failure in summary.failures[:50]:
        _err(f"  failed: {failure}")
    if summary.failed > 50:
        _err(f"  ... and {summary.failed - 50} more: see `pib errors`")


@app.command()
def ingest(paths: Paths) -> None:
    """Parse and store files (idempotent); failures are set aside and listed, exit 1 if any."""
    from crawlers.ingest import ingest_files, iter_files
    from crawlers.store.procedures import link_procedures
    from pib.db import ready_engine

    engine = ready_engine()
    files = list(iter_files(paths))
    with _progress(len(files), "ingesting") as advance:
        summary = ingest_files(engine, files, on_file=lambda _path: advance())
    _print_summary(summary, len(files))
    _err(f"procedures: {link_procedures(engine).describe()}")
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def export(
    source: Annotated[str | None, typer.Option(help="Only this source (ted, boamp, be, feed:NAME).")] = None,
    since: Annotated[str | None, typer.Option(help="Only notices published on or after this date.")] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="jsonl (the normalized notices) or ocds (one OCDS 1.1 release package).")
    ] = "jsonl",
    ocid_prefix: Annotated[str, typer.Option(help="OCDS ocid prefix (ocds-PREFIX-...).")] = "pib",
) -> None:
    """Print the stored notices as JSON Lines (the normalized notice of docs/notice.md), or as one OCDS release
    package (docs/ocds.md)."""
    from crawlers.store.service import export_notices
    from pib.db import ready_engine

    if output_format not in ("jsonl", "ocds"):
        _err(f"--format: jsonl or ocds, not {output_format!r}")
        raise typer.Exit(2)

    since_date = None
    if since:
        try:
            since_date = date.fromisoformat(since)
        except ValueError:
            _err(f"--since: not a date (YYYY-MM-DD): {since!r}")
            raise typer.Exit(2) from None
    if output_format == "ocds":
        from crawlers.ocds import stored_notices, write_package

        write_package(sys.stdout, stored_notices(ready_engine(), source=source, since=since_date), prefix=ocid_prefix)
        return
    for data in export_notices(ready_engine(), source=source, since=since_date):
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


@app.command()
def errors(limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50) -> None:
    """List the files and records set aside, with where and why."""
    import sqlalchemy as sa

    from crawlers.store.models import ParseErrorRecord
    from pib.db import ready_engine

    table = ParseErrorRecord.__table__  # type: ignore[attr-defined]
    with ready_engine().connect() as connection:
        rows = connection.execute(sa.select(table).order_by(table.c.id.desc()).limit(limit)).mappings().all()
    for row in rows:
        where = f"{row['origin']} [{row['record']}]" if row["record"] else row["origin"]
        typer.echo(f"{row['created_at']:%Y-%m-%d %H:%M} {where}: {row['reason']}")


@app.command()
def stats() -> None:
    """What the store holds: notices per source and type, files set aside, the latest notices."""
    import sqlalchemy as sa

    from crawlers.store.service import error_table, notice_table
    from pib.db import ready_engine

    with ready_engine().connect() as connection:
        per_kind = connection.execute(
            sa.select(notice_table.c.source, notice_table.c.notice_type, sa.func.count())
            .group_by(notice_table.c.source, notice_table.c.notice_type)
            .order_by(notice_table.c.source, notice_table.c.notice_type)
        ).all()
        set_aside = connection.execute(sa.select(sa.func.count()).select_from(error_table)).scalar_one()
        latest = connection.execute(
            sa.select(
                notice_table.c.source,
                notice_table.c.source_id,
                notice_table.c.published,
                notice_table.c.title,
            )
            .order_by(notice_table.c.published.desc(), notice_table.c.id.desc())
            .limit(5)
        ).all()
    total = sum(n for *_, n in per_kind)
    typer.echo(f"{total} notices stored")
    for source, notice_type, n in per_kind:
        typer.echo(f"  {source:<8} {notice_type:<18} {n:>6}")
    typer.echo(f"{set_aside} files or records set aside (`pib errors` lists them)")
    typer.echo("latest:")
    for source, source_id, published, title in latest:
        typer.echo(f"  {published} {source}:{source_id}  {title[:80]}")


@app.command()
def demo(
    folder: Annotated[Path, typer.Option(help="Where the demo keeps its database and outbox (made afresh).")] = Path(
        "var/demo"
    ),
    fixtures: Annotated[Path | None, typer.Option(help="Recorded notices to serve.")] = None,
    serve: Annotated[bool, typer.Option(help="Then serve the portal over the demo's data until Ctrl-C.")] = False,
) -> None:
    """The whole loop offline: crawl the recorded notices from a local replay server, match them to a
    sample cluster, and write the alert emails to an outbox folder; with --serve, then the portal over them."""
    from config.settings import get_settings
    from pib.demo import RECORDED, run_demo, serve_demo

    settings = get_settings()
    public_url = f"http://{settings.web_host}:{settings.web_port}"
    report = run_demo(folder=folder, fixtures=fixtures or RECORDED, say=_err, public_url=public_url)
    typer.echo(f"\n{len(report.emails)} alert emails written to {report.outbox.resolve()}/")
    for email in report.emails[:10]:
        typer.echo(f"  {email.name}")
    typer.echo("Open them with any mail program (they are .eml files), or read them as text.")
    if serve:
        from pib.logging_setup import configure_logging

        configure_logging()
        try:
            serve_demo(report, host=settings.web_host, port=settings.web_port, say=typer.echo)
        except OSError as error:
            typer.echo(f"pib demo --serve: cannot serve on {settings.web_host}:{settings.web_port}: {error}", err=True)
            raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the latest migration."""
    from config.settings import get_settings
    from pib.db import upgrade

    upgrade(get_settings().database_url)
    _err("database is up to date")


def _register_commands() -> None:
    from pib import cli_awards, cli_consortium, cli_cpv, cli_crawl, cli_notify, cli_watch
    from pib.web import cli as cli_web

    cli_crawl.register(app)
    cli_watch.register(app)
    cli_consortium.register(app)
    cli_notify.register(app)
    cli_awards.register(app)
    cli_web.register(app)
    cli_cpv.register(app)
    from pib import cli_cpv_admin  # last: it adds its commands to the `cpv` group of pib/cli_cpv.py

    cli_cpv_admin.register(app)


_register_commands()

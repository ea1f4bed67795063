"""Commands of the watch: `pib members import|export`, `pib match`, `pib matches`, `pib feedback`."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class FileFormat(StrEnum):
    yaml = "yaml"
    csv = "csv"


class VerdictChoice(StrEnum):
    not_relevant = "not-relevant"
    interesting = "interesting"


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _member_id(engine: Any, who: str) -> int:
    from watch.members import find_member

    member = find_member(engine, who)
    if member is None or member.id is None:
        _err(f"no member named {who!r} (give its name as in the members file, or its id)")
        raise typer.Exit(2)
    return member.id


def members_import(
    file: Annotated[Path, typer.Argument(help="Members file: YAML (docs/members-file.md), or CSV (.csv, flattened).")],
    check: Annotated[bool, typer.Option("--check", help="Only validate the file; store nothing.")] = False,
) -> None:
    """Load members, users and profiles (idempotent); a bad member is reported by line and skipped, exit 1."""
    from watch.members import MembersFileError, import_members, read_members_file

    try:
        members = read_members_file(file)
    except MembersFileError as error:
        _err(f"{file}: {error}")
        raise typer.Exit(1) from None
    if check:
        for problem in members.problems:
            _err(f"{file}: {problem}")
        _err(f"{file}: {len(members.members)} members valid, {len(members.problems)} problems")
        raise typer.Exit(1 if members.problems else 0)
    from pib.db import ready_engine

    summary = import_members(ready_engine(), members)
    for problem in summary.problems:
        _err(f"{file}: {problem}")
    _err(f"{file}: {summary.describe()}")
    if summary.problems:
        raise typer.Exit(1)


def members_export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    file_format: Annotated[
        FileFormat | None, typer.Option("--format", help="yaml or csv (default: from --output's suffix, else yaml).")
    ] = None,
) -> None:
    """Write every member and its active profiles as a members file (importing it back changes nothing)."""
    from pib.db import ready_engine
    from watch.members import export_csv, export_yaml

    chosen = file_format or (FileFormat.csv if output and output.suffix.lower() == ".csv" else FileFormat.yaml)
    engine = ready_engine()
    text = export_csv(engine) if chosen is FileFormat.csv else export_yaml(engine)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        _err(f"members written to {output}")


def match(
    everything: Annotated[
        bool, typer.Option("--all", help="Route every stored notice again (after adding members); no duplicates.")
    ] = False,
) -> None:
    """Route the notices not routed yet to the member profiles they match."""
    from pib.cli import _progress
    from pib.db import ready_engine
    from watch.routing import count_pending, route_new

    engine = ready_engine()
    total = count_pending(engine)
    _first_cpv_model(engine, total)
    with _progress(total, "routing") as advance:

        def on_page(notices: int) -> None:
            for _ in range(notices):
                advance()

        summary = route_new(engine, everything=everything, on_page=on_page)
    for failure in summary.failures[:20]:
        _err(f"  failed: {failure}")
    _err(summary.describe())
    if summary.failures:
        raise typer.Exit(1)


def _first_cpv_model(engine: Any, pending: int) -> None:
    """A fresh installation has no CPV model: train and store the first one before routing, saying so (the
    notices without codes are routed with the codes it infers)."""
    if not pending:
        return
    from watch.cpv.registry import active_version, retrain

    if active_version(engine) is None:
        _err("no CPV model yet: training the first one on the shipped corpus (a few minutes, once)")
        _err(retrain(engine, progress=_err).describe())


def matches(
    member: Annotated[str, typer.Argument(help="Member name (as in the members file) or id.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many, best first.")] = None,
) -> None:
    """What a member receives, best first: source, source_id, score and reasons (and title, lots)."""
    from pib.db import ready_engine
    from watch.routing import member_matches

    engine = ready_engine()
    for found in member_matches(engine, _member_id(engine, member), limit=limit):
        if as_json:
            record = {
                "source": found["source"],
                "source_id": found["source_id"],
                "score": found["score"],
                "reasons": found["reasons"],
                "reasons_text": found["reasons_text"],
                "title": found["title"],
                "lot_ids": found["lot_ids"],
                "profile": found["profile"],
                "notice_type": found["notice_type"],
                "published": found["published"].isoformat(),
                "deadline": found["deadline"],
                "url": found["url"],
                "notified": found["notified_at"] is not None,
                "closed": found["closed"],
                "days_left": found["days_left"],
            }
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            lots = f" (lots {', '.join(found['lot_ids'])})" if found["lot_ids"] else ""
            closed = "  [closed]" if found["closed"] else ""
            line = f"{found['score']:.3f}  {found['source']}:{found['source_id']}  {found['title'][:90]}{lots}{closed}"
            typer.echo(line)
            typer.echo(f"       {'; '.join(found['reasons_text'])}")


def feedback(
    member: Annotated[str, typer.Argument(help="Member name or id.")],
    source_id: Annotated[str, typer.Argument(help="The notice's id at its source.")],
    verdict: Annotated[VerdictChoice, typer.Argument(help="not-relevant or interesting.")],
    source: Annotated[str | None, typer.Option(help="The source, when the id exists at several.")] = None,
) -> None:
    """Record a member's verdict on a notice; the member's similar notices are ranked by it."""
    import sqlalchemy as sa

    from crawlers.store.service import notice_table
    from pib.db import ready_engine
    from watch.feedback import Verdict, record_feedback

    engine = ready_engine()
    member_id = _member_id(engine, member)
    query = sa.select(notice_table.c.id, notice_table.c.source).where(notice_table.c.source_id == source_id)
    if source:
        query = query.where(notice_table.c.source == source)
    with engine.connect() as connection:
        found = connection.execute(query).all()
    if len(found) != 1:
        sources = ", ".join(row.source for row in found)
        _err(f"{source_id}: " + (f"at several sources ({sources}): give --source" if found else "no such notice"))
        raise typer.Exit(2)
    chosen: Verdict = "interesting" if verdict is VerdictChoice.interesting else "not-relevant"
    changed = record_feedback(engine, member_id=member_id, notice_id=found[0].id, verdict=chosen)
    _err(f"{verdict.value} recorded; {changed} waiting matches re-ranked")


def register(app: typer.Typer) -> None:
    """Add the watch commands to the `pib` app."""
    members_app = typer.Typer(help="Members, users and watch profiles (docs/members-file.md).", no_args_is_help=True)
    members_app.command("import")(members_import)
    members_app.command("export")(members_export)
    app.add_typer(members_app, name="members")
    app.command("match")(match)
    app.command("matches")(matches)
    app.command("feedback")(feedback)

"""The CPV classifier in service, by hand: `pib cpv retrain [--force]`, `pib cpv models`, `pib cpv activate N`.

`python -m pib.cli_cpv_admin [--force] [--json]` is the same retrain in a process of its own: the service's
`cpv-retrain` job (pib/scheduler.py) runs it so that training (minutes of CPU, most of it holding the GIL) does
not slow the web side. Progress goes to the log on stderr; the last line of stdout is the summary, a sentence
or, with `--json`, JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Annotated

import typer


def _engine():  # type: ignore[no-untyped-def]
    from config.settings import get_settings
    from pib.db import ready_engine

    return ready_engine(get_settings().database_url)


def retrain(
    force: Annotated[bool, typer.Option("--force", help="Train even if the store gained too little.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
) -> None:
    """Train a new version of the CPV classifier (shipped corpus + the store's coded notices) if the store has
    gained at least `cpv_retrain_min_new` coded notices since the active one, or if there is none; activate it."""
    from pib.logging_setup import configure_logging
    from watch.cpv.registry import retrain as run

    configure_logging()
    summary = run(_engine(), force=force)
    typer.echo(json.dumps(summary.to_json()) if as_json else summary.describe())


def models() -> None:
    """The stored versions of the CPV classifier, newest first; `*` marks the active one."""
    from pib.logging_setup import local_time
    from watch.cpv.registry import versions

    found = versions(_engine())
    if not found:
        typer.echo("no CPV model yet: `pib cpv retrain` trains one (routing also does on first need)")
        return
    for version in found:
        typer.echo(
            f"{'*' if version.active else ' '} version {version.version}  {local_time(version.created_at)}  "
            f"{version.trained_on:,} examples, {version.store_notices:,} coded notices in the store, "
            f"{version.size / 1e6:.1f} MB"
        )


def activate(version: Annotated[int, typer.Argument(help="A stored version (`pib cpv models`).")]) -> None:
    """Make an older stored version the active one again (back from a bad retrain)."""
    from watch.cpv.registry import activate as run

    try:
        run(_engine(), version)
    except LookupError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"CPV model version {version} is active")


def register(app: typer.Typer) -> None:
    """Add the commands to the `cpv` group (made by pib/cli_cpv.py, or here when it is not there)."""
    group = next(
        (info.typer_instance for info in app.registered_groups if info.name == "cpv" and info.typer_instance), None
    )
    if group is None:
        group = typer.Typer(help="CPV codes inferred from notices' text.", no_args_is_help=True)
        app.add_typer(group, name="cpv")
    group.command("retrain")(retrain)
    group.command("models")(models)
    group.command("activate")(activate)


def main(argv: list[str] | None = None) -> int:
    """The retrain of the service's job, in its own process."""
    parser = argparse.ArgumentParser(prog="python -m pib.cli_cpv_admin", description="Retrain the CPV classifier.")
    parser.add_argument("--force", action="store_true", help="train even if the store gained too little")
    parser.add_argument("--json", action="store_true", help="the summary as JSON on the last line of stdout")
    args = parser.parse_args(argv)
    from pib.logging_setup import configure_logging
    from watch.cpv.registry import retrain as run

    configure_logging()
    summary = run(_engine(), force=args.force)
    sys.stdout.write((json.dumps(summary.to_json()) if args.json else summary.describe()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

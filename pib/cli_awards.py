"""Commands of the award results: `pib organisations resolve|links|confirm|refuse` (docs/awards.md)."""

from __future__ import annotations

from typing import Annotated

import typer

organisations_app = typer.Typer(help="Organisations resolved from award winners, and the members' links to them.")


def _err(message: str) -> None:
    typer.echo(message, err=True)


@organisations_app.command("resolve")
def resolve() -> None:
    """Resolve the winners of the award notices not resolved yet; link members; print what it did and the
    measure of the resolution (organisations merging two identifiers: must be 0)."""
    from pib.db import ready_engine
    from watch.organisations import measure, resolve_awards

    engine = ready_engine()
    _err(f"organisations: {resolve_awards(engine).describe()}")
    typer.echo(measure(engine).describe())


@organisations_app.command("links")
def links(
    status: Annotated[str, typer.Option(help="proposed, confirmed or refused.")] = "proposed",
) -> None:
    """The members' links to organisations in a state, one a line: member, organisation (id), how, awards."""
    from pib.db import ready_engine
    from watch.organisations import link_proposals

    if status not in ("proposed", "confirmed", "refused"):
        _err("status must be proposed, confirmed or refused")
        raise typer.Exit(2)
    for link in link_proposals(ready_engine(), status=status):  # type: ignore[arg-type]
        number = f", {link.identifier}" if link.identifier else ""
        typer.echo(
            f"{link.member_name}\t{link.organisation_name} (#{link.organisation_id}{number})\t{link.how}\t"
            f"{link.awards} awards\t{' / '.join(link.variants)}"
        )


def _decide(member: str, organisation: int, *, accept: bool) -> None:
    from pib.cli_watch import _member_id
    from pib.db import ready_engine
    from watch.organisations import LinkError, decide_link

    engine = ready_engine()
    member_id = _member_id(engine, member)
    try:
        with engine.begin() as connection:
            decide_link(connection, member_id=member_id, organisation_id=organisation, accept=accept, by="pib")
    except LinkError as error:
        _err(str(error))
        raise typer.Exit(1) from None
    _err("confirmed" if accept else "refused")


@organisations_app.command("confirm")
def confirm(member: str, organisation: int) -> None:
    """Confirm that MEMBER (name or id) is the organisation ORGANISATION (its id)."""
    _decide(member, organisation, accept=True)


@organisations_app.command("refuse")
def refuse(member: str, organisation: int) -> None:
    """Refuse a link proposed by name: it is not proposed again."""
    _decide(member, organisation, accept=False)


@organisations_app.command("suggest")
def suggest(
    tender: Annotated[str, typer.Argument(help="The tender: SOURCE_ID, or SOURCE:SOURCE_ID.")],
    json_output: Annotated[bool, typer.Option("--json", help="The public model as JSON.")] = False,
) -> None:
    """Staff: the firms that won contracts in the tender's CPV groups, the cluster's first, each with its reason."""
    from consortium.errors import ConsortiumError
    from consortium.track_record import award_suggestions
    from pib.db import ready_engine

    try:
        found = award_suggestions(ready_engine(), tender=tender)
    except ConsortiumError as error:
        _err(str(error))
        raise typer.Exit(1) from None
    if json_output:
        typer.echo(found.model_dump_json(indent=2))
        return
    for title, records in (("members of the cluster", found.cluster), ("outside the cluster", found.outside)):
        typer.echo(f"{title}:")
        for record in records:
            typer.echo(f"  {record.member_name or record.name}\t{record.reason}")


def register(app: typer.Typer) -> None:
    app.add_typer(organisations_app, name="organisations")

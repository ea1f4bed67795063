"""`pib staff add EMAIL [--language fr]` and `pib tokens create EMAIL` (design §7)."""

from __future__ import annotations

from typing import Annotated

import typer

staff_app = typer.Typer(
    help="Staff users of the cluster (they see identities; members never do).", no_args_is_help=True
)
tokens_app = typer.Typer(help="Personal API tokens (Authorization: Bearer) for /api/v1.", no_args_is_help=True)


@staff_app.command("add")
def staff_add(
    email: Annotated[str, typer.Argument(help="The staff member's email address (they sign in with it).")],
    language: Annotated[str, typer.Option(help="fr, nl or en: the portal's and the emails' language.")] = "fr",
) -> None:
    """Make (or update) a staff user, who can then sign in by emailed link."""
    from pib.db import ready_engine

    from .auth import AuthError, add_staff
    from .i18n import LANGUAGES, known

    chosen = known(language)
    if chosen is None:
        typer.echo(f"--language: one of {', '.join(LANGUAGES)}, got {language!r}", err=True)
        raise typer.Exit(2)
    try:
        staff_id = add_staff(ready_engine(), email=email, language=chosen)
    except AuthError as error:
        typer.echo(f"pib staff add: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"staff user {staff_id}: {email.strip()} ({chosen})")


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Argument(help="The address of a member firm's user or of a staff user.")],
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "",
) -> None:
    """Print a new personal API token; only its hash is kept, so copy it now."""
    from pib.db import ready_engine

    from .auth import AuthError, create_api_token

    try:
        token = create_api_token(ready_engine(), email=email, name=name)
    except AuthError as error:
        typer.echo(f"pib tokens create: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(token)
    typer.echo("Shown once: PIB keeps only its hash. Send it as `Authorization: Bearer <token>`.", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(staff_app, name="staff")
    app.add_typer(tokens_app, name="tokens")

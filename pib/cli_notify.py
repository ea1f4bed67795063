"""Commands of the notifications and the service: `pib serve`, `pib digests send`, `pib reminders send`,
`pib reveal send`, `pib users`, `pib outbox`.

A sending command that stopped on a server failure (see `notifications.outbox`) says why, shows what waits
in the outbox and exits with status 1, so that a cron job or a person sees it; the emails are kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from notifications.outbox import DeliverySummary

FREQUENCIES = ("instant", "daily", "weekly")


def _log_to_stderr() -> None:
    from pib.logging_setup import configure_logging

    configure_logging()


def serve(
    web: Annotated[bool, typer.Option(help="Also serve the portal and the one-click links of the emails.")] = True,
    scheduler: Annotated[bool, typer.Option(help="Run the scheduled jobs; --no-scheduler: the web alone.")] = True,
) -> None:
    """Run the service: scheduled crawls, matching, digests, reminders, and the portal; stop with Ctrl-C or SIGTERM."""
    from pib.scheduler import serve as run

    _log_to_stderr()
    if not scheduler:
        from config.settings import get_settings
        from pib.db import ready_engine
        from pib.web import run_web

        if not web:
            typer.echo("--no-scheduler with --no-web: nothing to serve", err=True)
            raise typer.Exit(2)
        settings = get_settings()
        try:
            run_web(settings.web_host, settings.web_port, ready_engine(settings.database_url))
        except OSError as error:
            typer.echo(f"pib serve: cannot serve on {settings.web_host}:{settings.web_port}: {error}", err=True)
            raise typer.Exit(1) from None
        return
    run(web=web)


def digests_send(
    frequency: Annotated[str | None, typer.Option(help="instant, daily or weekly; all three when not given.")] = None,
) -> None:
    """Send the digests waiting at a frequency now (the service does it on schedule)."""
    from config.settings import get_settings
    from notifications.digests import send_digests
    from notifications.senders import sender_from_settings
    from pib.db import ready_engine

    if frequency is not None and frequency not in FREQUENCIES:
        typer.echo(f"--frequency: one of {', '.join(FREQUENCIES)}, got {frequency!r}", err=True)
        raise typer.Exit(2)
    _log_to_stderr()
    settings = get_settings()
    engine = ready_engine(settings.database_url)
    chosen = [frequency] if frequency else list(FREQUENCIES)
    for index, one in enumerate(chosen):
        summary = send_digests(engine, frequency=one, sender=sender_from_settings(settings), settings=settings)
        typer.echo(summary.describe(), err=True)
        if summary.delivery.stopped:
            if rest := chosen[index + 1 :]:
                typer.echo(f"{', '.join(rest)} digests not composed: sending stopped; run again once fixed", err=True)
            _stopped(engine, summary.delivery)
    if settings.email_backend == "outbox":
        typer.echo(f"emails written to {settings.outbox_dir.resolve()}", err=True)


def reminders_send() -> None:
    """Send the deadline reminders and change alerts due now for the tenders firms flagged."""
    from config.settings import get_settings
    from notifications.reminders import send_followups
    from notifications.senders import sender_from_settings
    from pib.db import ready_engine

    _log_to_stderr()
    settings = get_settings()
    engine = ready_engine(settings.database_url)
    summary = send_followups(engine, sender=sender_from_settings(settings), settings=settings)
    typer.echo(summary.describe(), err=True)
    if summary.delivery.stopped:
        _stopped(engine, summary.delivery)


def reveal_send() -> None:
    """Send the reveal emails due now: requests to the firms asked, names and contacts once both agree."""
    from config.settings import get_settings
    from notifications.senders import sender_from_settings
    from pib.db import ready_engine
    from pib.jobs import send_reveal_emails

    _log_to_stderr()
    settings = get_settings()
    engine = ready_engine(settings.database_url)
    summary = send_reveal_emails(engine, sender=sender_from_settings(settings), settings=settings)
    typer.echo(summary.describe(), err=True)
    if summary.delivery.stopped:
        _stopped(engine, summary.delivery)


def _stopped(engine: Engine, delivery: DeliverySummary) -> None:
    """A run stopped on a server failure: what waits and the last error, then exit status 1."""
    from notifications.outbox import outbox_status

    typer.echo(f"outbox: {outbox_status(engine, limit=0).describe()}", err=True)
    raise typer.Exit(1)


def users(
    disabled: Annotated[bool, typer.Option("--disabled", help="Only the addresses refused for good, and why.")] = False,
) -> None:
    """List the users of the member firms and whether they receive emails."""
    import sqlalchemy as sa

    from notifications.compose import member_table, user_table
    from pib.db import ready_engine

    query = (
        sa.select(
            member_table.c.name,
            user_table.c.email,
            user_table.c.language,
            user_table.c.active,
            user_table.c.unsubscribed_at,
            user_table.c.email_disabled_reason,
        )
        .join(member_table, member_table.c.id == user_table.c.member_id)
        .order_by(member_table.c.name, user_table.c.email)
    )
    if disabled:
        query = query.where(user_table.c.email_disabled_reason.is_not(None))
    with ready_engine().connect() as connection:
        rows = connection.execute(query).all()
    for member, email, language, active, unsubscribed_at, reason in rows:
        if reason:
            status = f"disabled: {reason}"
        elif unsubscribed_at:
            status = f"unsubscribed {unsubscribed_at:%Y-%m-%d}"
        else:
            status = "receives emails" if active else "inactive"
        typer.echo(f"{member}\t{email}\t{language}\t{status}")
    if disabled and not rows:
        typer.echo("no disabled address", err=True)


def outbox(
    limit: Annotated[int, typer.Option(min=0, help="How many waiting emails to list.")] = 50,
) -> None:
    """What the outbox holds: counts per state, the last error met, and the emails waiting to be sent."""
    from notifications.outbox import outbox_status
    from pib.db import ready_engine

    status = outbox_status(ready_engine(), limit=limit)
    typer.echo(f"outbox: {status.describe()}")
    if status.last_error is not None:
        last = status.last_error
        tried = f"{last.tried_at:%Y-%m-%d %H:%M} UTC" if last.tried_at else "never tried"
        typer.echo(f"last error ({tried}, {last.key}, attempt {last.attempts}): {last.last_error}")
    if not status.waiting:
        typer.echo("no email waiting", err=True)
        return
    typer.echo("key\tto\tstate\tattempts\tnext attempt\tlast error")
    for one in status.waiting:
        next_attempt = f"{one.next_attempt_at:%Y-%m-%d %H:%M} UTC" if one.next_attempt_at else "now"
        typer.echo(f"{one.key}\t{one.to}\t{one.state}\t{one.attempts}\t{next_attempt}\t{one.last_error or ''}")
    if status.more:
        typer.echo(f"... and {status.more} more waiting (--limit)")


def register(app: typer.Typer) -> None:
    """Add the notification and service commands to the `pib` app."""
    app.command()(serve)
    app.command()(users)
    app.command()(outbox)
    digests = typer.Typer(help="Alert digests.", no_args_is_help=True)
    digests.command("send")(digests_send)
    app.add_typer(digests, name="digests")
    reminders = typer.Typer(help="Deadline reminders and change alerts of flagged tenders.", no_args_is_help=True)
    reminders.command("send")(reminders_send)
    app.add_typer(reminders, name="reminders")
    # Beside `pib reveal ask|answer|log` of the consortium: the sending is the notifications' part.
    from pib.cli_consortium import reveal_app

    reveal_app.command("send")(reveal_send)

"""Commands of the watch: `pib members import`, `pib match`, `pib matches`."""

import typer


def register(app: typer.Typer) -> None:
    """Add the watch commands to the `pib` app."""

"""Commands of the crawl: `pib crawl`, `pib sources`."""

import typer


def register(app: typer.Typer) -> None:
    """Add the crawl commands to the `pib` app."""

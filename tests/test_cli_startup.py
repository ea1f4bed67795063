"""`pib --help` answers without loading the store: every command imports what it needs in its own body.

Measured in a fresh interpreter, by the modules loaded (behaviour), not by the time taken (machine-dependent).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.crawl.context import SOURCES

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sqlalchemy", "sqlmodel", "scrapy", "twisted", "crawlers", "watch", "consortium", "notifications", "alembic")
"""Top-level packages that only a command's work needs."""

PROBE = """
import json, sys
from pib.cli import app
try:
    app(sys.argv[1:], prog_name="pib")
except SystemExit:
    pass
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.stdin.readline())))
print(json.dumps(heavy), file=sys.stderr)
"""


def loaded_heavy_modules(*args: str) -> tuple[list[str], str]:
    """Run `pib ARGS` in a fresh interpreter: the heavy packages it loaded, and what it printed."""
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(HEAVY) + "\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    *_, last = completed.stderr.strip().splitlines()
    return json.loads(last), completed.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("crawl", "--help"),
        ("members", "--help"),
        ("interests", "--help"),
        ("groups", "--help"),
        ("digests", "--help"),
        ("no-such-command",),
    ],
)
def test_help_loads_no_database_or_crawler_code(args: tuple[str, ...]) -> None:
    heavy, _ = loaded_heavy_modules(*args)
    assert heavy == [], f"`pib {' '.join(args)}` imported {heavy}: move those imports into the command bodies"


def test_help_still_lists_every_command_and_source() -> None:
    _, out = loaded_heavy_modules("--help")
    for command in ("parse", "ingest", "crawl", "members", "match", "interest", "groups", "serve", "demo"):
        assert command in out
    _, crawl_help = loaded_heavy_modules("crawl", "--help")
    for source in SOURCES:
        assert source in crawl_help, f"`pib crawl --help` does not name the source {source!r}"


def test_a_command_still_loads_what_it_needs(tmp_path: Path) -> None:
    bad = tmp_path / "École Numérique SA.xml"
    bad.write_text("<not-a-notice/>", encoding="utf-8")
    heavy, _ = loaded_heavy_modules("parse", str(bad))
    assert "crawlers" in heavy

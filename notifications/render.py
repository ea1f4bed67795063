"""Rendering emails and pages from the templates: one folder per kind, `subject.txt`, `body.txt`, `body.html`.

HTML templates autoescape every value (a notice title holding `<script>` arrives as text); text templates
do not, so the plain part shows the values intact. Unknown variables are errors, not blanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from crawlers.parsers.fields import collapse

from .i18n import language_of, translator

MAX_TITLE = 300
_SPACE = re.compile(r"\s")
COLONS = {"fr": "\u00a0: "}
"""French puts a (non-breaking) space before a colon."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def render(kind: str, context: dict[str, Any], *, language: str) -> Rendered:
    """The subject and both bodies of an email of that kind, in that language."""
    env = environment()
    language = language_of(language)
    values = {**context, "t": translator(language), "language": language, "colon": COLONS.get(language, ": ")}
    subject = collapse(env.get_template(f"{kind}/subject.txt").render(values)) or kind
    values["subject"] = subject
    return Rendered(
        subject=subject,
        text=env.get_template(f"{kind}/body.txt").render(values),
        html=env.get_template(f"{kind}/body.html").render(values),
    )


def render_page(*, language: str, paragraphs: list[str], button: str | None = None) -> str:
    """A small page for the one-click links: what the link does or did, and maybe a button to confirm."""
    return (
        environment()
        .get_template("page/body.html")
        .render(language=language_of(language), paragraphs=paragraphs, button=button)
    )


@lru_cache(maxsize=65_536)  # the same titles and reasons recur across the users of a run
def short(text: str | None, limit: int = MAX_TITLE) -> str:
    """Whitespace collapsed and cut to `limit` characters (a title is display, not a document).

    >>> short("  Travaux   de voirie "), short("x" * 10, 4)
    ('Travaux de voirie', 'xxx…')
    """
    text = collapse(text) or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def web_url(value: Any) -> str | None:
    """A notice's URL when it is an http(s) URL; anything else (javascript:, data:, garbage) is dropped.

    >>> web_url("https://ted.europa.eu/n/1"), web_url("javascript:alert(1)"), web_url(None)
    ('https://ted.europa.eu/n/1', None, None)
    """
    if not isinstance(value, str) or len(value) > 2000:
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc and not _SPACE.search(value) else None

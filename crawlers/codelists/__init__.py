"""CPV and NUTS labels in French, Dutch and English, for display and text search.

Built by `tools/build_codelists.py` from the eForms SDK translations (provenance in SOURCES.md here).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib.resources import files
from typing import Literal

Language = Literal["fr", "nl", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "nl", "en")


@cache
def _table(name: str) -> dict[str, tuple[str, str, str]]:
    data = gzip.decompress(files("crawlers.codelists").joinpath(f"{name}.tsv.gz").read_bytes()).decode()
    rows = data.splitlines()[1:]
    return {code: (fr, nl, en) for code, fr, nl, en in (row.split("\t") for row in rows)}


def _label(name: str, code: str, language: str) -> str | None:
    labels = _table(name).get(code)
    if labels is None:
        return None
    index = LANGUAGES.index(language) if language in LANGUAGES else 2  # type: ignore[arg-type]
    return labels[index] or labels[2] or None


def cpv_label(code: str, language: str = "en") -> str | None:
    """The label of an 8-digit CPV code.

    >>> cpv_label("72212000", "fr")
    "Services de programmation de logiciels d'application"
    >>> cpv_label("72212000", "nl")
    'Programmering van toepassingssoftware'
    """
    return _label("cpv", code, language)


def nuts_label(code: str, language: str = "en") -> str | None:
    """The label of a NUTS code at any level.

    >>> nuts_label("BE3", "fr"), nuts_label("FRE1", "en")
    ('Région wallonne', 'Nord-Pas de Calais')
    """
    return _label("nuts", code, language)


def cpv_codes() -> dict[str, tuple[str, str, str]]:
    """Every CPV code with its (fr, nl, en) labels, e.g. to train text classification."""
    return dict(_table("cpv"))


def nuts_codes() -> dict[str, tuple[str, str, str]]:
    """Every NUTS code with its (fr, nl, en) labels."""
    return dict(_table("nuts"))

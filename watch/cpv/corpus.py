"""The examples a CPV classifier learns from: the corpus shipped in the package and the store's coded notices.

An example is a text with its CPV codes (main first) and a *group*: the notice it comes from, so that the
translations and lots of one notice stay together when examples are split into training and test sets
(`TED:<DOC_ID>` before the language and lot suffix, the DECP record's id, or a stored notice's procedure).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.store.models import NoticeRecord

CORPUS_FILE = "cpv_corpus.jsonl.gz"
"""The shipped corpus (watch/cpv/data/, provenance in its SOURCES.md)."""
DESCRIPTION_CHARS = 1_000
"""How much of a stored notice's description an example keeps: the subject comes first, the conditions after."""

_CODE = re.compile(r"^\d{8}$")
_TED_ID = re.compile(r"^(TED:[^:]+)")

notice_table: sa.Table = NoticeRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Example:
    """A text with its CPV codes, main first."""

    text: str
    codes: tuple[str, ...]
    """8-digit CPV codes, main first."""
    lang: str | None = None
    group: str = ""
    """The notice key that keeps translations and lots of one notice together."""


def group_of(row_id: str) -> str:
    """The notice a corpus row belongs to: `TED:<DOC_ID>` without language, translation or lot suffix.

    >>> group_of("TED:074208-2017:DE:translation:lot:3")
    'TED:074208-2017'
    >>> group_of("2018COs68fWklM00")
    'DECP:2018COs68fWklM00'
    >>> group_of("eforms:ab85a622-9e41")
    'eforms:ab85a622-9e41'
    """
    found = _TED_ID.match(row_id)
    if found:
        return found.group(1)
    if row_id.startswith("eforms:"):
        return row_id
    return f"DECP:{row_id}"


def codes_of(values: Iterable[Any]) -> tuple[str, ...]:
    """The well-formed 8-digit codes of a list, in order, once each (a check digit `-3` cut off).

    >>> codes_of(["72000000-5", "72000000", None, "7200"])
    ('72000000',)
    """
    found: dict[str, None] = {}
    for value in values:
        if not value:
            continue
        code = str(value).split("-")[0].strip()
        if _CODE.match(code):
            found[code] = None
    return tuple(found)


def read_corpus(lines: Iterable[bytes | str]) -> Iterator[Example]:
    """Examples from JSON Lines rows `{"text", "cpv", "lang", "id"}`; rows without text or code are skipped."""
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        text = str(row.get("text") or "").strip()
        codes = codes_of(row.get("cpv") or [])
        if text and codes:
            yield Example(text=text, codes=codes, lang=row.get("lang") or None, group=group_of(str(row["id"])))


def shipped_examples() -> list[Example]:
    """The corpus shipped in the package: 22,700 real TED and DECP notice texts with their CPV codes."""
    path = resources.files("watch.cpv") / "data" / CORPUS_FILE
    with path.open("rb") as raw, gzip.open(raw) as lines:
        return list(read_corpus(lines))


def notice_example_text(data: Mapping[str, Any]) -> str:
    """What a classifier reads of a §2 notice: the title, the lots' titles, the start of the description."""
    parts = [str(data.get("title") or "")]
    for lot in data.get("lots") or []:
        if lot.get("title"):
            parts.append(str(lot["title"]))
    if data.get("description"):
        parts.append(str(data["description"])[:DESCRIPTION_CHARS])
    return "\n".join(part for part in parts if part.strip())


def notice_example_codes(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The CPV codes of a §2 notice and its lots, main first (empty when it has none)."""
    values: list[Any] = [data.get("cpv_main"), *(data.get("cpv_additional") or [])]
    for lot in data.get("lots") or []:
        values.extend([lot.get("cpv_main"), *(lot.get("cpv_additional") or [])])
    return codes_of(values)


def store_examples(engine: Engine, *, limit: int) -> list[Example]:
    """The latest `limit` stored notices that have CPV codes, as examples.

    A notice's group is its procedure (so that the TED and BOAMP publications of one tender stay together),
    or `source:source_id` while it is not linked to one.
    """
    query = (
        sa.select(
            notice_table.c.source,
            notice_table.c.source_id,
            notice_table.c.procedure_id,
            notice_table.c.data,
        )
        .where(notice_table.c.cpv_main.isnot(None))
        .order_by(notice_table.c.id.desc())
        .limit(limit)
    )
    examples = []
    with engine.connect() as connection:
        for source, source_id, procedure_id, data in connection.execute(query):
            text = notice_example_text(data)
            codes = notice_example_codes(data)
            if not text or not codes:
                continue
            languages = data.get("languages") or []
            group = f"procedure:{procedure_id}" if procedure_id is not None else f"{source}:{source_id}"
            examples.append(Example(text=text, codes=codes, lang=languages[0] if languages else None, group=group))
    return examples

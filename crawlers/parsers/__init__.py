"""Bytes in, normalized notices out: the source format is detected from the content.

One file may hold one notice (an XML document) or many (a page of API records). A record that cannot be
normalized becomes a `RecordFailure` naming the record and the reason; the records around it are kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from pydantic import ValidationError

from ..notice import Notice
from .be import parse_be_publication
from .boamp import parse_boamp_record, parse_boamp_xml
from .decp import decp_contracts, is_decp_record, parse_decp_record
from .eforms import EFORMS_ROOTS, parse_eforms
from .fields import NoticeError
from .ted_legacy import parse_ted_export
from .xml import MAX_DOCUMENT_BYTES, local_name, parse_xml

__all__ = ["NoticeError", "ParseOutcome", "ParsedNotice", "RecordFailure", "parse_bytes"]


@dataclass(frozen=True)
class ParsedNotice:
    notice: Notice
    raw: bytes
    """The record as the source gave it: the XML document, or one JSON record."""
    record: str
    """Where the record sits in its file (`results[3]`); empty for a whole document."""
    format: str


@dataclass(frozen=True)
class RecordFailure:
    record: str
    reason: str


@dataclass
class ParseOutcome:
    notices: list[ParsedNotice] = field(default_factory=list)
    failures: list[RecordFailure] = field(default_factory=list)


def _summarize(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "notice"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - 3
    return "invalid notice: " + "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _attempt(outcome: ParseOutcome, record: str, fmt: str, raw: bytes, build: Callable[[], Notice]) -> None:
    try:
        notice = build()
    except ValidationError as error:
        outcome.failures.append(RecordFailure(record, _summarize(error)))
    except NoticeError as error:
        outcome.failures.append(RecordFailure(record, str(error)))
    except Exception as error:  # a parser bug on one record must not lose the records around it
        outcome.failures.append(RecordFailure(record, f"parser error {type(error).__name__}: {error}"))
    else:
        outcome.notices.append(ParsedNotice(notice, raw, record, fmt))


def _parse_xml_document(data: bytes, outcome: ParseOutcome) -> None:
    root = parse_xml(data)
    name = local_name(root)
    if name in EFORMS_ROOTS:
        _attempt(outcome, "", "eforms", data, lambda: parse_eforms(root))
    elif name == "TED_EXPORT":
        _attempt(outcome, "", "ted-legacy", data, lambda: parse_ted_export(root))
    elif name == "ANNONCE":
        _attempt(outcome, "", "boamp-xml", data, lambda: parse_boamp_xml(root))
    else:
        raise NoticeError(f"unknown XML document <{name}>: not eForms, TED_EXPORT nor BOAMP")


_PAGE_FORMATS = {"results": "boamp-json", "publications": "be-json", "marches": "decp-json"}
"""The list of a page and the format of its records: BOAMP opendatasoft `results`, BE `publications`, DECP
`marches` (DECP API pages are opendatasoft `results` too: their records are told by their fields)."""

_PARSERS: dict[str, Callable[[Mapping[str, Any]], Notice]] = {
    "boamp-json": parse_boamp_record,
    "be-json": parse_be_publication,
    "decp-json": parse_decp_record,
}


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


JsonEntry = tuple[str, str, Mapping[str, Any]] | RecordFailure
"""A record to parse (its path, its format, the record), or a record that is not one, with why."""


def _json_records(document: Any, where: str = "", page_format: str | None = None) -> Iterator[JsonEntry]:
    """Every notice record in a JSON document, through known wrappers: BOAMP pages `{results: [...]}` and
    exports `[...]`, BE pages `{publications: [...]}`, and the `{json: ...}` / `{data: ...}` envelopes in
    which recorded answers are kept.

    Each element of a list stands alone: one that is not a record (null, a number, `{}`, an object without
    its id) is a failure at its own path, and the elements after it are still read. In a page the list
    says the format, so an object without an id goes to that source's parser, which says what it lacks."""
    if isinstance(document, list):
        for index, item in enumerate(document):
            path = f"{where}[{index}]"
            if isinstance(item, Mapping) or (isinstance(item, list) and page_format is None):
                try:
                    yield from _json_records(item, path, page_format)
                except NoticeError as error:
                    yield RecordFailure(path, str(error).removeprefix(f"{path}: "))
            else:
                yield RecordFailure(path, f"{_json_kind(item)} where a notice record was expected")
        return
    if not isinstance(document, Mapping):
        raise NoticeError(f"{where or 'document'}: expected a JSON object or list, got {_json_kind(document)}")
    if "idweb" in document:
        yield where or "record", "boamp-json", document
    elif "publicationWorkspaceId" in document:
        yield where or "record", "be-json", document
    elif is_decp_record(document):
        yield where or "record", "decp-json", document
    elif page_format is not None:
        yield where, page_format, document
    else:
        contracts = decp_contracts(document.get("marches"))
        if contracts is not None:
            key = "marches" if isinstance(document.get("marches"), list) else "marches.marche"
            yield from _json_records(contracts, f"{where}.{key}" if where else key, "decp-json")
            return
        for key in ("results", "publications", "json", "data"):
            inner = document.get(key)
            if isinstance(inner, list) or (key in ("json", "data") and isinstance(inner, Mapping)):
                yield from _json_records(inner, f"{where}.{key}" if where else key, _PAGE_FORMATS.get(key))
                return
        keys = ", ".join(sorted(document)[:8]) or "none"
        raise NoticeError(f"{where or 'document'}: not a BOAMP, BE or DECP record nor a page of them (keys: {keys})")


def _parse_json_document(data: bytes, outcome: ParseOutcome) -> None:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise NoticeError(f"malformed JSON: {error}") from None
    for entry in _json_records(document):
        if isinstance(entry, RecordFailure):
            outcome.failures.append(entry)
            continue
        record, fmt, item = entry
        raw = json.dumps(item, ensure_ascii=False, sort_keys=True).encode()
        parse = _PARSERS[fmt]
        _attempt(outcome, record, fmt, raw, lambda item=item, parse=parse: parse(item))  # type: ignore[misc]


def parse_bytes(data: bytes) -> ParseOutcome:
    """Every notice in a file's content; a failure of the whole file is one failure with an empty record."""
    outcome = ParseOutcome()
    try:
        if len(data) > MAX_DOCUMENT_BYTES:
            raise NoticeError(f"file too large: {len(data):,} bytes (limit {MAX_DOCUMENT_BYTES:,})")
        start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if not start:
            raise NoticeError("empty file")
        if start == b"<":
            _parse_xml_document(data, outcome)
        elif start in (b"{", b"["):
            _parse_json_document(data, outcome)
        else:
            raise NoticeError("neither XML nor JSON: cannot tell the source")
    except NoticeError as error:
        outcome.failures.append(RecordFailure("", str(error)))
    except etree.LxmlError as error:
        outcome.failures.append(RecordFailure("", f"XML error: {error}"))
    return outcome

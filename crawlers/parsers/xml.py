"""Parsing untrusted XML: no DTD, no entity expansion, no network, bounded size.

Notices never need a DTD, so a document with a DOCTYPE or an entity declaration anywhere (after comments,
processing instructions or megabytes of whitespace) is refused outright instead of being half-parsed. Two
locks: the raw bytes are searched whole before lxml sees them (billion laughs, external entities by file or
URL), and the parsed tree's DOCTYPE is checked too (an encoding such as UTF-16 hides it from the bytes); the
parser itself loads no DTD, expands no entity and opens no network connection.
"""

from __future__ import annotations

import re

from lxml import etree

from .fields import NoticeError

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""Largest notice we accept; the biggest real one we know (100 lots, 24 translations) is under 2 MB."""

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes) -> etree._Element:
    """The root element of a notice document, or NoticeError saying why it is refused."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise NoticeError(f"document too large: {len(data):,} bytes (limit {MAX_DOCUMENT_BYTES:,})")
    declaration = _DECLARATION.search(data)
    if declaration:
        line = data.count(b"\n", 0, declaration.start()) + 1
        raise NoticeError(_refused(declaration.group(1).decode().upper(), f" at line {line}"))
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise NoticeError(f"malformed XML: {error}") from None
    if root is None:
        raise NoticeError("empty XML document")
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype or docinfo.system_url or docinfo.public_id:
        raise NoticeError(_refused("DOCTYPE", ""))
    return root


def _refused(kind: str, where: str) -> str:
    article = "an" if kind == "ENTITY" else "a"
    return f"XML declares {article} {kind}{where}: refused (notices never need a DTD; entities are never expanded)"


def local_name(element: etree._Element) -> str:
    """The tag without its namespace."""
    return etree.QName(element).localname

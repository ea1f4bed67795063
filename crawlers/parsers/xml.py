"""Parsing untrusted XML: no DTD, no entity expansion, no network, bounded size.

Notices never need a DTD, so a document that declares entities is refused outright instead of being
half-parsed; this stops billion-laughs and external-entity (file or URL) attacks before lxml sees them.
"""

from __future__ import annotations

import re

from lxml import etree

from .fields import NoticeError

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""Largest notice we accept; the biggest real one we know (100 lots, 24 translations) is under 2 MB."""

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


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
    head = data[:4096]
    if _DOCTYPE.search(head) and _ENTITY_DECLARATION.search(data):
        raise NoticeError("XML declares entities in a DOCTYPE; refused (no entity expansion)")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise NoticeError(f"malformed XML: {error}") from None
    if root is None:
        raise NoticeError("empty XML document")
    return root


def local_name(element: etree._Element) -> str:
    """The tag without its namespace."""
    return etree.QName(element).localname

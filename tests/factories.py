"""Notices built in tests, valid by construction; override what a test is about."""

from __future__ import annotations

from typing import Any

from crawlers.notice import Notice
from crawlers.parsers import ParsedNotice
from crawlers.store.service import Incoming


def make_notice(**overrides: Any) -> Notice:
    data: dict[str, Any] = {
        "source": "boamp",
        "source_id": "26-0001",
        "notice_type": "contract-notice",
        "title": "Développement d'un logiciel de gestion",
        "description": None,
        "buyer": {"name": "Ville de Lille", "country": "FR", "town": "Lille"},
        "cpv_main": "72000000",
        "cpv_additional": ["72212000"],
        "nuts": ["FRE11"],
        "contract_nature": "services",
        "procedure": "open",
        "published": "2026-01-21",
        "deadline": "2026-02-16T12:00:00+01:00",
        "estimated_value": 250000.0,
        "currency": "EUR",
        "lots": [{"id": "1", "title": None, "cpv_main": "72000000", "cpv_additional": [], "nuts": ["FRE11"]}],
        "languages": ["fr"],
        "url": "https://www.boamp.fr/pages/avis/?q=idweb:26-0001",
    }
    data.update(overrides)
    return Notice.model_validate(data)


def incoming(notice: Notice, *, raw: bytes | None = None, origin: str = "test") -> Incoming:
    raw = raw if raw is not None else notice.model_dump_json().encode()
    return Incoming(ParsedNotice(notice, raw, "", "test"), origin)

"""The stored notices as one OCDS 1.1 release package (`pib export --format ocds`, docs/ocds.md).

One release per stored notice (a publication is one stage of a contracting process): its tender (lots, items with
their CPV codes, estimated values, the tender deadline), its parties with their roles (the buyer, the suppliers of
its awards), and its awards (suppliers, value, date, lots). The package is written as it is read, release by
release, so a store of any size is exported in constant memory.

Decisions where OCDS leaves room:
- `ocid` names the contracting process: `ocds-<prefix>-<source>-<source_id>` of the first publication of the
  procedure the notice was linked into (so a contract notice and its award notice share one ocid), else of the
  notice itself; the prefix is a setting of the export (OCDS registers prefixes; `pib` by default).
- `tag`: contract notice `tender`, prior information `planning`, award `award`, change `tenderAmendment`
  (`awardUpdate` for a change carrying awards), other `tender`.
- `procurementMethod`: open `open`; restricted, negotiated, competitive dialogue and innovation partnership
  `selective`; other procedures none; the §2 procedure is kept in `procurementMethodDetails`.
- A party's `id` is its identifier with its country (`BE-0123456789`) when the notice gives one, else its name
  and country folded, so the same firm has the same id in every release; `identifier.scheme` is given for the
  Belgian enterprise number (`BE-BCE_KBO`) and the French SIREN (`FR-RCS`) only.
- `tender.numberOfTenderers` is the tenders received when all the notice's awards say the same number.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any, TextIO

import pycountry
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .notice import Notice
from .store.service import deadline_utc, notice_table

OCDS_VERSION = "1.1"

TAGS = {
    "contract-notice": "tender",
    "prior-information": "planning",
    "award": "award",
    "change": "tenderAmendment",
    "other": "tender",
}
STATUSES = {"contract-notice": "active", "prior-information": "planned", "award": "complete"}
METHODS = {
    "open": "open",
    "restricted": "selective",
    "negotiated": "selective",
    "competitive-dialogue": "selective",
    "innovation-partnership": "selective",
}
CATEGORIES = {"works": "works", "supplies": "goods", "services": "services"}

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _midnight(day: str) -> str:
    return f"{day}T00:00:00Z"


def _country_name(code: str | None) -> str | None:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return country.name if country else None


def _fold(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NOT_WORD.sub("-", ascii_text).strip("-")


def party_id(name: str, country: str | None, identifier: str | None) -> str:
    """The id of a party in every release: its identifier when known, else its folded name.

    >>> party_id("École Numérique SA", "BE", "0202239951"), party_id("École Numérique SA", "BE", None)
    ('BE-0202239951', 'BE-ecole-numerique-sa')
    """
    return f"{country or 'XX'}-{identifier or _fold(name) or 'unnamed'}"


def _scheme(identifier: str) -> str | None:
    if identifier.isdigit() and len(identifier) == 10:
        return "BE-BCE_KBO"
    if identifier.isdigit() and len(identifier) in (9, 14):
        return "FR-RCS"  # the SIREN (a SIRET's first nine digits); the register of firms
    return None


class _Parties:
    """The release's parties, each once, with all its roles."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}

    def add(
        self, role: str, name: str, country: str | None, identifier: str | None, town: str | None
    ) -> dict[str, str]:
        key = party_id(name, country, identifier)
        party = self.by_id.get(key)
        if party is None:
            party = {"id": key, "name": name, "roles": []}
            address = {k: v for k, v in (("locality", town), ("countryName", _country_name(country))) if v}
            if address:
                party["address"] = address
            if identifier:
                party["identifier"] = {"id": identifier, "legalName": name}
                if scheme := _scheme(identifier):
                    party["identifier"]["scheme"] = scheme
            self.by_id[key] = party
        if role not in party["roles"]:
            party["roles"].append(role)
        return {"id": key, "name": name}


def _value(amount: float | None, currency: str | None) -> dict[str, Any] | None:
    if amount is None or currency is None:
        return None
    return {"amount": amount, "currency": currency}


def release(data: dict[str, Any], *, prefix: str = "pib", process: str | None = None) -> dict[str, Any]:
    """The OCDS release of one stored notice (its §2 JSON object); `process` is `<source>-<source_id>` of the
    first publication of its procedure (default: the notice itself)."""
    notice = Notice.model_validate(data)
    source_id = notice.source_id
    release_id = f"{notice.source}-{source_id}"
    parties = _Parties()
    buyer = parties.add("buyer", notice.buyer.name, notice.buyer.country, None, notice.buyer.town)
    if notice.buyer.id:
        parties.by_id[buyer["id"]]["additionalIdentifiers"] = [{"id": notice.buyer.id}]

    tender: dict[str, Any] = {"id": source_id, "title": notice.title}
    if notice.description:
        tender["description"] = notice.description
    if status := STATUSES.get(notice.notice_type):
        tender["status"] = status
    if value := _value(notice.estimated_value, notice.currency):
        tender["value"] = value
    if method := METHODS.get(notice.procedure or ""):
        tender["procurementMethod"] = method
    if notice.procedure:
        tender["procurementMethodDetails"] = notice.procedure
    if notice.contract_nature:
        tender["mainProcurementCategory"] = CATEGORIES[notice.contract_nature]
    items = []
    lots = []
    for lot in notice.lots:
        lot_entry: dict[str, Any] = {"id": lot.id}
        if lot.title:
            lot_entry["title"] = lot.title
        if value := _value(lot.estimated_value, notice.currency):
            lot_entry["value"] = value
        lots.append(lot_entry)
        main = lot.cpv_main or notice.cpv_main
        if main:
            item: dict[str, Any] = {
                "id": f"{lot.id}-{main}",
                "classification": {"scheme": "CPV", "id": main},
                "relatedLot": lot.id,
            }
            if lot.cpv_additional:
                item["additionalClassifications"] = [{"scheme": "CPV", "id": code} for code in lot.cpv_additional]
            items.append(item)
    if items:
        tender["items"] = items
    tender["lots"] = lots
    if notice.deadline and notice.notice_type != "award":
        moment = deadline_utc(notice)
        if moment is not None:
            tender["tenderPeriod"] = {"endDate": moment.isoformat().replace("+00:00", "Z")}

    awards = []
    for number, award in enumerate(notice.awards, start=1):
        entry: dict[str, Any] = {"id": f"{release_id}-{number}", "status": "active"}
        if award.date:
            entry["date"] = _midnight(award.date.isoformat())
        if value := _value(award.value, award.currency):
            entry["value"] = value
        suppliers = [parties.add("supplier", w.name, w.country, w.identifier, w.town) for w in award.winners]
        if suppliers:
            entry["suppliers"] = suppliers
        if award.lot_ids:
            entry["relatedLots"] = list(award.lot_ids)
        awards.append(entry)
    received = {award.tenders_received for award in notice.awards}
    if len(received) == 1 and (count := received.pop()) is not None:
        tender["numberOfTenderers"] = count

    tag = TAGS[notice.notice_type]
    if notice.notice_type == "change" and awards:
        tag = "awardUpdate"
    result: dict[str, Any] = {
        "ocid": f"ocds-{prefix}-{process or release_id}",
        "id": release_id,
        "date": _midnight(notice.published.isoformat()),
        "tag": [tag],
        "initiationType": "tender",
        "language": notice.languages[0],
        "parties": list(parties.by_id.values()),
        "buyer": buyer,
        "tender": tender,
    }
    if awards:
        result["awards"] = awards
    if notice.url:
        result["tender"]["documents"] = [
            {"id": "notice", "documentType": "tenderNotice", "url": notice.url, "format": "text/html"}
        ]
    return result


Stored = tuple[dict[str, Any], str | None]
"""A stored notice's §2 JSON and the key of its contracting process (see `stored_notices`)."""


def stored_notices(
    engine: Engine, *, source: str | None = None, since: date | None = None, batch_size: int = 1000
) -> Iterator[Stored]:
    """The stored notices, oldest publication first, each with `<source>-<source_id>` of the first publication
    of its procedure (null before linking); read in pages, a page's procedures looked up at once."""
    n = notice_table.c
    query = sa.select(n.id, n.data, n.published, n.procedure_id).order_by(n.published, n.id)
    if source:
        query = query.where(n.source == source)
    if since:
        query = query.where(n.published >= since)
    last: tuple[date, int] | None = None
    while True:
        page = query
        if last is not None:
            page = page.where(sa.or_(n.published > last[0], sa.and_(n.published == last[0], n.id > last[1])))
        with engine.connect() as connection:
            rows = connection.execute(page.limit(batch_size)).all()
            procedures = {row.procedure_id for row in rows if row.procedure_id is not None}
            first: dict[int, str] = {}
            if procedures:
                found = connection.execute(
                    sa.select(n.procedure_id, n.source, n.source_id)
                    .where(n.procedure_id.in_(procedures))
                    .order_by(n.published, n.id)
                )
                for procedure_id, first_source, first_id in found:
                    first.setdefault(procedure_id, f"{first_source}-{first_id}")
        if not rows:
            return
        for row in rows:
            yield row.data, first.get(row.procedure_id) if row.procedure_id is not None else None
        last = (rows[-1].published, rows[-1].id)


def write_package(
    out: TextIO,
    notices: Iterable[dict[str, Any] | Stored],
    *,
    prefix: str = "pib",
    publisher: str = "PIB",
    uri: str = "https://pib.invalid/export/ocds.json",
    published: datetime | None = None,
) -> int:
    """Write one release package of these notices (§2 JSON objects, or `stored_notices` pairs) to `out`, release by
    release; the number of releases."""
    moment = (published or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    head = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": moment.isoformat().replace("+00:00", "Z"),
        "publisher": {"name": publisher},
    }
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "releases": [')
    count = 0
    for item in notices:
        data, process = item if isinstance(item, tuple) else (item, None)
        written = json.dumps(release(data, prefix=prefix, process=process), ensure_ascii=False)
        out.write(("\n" if count == 0 else ",\n") + written)
        count += 1
    out.write("\n]}\n")
    return count

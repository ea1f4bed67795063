"""What the replay server serves: the recorded documents of a folder, indexed as each source's API sees them.

- TED: every eForms or TED_EXPORT XML file, by publication number (the parsed `source_id`), with its
  publication date and buyer country; a file that does not parse is served too (by file name, date
  read from the file when it has one), so a crawl meets real parse failures.
- BOAMP: every opendatasoft record (a JSON object with `idweb`) found in the JSON files, by `idweb`.
- BE: every publication (a JSON object with `publicationWorkspaceId`), by that id.
- DECP: every contract (regulatory JSON, `crawlers/parsers/decp.py`), by its uid (buyer SIRET + id), served
  in the flat shape of the consolidated dataset's API (`api_record`).
- Feeds: one entry per parsed notice of each source (title, link, date, summary, buyer).
The same id twice (a converted notice and its original) is served once: the first file in path order.
`scaled()` repeats the records with fresh ids up to a count per source, for the benchmark.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ..notice import Notice
from ..parsers import parse_bytes
from ..parsers.decp import is_decp_record, published_of
from ..parsers.fields import iso_date
from ..parsers.xml import MAX_DOCUMENT_BYTES

_XML_ROOT = re.compile(rb"<(?:[\w.-]+:)?(ContractNotice|PriorInformationNotice|ContractAwardNotice|TED_EXPORT)\b")
_XML_DATE = re.compile(rb"<(?:[\w.-]+:)?(?:PublicationDate|IssueDate|DATE_PUB)>\s*(\d{4}-?\d{2}-?\d{2})")
_UUID_KEY = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-(\d+)")
_SCALE_NAMESPACE = uuid.UUID("6f1c3c1e-6a43-4c4b-9d8e-0d5c1f5b2a10")


@dataclass(frozen=True)
class FeedItem:
    key: str
    title: str
    link: str | None
    published: date
    summary: str | None
    buyer: str


@dataclass(frozen=True)
class TedDocument:
    number: str
    published: date
    countries: tuple[str, ...]
    """Buyer countries, ISO alpha-3 as TED's `buyer-country` field writes them."""
    body: bytes
    path: str
    feed: FeedItem | None


@dataclass(frozen=True)
class Record:
    """A BOAMP record or a BE publication, as the API answers it."""

    key: str
    published: date
    data: Mapping[str, Any]
    feed: FeedItem | None


@dataclass
class Catalog:
    ted: list[TedDocument] = field(default_factory=list)
    boamp: list[Record] = field(default_factory=list)
    be: list[Record] = field(default_factory=list)
    decp: list[Record] = field(default_factory=list)

    def copy(self) -> Catalog:
        return Catalog(list(self.ted), list(self.boamp), list(self.be), list(self.decp))

    def feed_items(self, source: str) -> list[FeedItem]:
        entries: list[TedDocument | Record] = []
        if source in ("ted", "all"):
            entries += self.ted
        if source in ("boamp", "all"):
            entries += self.boamp
        if source in ("be", "all"):
            entries += self.be
        return [entry.feed for entry in entries if entry.feed is not None]


def _alpha3(country: str | None) -> tuple[str, ...]:
    import pycountry

    found = pycountry.countries.get(alpha_2=country) if country else None
    return (found.alpha_3,) if found else ()


def _feed_item(key: str, notice: Notice) -> FeedItem:
    return FeedItem(
        key=f"{notice.source}:{key}",
        title=notice.title,
        link=notice.url,
        published=notice.published,
        summary=notice.description or notice.buyer.name,
        buyer=notice.buyer.name,
    )


def _json_records(document: Any) -> Iterator[Mapping[str, Any]]:
    """Every BOAMP record, BE publication and DECP contract in a JSON document, through any wrapper."""
    if isinstance(document, list):
        for item in document:
            yield from _json_records(item)
    elif isinstance(document, Mapping):
        if "idweb" in document or "publicationWorkspaceId" in document or is_decp_record(document):
            yield document
        else:
            for value in document.values():
                if isinstance(value, Mapping | list):
                    yield from _json_records(value)


def _ted_document(path: Path, body: bytes) -> TedDocument | None:
    outcome = parse_bytes(body)
    if outcome.notices:
        notice = outcome.notices[0].notice
        return TedDocument(
            notice.source_id,
            notice.published,
            _alpha3(notice.buyer.country),
            body,
            str(path),
            _feed_item(notice.source_id, notice),
        )
    found = _XML_DATE.search(body)
    published = iso_date(found.group(1).decode()) if found else None
    return TedDocument(path.stem, published, (), body, str(path), None) if published else None


def api_record(contract: Mapping[str, Any]) -> dict[str, Any]:
    """A DECP contract as the consolidated dataset's API writes it: names lower-cased and flattened, the
    titulaires over three numbered columns, `CDL` where nothing is given."""

    def given(value: Any) -> Any:
        return "CDL" if value is None or value == "" else value

    buyer: Mapping[str, Any] = contract["acheteur"] if isinstance(contract.get("acheteur"), Mapping) else {}
    place: Mapping[str, Any] = contract["lieuExecution"] if isinstance(contract.get("lieuExecution"), Mapping) else {}
    holders = [t.get("titulaire", t) for t in contract.get("titulaires") or [] if isinstance(t, Mapping)]
    row: dict[str, Any] = {
        "uid": f"{buyer.get('id')}{contract.get('id')}",
        "id": contract.get("id"),
        "acheteur_id": buyer.get("id"),
        "acheteur_nom": given(buyer.get("nom")),
        "objet": given(contract.get("objet")),
        "codecpv": given(contract.get("codeCPV")),
        "procedure": given(contract.get("procedure")),
        "nature": given(contract.get("nature")),
        "ccag": given(contract.get("ccag")),
        "montant": given(contract.get("montant")),
        "offresrecues": given(contract.get("offresRecues")),
        "typegroupementoperateurs": given(contract.get("typeGroupementOperateurs")),
        "datenotification": given(contract.get("dateNotification")),
        "datepublicationdonnees": given(contract.get("datePublicationDonnees")),
        "lieuexecution_code": given(place.get("code")),
        "lieuexecution_typecode": given(place.get("typeCode")),
    }
    for number in (1, 2, 3):
        holder = holders[number - 1] if number <= len(holders) and isinstance(holders[number - 1], Mapping) else {}
        row[f"titulaire_id_{number}"] = given(holder.get("id"))
        row[f"titulaire_typeidentifiant_{number}"] = given(holder.get("typeIdentifiant"))
        row[f"titulaire_denominationsociale_{number}"] = given(holder.get("denominationSociale"))
    return row


def _record(data: Mapping[str, Any]) -> Record | None:
    if is_decp_record(data):
        served = api_record(data) if "acheteur_id" not in data else dict(data)
        published = published_of(served)
        if published is None:
            return None
        outcome = parse_bytes(json.dumps(served).encode())
        feed = _feed_item(str(served["uid"]), outcome.notices[0].notice) if outcome.notices else None
        return Record(str(served["uid"]), published, served, feed)
    if "idweb" in data:
        key, published = str(data["idweb"]), iso_date(str(data.get("dateparution") or ""))
    else:
        key, published = str(data["publicationWorkspaceId"]), iso_date(str(data.get("publicationDate") or ""))
    if published is None:
        return None
    outcome = parse_bytes(json.dumps(data).encode())
    feed = _feed_item(key, outcome.notices[0].notice) if outcome.notices else None
    return Record(key, published, data, feed)


@cache
def load_catalog(folder: str) -> Catalog:
    """Index a folder of recorded documents (read once per process and folder)."""
    catalog = Catalog()
    seen: set[tuple[str, str]] = set()
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".xml", ".json"):
            continue
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            continue
        body = path.read_bytes()
        if path.suffix.lower() == ".xml":
            if not _XML_ROOT.search(body[:4096]):
                continue
            document = _ted_document(path, body)
            if document is not None and ("ted", document.number) not in seen:
                seen.add(("ted", document.number))
                catalog.ted.append(document)
            continue
        try:
            loaded = json.loads(body)
        except ValueError:
            continue
        for data in _json_records(loaded):
            record = _record(data)
            source = "boamp" if "idweb" in data else "be" if "publicationWorkspaceId" in data else "decp"
            if record is not None and (source, record.key) not in seen:
                seen.add((source, record.key))
                getattr(catalog, source).append(record)
    return catalog


def fresh_key(key: str, copy: int) -> str:
    """The id of the n-th copy of a record: a new UUID for UUID ids, else the id with a suffix.

    >>> fresh_key("00000372-2025", 3)
    '00000372-2025-x3'
    >>> fresh_key("e5dc3c2b-3df5-45e0-af7f-399ca201d7e0-01", 1)[-3:]
    '-01'
    """
    match = _UUID_KEY.fullmatch(key)
    if match:
        return f"{uuid.uuid5(_SCALE_NAMESPACE, f'{match[1]}/{copy}')}-{match[2]}"
    if re.fullmatch(r"[0-9a-f-]{36}", key):
        return str(uuid.uuid5(_SCALE_NAMESPACE, f"{key}/{copy}"))
    return f"{key}-x{copy}"


def copy_ted(document: TedDocument, copy: int) -> TedDocument:
    """A TED document under a fresh publication number (every occurrence of its id rewritten)."""
    number = fresh_key(document.number, copy)
    match = _UUID_KEY.fullmatch(document.number)
    old, new = (match[1], number[:36]) if match else (document.number, number)
    feed = replace(document.feed, key=f"ted:{number}") if document.feed else None
    return replace(document, number=number, body=document.body.replace(old.encode(), new.encode()), feed=feed)


def copy_record(record: Record, copy: int) -> Record:
    key = fresh_key(record.key, copy)
    data = dict(record.data)
    if "idweb" in data:
        data["idweb"] = key
        source = "boamp"
    elif "acheteur_id" in data:
        data["id"] = fresh_key(str(data["id"]), copy)
        key = data["uid"] = f"{data['acheteur_id']}{data['id']}"
        source = "decp"
    else:
        data["publicationWorkspaceId"] = key
        source = "be"
    feed = replace(record.feed, key=f"{source}:{key}") if record.feed else None
    return replace(record, key=key, data=data, feed=feed)


def scaled(catalog: Catalog, counts: Mapping[str, int]) -> Catalog:
    """The catalog with each source's records repeated under fresh ids up to `counts[source]` records."""
    result = catalog.copy()
    for source, target in counts.items():
        originals: list[Any] = getattr(catalog, source)
        if not originals:
            continue
        entries: list[Any] = list(originals)
        copy = 1
        while len(entries) < target:
            for original in originals:
                if len(entries) >= target:
                    break
                entries.append(copy_ted(original, copy) if source == "ted" else copy_record(original, copy))
            copy += 1
        setattr(result, source, entries[:target])
    return result

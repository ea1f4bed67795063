"""Linking the publications of one procedure across sources and versions.

A procedure is what a firm bids on; its publications are notices (a BOAMP notice and its TED twin, a
contract notice and the change notices that move its deadline, the award). Watch routes procedures, not
publications, so a member never receives the same tender twice.

How a stored notice finds its procedure (`link_procedures`, run after storing):

1. By reference. Each notice leaves keys: its own ids (`source_id`; from the raw document also the eForms
   notice identifier, the BE `noticeIds` and `referenceNumber`), the procedure ids its source gives (eForms
   `ContractFolderID`, BE `procedureId`, BOAMP `contractfolderid`), and the publications it names in
   `related`. Two notices sharing a key are one procedure, unless the reference is contradicted: buyers in
   two different countries; a procedure id (reused in the wild: the TED converter's drafts share one) whose
   notices have neither the same buyer nor similar titles; one publication id claimed by two notices of the
   same source; a contract notice or award pointing at a prior-information notice (one PIN may announce
   several procedures); two calls (contract notices, PINs) that only name the same third publication.
2. Failing that, by similarity, only between sources (within a source, references are always given): same
   buyer (name folded: case, accents, punctuation, legal forms, articles), same CPV division when both are
   known, titles with a token Jaccard of at least `TITLE_THRESHOLD` and the same numbers, and deadlines
   within a day (published within `WINDOW_DAYS`), or both without deadline, of the same notice type, with a
   stricter `TITLE_THRESHOLD_NO_DEADLINE` and published within `WINDOW_DAYS_NO_DEADLINE`. A procedure that
   already has a publication of the same source and type (other than a change) is not a candidate.
   Similarity is deliberately conservative: a false merge hides a tender from a member (its notices
   disappear behind another procedure), while a missed one only shows it twice.
3. Else the notice starts a new procedure.

Each notice's keys are kept (`procedure_key`, looked up by an index, so a batch finds its candidates in a few
queries) and so is how it was linked, with the evidence (`procedure_link`: the shared key, or the twin and the
title score), for staff to see why two publications are one procedure.

Once linked, a notice stays in its procedure; a notice naming notices of two procedures merges them into the
older one (the other keeps its row, status `merged` and `merged_into`, so an id held elsewhere still leads
somewhere). A stored notice replaced by a newer version is linked again (its keys may have changed).

The state of a procedure (deadline, status, lots) and its changes are computed from all its publications
and their kept versions in publication order, so the history does not depend on the order in which
notices arrive; changes already recorded are never deleted nor altered. Cancellation is not in the
normalized notice (a cancellation is only `change`): it is read from the raw document where a source says
it (eForms change reason `cancel`, BE `cancelledAt`, BOAMP status or nature `ANNULATION`).
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import zstandard
from lxml import etree
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from ..parsers.fields import NoticeError, buyer_zone
from ..parsers.xml import parse_xml
from .db import among, insert_returning, insert_rows, set_by_id
from .models import JSONColumn, LotRecord, NoticeRecord, NoticeVersion, RawDocument, utcnow
from .service import decompress


class Procedure(SQLModel, table=True):
    __tablename__ = "procedure"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    buyer_name: str
    buyer_country: str | None = Field(default=None, max_length=2)
    deadline: str | None = Field(default=None, max_length=40)
    """The current deadline (§2 form), after every change notice known."""
    deadline_utc: datetime | None = Field(default=None, index=True)
    status: str = Field(default="open", max_length=20)
    """open | cancelled | awarded | merged"""
    first_published: date | None = None
    last_published: date | None = None
    merged_into: int | None = Field(default=None, foreign_key="procedure.id")
    """For a procedure found to be part of another: the procedure that now holds its publications."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProcedureChange(SQLModel, table=True):
    """Something that changed in a procedure, and the publication that said so (change alerts read these)."""

    __tablename__ = "procedure_change"
    __table_args__ = (sa.UniqueConstraint("notice_id", "change_key", name="uq_procedure_change_key"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=30)
    """deadline-moved | lot-added | lot-removed | cancelled | awarded | modified"""
    change_key: str | None = Field(default=None, max_length=160)
    """What makes the change one (kind, lot, the version that said it), so linking records it once; null for
    changes recorded by other means."""
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONColumn)
    """What changed: e.g. {"old": "2026-02-16T12:00:00+01:00", "new": "2026-03-02T12:00:00+01:00"}."""
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ProcedureKey(SQLModel, table=True):
    """A key a notice leaves for linking: an id of its own, a procedure id, a reference, its buyer."""

    __tablename__ = "procedure_key"
    __table_args__ = (sa.UniqueConstraint("notice_id", "key", name="uq_procedure_key_notice_key"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", ondelete="CASCADE")
    key: str = Field(max_length=340, index=True)
    """`ted:123456-2024`, `uuid:<uuid>`, `boamp:26-7319`, `ref:<reference>`, `buyer:FR:<folded name>`..."""
    role: str = Field(max_length=10)
    """own | folder | ref | buyer"""


class ProcedureLink(SQLModel, table=True):
    """How a notice (in the version seen) was linked to its procedure, and why: for staff and for reruns."""

    __tablename__ = "procedure_link"

    notice_id: int = Field(foreign_key="notice.id", primary_key=True, ondelete="CASCADE")
    content_hash: str = Field(max_length=64)
    """The version linked; a newer version of the notice is linked again."""
    rule: str = Field(max_length=20)
    """reference | similarity | new"""
    evidence: str = Field(default="", max_length=400)
    cancelled: bool = False
    """The raw document says this publication cancels the procedure."""
    linked_at: datetime = Field(default_factory=utcnow)


procedure_table: sa.Table = Procedure.__table__  # type: ignore[attr-defined]
change_table: sa.Table = ProcedureChange.__table__  # type: ignore[attr-defined]
key_table: sa.Table = ProcedureKey.__table__  # type: ignore[attr-defined]
link_table: sa.Table = ProcedureLink.__table__  # type: ignore[attr-defined]
_notice: sa.Table = NoticeRecord.__table__  # type: ignore[attr-defined]
_lot: sa.Table = LotRecord.__table__  # type: ignore[attr-defined]
_version: sa.Table = NoticeVersion.__table__  # type: ignore[attr-defined]
_raw: sa.Table = RawDocument.__table__  # type: ignore[attr-defined]

UNLINKED_INDEX = sa.Index(
    "ix_notice_unlinked",
    _notice.c.published,
    _notice.c.id,
    postgresql_where=_notice.c.procedure_id.is_(None),
    sqlite_where=_notice.c.procedure_id.is_(None),
)
"""The notices not linked yet, in linking order (partial index, migration 0021): each batch reads its next
notices from it, not by scanning the store."""

TITLE_THRESHOLD = 0.7
"""Least token Jaccard of two titles for twins with deadlines within a day (the deadline is strong evidence)."""
TITLE_THRESHOLD_NO_DEADLINE = 0.8
"""Least token Jaccard for twins without deadline (awards, PINs), which have less else in common."""
WINDOW_DAYS = 120
WINDOW_DAYS_NO_DEADLINE = 30
DEADLINE_TOLERANCE = timedelta(days=1)
_CHUNK = 900


# --- text folding ---------------------------------------------------------------------------------------

_STOPWORDS = frozenset({
    "a", "au", "aux", "avec", "d", "dans", "de", "des", "du", "en", "et", "l", "la", "le", "les", "ou", "par",
    "pour", "sur", "un", "une",  # fr
    "aan", "bij", "den", "der", "een", "het", "met", "op", "te", "van", "voor",  # nl
    "an", "and", "at", "by", "for", "in", "of", "on", "the", "to", "with",  # en
    "am", "bei", "das", "dem", "die", "fur", "im", "und", "von", "zu",  # de
})  # fmt: skip
_LEGAL_FORMS = frozenset({
    "epa", "epic", "eurl", "gie", "sa", "sarl", "sas", "sasu", "sci", "scic", "scop", "sem", "snc", "spl",  # fr
    "aisbl", "asbl", "bv", "bvba", "commv", "cv", "cvba", "ivzw", "nv", "sc", "scrl", "scs", "sprl", "srl",
    "vof", "vzw",  # be
    "ag", "ev", "gmbh", "inc", "kg", "limited", "llc", "llp", "ltd", "ohg", "plc",
})  # fmt: skip
_WORD = re.compile(r"[^\W_]+")
_MARKS = re.compile(r"[\u0300-\u036f]+")
_ACRONYM = re.compile(r"(?<!\w)(?:[^\W\d_]\.){2,}")


def _words(text: str) -> list[str]:
    """Lower-case words without accents; an acronym written with dots (`C.C.A.S.`) is one word."""
    folded = _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))
    folded = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), folded)
    return _WORD.findall(folded)


@lru_cache(maxsize=1 << 16)
def buyer_key(name: str, country: str | None) -> str | None:
    """The buyer as compared between sources; None when nothing is left to compare.

    >>> buyer_key("COMMUNE DE LA MADELEINE", "FR") == buyer_key("Commune de La Madeleine", "FR")
    True
    >>> buyer_key("C.C.A.S. de Toulon", "FR"), buyer_key("Natuurpunt Beheer vzw", "BE")
    ('buyer:FR:ccas toulon', 'buyer:BE:natuurpunt beheer')
    >>> buyer_key("Ville de Lille", "FR") == buyer_key("Ville de Lille", "BE"), buyer_key("S.A.", "FR")
    (False, None)
    """
    words = [w for w in _words(name) if w not in _STOPWORDS and w not in _LEGAL_FORMS]
    return f"buyer:{country or '-'}:{' '.join(words)}" if words else None


@lru_cache(maxsize=1 << 16)
def title_words(title: str) -> frozenset[str]:
    """The words of a title that say what it is: no articles, numbers without leading zeros, no plural `s`.

    >>> sorted(title_words("Fournitures de bureau - Lot 01"))
    ['1', 'bureau', 'fourniture', 'lot']
    """
    found = set()
    for word in _words(title):
        if word.isdigit():
            found.add(str(int(word)))
        elif len(word) > 1 and word not in _STOPWORDS:
            found.add(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return frozenset(found)


def title_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Token Jaccard of two titles' words; 0 when both carry numbers and not the same ones (`lot 1`, `lot 2`).

    >>> title_similarity(title_words("Travaux de peinture"), title_words("TRAVAUX DE PEINTURES"))
    1.0
    >>> title_similarity(title_words("Mobilier scolaire lot 1"), title_words("Mobilier scolaire lot 2"))
    0.0
    """
    numbers_a = {w for w in a if w.isdigit()}
    numbers_b = {w for w in b if w.isdigit()}
    if (numbers_a and numbers_b and numbers_a != numbers_b) or not (a or b):
        return 0.0
    return len(a & b) / len(a | b)


# --- keys -------------------------------------------------------------------------------------------------

_UUID = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-\d{1,3})?", re.IGNORECASE)
_TED = re.compile(r"0*(\d{1,8})-((?:19|20)\d{2})")
_IDWEB = re.compile(r"\d{2}-\d{1,7}")
_TED_PAGE = re.compile(r"https?://ted\.europa\.eu/\S*?(?:/detail/|TED:NOTICE:)0*(\d{1,8})-((?:19|20)\d{2})(?!\d)", re.I)
"""A TED notice page names its publication number, with or without the leading zeros of the notice's own."""
_MAX_KEY = 300
_ROLE_STRENGTH = {"own": 0, "folder": 1, "ref": 2, "buyer": 3}


def own_keys(source: str, source_id: str) -> set[str]:
    """The keys of a publication's own id.

    >>> own_keys("ted", "00123456-2026"), own_keys("boamp", "26-7319")
    ({'ted:123456-2026'}, {'boamp:26-7319'})
    >>> own_keys("ted", "C4C415EE-AC08-4465-8FA6-57568CF69462-01")
    {'uuid:c4c415ee-ac08-4465-8fa6-57568cf69462'}
    """
    value = source_id.strip()
    if uuid := _UUID.fullmatch(value):
        return {f"uuid:{uuid.group(1).lower()}"}
    if source == "ted" and (ted := _TED.fullmatch(value)):
        return {f"ted:{int(ted.group(1))}-{ted.group(2)}"}
    return {f"{source}:{value}"} if len(value) <= _MAX_KEY else set()


def reference_keys(source: str, value: str) -> set[str]:
    """The keys under which the publication a reference names may be known (the reference does not say
    which source it is from: a TED number, a BOAMP idweb, an eForms notice id, or another reference).

    >>> sorted(reference_keys("boamp", "00123456-2026")), sorted(reference_keys("boamp", "26-7319"))
    (['ted:123456-2026'], ['boamp:26-7319'])
    >>> sorted(reference_keys("be", "PPP0T3-424/6018_001"))
    ['be:PPP0T3-424/6018_001', 'ref:PPP0T3-424/6018_001']
    """
    value = value.strip()
    if not value or len(value) > _MAX_KEY:
        return set()
    if uuid := _UUID.fullmatch(value):
        return {f"uuid:{uuid.group(1).lower()}"}
    keys = set()
    if ted := _TED.fullmatch(value):
        keys.add(f"ted:{int(ted.group(1))}-{ted.group(2)}")
    if _IDWEB.fullmatch(value):
        keys.add(f"boamp:{value}")
    return keys or {f"ref:{value}", f"{source}:{value}"}


def _id_key(value: str) -> str | None:
    value = value.strip()
    if uuid := _UUID.fullmatch(value):
        return f"uuid:{uuid.group(1).lower()}"
    return f"id:{value}" if value and len(value) <= _MAX_KEY else None


@dataclass(frozen=True)
class RawFacts:
    """What linking needs from the raw document beyond the normalized notice."""

    own: frozenset[str] = frozenset()
    """Keys of ids this publication is also known by (eForms notice id, BE noticeIds and referenceNumber)."""
    folders: frozenset[str] = frozenset()
    """Keys of the procedure id the source gives (eForms ContractFolderID, BE procedureId, BOAMP contractfolderid)."""
    cancelled: bool = False


_CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
_CHANGE_REASON = "/".join(
    (
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2}UBLExtensions",
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2}UBLExtension",
        "{urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2}ExtensionContent",
        "{http://data.europa.eu/p27/eforms-ubl-extensions/1}EformsExtension",
        "{http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1}Changes",
        "{http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1}ChangeReason",
        f"{_CBC}ReasonCode",
    )
)


def raw_facts(fmt: str, raw: bytes) -> RawFacts:
    """Ids and cancellation read from a raw document (`ParsedNotice.format` names its format); nothing for a
    format that has none, and NoticeError or ValueError for a document that cannot be read."""
    if fmt == "eforms":
        root = parse_xml(raw)
        own = {
            f"uuid:{m.group(1).lower()}"
            for e in root.iterfind(f"{_CBC}ID")
            if e.get("schemeName") in (None, "notice-id") and (m := _UUID.fullmatch((e.text or "").strip()))
        }
        folder = _id_key(root.findtext(f"{_CBC}ContractFolderID") or "")
        cancelled = any((e.text or "").strip() == "cancel" for e in root.iterfind(_CHANGE_REASON))
        return RawFacts(frozenset(own), frozenset({folder} if folder else ()), cancelled)
    if fmt in ("be-json", "boamp-json"):
        record = json.loads(raw)
        if not isinstance(record, dict):
            raise ValueError("raw record is not a JSON object")
        if fmt == "boamp-json":
            folder = _id_key(_text(record.get("contractfolderid")))
            states = {_text(record.get("etat")), _text(record.get("nature"))}
            return RawFacts(folders=frozenset({folder} if folder else ()), cancelled="ANNULATION" in states)
        ids = [_id_key(_text(value)) for value in _list(record.get("noticeIds"))]
        reference = _text(record.get("referenceNumber")).strip()
        if reference and len(reference) <= _MAX_KEY:
            ids.append(f"ref:{reference}")
        folder = _id_key(_text(record.get("procedureId")))
        return RawFacts(
            frozenset(key for key in ids if key),
            frozenset({folder} if folder else ()),
            bool(_text(record.get("cancelledAt"))),
        )
    if fmt == "boamp-xml":
        root = parse_xml(raw)
        marks = root.find("GESTION/REFERENCE/TYPE_AVIS")
        cancelled = marks is not None and (
            marks.find("STATUT/ANNULATION") is not None or marks.find("NATURE/ANNULATION") is not None
        )
        return RawFacts(cancelled=cancelled)
    return RawFacts()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- publications in memory -------------------------------------------------------------------------------


@dataclass
class _Pub:
    """A publication as matching sees it."""

    notice_id: int
    procedure: int
    source: str
    source_id: str
    notice_type: str
    country: str | None
    buyer: str | None
    words: frozenset[str]
    cpv: str | None
    published: date
    deadline_utc: datetime | None

    @classmethod
    def of(cls, row: Any, procedure: int | None) -> _Pub:
        return cls(
            notice_id=row.id,
            procedure=procedure or 0,
            source=row.source,
            source_id=row.source_id,
            notice_type=row.notice_type,
            country=row.buyer_country,
            buyer=buyer_key(row.buyer_name, row.buyer_country),
            words=title_words(row.title),
            cpv=row.cpv_main,
            published=row.published,
            deadline_utc=_aware(row.deadline_utc),
        )


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


_CALLS = frozenset({"contract-notice", "prior-information"})


def reference_agrees(x: _Pub, x_role: str, y: _Pub, y_role: str) -> bool:
    """Whether a key shared by two publications makes them one procedure (see the module docstring)."""
    if x.country and y.country and x.country != y.country:
        return False
    if "folder" in (x_role, y_role):
        return x.buyer == y.buyer or title_similarity(x.words, y.words) >= 0.5
    if x_role == "own" and y_role == "own":
        return x.source != y.source
    if x_role == "ref" and y_role == "ref":
        return not (x.notice_type in _CALLS and y.notice_type in _CALLS)
    target, referrer = (y, x) if x_role == "ref" else (x, y)
    return target.notice_type != "prior-information" or referrer.notice_type in ("prior-information", "change")


def similarity(x: _Pub, y: _Pub) -> float | None:
    """The title similarity of two publications of different sources that may be twins, else None."""
    if x.source == y.source or x.buyer is None or x.buyer != y.buyer:
        return None
    if x.cpv and y.cpv and x.cpv[:2] != y.cpv[:2]:
        return None
    gap = abs((x.published - y.published).days)
    if x.deadline_utc is None and y.deadline_utc is None:
        if x.notice_type != y.notice_type or gap > WINDOW_DAYS_NO_DEADLINE:
            return None
        threshold = TITLE_THRESHOLD_NO_DEADLINE
    elif x.deadline_utc is None or y.deadline_utc is None:
        return None
    else:
        if abs(x.deadline_utc - y.deadline_utc) > DEADLINE_TOLERANCE or gap > WINDOW_DAYS:
            return None
        threshold = TITLE_THRESHOLD
    score = title_similarity(x.words, y.words)
    return score if score >= threshold else None


@dataclass
class LinkSummary:
    """What a run of `link_procedures` did, for the log and the terminal."""

    notices: int = 0
    by_reference: int = 0
    by_similarity: int = 0
    created: int = 0
    relinked: int = 0
    """Notices already linked whose newer version was looked at again."""
    merged: int = 0
    changes: int = 0
    unreadable: int = 0
    """Raw documents that could not be read for ids or cancellation (the notice is linked without them)."""

    def add(self, other: LinkSummary) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def describe(self) -> str:
        text = (
            f"{self.notices} notices: {self.by_reference} linked by reference, {self.by_similarity} by similarity,"
            f" {self.created} new procedures, {self.relinked} new versions; {self.merged} procedures merged,"
            f" {self.changes} changes recorded"
        )
        return text + (f"; {self.unreadable} raw documents unreadable" if self.unreadable else "")


@dataclass
class _Pending:
    pub: _Pub
    keys: dict[str, str]
    title: str
    buyer_name: str
    content_hash: str
    cancelled: bool
    linked_before: bool
    has_link: bool
    rule: str = ""
    evidence: str = ""


class _Batch:
    """The publications a batch can link to, loaded in a few queries and kept current as the batch goes."""

    def __init__(self) -> None:
        self.hits: dict[str, list[tuple[_Pub, str]]] = defaultdict(list)
        self.kinds: dict[int, set[tuple[str, str]]] = defaultdict(set)
        self.parent: dict[int, int] = {}
        self.next_new = -1

    def find(self, procedure: int) -> int:
        while procedure in self.parent:
            procedure = self.parent[procedure]
        return procedure

    def register(self, pub: _Pub, keys: dict[str, str]) -> None:
        for key, role in keys.items():
            self.hits[key].append((pub, role))
        self.kinds[self.find(pub.procedure)].add((pub.source, pub.notice_type))

    def new_procedure(self) -> int:
        self.next_new -= 1
        return self.next_new + 1

    def merge(self, procedures: list[int]) -> int:
        """One procedure for all: the oldest stored one, else the first made in this batch."""
        roots = {self.find(p) for p in procedures}
        survivor = min(roots, key=lambda p: (0, p) if p > 0 else (1, -p))
        for root in roots - {survivor}:
            self.parent[root] = survivor
            self.kinds[survivor] |= self.kinds.pop(root, set())
        return survivor

    def link(self, item: _Pending) -> None:
        x = item.pub
        found: list[int] = [x.procedure] if item.linked_before else []
        for key, role in item.keys.items():
            if role == "buyer":
                continue
            for y, y_role in self.hits.get(key, ()):
                if y.notice_id != x.notice_id and reference_agrees(x, role, y, y_role):
                    found.append(y.procedure)
                    if not item.evidence:
                        item.evidence = f"{key} ({y.source} {y.source_id})"
        if found:
            x.procedure = self.merge(found)
            item.rule = item.rule or "reference"
            return
        best: tuple[float, int, _Pub] | None = None
        for y, _ in self.hits.get(x.buyer or "", ()):
            score = similarity(x, y)
            if score is None or y.notice_id == x.notice_id:
                continue
            kinds = self.kinds[self.find(y.procedure)]
            if x.notice_type != "change" and (x.source, x.notice_type) in kinds:
                continue
            rank = (score, -abs((x.published - y.published).days), y)
            if best is None or rank[:2] > best[:2]:
                best = rank
        if best is not None:
            x.procedure = self.find(best[2].procedure)
            item.rule, item.evidence = "similarity", f"{best[2].source} {best[2].source_id}: title {best[0]:.2f}"
        else:
            x.procedure = self.new_procedure()
            item.rule = "new"


# --- linking ----------------------------------------------------------------------------------------------


def link_procedures(
    engine: Engine, *, batch_size: int = 500, on_batch: Callable[[LinkSummary], None] | None = None
) -> LinkSummary:
    """Link every stored notice not yet linked (or linked in an older version) to its procedure, oldest
    publication first, in batches of one transaction each; record what changed. Running it again changes
    nothing. `on_batch` is called with the running total after each batch (for a progress display).

    The notices not linked yet come from a partial index in order (`UNLINKED_INDEX`); the ones linked in an
    older version (a newer one was stored since) are listed once at the start of the run."""
    summary = LinkSummary()
    after: tuple[date, int] | None = None
    seen: _Seen = {}
    with engine.connect() as connection:
        stale = _relink(connection)
    while True:
        with engine.begin() as connection:
            _serialize(connection)
            rows = _pending(connection, after, batch_size, stale)
            if not rows:
                return summary
            done, seen = _link_batch(connection, rows, seen)
            summary.add(done)
        after = (rows[-1].published, rows[-1].id)
        if on_batch is not None:
            on_batch(summary)


def _serialize(connection: Connection) -> None:
    """One linker at a time: two concurrent ones would both create a procedure for the same notice."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(7305190417)"))
    else:  # SQLite: a write takes the database's write lock now, before this transaction reads anything
        connection.execute(procedure_table.update().where(sa.false()).values(status="open"))


def _publication_columns(n: sa.Table) -> tuple[sa.Column[Any], ...]:
    """The notice columns a publication is judged on (`_Pub.of`)."""
    return (
        n.c.id,
        n.c.source,
        n.c.source_id,
        n.c.notice_type,
        n.c.title,
        n.c.buyer_name,
        n.c.buyer_country,
        n.c.cpv_main,
        n.c.published,
        n.c.deadline_utc,
    )


def _needs_link(n: sa.Table) -> sa.ColumnElement[bool]:
    return sa.or_(
        n.c.procedure_id.is_(None),
        link_table.c.notice_id.is_(None),
        link_table.c.content_hash != n.c.content_hash,
    )


def _relink(connection: Connection) -> list[tuple[date, int]]:
    """The linked notices whose link is missing or of an older version, in linking order (one pass a run)."""
    n = _notice
    query = (
        sa.select(n.c.published, n.c.id)
        .select_from(n.outerjoin(link_table, link_table.c.notice_id == n.c.id))
        .where(n.c.procedure_id.isnot(None), _needs_link(n))
    )
    return sorted((published, notice_id) for published, notice_id in connection.execute(query))


def _pending(
    connection: Connection, after: tuple[date, int] | None, limit: int, stale: Sequence[tuple[date, int]] = ()
) -> list[Any]:
    """The next notices to link after `after`, in order: the unlinked ones (read through their partial index)
    and the `stale` ones (linked in an older version), merged."""
    n = _notice
    query = (
        sa.select(
            *_publication_columns(n),
            n.c.content_hash,
            n.c.procedure_id,
            n.c.data,
            _raw.c.format,
            _raw.c.content,
            link_table.c.notice_id.label("linked"),
        )
        .select_from(
            n.outerjoin(link_table, link_table.c.notice_id == n.c.id).outerjoin(_raw, _raw.c.id == n.c.raw_document_id)
        )
        .order_by(n.c.published, n.c.id)
        .limit(limit)
    )
    unlinked = query.where(n.c.procedure_id.is_(None))
    if after is not None:
        unlinked = unlinked.where(sa.tuple_(n.c.published, n.c.id) > sa.tuple_(*after))
    rows = list(connection.execute(unlinked).all())
    start = bisect.bisect_right(stale, after) if after is not None else 0
    upcoming = [notice_id for _, notice_id in stale[start : start + limit]]
    if upcoming:
        rows += connection.execute(query.where(among(connection, n.c.id, upcoming), _needs_link(n))).all()
        rows = sorted({row.id: row for row in rows}.values(), key=lambda row: (row.published, row.id))[:limit]
    return rows


def url_key(url: str) -> str | None:
    """The key of a notice page: scheme and host folded, no fragment, no trailing slash.

    >>> url_key("HTTPS://www.BOAMP.fr/pages/avis/?q=idweb:26-7298#top")
    'url:https://www.boamp.fr/pages/avis?q=idweb:26-7298'
    >>> url_key("") is None, url_key("javascript:alert(1)") is None
    (True, True)
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"url:{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"[:340]


def _prepare(row: Any, summary: LinkSummary) -> _Pending:
    facts = RawFacts()
    if row.format and row.content is not None:
        try:
            facts = raw_facts(row.format, decompress(row.content))
        except (NoticeError, ValueError, etree.LxmlError, zstandard.ZstdError):
            summary.unreadable += 1
    pub = _Pub.of(row, row.procedure_id)
    keys: dict[str, str] = {}

    def put(key: str, role: str) -> None:
        if key not in keys or _ROLE_STRENGTH[role] < _ROLE_STRENGTH[keys[key]]:
            keys[key] = role

    for value in _list(_mapping(row.data).get("related")):
        for key in reference_keys(row.source, _text(value)):
            put(key, "ref")
    for key in facts.folders:
        put(key, "folder")
    for key in own_keys(row.source, row.source_id) | facts.own:
        put(key, "own")
    url = url_key(_text(_mapping(row.data).get("url")))
    if url:
        # A feed entry links to the notice's page at its source: a reference to that publication.
        put(url, "ref" if row.source.startswith("feed:") else "own")
    if page := _TED_PAGE.match(_text(_mapping(row.data).get("url")).strip()):
        put(f"ted:{int(page.group(1))}-{page.group(2)}", "own" if row.source == "ted" else "ref")
    if pub.buyer:
        put(pub.buyer, "buyer")
    return _Pending(
        pub=pub,
        keys=keys,
        title=row.title,
        buyer_name=row.buyer_name,
        content_hash=row.content_hash,
        cancelled=facts.cancelled,
        linked_before=row.procedure_id is not None,
        has_link=row.linked is not None,
    )


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_Seen = dict[tuple[int, int, str], _Pub]
"""Publications read as candidates, by notice id, procedure and content hash."""


def _load_candidates(connection: Connection, batch: _Batch, pending: list[_Pending], seen: _Seen) -> _Seen:
    """The stored publications sharing a key with the batch: by reference, and by buyer within the window.

    Consecutive batches share most of their candidates (the window spans months, a batch days): those `seen`
    by the previous batch, unchanged since, are taken as they are rather than read into publications again.
    Returns this batch's, for the next."""
    n, k = _notice, key_table
    mine = {item.pub.notice_id for item in pending}
    references = sorted({key for item in pending for key, role in item.keys.items() if role != "buyer"})
    buyers = sorted({item.pub.buyer for item in pending if item.pub.buyer})
    window = timedelta(days=max(WINDOW_DAYS, WINDOW_DAYS_NO_DEADLINE))
    earliest = min(item.pub.published for item in pending) - window
    latest = max(item.pub.published for item in pending) + window
    columns = (k.c.key, k.c.role, n.c.procedure_id, n.c.content_hash, *_publication_columns(n))
    base = sa.select(*columns).select_from(k.join(n, n.c.id == k.c.notice_id)).where(n.c.procedure_id.isnot(None))
    queries = [base.where(among(connection, k.c.key, chunk)) for chunk in _chunks(references)]
    queries += [
        base.where(among(connection, k.c.key, chunk), n.c.published.between(earliest, latest))
        for chunk in _chunks(buyers)
    ]
    pubs: _Seen = {}
    for query in queries:
        for row in connection.execute(query).all():
            if row.id in mine:
                continue
            identity = (row.id, row.procedure_id, row.content_hash)
            pub = pubs.get(identity)
            if pub is None:
                pub = pubs[identity] = seen.get(identity) or _Pub.of(row, row.procedure_id)
            batch.hits[row.key].append((pub, row.role))
    procedures = sorted({pub.procedure for pub in pubs.values()})
    for chunk in _chunks(procedures):
        kinds = sa.select(n.c.procedure_id, n.c.source, n.c.notice_type).where(
            among(connection, n.c.procedure_id, chunk)
        )
        for procedure_id, source, notice_type in connection.execute(kinds).all():
            batch.kinds[procedure_id].add((source, notice_type))
    return pubs


def _link_batch(connection: Connection, rows: list[Any], seen: _Seen) -> tuple[LinkSummary, _Seen]:
    """Link a batch of notices; returns what it did and the candidates it read (see `_load_candidates`)."""
    summary = LinkSummary(notices=len(rows))
    pending = [_prepare(row, summary) for row in rows]
    batch = _Batch()
    seen = _load_candidates(connection, batch, pending, seen)
    for item in pending:
        batch.link(item)
        batch.register(item.pub, item.keys)
        if item.linked_before:
            summary.relinked += 1
        elif item.rule == "reference":
            summary.by_reference += 1
        elif item.rule == "similarity":
            summary.by_similarity += 1

    # New procedures get their rows (one insert), then every id is final.
    now = utcnow()
    new_ids: dict[int, int] = {}
    fresh = [item for item in pending if batch.find(item.pub.procedure) < 0]
    firsts = {batch.find(item.pub.procedure): item for item in reversed(fresh)}
    if firsts:
        order = sorted(firsts, reverse=True)
        inserted = insert_returning(
            connection,
            procedure_table.insert().returning(procedure_table.c.id, sort_by_parameter_order=True),
            [
                {
                    "title": firsts[temp].title,
                    "buyer_name": firsts[temp].buyer_name,
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                }
                for temp in order
            ],
        )
        new_ids = {temp: row_id for temp, (row_id,) in zip(order, inserted, strict=True)}
        summary.created = len(new_ids)

    def final(procedure: int) -> int:
        root = batch.find(procedure)
        return new_ids.get(root, root)

    absorbed = {p: final(p) for p in batch.parent if p > 0}
    if absorbed:
        _merge(connection, absorbed, now)
        summary.merged = len(absorbed)

    moved = {
        item.pub.notice_id: final(item.pub.procedure)
        for item in pending
        if final(item.pub.procedure) != item.pub.procedure or not item.linked_before
    }
    set_by_id(connection, _notice.c.procedure_id, dict(sorted(moved.items())))  # one order for all: no deadlock
    _write_keys_and_links(connection, pending, now)
    touched = {final(item.pub.procedure) for item in pending} | set(absorbed.values())
    summary.changes = _refresh(connection, sorted(touched), now)
    return summary, seen


def _write_keys_and_links(connection: Connection, pending: list[_Pending], now: datetime) -> None:
    """The keys of each notice (replacing those of its older version) and how it was linked; a notice linked
    again keeps the rule and evidence of its first link."""
    for chunk in _chunks([item.pub.notice_id for item in pending if item.has_link]):
        connection.execute(key_table.delete().where(among(connection, key_table.c.notice_id, chunk)))
    key_rows = [
        {"notice_id": item.pub.notice_id, "key": key, "role": role}
        for item in pending
        for key, role in item.keys.items()
    ]
    insert_rows(connection, key_table, key_rows)
    fresh = [item for item in pending if not item.has_link]
    if fresh:
        insert_rows(
            connection,
            link_table,
            [
                {
                    "notice_id": item.pub.notice_id,
                    "content_hash": item.content_hash,
                    "rule": item.rule,
                    "evidence": item.evidence[:400],
                    "cancelled": item.cancelled,
                    "linked_at": now,
                }
                for item in fresh
            ],
        )
    again = [
        {"notice": item.pub.notice_id, "content_hash": item.content_hash, "cancelled": item.cancelled, "linked_at": now}
        for item in pending
        if item.has_link
    ]
    if again:
        connection.execute(
            link_table.update()
            .where(link_table.c.notice_id == sa.bindparam("notice"))
            .values(
                content_hash=sa.bindparam("content_hash"),
                cancelled=sa.bindparam("cancelled"),
                linked_at=sa.bindparam("linked_at"),
            ),
            again,
        )


def _merge(connection: Connection, absorbed: dict[int, int], now: datetime) -> None:
    """Move the publications and changes of procedures found to be one into the one that stays."""
    for source, target in absorbed.items():
        connection.execute(_notice.update().where(_notice.c.procedure_id == source).values(procedure_id=target))
        connection.execute(
            change_table.update().where(change_table.c.procedure_id == source).values(procedure_id=target)
        )
        connection.execute(
            procedure_table.update()
            .where(sa.or_(procedure_table.c.id == source, procedure_table.c.merged_into == source))
            .values(status="merged", merged_into=target, updated_at=now)
        )


# --- state and changes ------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One publication of a procedure, or one kept version of it, in the procedure's timeline."""

    notice_id: int
    content_hash: str
    rank: int
    source: str
    source_id: str
    notice_type: str
    title: str
    buyer_name: str
    buyer_country: str | None
    published: date
    deadline: str | None
    deadline_utc: datetime | None
    lots: dict[str, str | None]
    """Lot id → title, in the notice's order."""
    cancelled: bool
    procedure_id: int
    first: bool = False
    """The first entry of its notice (a publication; the others are republications)."""


def _instant(deadline: str | None, country: str | None) -> datetime | None:
    """As the store's `deadline_utc`: a date alone is the end of that day where the buyer is."""
    if not deadline:
        return None
    try:
        moment = datetime.fromisoformat(deadline)
    except ValueError:
        return None
    if len(deadline) == 10:
        moment = datetime.combine(moment.date(), time(23, 59, 59))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=buyer_zone(country) or UTC)
    return moment.astimezone(UTC)


_TYPE_ORDER = {"prior-information": 0, "contract-notice": 1, "change": 3, "award": 4}
"""Publications of one day in the order a procedure goes through them."""


def _timelines(connection: Connection, procedure_ids: Sequence[int]) -> dict[int, list[_Entry]]:
    """The publications of each procedure and their kept versions, in publication order. Versions of one
    notice published the same day are corrections of the record (a parser fix, a same-day republication):
    only the latest counts. Publications of one day follow the procedure's course (PIN, call, change, award)."""
    n = _notice
    entries: dict[int, list[_Entry]] = defaultdict(list)
    notices: dict[int, Any] = {}
    for chunk in _chunks(procedure_ids):
        query = sa.select(
            n.c.id,
            n.c.procedure_id,
            n.c.source,
            n.c.source_id,
            n.c.notice_type,
            n.c.title,
            n.c.buyer_name,
            n.c.buyer_country,
            n.c.published,
            n.c.deadline,
            n.c.deadline_utc,
            n.c.content_hash,
            n.c.version,
            link_table.c.cancelled,
        ).select_from(n.outerjoin(link_table, link_table.c.notice_id == n.c.id))
        for row in connection.execute(query.where(among(connection, n.c.procedure_id, chunk))).all():
            notices[row.id] = row
    ids = sorted(notices)
    lots: dict[int, dict[str, str | None]] = defaultdict(dict)
    versions: list[Any] = []
    for chunk in _chunks(ids):
        lot_query = sa.select(_lot.c.notice_id, _lot.c.lot_id, _lot.c.title).where(
            among(connection, _lot.c.notice_id, chunk)
        )
        for notice_id, lot_id, title in connection.execute(lot_query.order_by(_lot.c.notice_id, _lot.c.position)).all():
            lots[notice_id][lot_id] = title
        version_query = sa.select(_version.c.notice_id, _version.c.version, _version.c.content_hash, _version.c.data)
        versions.extend(connection.execute(version_query.where(among(connection, _version.c.notice_id, chunk))))
    for row in notices.values():
        entries[row.procedure_id].append(
            _Entry(
                notice_id=row.id,
                content_hash=row.content_hash,
                rank=row.version,
                source=row.source,
                source_id=row.source_id,
                notice_type=row.notice_type,
                title=row.title,
                buyer_name=row.buyer_name,
                buyer_country=row.buyer_country,
                published=row.published,
                deadline=_text(row.deadline) or None,
                deadline_utc=_aware(row.deadline_utc),
                lots=lots[row.id],
                cancelled=bool(row.cancelled),
                procedure_id=row.procedure_id,
            )
        )
    for version in versions:
        current = notices[version.notice_id]
        data = _mapping(version.data)
        buyer = _mapping(data.get("buyer"))
        try:
            published = date.fromisoformat(_text(data.get("published")))
        except ValueError:
            continue
        deadline = _text(data.get("deadline")) or None
        entries[current.procedure_id].append(
            _Entry(
                notice_id=version.notice_id,
                content_hash=version.content_hash,
                rank=version.version if version.version > 0 else -1,
                source=current.source,
                source_id=current.source_id,
                notice_type=_text(data.get("notice_type")) or current.notice_type,
                title=_text(data.get("title")) or current.title,
                buyer_name=_text(buyer.get("name")) or current.buyer_name,
                buyer_country=_text(buyer.get("country")) or current.buyer_country,
                published=published,
                deadline=deadline,
                deadline_utc=_instant(deadline, _text(buyer.get("country")) or current.buyer_country),
                lots={
                    _text(_mapping(lot).get("id")): _text(_mapping(lot).get("title")) or None
                    for lot in _list(data.get("lots"))
                },
                cancelled=False,
                procedure_id=current.procedure_id,
            )
        )
    timelines = {}
    for procedure_id, found in entries.items():
        latest: dict[tuple[int, date], _Entry] = {}
        for entry in found:
            kept = latest.get((entry.notice_id, entry.published))
            if kept is None or entry.rank > kept.rank:
                latest[(entry.notice_id, entry.published)] = entry
        timeline = sorted(
            latest.values(), key=lambda e: (e.published, _TYPE_ORDER.get(e.notice_type, 2), e.notice_id, e.rank)
        )
        seen: set[int] = set()
        for entry in timeline:
            entry.first = entry.notice_id not in seen
            seen.add(entry.notice_id)
        timelines[procedure_id] = timeline
    return timelines


@dataclass
class _Change:
    notice_id: int
    kind: str
    key: str
    detail: dict[str, Any]


@dataclass
class _State:
    title: str = ""
    buyer_name: str = ""
    buyer_country: str | None = None
    deadline: str | None = None
    deadline_utc: datetime | None = None
    status: str = "open"
    first_published: date | None = None
    last_published: date | None = None
    changes: list[_Change] = field(default_factory=list)


def _same_deadline(old: _State, new: _Entry) -> bool:
    """Equal instants, or one deadline giving a time on the day the other gives alone (a precision, not a move)."""
    if old.deadline_utc == new.deadline_utc:
        return True
    assert old.deadline is not None and new.deadline is not None
    return (len(old.deadline) == 10 or len(new.deadline) == 10) and old.deadline[:10] == new.deadline[:10]


def _change(entry: _Entry, kind: str, subject: str = "", **detail: Any) -> _Change:
    """A change said by this entry; its key names the version, so a rerun finds it already recorded."""
    detail["published"] = entry.published.isoformat()
    return _Change(entry.notice_id, kind, f"{kind}:{subject}@{entry.content_hash[:12]}"[:160], detail)


def _walk(timeline: list[_Entry]) -> _State:
    """The procedure's state after all its publications, and the changes each one made. The deadline is the
    first call's until a change notice or a new version of a notice moves it (twins at two sources sometimes
    disagree by an hour, which is not a move); a time given for the day known alone makes it precise."""
    state = _State()
    lots: dict[str, dict[str, str | None]] = {}
    named = next((e for e in reversed(timeline) if e.notice_type != "award"), timeline[-1])
    state.title, state.buyer_name, state.buyer_country = named.title, named.buyer_name, named.buyer_country
    state.first_published, state.last_published = timeline[0].published, timeline[-1].published
    for index, entry in enumerate(timeline):
        made: list[_Change] = []
        if entry.notice_type == "award":
            if state.status != "awarded":
                made.append(_change(entry, "awarded"))
                state.status = "awarded"
        elif entry.cancelled:
            if state.status != "cancelled":
                made.append(_change(entry, "cancelled"))
                state.status = "cancelled"
        else:
            if entry.deadline is not None and entry.deadline_utc is not None:
                if state.deadline is None or (
                    _same_deadline(state, entry) and len(entry.deadline) > len(state.deadline)
                ):  # the first deadline known, or the same day now with a time
                    state.deadline, state.deadline_utc = entry.deadline, entry.deadline_utc
                elif not _same_deadline(state, entry) and (entry.notice_type == "change" or not entry.first):
                    made.append(_change(entry, "deadline-moved", old=state.deadline, new=entry.deadline))
                    state.deadline, state.deadline_utc = entry.deadline, entry.deadline_utc
            if entry.notice_type in ("contract-notice", "change") and len(entry.lots) > 1:
                # Lots change by a change notice or a new version of the notice, compared with the source's
                # last list: lot ids are only comparable within a source, and a notice listing one lot (a
                # corrigendum that lists none gets the default one) says nothing about the others.
                before = lots.get(entry.source)
                if before is not None and (entry.notice_type == "change" or not entry.first):
                    made.extend(
                        _change(entry, "lot-added", lot, lot={"id": lot, "title": title})
                        for lot, title in entry.lots.items()
                        if lot not in before
                    )
                    made.extend(
                        _change(entry, "lot-removed", lot, lot={"id": lot, "title": title})
                        for lot, title in before.items()
                        if lot not in entry.lots
                    )
                lots[entry.source] = entry.lots
            if entry.notice_type == "change" and not made and index > 0:
                made.append(_change(entry, "modified"))
        state.changes.extend(made)
    return state


def _refresh(connection: Connection, procedure_ids: Sequence[int], now: datetime) -> int:
    """Recompute the state of these procedures and record the changes not yet recorded; returns how many."""
    timelines = _timelines(connection, procedure_ids)
    notice_ids = sorted({e.notice_id for timeline in timelines.values() for e in timeline})
    recorded: set[tuple[int, str]] = set()
    current: dict[int, Any] = {}
    for chunk in _chunks(notice_ids):
        query = sa.select(change_table.c.notice_id, change_table.c.change_key)
        recorded.update(
            (a, b) for a, b in connection.execute(query.where(among(connection, change_table.c.notice_id, chunk)))
        )
    for chunk in _chunks(list(procedure_ids)):
        for row in connection.execute(sa.select(procedure_table).where(among(connection, procedure_table.c.id, chunk))):
            current[row.id] = row
    new_changes: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for procedure_id, timeline in timelines.items():
        state = _walk(timeline)
        for item in state.changes:
            if (item.notice_id, item.key) not in recorded:
                recorded.add((item.notice_id, item.key))
                new_changes.append(
                    {
                        "procedure_id": procedure_id,
                        "notice_id": item.notice_id,
                        "kind": item.kind,
                        "change_key": item.key,
                        "detail": item.detail,
                        "created_at": now,
                    }
                )
        values = {
            "title": state.title,
            "buyer_name": state.buyer_name,
            "buyer_country": state.buyer_country,
            "deadline": state.deadline,
            "deadline_utc": state.deadline_utc,
            "status": state.status,
            "first_published": state.first_published,
            "last_published": state.last_published,
        }
        row = current[procedure_id]
        if any(
            (_aware(getattr(row, name)) if name == "deadline_utc" else getattr(row, name)) != value
            for name, value in values.items()
        ):
            updates.append({"procedure": procedure_id, "updated_at": now, **values})
    if new_changes:
        insert_rows(connection, change_table, new_changes)
    if updates:
        connection.execute(
            procedure_table.update()
            .where(procedure_table.c.id == sa.bindparam("procedure"))
            .values({name: sa.bindparam(name) for name in updates[0] if name != "procedure"}),
            updates,
        )
    return len(new_changes)


# --- history ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcedureEvent:
    """One line of a procedure's history: a publication, or a change one made."""

    kind: str
    """published | republished (a new version of the same notice) | a change kind (see ProcedureChange)"""
    published: date
    notice_id: int
    source: str
    source_id: str
    notice_type: str
    detail: dict[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None
    """When the change was recorded (None for publications)."""


def current_procedure(connection: Connection, procedure_id: int) -> int:
    """The procedure that holds the publications of this one now (itself unless it was merged)."""
    seen = set()
    while procedure_id not in seen:
        seen.add(procedure_id)
        row = connection.execute(
            sa.select(procedure_table.c.merged_into).where(procedure_table.c.id == procedure_id)
        ).first()
        if row is None:
            raise LookupError(f"no procedure {procedure_id}")
        if row.merged_into is None:
            return procedure_id
        procedure_id = row.merged_into
    return procedure_id


def procedure_history(engine: Engine, *, procedure_id: int) -> list[ProcedureEvent]:
    """The publications of a procedure and the changes they made, in publication order (a merged procedure's
    id gives the history of the procedure it was merged into). LookupError for an unknown id."""
    with engine.connect() as connection:
        procedure_id = current_procedure(connection, procedure_id)
        timeline = _timelines(connection, [procedure_id]).get(procedure_id, [])
        changes = connection.execute(
            sa.select(change_table)
            .where(change_table.c.procedure_id == procedure_id)
            .order_by(change_table.c.created_at, change_table.c.id)
        ).all()
    events: list[tuple[tuple[int, ...], ProcedureEvent]] = []
    position: dict[tuple[int, date], int] = {}
    last: dict[int, int] = {}
    for index, entry in enumerate(timeline):
        position[(entry.notice_id, entry.published)] = last[entry.notice_id] = index
        kind = "published" if entry.first else "republished"
        event = ProcedureEvent(kind, entry.published, entry.notice_id, entry.source, entry.source_id, entry.notice_type)
        events.append(((index, 0), event))
    for row in changes:
        if row.notice_id not in last:
            continue
        said_by = timeline[last[row.notice_id]]
        detail = dict(row.detail or {})
        try:
            published = date.fromisoformat(_text(detail.pop("published", "")))
        except ValueError:
            published = said_by.published
        index = position.get((row.notice_id, published), last[row.notice_id])
        event = ProcedureEvent(
            row.kind,
            published,
            row.notice_id,
            said_by.source,
            said_by.source_id,
            said_by.notice_type,
            detail,
            row.created_at,
        )
        events.append(((index, 1, row.id), event))
    return [event for _, event in sorted(events, key=lambda pair: pair[0])]

"""BOAMP (France, DILA): opendatasoft API v2.1 records and BOAMP XML notices.

A JSON record has flat fields (`idweb`, `objet`, `dateparution`, `nature`, `type_procedure`...) and two JSON
*strings*, `gestion` and `donnees`, holding the whole notice. `donnees` comes in several schemas:

- v110 (2006-era, `IDENT/NOM`, `OBJET/OBJET_COMPLET`, `OBJET/CPV_OBJ`, `DELAI/RECEPT_OFFRES` in French
  words, lots as parallel lists `LOTS/NUM_LOT`, `LOTS/DESC_LOT`, `LOTS/NOMENC_LOT`);
- v230 (`IDENTITE/DENOMINATION`, `OBJET/CPV/PRINCIPAL`, `OBJET/LOTS/LOT`, `CONDITION_DELAI/RECEPT_OFFRES`):
  the XML notices of `parse_boamp_xml` converted to JSON, so both go through the same reader (`_read_v230`) by
  way of a small node interface (`_XmlNode` over lxml, `_DictNode` over the JSON);
- the current national schemas (`FNSimple`, and the sibling `MAPA`/`DSP` of the same shape:
  `organisme` + `initial`), read by `_read_national`;
- `EFORMS` (European notices since 2023, eForms UBL converted to JSON): only the classification, places, lots,
  deadline and documents are read, the rest comes from the flat fields. No recorded example; see the tests.

Decisions where the sources are silent (the tests pin each one):

- `notice_type`: `NOTICE_TYPES` below maps `nature`; a status (`etat` / `STATUT`) RECTIFICATIF, ANNULATION or
  MODIFICATION makes any notice a `change` (2006 corrigenda carry nature APPEL_OFFRE with such a status).
- title: the flat `objet` (XML: `GESTION/INDEXATION/RESUME_OBJET`, the same field), so a notice has the same
  title whatever the format it was read from; else the title inside `donnees`, else its object text.
  `description`: the full object text when it differs from the title. Texts are whitespace-collapsed, and the
  Windows-1252 punctuation some notices carry as C1 control characters (U+0092 for ’) is repaired.
- buyer name and town: as written, whitespace collapsed, with the trailing separator of the 2006 typeset
  layout (`ville de Chenôve.`, `Rennes Cedex 9,`) removed; a final abbreviation dot (`D.E.C.S.`) is kept.
- a value range (`valeurEstimee/fourchette`, `VALEUR_MIN`/`VALEUR_MAX`) is not an estimate: in practice it is
  the minimum and maximum of a framework agreement (26-7308: 1 to 75,000 EUR), which docs/notice.md says is not
  an estimate, and taking its maximum would wrongly exclude the notice from profiles with a lower value
  ceiling. Only a range whose two ends are equal counts as the estimate. Award notices carry awarded values
  only: their estimated value is null.
- procedure: `PROCEDURES` below; the French "procédure adaptée" (MAPA, below the EU thresholds and organised
  freely by the buyer) and design contests (CONCOURS) are `other`.
- deadline: the zoned value inside `donnees` first (`procedure/dateReceptionOffres`, `RECEPT_OFFRES`, the
  2006 French date and hour), then `gestion`'s `DATE_LIMITE_REPONSE`, then the flat `datelimitereponse`, whose
  offset is wrong in recent records (Paris wall-clock time labelled +00:00): its wall-clock time is taken as
  Paris time, and midnight as "no time given" (2006 records write a date-only deadline as T00:00:00+00:00).
  Without a tender deadline, the deadline for requests to participate is taken (restricted, negotiated).
- lots: a procedure not divided into lots (no lot block, or `DIV_EN_LOTS/NON` with one or several `LOT`
  blocks, merged) is one lot carrying the procedure's CPV, NUTS, title and value where it has none of its
  own (its id: the source's lot number, else "1"); the lots of a divided procedure keep their own data, their
  description standing for a missing title. Award notices without a lot block take their lots from
  `ATTRIBUTION/DECISION/NUM_LOT` when there are several.
- `documents_url`: the consultation URL (`urlDocConsul`, `URL_DOCUMENT`, 2006 `DOCUMENTS/URL`), else for a
  notice that is not an award the buyer profile (`urlProfilAch`, `URL_PROFIL_ACHETEUR`), where French buyers
  must publish the tender documents.
- `related`: previous BOAMP notices (`annonce_lie`, `annonces_anterieures`, `gestion` links,
  `MARCHE/ANNONCE_ANTERIEUR/REFERENCE/IDWEB`) then TED numbers `NNNNNN-YYYY` from `PUBLICATION_JOUE`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from lxml import etree

from ..identifiers import normalize_identifier
from ..notice import MAX_TEXT, Award, Buyer, Lot, Notice, Winner
from .fields import (
    PARIS,
    NoticeError,
    amount,
    collapse,
    country_alpha2,
    deadline,
    distinct,
    distinct_cpv,
    iso_date,
    zoned_datetime,
)

__all__ = ["NOTICE_TYPES", "PROCEDURES", "as_list", "parse_boamp_record", "parse_boamp_xml"]

SOURCE = "boamp"
NOTICE_URL = "https://www.boamp.fr/pages/avis/?q=idweb:{idweb}"

NOTICE_TYPES: dict[str, str] = {
    # values of the flat `nature` (and of GESTION/REFERENCE/TYPE_AVIS/NATURE), '-' and ' ' read as '_'
    "APPEL_OFFRE": "contract-notice",  # avis de marché, avis de concession, concours
    "PRE_INFORMATION": "prior-information",  # avis de pré-information (eForms PIN)
    "PREINFORMATION": "prior-information",
    "AVIS_PREALABLE": "prior-information",
    "PERIODIQUE": "prior-information",  # avis périodique indicatif
    "ATTRIBUTION": "award",  # avis d'attribution / résultat de marché
    "RECTIFICATIF": "change",
    "ANNULATION": "change",
    "MODIFICATION": "change",  # modification de marché en cours d'exécution
}
"""Values seen in the fixtures: APPEL_OFFRE (JSON and XML, sub-natures STANDARD, CONCOURS, CONCESSION),
ATTRIBUTION (XML); PRE-INFORMATION, RECTIFICATIF and MODIFICATION are documented natures of the dataset. Any
other nature is `other`."""

CHANGE_STATUSES = frozenset({"RECTIFICATIF", "ANNULATION", "MODIFICATION"})

PROCEDURES: dict[str, str] = {
    "OUVERT": "open",
    "APPEL_OFFRE_OUVERT": "open",
    "RESTREINT": "restricted",
    "APPEL_OFFRE_RESTREINT": "restricted",
    "NEGOCIE": "negotiated",
    "MARCHE_NEGOCIE": "negotiated",
    "PROCEDURE_NEGOCIEE": "negotiated",
    "CONCURRENTIELLE_AVEC_NEGOCIATION": "negotiated",
    "NEGOCIEE_AVEC_MISE_EN_CONCURRENCE": "negotiated",
    "NEGOCIEE_SANS_MISE_EN_CONCURRENCE": "negotiated",
    "DIALOGUE_COMPETITIF": "competitive-dialogue",
    "PARTENARIAT_INNOVATION": "innovation-partnership",
    "PROCEDURE_ADAPTEE": "other",  # MAPA: national procedure below the EU thresholds
    "PROCEDURE_ADAPTE": "other",  # the XML spelling
    "ADAPTE": "other",
    "CONCOURS": "other",
}
"""`type_procedure` (flat), `PROCEDURE/TYPE_PROCEDURE/*` (XML), `PROCEDURE/@type` (2006). A value not listed
is read by its words (NEGOCI..., RESTREINT..., OUVERT...), else `other`."""

CONTRACT_NATURES = {
    "TRAVAUX": "works",
    "FOURNITURES": "supplies",
    "FOURNITURE": "supplies",
    "SERVICES": "services",
    "SERVICE": "services",
}

_CPV_IN_TEXT = re.compile(r"(?<!\d)(\d{8})(?:-\d)?(?!\d)")
_NUTS = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_LOOSE_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}(?:Z|[+-]\d{2}:\d{2})?")
_FRENCH_DATE = re.compile(r"(\d{1,2})\s*(?:er)?\s+([^\W\d_]+)\s+(\d{4})")
_FRENCH_TIME = re.compile(r"(?<!\d)(\d{1,2})\s*(?:h|heures?)(?![^\W\d_])\s*(\d{2})?")
_FRENCH_MONTHS = {
    "janvier": 1, "fevrier": 2, "février": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12, "décembre": 12,
}  # fmt: skip
_IDWEB_IN_TEXT = re.compile(r'"IDWEB"\s*:\s*"([^"]+)"', re.IGNORECASE)
_ABBREVIATION_END = re.compile(r"(?:^|[\s.])[^\W\d_]\.$")


def _cp1252(code: int) -> str | None:
    try:
        return bytes([code]).decode("cp1252")
    except UnicodeDecodeError:
        return None


_C1 = re.compile("[\x80-\x9f]")
_C1_AS_CP1252 = {code: _cp1252(code) for code in range(0x80, 0xA0)}
"""Some notices carry Windows-1252 punctuation read as Latin-1 (U+0092 for ’, U+0095 for •): C1 control
characters never meant as such, put back to what the buyer typed (the undefined ones dropped)."""


def _clean(text: str | None) -> str | None:
    """Text collapsed, with the misread Windows-1252 punctuation repaired.

    >>> _clean("l\\x92interface  du\\n réseau")
    'l’interface du réseau'
    """
    if not text:
        return None
    return collapse(text.translate(_C1_AS_CP1252) if _C1.search(text) else text)


def as_list(value: Any) -> list[Any]:
    """The children of a JSON node whatever their number: BOAMP writes one child as an object, several as a
    list, none as null; nulls inside a list are dropped.

    >>> as_list(None), as_list("a"), as_list(["a", None, "b"]), as_list({"k": 1})
    ([], ['a'], ['a', 'b'], [{'k': 1}])
    """
    if value is None:
        return []
    if isinstance(value, list):
        return [item for item in value if item is not None]
    return [value]


# --- small readers ------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """The text of a JSON node: a string, a number, an element's `#text`, or the first such in a list."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return _text(value.get("#text"))
    if isinstance(value, list):
        for item in value:
            text = _text(item)
            if text and text.strip():
                return text
    return None


def _get(value: Any, *keys: str) -> Any:
    """`value[k1][k2]...` through objects only; a list on the way is read through its first item."""
    for key in keys:
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _strings(value: Any) -> Iterator[str]:
    """Every string under a JSON node, in document order (attributes `@...` left out)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, Mapping):
            stack.extend(reversed([v for k, v in node.items() if not str(k).startswith("@")]))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def _cpvs(text: str | None) -> list[str]:
    """The CPV codes written in a text (`45454000.`, `45262650, 45320000`, `72000000-5`)."""
    return _CPV_IN_TEXT.findall(text) if text else []


def _nuts(text: str | None) -> str | None:
    if not text:
        return None
    code = text.strip().upper().rstrip(".").replace(" ", "")
    return code if _NUTS.fullmatch(code) else None


def _tidy(text: str | None) -> str | None:
    """A name or town as written, whitespace collapsed, without the trailing separator of the 2006 layout.

    >>> _tidy("ville de Chenôve."), _tidy("Rennes Cedex 9,"), _tidy("conseil général, D.E.C.S.")
    ('ville de Chenôve', 'Rennes Cedex 9', 'conseil général, D.E.C.S.')
    """
    text = _clean(text)
    if not text:
        return None
    text = text.rstrip(" ,;:")
    if text.endswith(".") and not _ABBREVIATION_END.search(text):
        text = text[:-1].rstrip(" ,;:")
    return text or None


def _long_text(text: str | None) -> str | None:
    text = _clean(text)
    return text[:MAX_TEXT] if text else None


def _description(full: str | None, title: str | None) -> str | None:
    """The full object text when it says more than the title (leading ': ' of some XML notices dropped)."""
    text = _long_text(full)
    if text:
        text = text.lstrip(":;,. ") or None
    if not text or (title and text.casefold() == title.casefold()):
        return None
    return text


def _url(text: str | None) -> str | None:
    text = collapse(text)
    if not text or " " in text:
        return None
    text = text.rstrip(".,;")
    if text.lower().startswith("www."):
        text = "http://" + text
    return text if re.match(r"https?://[^/\s]+\.[^\s]*", text, re.IGNORECASE) else None


def _siret(text: str | None) -> str | None:
    text = collapse(text)
    if not text:
        return None
    compact = re.sub(r"[\s.]", "", text)
    return compact if compact.isdigit() else text


def _loose_date(raw: str | None) -> date | None:
    """`2006-07-4` (2006 `gestion`) as well as every form `iso_date` reads."""
    if not raw:
        return None
    parsed = iso_date(raw)
    if parsed:
        return parsed
    match = _LOOSE_DATE.match(raw.strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _zoned_deadline(raw: str | None) -> str | None:
    """A deadline inside the notice: its offset kept, a time without zone in Paris, a date alone as a date."""
    text = (raw or "").strip()
    if not text:
        return None
    if _DATE_ONLY.fullmatch(text):
        return deadline(text)
    return zoned_datetime(text, zone=PARIS)


def _flat_deadline(raw: str | None) -> str | None:
    """The flat `datelimitereponse`: its wall-clock time is Paris time whatever offset it carries."""
    text = (raw or "").strip()
    if not text:
        return None
    if _DATE_ONLY.fullmatch(text):
        return deadline(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment.replace(tzinfo=None, microsecond=0)
    if moment.hour == moment.minute == moment.second == 0:
        return moment.date().isoformat()
    return moment.replace(tzinfo=PARIS).isoformat()


def _french_deadline(day: str | None, hours: Iterable[str | None]) -> str | None:
    """`21 juillet 2006` and `, à 16 h 30` (2006 notices) as a Paris deadline.

    >>> _french_deadline("1er septembre 2006", [", à 16 h 30", "à compter de la date"])
    '2006-09-01T16:30:00+02:00'
    >>> _french_deadline("21 juillet 2006", ["120 jours"])
    '2006-07-21'
    """
    match = _FRENCH_DATE.search(day or "")
    if not match:
        return None
    month = _FRENCH_MONTHS.get(match[2].lower())
    if not month:
        return None
    try:
        parsed = date(int(match[3]), month, int(match[1]))
    except ValueError:
        return None
    for text in hours:
        clock = _FRENCH_TIME.search(text or "")
        if clock:
            return deadline(parsed, f"{clock[1]}:{clock[2] or '00'}", zone=PARIS)
    return parsed.isoformat()


def _key(text: str | None) -> str:
    return "_".join((text or "").replace("-", " ").split()).upper()


def _procedure(raw: str | None) -> str | None:
    key = _key(raw).strip("_/")
    key = key.split("/")[0]
    if not key:
        return None
    if key in PROCEDURES:
        return PROCEDURES[key]
    if "NEGOCI" in key:
        return "negotiated"
    if "RESTREINT" in key:
        return "restricted"
    if "OUVERT" in key:
        return "open"
    if "DIALOGUE" in key:
        return "competitive-dialogue"
    if "INNOVATION" in key:
        return "innovation-partnership"
    return "other"


def _notice_type(nature: str | None, status: str | None) -> str:
    if _key(status) in CHANGE_STATUSES:
        return "change"
    return NOTICE_TYPES.get(_key(nature), "other")


def _nature(values: Iterable[str | None]) -> str | None:
    for value in values:
        nature = CONTRACT_NATURES.get(_key(value))
        if nature:
            return nature
    return None


def _ted_number(year: str | None, number: str | None) -> str | None:
    """TED publication number `NNNNNN-YYYY` from a JOUE reference (`ANNEE`, `NUM_ANNONCE`)."""
    year, number = collapse(year), collapse(number)
    if not year or not number or not re.fullmatch(r"\d{4}", year):
        return None
    digits = number.split("-")[-1].strip()
    if not digits.isdigit() or int(digits) == 0:
        return None
    return f"{int(digits):06d}-{year}"


def _idwebs(value: Any) -> list[str]:
    """Notice references in a flat link field: a list of idwebs, a string of them, or the 2006 string of
    JSON objects `{"IDWEB": ...},{...}`."""
    found: list[str] = []
    for item in as_list(value):
        if isinstance(item, Mapping):
            found.extend(t for t in (_text(item.get("IDWEB")), _text(item.get("idweb"))) if t)
        elif isinstance(item, str):
            inner = _IDWEB_IN_TEXT.findall(item)
            if inner:
                found.extend(inner)
            else:
                found.extend(t for t in re.split(r"[\s,;]+", item) if any(c.isdigit() for c in t))
        elif isinstance(item, int):
            found.append(str(item))
    return [collapse(t) or "" for t in found]


# --- one interface over lxml elements and JSON objects ------------------------------------------------------


class _Node(Protocol):
    def all(self, path: str) -> list[_Node]: ...
    def first(self, path: str) -> _Node | None: ...
    def text(self, path: str = "") -> str | None: ...
    def attr(self, name: str) -> str | None: ...
    def names(self, path: str = "") -> list[str]: ...


class _XmlNode:
    """An lxml element whose children are indexed by tag on first use, so that the dozens of path lookups of
    a notice are dictionary hits instead of as many `find` calls (no namespace in BOAMP XML)."""

    __slots__ = ("_children", "_paths", "_wrapped", "element")

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        self._children: dict[str, list[etree._Element]] | None = None
        self._wrapped: dict[str, list[_XmlNode]] = {}
        self._paths: dict[str, list[_XmlNode]] = {}

    def _index(self) -> dict[str, list[etree._Element]]:
        children = self._children
        if children is None:
            children = {}
            for child in self.element:
                name = child.tag
                if isinstance(name, str):
                    if name in children:
                        children[name].append(child)
                    else:
                        children[name] = [child]
            self._children = children
        return children

    def _step(self, tag: str) -> list[_XmlNode]:
        wrapped = self._wrapped.get(tag)
        if wrapped is None:
            wrapped = self._wrapped[tag] = [_XmlNode(e) for e in self._index().get(tag, ())]
        return wrapped

    def _nodes(self, path: str) -> list[_XmlNode]:
        found = self._paths.get(path)
        if found is None:
            found = [self]
            for step in path.split("/") if path else ():
                found = [child for node in found for child in node._step(step)]
            self._paths[path] = found
        return found

    def all(self, path: str) -> list[_Node]:
        return list(self._nodes(path))

    def first(self, path: str) -> _Node | None:
        found = self._nodes(path)
        return found[0] if found else None

    def text(self, path: str = "") -> str | None:
        found = self._nodes(path)
        if not found:
            return None
        element = found[0].element
        if len(element) == 0:
            return element.text
        return "".join(str(part) for part in element.itertext())

    def attr(self, name: str) -> str | None:
        value = self.element.get(name)
        return str(value) if value is not None else None

    def names(self, path: str = "") -> list[str]:
        return [name for node in self._nodes(path) for name in node._index()]


class _DictNode:
    """A JSON node converted from the XML (`@attribute`, `#text`, one child an object, several a list)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def _values(self, path: str) -> list[Any]:
        current = [self.value]
        for step in path.split("/") if path else []:
            current = [child for node in current if isinstance(node, Mapping) for child in as_list(node.get(step))]
        return current

    def all(self, path: str) -> list[_Node]:
        return [_DictNode(v) for v in self._values(path)]

    def first(self, path: str) -> _Node | None:
        values = self._values(path)
        return _DictNode(values[0]) if values else None

    def text(self, path: str = "") -> str | None:
        values = self._values(path)
        return _text(values[0]) if values else None

    def attr(self, name: str) -> str | None:
        return _text(self.value.get("@" + name)) if isinstance(self.value, Mapping) else None

    def names(self, path: str = "") -> list[str]:
        names: list[str] = []
        for value in self._values(path):
            if isinstance(value, Mapping):
                names.extend(str(k) for k in value if not str(k).startswith(("@", "#")))
            elif isinstance(value, str) and value.strip():
                names.append(value)  # a choice written as a value ("TYPE_PROCEDURE": "OUVERT")
        return names


# --- what a reader finds, before the conventions are applied ------------------------------------------------


@dataclass
class _Lot:
    id: str | None = None
    title: str | None = None
    description: str | None = None
    """Taken as the title of a lot without one, unless the lot is the whole procedure (its title then)."""
    cpv: list[str] = field(default_factory=list)
    nuts: list[str] = field(default_factory=list)
    value: float | None = None
    currency: str | None = None


@dataclass
class _Parts:
    idweb: str | None = None
    published: date | None = None
    notice_type: str = "other"
    title: str | None = None
    own_title: str | None = None
    """The title inside the notice body (TITRE_MARCHE, intitule), used when there is no summary title."""
    full_object: str | None = None
    buyer_name: str | None = None
    buyer_town: str | None = None
    buyer_id: str | None = None
    buyer_country: str = "FR"
    cpv: list[str] = field(default_factory=list)
    nuts: list[str] = field(default_factory=list)
    lots: list[_Lot] = field(default_factory=list)
    single: bool = False
    """Declared not divided into lots: its lot blocks are merged into one."""
    contract_nature: str | None = None
    procedure: str | None = None
    deadline: str | None = None
    value: float | None = None
    currency: str | None = None
    documents_url: str | None = None
    profile_url: str | None = None
    related: list[str] = field(default_factory=list)
    awards: list[_Award] = field(default_factory=list)
    total_awarded: tuple[float | None, str | None] = (None, None)
    """`ATTRIBUTION/VALEUR_TOTALE`: the value of the only award when that award states none."""


@dataclass
class _Award:
    """An award before the notice's lots are known: its lot number as written."""

    lot: str | None
    winners: list[Winner]
    value: float | None = None
    currency: str | None = None
    tenders: int | None = None
    when: date | None = None


def _amount(raw: str | None) -> float | None:
    """A positive, finite amount (`1e999` is not one)."""
    value = amount(raw)
    return value if value is not None and math.isfinite(value) else None


def _money(node: _Node | None) -> tuple[float | None, str | None]:
    if node is None:
        return None, None
    value = _amount(node.text())
    currency = (node.attr("DEVISE") or node.attr("devise") or "").strip().upper() or None
    return value, (currency if value is not None else None)


def _range(low: float | None, high: float | None) -> float | None:
    """A value range is an estimate only when both ends are the same amount (see the module docstring)."""
    return low if low is not None and low == high else None


# --- v230: the XML notice, and `donnees` of the same schema -------------------------------------------------


def _read_v230(d: _Node, parts: _Parts) -> None:
    award = parts.notice_type == "award"
    identite = d.first("IDENTITE") or _DictNode(None)
    objet = d.first("OBJET") or _DictNode(None)
    parts.buyer_name = _tidy(identite.text("DENOMINATION"))
    parts.buyer_town = _tidy(identite.text("VILLE"))
    parts.buyer_id = _siret(identite.text("CODE_IDENT_NATIONAL"))
    parts.buyer_country = country_alpha2(identite.text("PAYS")) or "FR"
    # IDENTITE/ADJUDICATEUR_NUTS is the buyer's address, and ADRESSES_COMPLEMENTAIRES/ADRESSE/CODE_NUTS the
    # addresses for information and tenders: neither is the place of performance, so neither is read.
    parts.own_title = objet.text("TITRE_MARCHE")
    parts.full_object = objet.text("OBJET_COMPLET")
    parts.cpv = [code for n in objet.all("CPV/PRINCIPAL") for code in _cpvs(n.text())]
    parts.nuts = distinct(
        _nuts(n.text()) for path in ("LIEU_EXEC_LIVR/CODE_NUTS", "CODE_NUTS") for n in objet.all(path)
    )
    parts.contract_nature = _nature(objet.names("TYPE_MARCHE"))
    parts.procedure = next((_procedure(name) for name in d.names("PROCEDURE/TYPE_PROCEDURE")), None)
    parts.single = "NON" in objet.names("DIV_EN_LOTS")
    features = objet.first("CARACTERISTIQUES")
    if not award and features is not None:
        value, currency = _money(features.first("VALEUR_TOTALE"))
        if value is None:
            value, currency = _money(features.first("VALEUR_ESTIMEE"))
        if value is None:
            low, currency = _money(features.first("VALEUR_MIN"))
            high, _ = _money(features.first("VALEUR_MAX"))
            value = _range(low, high)
        parts.value, parts.currency = value, (currency if value is not None else None)
    for number, lot in enumerate(objet.all("LOTS/LOT"), start=1):
        value, currency = (None, None) if award else _money(lot.first("VALEUR"))
        parts.lots.append(
            _Lot(
                id=collapse(lot.text("NUM")) or str(number),
                title=lot.text("INTITULE"),
                description=lot.text("DESCRIPTION"),
                cpv=[code for n in lot.all("CPV/PRINCIPAL") for code in _cpvs(n.text())],
                nuts=distinct(
                    _nuts(n.text()) for path in ("CODE_NUTS", "LIEU_EXEC_LIVR/CODE_NUTS") for n in lot.all(path)
                ),
                value=value,
                currency=currency,
            )
        )
    if award and not parts.lots:
        decisions = d.all("ATTRIBUTION/DECISION")
        numbers = [collapse(n.text("NUM_LOT")) for n in decisions]
        if len(decisions) > 1 and all(numbers) and len(set(numbers)) == len(numbers):
            parts.lots = [
                _Lot(id=number, title=n.text("INTITULE"), description=n.text("DESCRIPTION"))
                for number, n in zip(numbers, decisions, strict=True)
            ]
    if award:
        _read_v230_awards(d, parts)
    delay = d.first("CONDITION_DELAI")
    if delay is not None:
        for name in ("RECEPT_OFFRES", "RECEPT_CANDIDATURES", "RECEPT_CANDIDATURE", "RECEPT_CANDIDAT"):
            parts.deadline = _zoned_deadline(delay.text(name))
            if parts.deadline:
                break
    parts.documents_url = _url(identite.text("URL_DOCUMENT"))
    parts.profile_url = _url(identite.text("URL_PROFIL_ACHETEUR"))
    for joue in d.all("PUBLICATION_ANTERIEURE/REFERENCE_PUBLICATION/PUBLICATION_JOUE"):
        parts.related.append(_ted_number(joue.text("ANNEE"), joue.text("NUM_ANNONCE")) or "")


_GROUP_ROLE = re.compile(
    r"\s*[(\[]?\s*\b(?:mandataire|co-?\s?traitants?|membre du groupement|groupement)\b"
    r"\s*(?:solidaire|conjoint)?\s*[)\]]?\s*$",
    re.IGNORECASE,
)
"""The role of a firm in a group that won together, as BOAMP buyers append it to the name:
`CONCRETE WAVES SKATE PARKS(Mandataire)`, `SPORT DES VILLES(co-traitant)`."""
_NOT_AWARDED = ("INFRUCTUEUX", "SANS_SUITE", "NON_ATTRIBUE")


def _winner_name(raw: str | None) -> tuple[str | None, bool]:
    """A titulaire's name without its group role, and whether it named one.

    >>> _winner_name("CONCRETE WAVES SKATE PARKS(Mandataire)")
    ('CONCRETE WAVES SKATE PARKS', True)
    >>> _winner_name("SPORT DES VILLES (co-traitant)"), _winner_name("Brake France Service")
    (('SPORT DES VILLES', True), ('Brake France Service', False))
    """
    name = _tidy(raw)
    if not name:
        return None, False
    bare = _GROUP_ROLE.sub("", name).strip(" -,")
    return (bare, True) if bare and bare != name else (name, False)


def _identifier(raw: str | None, country: str | None) -> str | None:
    """A firm's SIRET / SIREN / VAT number in the one normalized form (crawlers/identifiers.py)."""
    return normalize_identifier(collapse(raw), country) if raw and raw.strip() else None


def _v230_winner(node: _Node) -> tuple[Winner | None, bool]:
    name, in_group = _winner_name(node.text("DENOMINATION"))
    if not name:
        return None, False
    country = country_alpha2(node.text("PAYS")) or "FR"
    names = node.names()
    sme = True if "PME_OUI" in names else False if "PME_NON" in names else None
    raw_id = next((t for t in (node.text(k) for k in ("CODE_IDENT_NATIONAL", "SIRET", "SIREN", "NUM_TVA")) if t), None)
    winner = Winner(
        name=name[:1000],
        country=country,
        identifier=_identifier(raw_id, country),
        town=(_tidy(node.text("VILLE")) or None),
        sme=sme,
    )
    return winner, in_group


def _renseignement(node: _Node | None) -> tuple[float | None, str | None, int | None, date | None]:
    """Value, currency, tenders received and award date of a `RENSEIGNEMENT` block. A range (`MONTANT_MINI`,
    `MONTANT_MAXI`: a framework's minimum and maximum) is the value only when both ends are equal."""
    if node is None:
        return None, None, None, None
    value, currency = _money(node.first("MONTANT"))
    if value is None:
        low, currency = _money(node.first("MONTANT_MINI"))
        high, _ = _money(node.first("MONTANT_MAXI"))
        value = _range(low, high)
    tenders_text = collapse(node.text("NB_OFFRE_RECU"))
    tenders = int(tenders_text) if tenders_text and tenders_text.isdigit() else None
    return (
        value,
        (currency or "EUR") if value is not None else None,
        tenders,
        _loose_date(node.text("DATE_ATTRIBUTION")),
    )


def _read_v230_awards(d: _Node, parts: _Parts) -> None:
    """`ATTRIBUTION/DECISION` blocks: one per awarded lot (a lot declared infructueux or sans suite, or a
    decision naming no titulaire, has none). Each `TITULAIRE` is followed by its `RENSEIGNEMENT` (date, number
    of tenders, amount). Several titulaires of one decision are a group when the names say so (mandataire,
    co-traitant): one award with all of them, the amount the group's; else each is the holder of its own
    contract (a framework agreement with several holders): one award each with its own amount."""
    attribution = d.first("ATTRIBUTION")
    if attribution is None or any(name in attribution.names() for name in _NOT_AWARDED):
        return
    decided = _loose_date(attribution.text("DATE_DECISION"))
    parts.total_awarded = _money(attribution.first("VALEUR_TOTALE"))
    for decision in attribution.all("DECISION"):
        if any(name in decision.names() for name in _NOT_AWARDED):
            continue
        lot = collapse(decision.text("NUM_LOT"))
        found = [_v230_winner(node) for node in decision.all("TITULAIRE")]
        details = [_renseignement(node) for node in decision.all("RENSEIGNEMENT")]
        pairs = [
            (winner, details[index] if index < len(details) else (None, None, None, None))
            for index, (winner, _) in enumerate(found)
            if winner is not None
        ]
        if not pairs:
            continue
        group = len(pairs) > 1 and any(in_group for _, in_group in found)
        blocks = [pairs] if group or len(pairs) == 1 else [[pair] for pair in pairs]
        for block in blocks:
            value = next((v for _, (v, _c, _t, _d) in block if v is not None), None)
            currency = next((c for _, (v, c, _t, _d) in block if v is not None), None)
            parts.awards.append(
                _Award(
                    lot=lot,
                    winners=[winner for winner, _ in block],
                    value=value,
                    currency=currency,
                    tenders=next((t for _, (_v, _c, t, _d) in block if t is not None), None),
                    when=next((when for _, (_v, _c, _t, when) in block if when is not None), None) or decided,
                )
            )


def _awards(parts: _Parts, lots: list[_Lot]) -> list[Award]:
    """The §2 awards, their lot numbers resolved against the notice's lots: a number that is a lot's id is that
    lot; in a notice of one lot, any award is that lot's (BOAMP writes the buyer's contract number in
    `NUM_LOT` too, `2016-52`)."""
    ids = [lot.id or "1" for lot in lots]
    total, total_currency = parts.total_awarded
    result = []
    for found in parts.awards:
        if found.lot is not None and found.lot in ids:
            lot_ids = [found.lot]
        elif len(ids) == 1:
            lot_ids = ids
        else:
            lot_ids = [found.lot] if found.lot else []
        value, currency = found.value, found.currency
        if value is None and total is not None and len(parts.awards) == 1:
            value, currency = total, total_currency or "EUR"
        result.append(
            Award(
                lot_ids=lot_ids,
                winners=found.winners,
                value=value,
                currency=currency if value is not None else None,
                tenders_received=found.tenders,
                date=found.when,
            )
        )
    return result


def _read_gestion_links(g: _Node, parts: _Parts) -> None:
    """Earlier notices of the procedure named in `GESTION` (v230) or `gestion.INDEXATION.AVISLIEE` (2006)."""
    links: list[str] = []
    for previous in g.all("MARCHE/ANNONCE_ANTERIEUR"):
        links.append(collapse(previous.text("REFERENCE/IDWEB")) or "")
        for joue in previous.all("REFERENCE_PUBLICATION/PUBLICATION_JOUE"):
            links.append(_ted_number(joue.text("ANNEE"), joue.text("NUM_ANNONCE")) or "")
    for previous in g.all("INDEXATION/AVISLIEE/AVIS_PRECEDENT"):
        links.append(collapse(previous.text("IDWEB")) or "")
    parts.related = links + parts.related


# --- the 2006 schema (v110) ---------------------------------------------------------------------------------


def _read_v110(d: Mapping[str, Any], parts: _Parts) -> None:
    parts.buyer_name = _tidy(_text(_get(d, "IDENT", "NOM")))
    parts.buyer_town = _tidy(_text(_get(d, "IDENT", "VILLE")))
    objet = d.get("OBJET")
    parts.own_title = _text(_get(objet, "TITRE_MARCHE"))
    parts.full_object = _text(_get(objet, "OBJET_COMPLET"))
    # CPV_OBJ is the main object's code, ART27CMP the complementary objects' (the "article 27" nomenclature
    # of the 2006 Code des marchés publics, written as CPV codes); CATEGORIE_SERVICES and CLASSES are not CPV.
    parts.cpv = _cpvs(_text(_get(objet, "CPV_OBJ"))) + [
        code for text in as_list(_get(objet, "ART27CMP")) for code in _cpvs(_text(text))
    ]
    parts.nuts = distinct(_nuts(_text(v)) for v in as_list(_get(objet, "CODE_NUTS")))
    parts.contract_nature = _nature(_get(d, "INFO").keys() if isinstance(_get(d, "INFO"), Mapping) else [])
    parts.procedure = _procedure(_text(_get(d, "PROCEDURE", "@type")))
    lots = _get(d, "LOTS")
    numbers = [collapse(_text(v)) for v in as_list(_get(lots, "NUM_LOT"))]
    if numbers and all(numbers) and len(set(numbers)) == len(numbers):
        titles = [collapse(_text(v)) for v in as_list(_get(lots, "DESC_LOT"))]
        if not titles:  # the lot texts are then in AUTRES, after an empty item for the heading
            titles = [t for t in (collapse(_text(v)) for v in as_list(_get(lots, "AUTRES"))) if t]
        codes = [_cpvs(_text(v)) for v in as_list(_get(lots, "NOMENC_LOT"))]
        aligned_codes = len(codes) == len(numbers)
        for index, number in enumerate(numbers):
            parts.lots.append(
                _Lot(
                    id=number,
                    title=titles[index] if len(titles) == len(numbers) else None,
                    cpv=codes[index] if aligned_codes else [],
                )
            )
        if not aligned_codes:  # codes that cannot be told apart by lot still belong to the notice
            parts.cpv += [code for lot_codes in codes for code in lot_codes]
    delay = _get(d, "DELAI")
    if isinstance(delay, Mapping):
        hours = [_text(v) for v in as_list(delay.get("AUTRES"))]
        for name in ("RECEPT_OFFRES", "RECEPT_CANDIDAT"):
            parts.deadline = _french_deadline(_text(delay.get(name)), hours)
            if parts.deadline:
                break
    # DOCUMENTS lists the address where documents are obtained (OBTENUS) and the one where tenders are sent
    # (ENVOYES), in that order: its first URL is the documents' only when OBTENUS is there
    documents = _get(d, "DOCUMENTS")
    if isinstance(documents, Mapping) and "OBTENUS" in documents:
        parts.documents_url = next(
            (url for url in (_url(_text(v)) for v in as_list(_get(documents, "URL"))) if url), None
        )


# --- the current national schemas (FNSimple, MAPA, DSP) -----------------------------------------------------


def _national_value(node: Any) -> tuple[float | None, str | None]:
    if node is None:
        return None, None
    currency = (_text(_get(node, "@devise")) or _text(_get(node, "@DEVISE")) or "").strip().upper() or None
    if isinstance(node, Mapping) and "fourchette" in node:
        value = _range(
            _amount(_text(_get(node, "fourchette", "valeurBasse"))),
            _amount(_text(_get(node, "fourchette", "valeurHaute"))),
        )
    else:
        value = _amount(_text(node) or _text(_get(node, "valeur")) or _text(_get(node, "montant")))
    return value, ((currency or "EUR") if value is not None else None)


def _national_cpvs(code: Any) -> list[str]:
    """The codes of a `codeCPV` block, the main object's first."""
    main = _cpvs(_text(_get(code, "objetPrincipal", "classPrincipale")))
    return main + [c for text in _strings(code) for c in _cpvs(text)]


def _national_nuts(block: Any) -> list[str]:
    if not isinstance(block, Mapping):
        return []
    return distinct(_nuts(_text(v)) for k, v in block.items() if "nuts" in str(k).lower() for v in as_list(v))


def _read_national(body: Mapping[str, Any], parts: _Parts) -> None:
    organisme = body.get("organisme")
    parts.buyer_name = _tidy(_text(_get(organisme, "nomOfficiel")))
    parts.buyer_town = _tidy(_text(_get(organisme, "ville")))
    parts.buyer_id = _siret(_text(_get(organisme, "codeIdentificationNational")))
    parts.buyer_country = country_alpha2(_text(_get(organisme, "pays"))) or "FR"
    # `initial` for a notice; other natures name their section otherwise: take the first that has content
    section = body.get("initial")
    if not isinstance(section, Mapping):
        section = next(
            (
                v
                for k, v in body.items()
                if k != "organisme" and isinstance(v, Mapping) and ("natureMarche" in v or "procedure" in v)
            ),
            {},
        )
    nature = section.get("natureMarche")
    parts.own_title = _text(_get(nature, "intitule"))
    parts.full_object = _text(_get(nature, "description"))
    parts.cpv = _national_cpvs(_get(nature, "codeCPV"))
    parts.nuts = _national_nuts(nature)
    kinds = _get(nature, "natureMarche")
    parts.contract_nature = _nature(kinds.keys() if isinstance(kinds, Mapping) else as_list(_text(kinds)))
    if parts.notice_type != "award":
        parts.value, parts.currency = _national_value(_get(nature, "valeurEstimee"))
    for number, lot in enumerate(as_list(_get(section, "lots", "lot")), start=1):
        value, currency = (None, None) if parts.notice_type == "award" else _national_value(_get(lot, "valeurEstimee"))
        lot_id = next(
            (t for t in (collapse(_text(_get(lot, k))) for k in ("numLot", "numeroLot", "numero", "num")) if t),
            str(number),
        )
        parts.lots.append(
            _Lot(
                id=lot_id,
                title=_text(_get(lot, "intitule")),
                description=_text(_get(lot, "description")),
                cpv=_national_cpvs(_get(lot, "codeCPV")),
                nuts=_national_nuts(lot),
                value=value,
                currency=currency,
            )
        )
    parts.deadline = _zoned_deadline(_text(_get(section, "procedure", "dateReceptionOffres")))
    communication = section.get("communication")
    parts.documents_url = _url(_text(_get(communication, "urlDocConsul")))
    parts.profile_url = _url(_text(_get(communication, "urlProfilAch")))


# --- eForms inside `donnees` --------------------------------------------------------------------------------


def _eforms_cpvs(project: Any) -> list[str]:
    codes = _cpvs(_text(_get(project, "cac:MainCommodityClassification", "cbc:ItemClassificationCode")))
    for extra in as_list(_get(project, "cac:AdditionalCommodityClassification")):
        codes += _cpvs(_text(_get(extra, "cbc:ItemClassificationCode")))
    return codes


def _eforms_nuts(project: Any) -> list[str]:
    return distinct(
        _nuts(_text(_get(place, "cac:Address", "cbc:CountrySubentityCode")))
        for place in as_list(_get(project, "cac:RealizedLocation"))
    )


def _eforms_deadline(tendering: Any) -> str | None:
    period = _get(tendering, "cac:TenderSubmissionDeadlinePeriod")
    day = _text(_get(period, "cbc:EndDate"))
    if not day:
        return None
    return deadline(day, _text(_get(period, "cbc:EndTime")), zone=PARIS)


def _read_eforms(document: Any, parts: _Parts) -> None:
    """The classification, places, lots, deadline and documents of an eForms notice converted to JSON."""
    root = (
        next((v for v in document.values() if isinstance(v, Mapping)), None) if isinstance(document, Mapping) else None
    )
    if root is None:
        return
    project = root.get("cac:ProcurementProject")
    parts.own_title = _text(_get(project, "cbc:Name"))
    parts.full_object = _text(_get(project, "cbc:Description"))
    parts.cpv = _eforms_cpvs(project)
    parts.nuts = _eforms_nuts(project)
    deadlines: list[str] = []
    for number, lot in enumerate(as_list(root.get("cac:ProcurementProjectLot")), start=1):
        lot_project = _get(lot, "cac:ProcurementProject")
        value, currency = None, None
        if parts.notice_type != "award":
            estimate = _get(lot_project, "cac:RequestedTenderTotal", "cbc:EstimatedOverallContractAmount")
            value = _amount(_text(estimate))
            currency = (_text(_get(estimate, "@currencyID")) or "EUR").upper() if value is not None else None
        parts.lots.append(
            _Lot(
                id=collapse(_text(_get(lot, "cbc:ID"))) or str(number),
                title=_text(_get(lot_project, "cbc:Name")),
                cpv=_eforms_cpvs(lot_project),
                nuts=_eforms_nuts(lot_project),
                value=value,
                currency=currency,
            )
        )
        found = _eforms_deadline(_get(lot, "cac:TenderingProcess"))
        if found:
            deadlines.append(found)
        if not parts.documents_url:
            reference = _get(lot, "cac:TenderingTerms", "cac:CallForTendersDocumentReference")
            parts.documents_url = _url(_text(_get(reference, "cac:Attachment", "cac:ExternalReference", "cbc:URI")))
    if deadlines:
        parts.deadline = min(deadlines, key=lambda d: (d[:10], d))


# --- conventions, and the notice ----------------------------------------------------------------------------


def _lot_of(lot: _Lot) -> Lot:
    codes = distinct(lot.cpv)
    return Lot(
        id=lot.id or "1",
        title=_long_text(lot.title),
        cpv_main=codes[0] if codes else None,
        cpv_additional=codes[1:],
        nuts=distinct(lot.nuts),
        estimated_value=lot.value,
    )


def _lots(parts: _Parts, title: str, procedure_codes: list[str]) -> list[_Lot]:
    """The §2 lots: blocks merged when the procedure is declared undivided, ids made unique, and a single lot
    completed with what the procedure says and the lot block does not (it is the procedure itself)."""
    lots = parts.lots
    if parts.single and len(lots) > 1:
        valued = next((lot for lot in lots if lot.value is not None), _Lot())
        lots = [
            _Lot(
                id=lots[0].id,
                title=next((lot.title for lot in lots if lot.title), None),
                cpv=[code for lot in lots for code in lot.cpv],
                nuts=[code for lot in lots for code in lot.nuts],
                value=valued.value,
                currency=valued.currency,
            )
        ]
    if len({lot.id for lot in lots}) != len(lots) or not all(lot.id for lot in lots):
        for number, lot in enumerate(lots, start=1):
            lot.id = str(number)
    if len(lots) > 1:
        for lot in lots:
            lot.title = lot.title or lot.description
        return lots
    only = lots[0] if lots else _Lot(id="1")
    return [
        _Lot(
            id=only.id or "1",
            title=only.title or title,
            cpv=only.cpv or procedure_codes,
            nuts=only.nuts or parts.nuts,
            value=only.value if only.value is not None else parts.value,
            currency=only.currency if only.value is not None else parts.currency,
        )
    ]


def _single_description(parts: _Parts) -> str | None:
    """Without an object text, the description of the one lot block of an undivided procedure (a design
    contest's only description is there) describes the procedure."""
    if len(parts.lots) == 1 or parts.single:
        return next((lot.description for lot in parts.lots if lot.description), None)
    return None


def _notice(parts: _Parts, *, url: str | None) -> Notice:
    where = f"BOAMP notice {parts.idweb or '?'}"
    if not parts.idweb:
        raise NoticeError("BOAMP notice without idweb")
    if parts.published is None:
        raise NoticeError(f"{where}: no publication date (dateparution / DATE_PUBLICATION)")
    title = _long_text(parts.title) or _long_text(parts.own_title) or _long_text(parts.full_object)
    if not title:
        raise NoticeError(f"{where}: no title (objet / RESUME_OBJET / TITRE_MARCHE / OBJET_COMPLET)")
    if not parts.buyer_name:
        raise NoticeError(f"{where}: no buyer name (donnees nor nomacheteur)")
    award = parts.notice_type == "award"

    procedure_codes = distinct(parts.cpv)
    cpv_main = procedure_codes[0] if procedure_codes else None
    lots = _lots(parts, title, procedure_codes)
    if award:  # an award notice states awarded amounts, never estimates
        for lot in lots:
            lot.value = lot.currency = None
        value, currency = None, None
    else:
        value, currency = parts.value, parts.currency
        if value is None and all(lot.value is not None for lot in lots):
            currencies = {lot.currency or "EUR" for lot in lots}
            if len(currencies) == 1:
                value = sum(lot.value or 0.0 for lot in lots)
                currency = currencies.pop()
    currency = (currency or "EUR") if value is not None else None

    lot_codes = [code for lot in lots for code in lot.cpv]
    return Notice(
        source=SOURCE,
        source_id=parts.idweb,
        notice_type=parts.notice_type,  # type: ignore[arg-type]
        title=title,
        description=_description(parts.full_object, title) or _description(_single_description(parts), title),
        buyer=Buyer(
            name=parts.buyer_name[:MAX_TEXT],
            country=parts.buyer_country,
            id=parts.buyer_id,
            town=parts.buyer_town,
        ),
        cpv_main=cpv_main,
        cpv_additional=distinct_cpv(cpv_main, procedure_codes[1:] + lot_codes),
        nuts=distinct(parts.nuts + [code for lot in lots for code in lot.nuts]),
        contract_nature=parts.contract_nature,  # type: ignore[arg-type]
        procedure=parts.procedure,  # type: ignore[arg-type]
        published=parts.published,
        deadline=None if award else parts.deadline,
        estimated_value=value,
        currency=currency,
        lots=[_lot_of(lot) for lot in lots],
        languages=["fr"],
        url=url or NOTICE_URL.format(idweb=parts.idweb),
        documents_url=parts.documents_url or (None if award else parts.profile_url),
        related=[r for r in distinct(parts.related) if r != parts.idweb],
        awards=_awards(parts, lots) if award else [],
    )


_STRUCTURE_ERRORS = (AttributeError, KeyError, TypeError, IndexError, RecursionError)


# --- XML ----------------------------------------------------------------------------------------------------


def parse_boamp_xml(root: etree._Element) -> Notice:
    """A BOAMP XML notice (`ANNONCE/GESTION` + `ANNONCE/DONNEES`, Boamp_v230 family, no namespace)."""
    try:
        return _parse_xml(root)
    except _STRUCTURE_ERRORS as error:
        raise NoticeError(f"BOAMP XML: unexpected structure ({type(error).__name__}: {error})") from None


def _parse_xml(root: etree._Element) -> Notice:
    if etree.QName(root).localname != "ANNONCE":
        raise NoticeError(f"BOAMP XML: root is <{etree.QName(root).localname}>, not <ANNONCE>")
    gestion = root.find("GESTION")
    if gestion is None:
        raise NoticeError("BOAMP XML: no ANNONCE/GESTION")
    g = _XmlNode(gestion)
    parts = _Parts()
    parts.idweb = collapse(g.text("REFERENCE/IDWEB"))
    # the notice's own date: the DATE_PUBLICATION directly under INDEXATION, not those of the earlier notices
    # that award notices quote under MARCHE/ANNONCE_ANTERIEUR
    parts.published = _loose_date(g.text("INDEXATION/DATE_PUBLICATION"))
    parts.notice_type = _notice_type(
        next(iter(g.names("REFERENCE/TYPE_AVIS/NATURE")), None),
        next(iter(g.names("REFERENCE/TYPE_AVIS/STATUT")), None),
    )
    parts.title = g.text("INDEXATION/RESUME_OBJET")
    donnees = root.find("DONNEES")
    if donnees is not None:
        _read_v230(_XmlNode(donnees), parts)
    _read_gestion_links(g, parts)
    if not parts.documents_url and parts.notice_type != "award":
        parts.documents_url = _url(g.text("MARCHE/URL_CONSULTATION"))
    return _notice(parts, url=None)


# --- JSON ---------------------------------------------------------------------------------------------------


def _decode(value: Any) -> tuple[Any, str | None]:
    """A JSON string field decoded; (None, reason) when it is not JSON."""
    if value is None or isinstance(value, Mapping | list):
        return value, None
    if not isinstance(value, str):
        return None, f"not a JSON string but {type(value).__name__}"
    if not value.strip():
        return None, None
    try:
        return json.loads(value), None
    except (ValueError, RecursionError) as error:
        return None, f"malformed JSON ({str(error)[:80]})"


def parse_boamp_record(record: Mapping[str, Any]) -> Notice:
    """One record of the BOAMP opendatasoft API v2.1 (`/catalog/datasets/boamp/records`)."""
    if not isinstance(record, Mapping):
        raise NoticeError(f"BOAMP record: expected a JSON object, got {type(record).__name__}")
    try:
        return _parse_record(record)
    except _STRUCTURE_ERRORS as error:
        where = _text(record.get("idweb")) or "?"
        raise NoticeError(f"BOAMP record {where}: unexpected structure ({type(error).__name__}: {error})") from None


def _parse_record(record: Mapping[str, Any]) -> Notice:
    parts = _Parts()
    parts.idweb = collapse(_text(record.get("idweb")))
    donnees, donnees_error = _decode(record.get("donnees"))
    gestion, _ = _decode(record.get("gestion"))
    g = _DictNode(gestion if isinstance(gestion, Mapping) else {})

    parts.published = _loose_date(_text(record.get("dateparution"))) or _loose_date(
        g.text("INDEXATION/DATE_PUBLICATION")
    )
    parts.notice_type = _notice_type(
        _text(record.get("nature")) or next(iter(g.names("REFERENCE/TYPE_AVIS/NATURE")), None),
        _text(record.get("etat")) or next(iter(g.names("REFERENCE/TYPE_AVIS/STATUT")), None),
    )

    if isinstance(donnees, Mapping):
        national = next(
            (v for v in donnees.values() if isinstance(v, Mapping) and ("organisme" in v or "initial" in v)),
            None,
        )
        if "EFORMS" in donnees:
            _read_eforms(donnees["EFORMS"], parts)
        elif "IDENTITE" in donnees or ("OBJET" in donnees and "IDENT" not in donnees):
            _read_v230(_DictNode(donnees), parts)
        elif "IDENT" in donnees:
            _read_v110(donnees, parts)
        elif national is not None:
            _read_national(national, parts)

    # flat fields: the summary title, the buyer when the body has none, and the indexed classifications
    parts.title = _text(record.get("objet")) or g.text("INDEXATION/RESUME_OBJET")
    parts.buyer_name = parts.buyer_name or _tidy(_text(record.get("nomacheteur")))
    parts.procedure = _procedure(_text(record.get("type_procedure"))) or parts.procedure
    if not parts.procedure:
        parts.procedure = next((_procedure(name) for name in g.names("INDEXATION/TYPE_PROCEDURE")), None)
    parts.contract_nature = (
        _nature(_text(v) for v in as_list(record.get("type_marche")))
        or parts.contract_nature
        or _nature(g.names("INDEXATION/NATURE_MARCHE"))
    )
    parts.deadline = (
        parts.deadline
        or _zoned_deadline(g.text("INDEXATION/DATE_LIMITE_REPONSE"))
        or _flat_deadline(_text(record.get("datelimitereponse")))
    )
    _read_gestion_links(g, parts)
    flat_links = [
        link
        for name in ("annonce_lie", "annonces_anterieures", "annonces_anterieures_schema_v110")
        for link in _idwebs(record.get(name))
    ]
    parts.related = flat_links + parts.related

    if donnees_error and not (parts.idweb and parts.title and parts.published and parts.buyer_name):
        raise NoticeError(
            f"BOAMP record {parts.idweb or '?'}: donnees is {donnees_error}, and the flat fields lack "
            "the idweb, objet, dateparution or nomacheteur to stand without it"
        )
    if parts.notice_type == "award" and not parts.awards:
        _read_flat_titulaires(record.get("titulaire"), parts)
    url = _text(record.get("url_avis"))
    return _notice(parts, url=url if url and url.startswith("http") else None)


def _read_flat_titulaires(value: Any, parts: _Parts) -> None:
    """The flat `titulaire` field of recent award records (names only, the award itself inside an eForms
    `donnees` that is not read for results): one award per name, since the list does not say which won
    together nor which lot; its lot is the notice's only one, else none."""
    seen: set[str] = set()
    for raw in as_list(value):
        name, _ = _winner_name(_text(raw))
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            parts.awards.append(_Award(lot=None, winners=[Winner(name=name[:1000], country=None)]))

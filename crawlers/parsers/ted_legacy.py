"""TED legacy XML (`TED_EXPORT`, schemas R2.0.7, R2.0.8 and R2.0.9; TED's format until 2023) → `Notice`.

A document holds a coded summary made by the Publications Office (`CODED_DATA_SECTION`), machine
translations of the title (`TRANSLATION_SECTION`) and one form per language version (`FORM_SECTION`):
the one marked `CATEGORY="ORIGINAL"` is read, the translations only give their language.

Two form families:
- the 2014 forms of R2.0.9 (`F01_2014` … `F25_2014`): `CONTRACTING_BODY`, `OBJECT_CONTRACT` with one
  `OBJECT_DESCR` per lot, `PROCEDURE`; read with direct paths;
- the older forms of R2.0.7 and R2.0.8 (`CONTRACT`, `CONTRACT_AWARD`, `PRIOR_INFORMATION`, … with a numeric
  `FORM="3"`), deeply nested in ways that vary per form: read in one pass over the form by element name
  (buyer, title, description, CPV, NUTS, lots `*_ANNEX_B`, values, deadline, procedure).

The namespace differs between schema versions: it is taken once from the root. NUTS elements live in
their own namespaces (`n2016:`, `n2021:`, even a relative `ted/2016/nuts`), so they are matched by local name.

Decisions where docs/notice.md leaves room (each is documented where it is applied):
- notice type: `NOTICE/@TYPE` of the multi-purpose forms, else the form number, else the coded
  `TD_DOCUMENT_TYPE` (tables below). VEAT (F15) and design contest results (F13) are `award`; buyer
  profile notices (F08, announcing a PIN) are `prior-information`; a qualification system with call for
  competition (F07/F22 `QSU_CALL_COMPETITION`) is a `contract-notice`, without call (`QSU_ONLY`) it only
  informs and is `prior-information`.
- NUTS: only places of performance written in the form (`OBJECT_DESCR/NUTS`, old `LOCATION_NUTS/NUTS`).
  The coded `PERFORMANCE_NUTS` equals them when the form has some; when it has none TED fills the coded
  element from addresses (design contest results list the winners' regions), so it is not used, except
  for change notices (F14 carries no place; the coded element then keeps the procedure's place) and the
  R2.0.8 defence forms (F16-F18), whose places TED keeps in the coded element. Old forms' places are
  `LOCATION_NUTS/NUTS` and, in the defence forms, `SITE_OR_LOCATION/NUTS`.
- CPV of change notices: the F14 form names only the main code; the additional ones are the coded
  `ORIGINAL_CPV` codes and those of the corrected values (`CHANGES/CHANGE/NEW_VALUE`); replaced values
  (`OLD_VALUE`) are left out.
- estimated value: `OBJECT_CONTRACT/VAL_ESTIMATED_TOTAL`, else the sum of `OBJECT_DESCR/VAL_OBJECT` when
  every lot has one in one currency (old forms: `QUANTITY_SCOPE/.../COSTS_RANGE_AND_CURRENCY/VALUE_COST`,
  lots in `*_ANNEX_B`). Awarded values (`VAL_TOTAL`, `TOTAL_FINAL_VALUE`, the coded `VALUES`) are not
  estimates; neither are the per-contract "initial estimated values" of award sections
  (`AWARDED_CONTRACT/VALUES/VAL_ESTIMATED_TOTAL`, old `INITIAL_ESTIMATED_TOTAL_VALUE_CONTRACT`): they
  belong to awarded contracts whose lot references are free text ("1.2.3…31", "1.1A"), and frameworks
  repeat them per contractor, so summing them would double count. Value ranges are not an estimate.
- lots of the 2014 forms carry no main CPV of their own: a lot's `cpv_main` is the procedure's.
- deadline: `PROCEDURE/DATE_RECEIPT_TENDERS` + `TIME_RECEIPT_TENDERS` (old `RECEIPT_LIMIT_DATE`), else the
  coded `DT_DATE_FOR_SUBMISSION` (a corrigendum has only that one, already updated); buyer's local time.
- description: paragraphs (`P`) each whitespace-collapsed, joined by a newline; a procedure without its
  own description and with a single `OBJECT_DESCR` takes that lot's description.
- related: coded `REF_NOTICE/NO_DOC_OJS` and the form's `NOTICE_NUMBER_OJ`, as TED numbers
  (`2019/S 090-214462` → `214462-2019`); a reference in another format is kept as written.
- awards (award notices only): one per `AWARD_CONTRACT` with an `AWARDED_CONTRACT` (F03, F06, F15, F21-F25;
  `NO_AWARDED_CONTRACT` gives none): its `CONTRACTOR`s (several = `AWARDED_TO_GROUP`) from
  `ADDRESS_CONTRACTOR` (`OFFICIALNAME`, `NATIONALID`, `TOWN`, `COUNTRY`; `SME`/`NO_SME`), `VAL_TOTAL` (a range
  `VAL_RANGE_TOTAL` and the initial estimate are not the awarded value), `NB_TENDERS_RECEIVED`,
  `DATE_CONCLUSION_CONTRACT`, `LOT_NO`; design contest results (F13) one per `WINNER` of an `AWARDED_PRIZE`
  (`VAL_PRIZE`, `NB_PARTICIPANTS`, `DATE_DECISION_JURY`). R2.0.7/8 forms: one per block holding an
  `ECONOMIC_OPERATOR_NAME_ADDRESS` (`AWARD_OF_CONTRACT` …): `LOT_NUMBER`, `CONTRACT_AWARD_DATE`,
  `OFFERS_RECEIVED_NUMBER`, the final value `COSTS_RANGE_AND_CURRENCY_WITH_VAT_RATE` (not a range, not
  `INITIAL_ESTIMATED_TOTAL_VALUE_CONTRACT`). A lot number not among the notice's lots means its only lot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from zoneinfo import ZoneInfo

from lxml import etree
from pydantic import ValidationError

from ..identifiers import normalize_identifier
from ..notice import MAX_TEXT, Award, Buyer, ContractNature, Lot, Notice, NoticeType, Procedure, Winner
from .fields import (
    NoticeError,
    award_lot_ids,
    buyer_zone,
    collapse,
    country_alpha2,
    cpv_code,
    deadline,
    distinct,
    distinct_cpv,
    iso_date,
    language_alpha2,
    ted_notice_url,
    ted_publication_number,
)
from .fields import amount as parse_amount

FORM_NOTICE_TYPES: dict[str, NoticeType] = {
    "F01": "prior-information",  # prior information notice (also R2.0.7/8 form 1)
    "F02": "contract-notice",
    "F03": "award",
    "F04": "prior-information",  # periodic indicative notice, utilities
    "F05": "contract-notice",  # utilities
    "F06": "award",  # utilities
    "F07": "prior-information",  # qualification system; without NOTICE/@TYPE it is TED's Q, "without call"
    "F08": "prior-information",  # buyer profile: announces a PIN published on the buyer profile
    "F09": "contract-notice",  # simplified contract notice (dynamic purchasing system), 2004 forms
    "F10": "contract-notice",  # public works concession, 2004 forms
    "F11": "contract-notice",  # contract notice by a concessionaire, 2004 forms
    "F12": "contract-notice",  # design contest: a call for competition
    "F13": "award",  # results of a design contest
    "F14": "change",  # corrigendum / additional information
    "F15": "award",  # voluntary ex ante transparency notice: the contract is awarded without a call
    "F16": "prior-information",  # defence
    "F17": "contract-notice",  # defence
    "F18": "award",  # defence
    "F19": "contract-notice",  # defence subcontract notice: a call for competition by the main contractor
    "F20": "change",  # modification of a contract during its term
    "F21": "contract-notice",  # social and other specific services, public contracts (see NOTICE/@TYPE)
    "F22": "contract-notice",  # same, utilities (see NOTICE/@TYPE)
    "F23": "prior-information",  # same, concessions (see NOTICE/@TYPE)
    "F24": "contract-notice",  # concession notice
    "F25": "award",  # concession award notice
}
"""Form number (`F02`, or the R2.0.7/8 `FORM="2"`) → notice type."""

MULTI_PURPOSE_FORMS = frozenset({"F01", "F04", "F07", "F21", "F22", "F23"})
"""Forms whose kind is only told by `NOTICE/@TYPE` (or, without it, by the coded document type)."""

FORM_SUBTYPE_NOTICE_TYPES: dict[str, NoticeType] = {
    "PRI_ONLY": "prior-information",
    "PRI_CALL_COMPETITION": "prior-information",
    "PRI_REDUCING_TIME_LIMITS": "prior-information",
    "PER_ONLY": "prior-information",
    "PER_CALL_COMPETITION": "prior-information",
    "PER_REDUCING_TIME_LIMITS": "prior-information",
    "PRI": "prior-information",
    "QSU_CALL_COMPETITION": "contract-notice",
    "QSU_ONLY": "prior-information",
    "CONTRACT": "contract-notice",
    "AWARD_CONTRACT": "award",
    "CONCESSION_AWARD_CONTRACT": "award",
}
"""`NOTICE/@TYPE` of the R2.0.9 multi-purpose forms → notice type."""

DOCUMENT_TYPE_CODES: dict[str, NoticeType] = {
    "0": "prior-information",  # prior information notice without call for competition
    "1": "change",  # corrigendum
    "2": "change",  # additional information
    "3": "contract-notice",
    "7": "award",
    "A": "prior-information",  # prior information notice with call for competition
    "B": "prior-information",  # buyer profile
    "C": "contract-notice",  # works concession
    "D": "contract-notice",  # design contest
    "H": "contract-notice",  # services concession
    "J": "award",  # concession award notice
    "K": "change",  # modification of a contract/concession during its term
    "M": "prior-information",  # periodic indicative notice with call for competition
    "O": "contract-notice",  # qualification system with call for competition
    "P": "prior-information",  # periodic indicative notice without call for competition
    "Q": "prior-information",  # qualification system without call for competition
    "R": "award",  # results of design contests
    "V": "award",  # voluntary ex ante transparency notice
    "Y": "contract-notice",  # dynamic purchasing system
}
"""Coded `TD_DOCUMENT_TYPE/@CODE` → notice type (used when the form does not tell)."""

PROCEDURE_ELEMENTS: dict[str, Procedure] = {
    "PT_OPEN": "open",
    "PT_RESTRICTED": "restricted",
    "PT_ACCELERATED_RESTRICTED": "restricted",
    "PT_COMPETITIVE_NEGOTIATION": "negotiated",
    "PT_NEGOTIATED_WITH_PRIOR_CALL": "negotiated",
    "PT_INVOLVING_NEGOTIATION": "negotiated",
    "PT_NEGOTIATED": "negotiated",
    "PT_ACCELERATED_NEGOTIATED": "negotiated",
    "PT_NEGOTIATED_WITH_COMPETITION": "negotiated",
    "PT_NEGOTIATED_WITHOUT_COMPETITION": "negotiated",
    "PT_NEGOTIATED_WITHOUT_PUBLICATION": "negotiated",
    "PT_AWARD_CONTRACT_WITHOUT_CALL": "negotiated",  # negotiated without prior call for competition
    "PT_AWARD_CONTRACT_WITHOUT_PUBLICATION": "negotiated",
    "PT_AWARD_CONTRACT_WITHOUT_PRIOR_PUBLICATION": "negotiated",
    "PT_COMPETITIVE_DIALOGUE": "competitive-dialogue",
    "PT_INNOVATION_PARTNERSHIP": "innovation-partnership",
    "PT_AWARD_CONTRACT_WITH_PRIOR_PUBLICATION": "other",  # concession award after a concession notice
}
"""Procedure element of the form → §2 procedure."""

PROCEDURE_CODES: dict[str, Procedure | None] = {
    "1": "open",
    "2": "restricted",
    "3": "restricted",  # accelerated restricted
    "4": "negotiated",
    "6": "negotiated",  # accelerated negotiated
    "A": "other",  # direct award
    "B": "negotiated",  # competitive procedure with negotiation
    "C": "competitive-dialogue",
    "E": "other",  # concession award procedure
    "F": "other",  # concession award without prior concession notice
    "G": "innovation-partnership",
    "T": "negotiated",  # negotiated without a prior call for competition
    "V": "negotiated",  # contract award without prior publication
    "8": "other",
    "9": None,  # not applicable
    "Z": None,  # not specified
}
"""Coded `PR_PROC/@CODE` → §2 procedure (used when the form names no procedure)."""

CONTRACT_NATURES: dict[str, ContractNature] = {
    "WORKS": "works",
    "SUPPLIES": "supplies",
    "SERVICES": "services",
}
CONTRACT_NATURE_CODES: dict[str, ContractNature] = {"1": "works", "2": "supplies", "4": "services"}
"""Coded `NC_CONTRACT_NATURE/@CODE` (3 "combined" and 8/9/Z "not defined" give null)."""

_NUTS = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_FORM_NUMBER = re.compile(r"F?0*(\d{1,2})", re.IGNORECASE)
_CURRENCY = re.compile(r"[A-Z]{3}")
_OLD_LOT_ANNEX = "ANNEX_B"
CODED_PLACE_FORMS = frozenset({"F16", "F17", "F18"})
"""R2.0.8 defence forms (prior information, contract notice, award): without a place in the form, the coded
`PERFORMANCE_NUTS` is the place of performance."""
_OLD_FORM_PLACES = frozenset({"LOCATION_NUTS", "SITE_OR_LOCATION"})


class _Tags:
    """Tags and paths of one schema namespace: `t.TITLE` is `{ns}TITLE`; each built once, then kept."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self._paths: dict[tuple[str, ...], str] = {}

    def __getattr__(self, name: str) -> str:  # called only for names not yet set: element tags
        tag = self.ns + name
        setattr(self, name, tag)
        return tag

    def path(self, *names: str) -> str:
        found = self._paths.get(names)
        if found is None:
            found = self._paths[names] = "/".join(self.ns + name for name in names)
        return found


@cache
def _tags(ns: str) -> _Tags:
    return _Tags(ns)


@cache
def _zone(country: str | None) -> ZoneInfo | None:
    return buyer_zone(country)


@dataclass
class _Lots:
    lots: list[Lot] = field(default_factory=list)
    values: list[tuple[float | None, str | None]] = field(default_factory=list)


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _parent_name(element: etree._Element | None) -> str:
    parent = element.getparent() if element is not None else None
    return _local(parent.tag) if parent is not None else ""


def _text(element: etree._Element | None) -> str | None:
    """All text inside an element (paragraph markup such as `FT` included), collapsed."""
    if element is None:
        return None
    if len(element) == 0:  # the common case, much cheaper than itertext()
        return collapse(element.text)
    return collapse("".join(str(text) for text in element.itertext()))


def _paragraphs(element: etree._Element | None, t: _Tags, separator: str) -> str | None:
    """The `P` paragraphs of a text block joined by `separator`; the block's own text when it has none."""
    if element is None:
        return None
    parts = [text for p in element.iter(t.P) if (text := _text(p))]
    joined = separator.join(parts) if parts else _text(element)
    return joined[:MAX_TEXT] if joined else None


def _nuts_codes(elements: Iterable[etree._Element]) -> Iterator[str]:
    """Valid NUTS codes of `NUTS` elements, TED's placeholder `00` left out."""
    for element in elements:
        code = (element.get("CODE") or "").strip().upper()
        if code != "00" and _NUTS.fullmatch(code):
            yield code


def _child_nuts(parent: etree._Element) -> list[etree._Element]:
    """`NUTS` children whatever their namespace (`n2016:`, `n2021:`, or the main one in old schemas)."""
    return parent.findall("{*}NUTS")


def _money(element: etree._Element | None, currency: str | None = None) -> tuple[float | None, str | None]:
    """(amount, currency) of a value element; (None, None) when not a usable positive amount."""
    if element is None:
        return None, None
    value = parse_amount(element.get("FMTVAL") or element.text)
    code = (currency or element.get("CURRENCY") or "").strip().upper()
    if value is None or not _CURRENCY.fullmatch(code):
        return None, None
    return value, code


def _sum_if_all(values: list[tuple[float | None, str | None]]) -> tuple[float | None, str | None]:
    """The sum of lot estimates when every lot has one, all in one currency; else (None, None)."""
    if not values or any(value is None for value, _ in values):
        return None, None
    currencies = {currency for _, currency in values}
    if len(currencies) != 1:
        return None, None
    return round(sum(value for value, _ in values if value is not None), 2), currencies.pop()


def _form_number(form: etree._Element) -> str | None:
    """`F02` from `FORM="F02"` (R2.0.9) or `FORM="2"` (R2.0.7/8), else from the tag `F02_2014`."""
    for raw in (form.get("FORM"), _local(form.tag).partition("_")[0]):
        match = _FORM_NUMBER.fullmatch((raw or "").strip())
        if match:
            return f"F{int(match.group(1)):02d}"
    return None


def _notice_type(form_number: str | None, subtype: str | None, document_code: str | None) -> NoticeType:
    if subtype in FORM_SUBTYPE_NOTICE_TYPES:
        return FORM_SUBTYPE_NOTICE_TYPES[subtype]
    if form_number in MULTI_PURPOSE_FORMS and document_code in DOCUMENT_TYPE_CODES:
        return DOCUMENT_TYPE_CODES[document_code]
    if form_number in FORM_NOTICE_TYPES:
        return FORM_NOTICE_TYPES[form_number]
    return DOCUMENT_TYPE_CODES.get(document_code or "", "other")


class _Document:
    """The parts of a TED_EXPORT document every form family needs."""

    def __init__(self, root: etree._Element) -> None:
        tag = root.tag if isinstance(root.tag, str) else ""
        self.t = t = _tags(tag[: tag.index("}") + 1] if tag.startswith("{") else "")
        self.root = root
        self.coded = root.find(t.CODED_DATA_SECTION)
        self.notice_data = self.coded.find(t.NOTICE_DATA) if self.coded is not None else None
        self.codif = self.coded.find(t.CODIF_DATA) if self.coded is not None else None

    def coded_code(self, name: str) -> str | None:
        """The CODE of a `CODIF_DATA` element (`TD_DOCUMENT_TYPE`, `PR_PROC`, `NC_CONTRACT_NATURE`)."""
        element = self.codif.find(self.t.ns + name) if self.codif is not None else None
        if element is None:
            return None
        return (element.get("CODE") or "").strip().upper() or None

    def notice_data_all(self, name: str) -> list[etree._Element]:
        return self.notice_data.findall(self.t.ns + name) if self.notice_data is not None else []


def parse_ted_export(root: etree._Element) -> Notice:
    """One normalized notice from a TED_EXPORT document (the ORIGINAL-language form)."""
    try:
        return _parse(root)
    except (NoticeError, ValidationError):
        raise
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
        raise NoticeError(f"TED_EXPORT: unexpected structure ({type(error).__name__}: {error})") from None


def _parse(root: etree._Element) -> Notice:
    doc = _Document(root)
    t = doc.t
    source_id = _source_id(doc)
    where = f"TED_EXPORT {source_id}"

    published = iso_date(doc.coded.findtext(t.path("REF_OJS", "DATE_PUB")) if doc.coded is not None else None)
    if published is None:
        raise NoticeError(f"{where}: no publication date (CODED_DATA_SECTION/REF_OJS/DATE_PUB)")

    form_section = root.find(t.FORM_SECTION)
    forms = [f for f in form_section if f.get("LG") or f.get("CATEGORY")] if form_section is not None else []
    if not forms:
        raise NoticeError(f"{where}: no form in FORM_SECTION")
    original_languages = [lang for e in doc.notice_data_all("LG_ORIG") if (lang := language_alpha2(e.text))]
    form = _original_form(forms, original_languages)
    languages = distinct(
        [
            language_alpha2(form.get("LG")),
            *original_languages[:1],
            *(language_alpha2(f.get("LG")) for f in forms),
        ]
    )
    if not languages:
        raise NoticeError(f"{where}: no language (form @LG, NOTICE_DATA/LG_ORIG)")

    if form.find(t.OBJECT_CONTRACT) is not None or form.find(t.CONTRACTING_BODY) is not None:
        parts = _parse_2014_form(form, doc)
    else:
        parts = _parse_old_form(form, doc)

    form_number = _form_number(form)
    notice_type = _notice_type(form_number, parts.subtype, doc.coded_code("TD_DOCUMENT_TYPE"))

    buyer_name = parts.buyer_name or _translated(doc, "ML_AA_NAMES", "AA_NAME", languages[0])
    if not buyer_name:
        raise NoticeError(f"{where}: no buyer name (CONTRACTING_BODY/ADDRESS_CONTRACTING_BODY/OFFICIALNAME)")
    iso_country = doc.notice_data_all("ISO_COUNTRY")
    country = country_alpha2(parts.buyer_country) or (
        country_alpha2(iso_country[0].get("VALUE")) if iso_country else None
    )
    buyer = Buyer(name=buyer_name[:MAX_TEXT], country=country, id=parts.buyer_id, town=parts.buyer_town)

    title = parts.title or _translated(doc, "ML_TITLES", "ML_TI_DOC", languages[0])
    if not title:
        raise NoticeError(f"{where}: no title (OBJECT_CONTRACT/TITLE)")

    coded_cpv = [e.get("CODE") for e in doc.notice_data_all("ORIGINAL_CPV")]
    cpv_main = parts.cpv_main
    if cpv_main is None:
        cpv_main = next((code for raw in coded_cpv if (code := cpv_code(raw))), None)
    if notice_type == "change":
        corrected = form.iterfind(t.path("CHANGES", "CHANGE", "NEW_VALUE") + "//" + t.CPV_CODE)
        parts.cpv_codes += [*coded_cpv, *(e.get("CODE") for e in corrected)]
    nuts = distinct(parts.nuts)
    if not nuts and (notice_type == "change" or form_number in CODED_PLACE_FORMS):
        coded = list(doc.notice_data) if doc.notice_data is not None else []
        nuts = distinct(_nuts_codes(e for e in coded if _local(e.tag) == "PERFORMANCE_NUTS"))

    lots = parts.lots.lots or [
        Lot(
            id="1",
            title=title,
            cpv_main=cpv_main,
            cpv_additional=distinct_cpv(cpv_main, parts.cpv_codes),
            nuts=nuts,
        )
    ]
    for lot in lots:
        if lot.cpv_main is None and cpv_main is not None:
            lot.cpv_main = cpv_main
            lot.cpv_additional = [code for code in lot.cpv_additional if code != cpv_main]
    cpv_additional = distinct_cpv(
        cpv_main,
        [*parts.cpv_codes, *(code for lot in lots for code in (lot.cpv_main, *lot.cpv_additional))],
    )

    estimated_value, currency = parts.estimate
    if estimated_value is None:
        estimated_value, currency = _sum_if_all(parts.lots.values)

    contract_nature = parts.contract_nature or CONTRACT_NATURE_CODES.get(doc.coded_code("NC_CONTRACT_NATURE") or "")
    procedure = parts.procedure
    if procedure is None:
        procedure = PROCEDURE_CODES.get(doc.coded_code("PR_PROC") or "")

    tender_deadline = None
    if notice_type != "award":
        zone = _zone(country)
        tender_deadline = deadline(parts.deadline_day, parts.deadline_time, zone=zone)
        if tender_deadline is None and doc.codif is not None:
            submission = (doc.codif.findtext(t.DT_DATE_FOR_SUBMISSION) or "").split()
            if submission:
                day, at = submission[0], submission[1] if len(submission) > 1 else None
                tender_deadline = deadline(day, at, zone=zone)

    references = [n.text for ref in doc.notice_data_all("REF_NOTICE") for n in ref.findall(t.NO_DOC_OJS)]
    related = distinct(ted_publication_number(raw) or collapse(raw) for raw in [*references, *parts.references])
    related = [reference for reference in related if reference != source_id]

    return Notice(
        source="ted",
        source_id=source_id,
        notice_type=notice_type,
        title=title[:MAX_TEXT],
        description=parts.description,
        buyer=buyer,
        cpv_main=cpv_main,
        cpv_additional=cpv_additional,
        nuts=nuts,
        contract_nature=contract_nature,
        procedure=procedure,
        published=published,
        deadline=tender_deadline,
        estimated_value=estimated_value,
        currency=currency if estimated_value is not None else None,
        lots=lots,
        languages=languages,
        url=ted_notice_url(source_id),
        documents_url=parts.documents_url,
        related=related,
        awards=_awards(parts.awards, [lot.id for lot in lots]) if notice_type == "award" else [],
    )


def _source_id(doc: _Document) -> str:
    raw = collapse(doc.root.get("DOC_ID"))
    if raw:
        return raw[:300]
    numbers = doc.notice_data_all("NO_DOC_OJS")
    number = ted_publication_number(numbers[0].text) if numbers else None
    if number is None:
        raise NoticeError("TED_EXPORT: no notice number (@DOC_ID, NOTICE_DATA/NO_DOC_OJS)")
    return number


def _original_form(forms: list[etree._Element], original_languages: list[str]) -> etree._Element:
    """The first form marked ORIGINAL (a multilingual original, e.g. Swiss notices, has several: the
    first is the one of `LG_ORIG`); without any, the form in the original language, else the first."""
    for form in forms:
        if (form.get("CATEGORY") or "").strip().upper() == "ORIGINAL":
            return form
    for form in forms:
        if original_languages and language_alpha2(form.get("LG")) == original_languages[0]:
            return form
    return forms[0]


def _translated(doc: _Document, block: str, item: str, language: str) -> str | None:
    """A text of the TRANSLATION_SECTION (`ML_TITLES/ML_TI_DOC/TI_TEXT`, `ML_AA_NAMES/AA_NAME`) in the
    original language, else the first one: the fallback when the form lacks a title or buyer name."""
    t = doc.t
    items = doc.root.findall(t.path("TRANSLATION_SECTION", block, item))
    chosen = next((e for e in items if language_alpha2(e.get("LG")) == language), items[0] if items else None)
    if chosen is None:
        return None
    if item == "ML_TI_DOC":
        return _paragraphs(chosen.find(t.TI_TEXT), t, " ")
    return _text(chosen)


@dataclass
class _Awarded:
    """An award as the form writes it; its lot number becomes a lot id once the notice's lots are known."""

    lot: str | None
    winners: list[Winner]
    value: tuple[float | None, str | None]
    tenders_received: int | None
    date: date | None


@dataclass
class _FormParts:
    """What a form family gives; the coded section fills the gaps afterwards."""

    subtype: str | None = None
    buyer_name: str | None = None
    buyer_id: str | None = None
    buyer_town: str | None = None
    buyer_country: str | None = None
    title: str | None = None
    description: str | None = None
    cpv_main: str | None = None
    cpv_codes: list[str | None] = field(default_factory=list)
    """Procedure-level codes besides the main one, as written (old forms: every code of the form)."""
    nuts: list[str] = field(default_factory=list)
    lots: _Lots = field(default_factory=_Lots)
    estimate: tuple[float | None, str | None] = (None, None)
    contract_nature: ContractNature | None = None
    procedure: Procedure | None = None
    deadline_day: str | None = None
    deadline_time: str | None = None
    documents_url: str | None = None
    references: list[str | None] = field(default_factory=list)
    awards: list[_Awarded] = field(default_factory=list)


def _parse_2014_form(form: etree._Element, doc: _Document) -> _FormParts:
    t = doc.t
    parts = _FormParts()
    notice = form.find(t.NOTICE)  # NOTICE TYPE="PRI_ONLY" | "QSU_CALL_COMPETITION" | "AWARD_CONTRACT" ...
    if notice is not None:
        parts.subtype = (notice.get("TYPE") or "").strip().upper() or None

    body = form.find(t.CONTRACTING_BODY)
    if body is not None:
        address = body.find(t.ADDRESS_CONTRACTING_BODY)
        if address is not None:
            parts.buyer_name = _text(address.find(t.OFFICIALNAME))
            parts.buyer_id = _text(address.find(t.NATIONALID))
            parts.buyer_town = _text(address.find(t.TOWN))
            country = address.find(t.COUNTRY)
            parts.buyer_country = country.get("VALUE") if country is not None else None
        parts.documents_url = _text(body.find(t.URL_DOCUMENT))

    contract = form.find(t.OBJECT_CONTRACT)
    if contract is not None:
        parts.title = _paragraphs(contract.find(t.TITLE), t, " ")
        parts.description = _paragraphs(contract.find(t.SHORT_DESCR), t, "\n")
        parts.cpv_main = _first_cpv(contract, t, "CPV_MAIN")
        parts.cpv_codes = [e.get("CODE") for e in contract.iterfind(t.path("CPV_ADDITIONAL", "CPV_CODE"))]
        type_contract = contract.find(t.TYPE_CONTRACT)
        if type_contract is not None:
            parts.contract_nature = CONTRACT_NATURES.get((type_contract.get("CTYPE") or "").strip().upper())
        parts.estimate = _money(contract.find(t.VAL_ESTIMATED_TOTAL))
        descriptions = contract.findall(t.OBJECT_DESCR)
        parts.nuts = list(_nuts_codes(_child_nuts(contract)))
        parts.lots = _lots_2014(descriptions, parts, t)
        if parts.description is None and len(descriptions) == 1:
            parts.description = _paragraphs(descriptions[0].find(t.SHORT_DESCR), t, "\n")
        parts.nuts += [code for lot in parts.lots.lots for code in lot.nuts]

    procedure = form.find(t.PROCEDURE)
    if procedure is not None:
        parts.procedure = _procedure_2014(procedure)
        parts.deadline_day = procedure.findtext(t.DATE_RECEIPT_TENDERS)
        parts.deadline_time = procedure.findtext(t.TIME_RECEIPT_TENDERS)
        parts.references.extend(e.text for e in procedure.findall(t.NOTICE_NUMBER_OJ))
    parts.references.extend(e.text for e in form.iterfind(t.path("COMPLEMENTARY_INFO", "NOTICE_NUMBER_OJ")))
    parts.awards = _awards_2014(form, t)
    return parts


def _procedure_2014(procedure: etree._Element) -> Procedure | None:
    """The `PT_*` child of `PROCEDURE`, or of its `DIRECTIVE_*` child (VEAT, F15)."""
    for child in procedure:
        name = _local(child.tag)
        if name in PROCEDURE_ELEMENTS:
            return PROCEDURE_ELEMENTS[name]
        if name.startswith("DIRECTIVE_"):
            for grandchild in child:
                if (found := _local(grandchild.tag)) in PROCEDURE_ELEMENTS:
                    return PROCEDURE_ELEMENTS[found]
    return None


def _first_cpv(parent: etree._Element, t: _Tags, block: str) -> str | None:
    return next((code for e in parent.iterfind(t.path(block, "CPV_CODE")) if (code := cpv_code(e.get("CODE")))), None)


def _lots_2014(descriptions: list[etree._Element], parts: _FormParts, t: _Tags) -> _Lots:
    """One lot per `OBJECT_DESCR`: `LOT_NO` is its id ("1" for a single description without one); a lot
    of an undivided procedure without its own title takes the procedure's. Each description is read in
    one pass over its children (a notice may have a hundred lots)."""
    result = _Lots()
    single = len(descriptions) == 1
    seen: set[str] = set()
    lot_no_tag, title_tag, value_tag = t.LOT_NO, t.TITLE, t.VAL_OBJECT
    main_tag, additional_tag, code_tag = t.CPV_MAIN, t.CPV_ADDITIONAL, t.CPV_CODE
    for index, description in enumerate(descriptions, start=1):
        lot_no = title = None
        main: list[str | None] = []
        additional: list[str | None] = []
        nuts: list[etree._Element] = []
        value_element = None
        for child in description:
            tag = child.tag
            if tag == additional_tag:
                additional.extend(code.get("CODE") for code in child.iter(code_tag))
            elif tag == title_tag:
                title = _paragraphs(child, t, " ")
            elif tag == lot_no_tag:
                lot_no = _text(child)
            elif tag == value_tag:
                value_element = child
            elif tag == main_tag:
                main.extend(code.get("CODE") for code in child.iter(code_tag))
            elif isinstance(tag, str) and (tag.endswith("}NUTS") or tag == "NUTS"):
                nuts.append(child)
        lot_id = _unique(lot_no or ("1" if single else description.get("ITEM") or str(index)), seen)
        if title is None and single:
            title = parts.title
        lot_main = next((code for raw in main if (code := cpv_code(raw))), parts.cpv_main)
        value, currency = _money(value_element)
        result.lots.append(
            Lot(
                id=lot_id,
                title=title[:MAX_TEXT] if title else None,
                cpv_main=lot_main,
                cpv_additional=distinct_cpv(lot_main, additional),
                nuts=distinct(_nuts_codes(nuts)),
                estimated_value=value,
            )
        )
        result.values.append((value, currency))
    return result


def _unique(lot_id: str, seen: set[str]) -> str:
    """The lot id, suffixed (`2 (2)`) when an earlier lot of the notice already has it."""
    candidate, count = lot_id, 1
    while candidate in seen:
        count += 1
        candidate = f"{lot_id} ({count})"
    seen.add(candidate)
    return candidate


_OLD_FIRST = frozenset(
    {
        "CA_CE_CONCESSIONAIRE_PROFILE",
        "TITLE_CONTRACT",
        "SHORT_CONTRACT_DESCRIPTION",
        "SHORT_DESCRIPTION_CONTRACT",
        "TYPE_CONTRACT",
        "RECEIPT_LIMIT_DATE",
    }
)


def _parse_old_form(form: etree._Element, doc: _Document) -> _FormParts:
    """R2.0.7/R2.0.8 forms, read in one pass by element name (their nesting differs per form)."""
    t = doc.t
    parts = _FormParts()
    first: dict[str, etree._Element] = {}
    annexes: list[etree._Element] = []
    for element in form.iter():
        name = _local(element.tag)
        if name in _OLD_FIRST:
            first.setdefault(name, element)
        elif name == "CPV_CODE":
            # every code in document order: the procedure's block comes before the lots' annexes
            parts.cpv_codes.append(element.get("CODE"))
            if parts.cpv_main is None and _parent_name(element) == "CPV_MAIN":
                parts.cpv_main = cpv_code(element.get("CODE"))
        elif name == "NUTS":
            if _parent_name(element) in _OLD_FORM_PLACES:
                parts.nuts.extend(_nuts_codes([element]))
        elif name in PROCEDURE_ELEMENTS:
            parts.procedure = parts.procedure or PROCEDURE_ELEMENTS[name]
        elif name.endswith(_OLD_LOT_ANNEX):
            annexes.append(element)
        elif name == "COSTS_RANGE_AND_CURRENCY" and parts.estimate == (None, None):
            scope = element.getparent()
            if _parent_name(element) == "NATURE_QUANTITY_SCOPE" and _parent_name(scope) == "QUANTITY_SCOPE":
                parts.estimate = _money(element.find(t.VALUE_COST), element.get("CURRENCY"))
        elif name == "NOTICE_NUMBER_OJ":
            parts.references.append(element.text)

    profile = first.get("CA_CE_CONCESSIONAIRE_PROFILE")
    if profile is not None:
        organisation = profile.find(t.ORGANISATION)
        if organisation is not None:
            official = organisation.find(t.OFFICIALNAME)
            parts.buyer_name = _text(official if official is not None else organisation)
            parts.buyer_id = _text(organisation.find(t.NATIONALID))
        parts.buyer_town = _text(profile.find(t.TOWN))
        country = profile.find(t.COUNTRY)
        parts.buyer_country = country.get("VALUE") if country is not None else None
    parts.title = _paragraphs(first.get("TITLE_CONTRACT"), t, " ")
    parts.description = _paragraphs(
        first.get("SHORT_CONTRACT_DESCRIPTION", first.get("SHORT_DESCRIPTION_CONTRACT")), t, "\n"
    )
    type_contract = first.get("TYPE_CONTRACT")
    nature = type_contract.get("VALUE") if type_contract is not None else None
    if nature is None:
        nature = next((child.get("CTYPE") for child in form if child.get("CTYPE")), None)
    parts.contract_nature = CONTRACT_NATURES.get((nature or "").strip().upper())
    limit = first.get("RECEIPT_LIMIT_DATE")
    if limit is not None:
        year, month, day = (limit.findtext(t.ns + part) for part in ("YEAR", "MONTH", "DAY"))
        if year and month and day and year.strip().isdigit() and month.strip().isdigit() and day.strip().isdigit():
            parts.deadline_day = f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
            parts.deadline_time = limit.findtext(t.TIME)
    parts.lots = _old_lots(annexes, parts, t)
    parts.awards = _old_awards(form, t)
    return parts


def _old_lots(annexes: list[etree._Element], parts: _FormParts, t: _Tags) -> _Lots:
    """Lots of R2.0.7/8 contract notices: the `*_ANNEX_B` blocks (`LOT_NUMBER`, `LOT_TITLE`, `CPV`,
    `NATURE_QUANTITY_SCOPE/COSTS_RANGE_AND_CURRENCY/VALUE_COST`)."""
    result = _Lots()
    seen: set[str] = set()
    for index, annex in enumerate(annexes, start=1):
        lot_id = _unique(_text(annex.find(t.LOT_NUMBER)) or str(index), seen)
        title = _text(annex.find(t.LOT_TITLE))
        codes = [(_parent_name(e), e.get("CODE")) for e in annex.iter(t.CPV_CODE)]
        lot_main = next(
            (code for block, raw in codes if block == "CPV_MAIN" and (code := cpv_code(raw))), parts.cpv_main
        )
        lot_additional = distinct_cpv(lot_main, (raw for block, raw in codes if block == "CPV_ADDITIONAL"))
        nuts = distinct(_nuts_codes(e for e in annex.iter(t.NUTS)))
        costs = annex.find(t.path("NATURE_QUANTITY_SCOPE", "COSTS_RANGE_AND_CURRENCY"))
        value, currency = _money(costs.find(t.VALUE_COST), costs.get("CURRENCY")) if costs is not None else (None, None)
        result.lots.append(
            Lot(
                id=lot_id,
                title=title[:MAX_TEXT] if title else None,
                cpv_main=lot_main,
                cpv_additional=lot_additional,
                nuts=nuts,
                estimated_value=value,
            )
        )
        result.values.append((value, currency))
    return result


def _awards(found: list[_Awarded], lot_ids: list[str]) -> list[Award]:
    return [
        Award(
            lot_ids=award_lot_ids([awarded.lot], lot_ids),
            winners=awarded.winners,
            value=awarded.value[0],
            currency=awarded.value[1],
            tenders_received=awarded.tenders_received,
            date=awarded.date,
        )
        for awarded in found
        if awarded.winners or awarded.value[0] is not None
    ]


def _count(element: etree._Element | None) -> int | None:
    text = _text(element)
    return int(text) if text and text.isdigit() else None


def _winner(
    name: str | None, national_id: str | None, town: str | None, country: etree._Element | None, sme: bool | None
) -> Winner | None:
    if not name:
        return None
    code = country_alpha2(country.get("VALUE")) if country is not None else None
    return Winner(
        name=name[:1000],
        country=code,
        identifier=normalize_identifier(national_id, code),
        town=town[:300] if town else None,
        sme=sme,
    )


def _contractor(contractor: etree._Element, address_tag: str, t: _Tags) -> Winner | None:
    """A `CONTRACTOR` (`ADDRESS_CONTRACTOR`) or `WINNER` (`ADDRESS_WINNER`) of the 2014 forms."""
    address = contractor.find(address_tag)
    if address is None:
        return None
    sme = True if contractor.find(t.SME) is not None else False if contractor.find(t.NO_SME) is not None else None
    return _winner(
        _text(address.find(t.OFFICIALNAME)),
        _text(address.find(t.NATIONALID)),
        _text(address.find(t.TOWN)),
        address.find(t.COUNTRY),
        sme,
    )


def _awards_2014(form: etree._Element, t: _Tags) -> list[_Awarded]:
    found = []
    for block in form.iterfind(t.AWARD_CONTRACT):
        awarded = block.find(t.AWARDED_CONTRACT)
        if awarded is None:  # NO_AWARDED_CONTRACT: the lot was not awarded
            continue
        winners = _distinct_winners(_contractor(c, t.ADDRESS_CONTRACTOR, t) for c in awarded.iter(t.CONTRACTOR))
        found.append(
            _Awarded(
                lot=_text(block.find(t.LOT_NO)),
                winners=winners,
                value=_money(next(awarded.iter(t.VAL_TOTAL), None)),
                tenders_received=_count(next(awarded.iter(t.NB_TENDERS_RECEIVED), None)),
                date=iso_date(_text(awarded.find(t.DATE_CONCLUSION_CONTRACT))),
            )
        )
    results = form.find(t.RESULTS)  # F13 design contest results
    if results is None:
        return found
    for prize in results.iterfind(t.AWARDED_PRIZE):
        # each winner of a contest won on its own (prizes, mentions): one award each, not a group
        for winner in _distinct_winners(_contractor(w, t.ADDRESS_WINNER, t) for w in prize.iter(t.WINNER)):
            found.append(
                _Awarded(
                    lot=_text(results.find(t.LOT_NO)),
                    winners=[winner],
                    value=_money(prize.find(t.VAL_PRIZE)),
                    tenders_received=_count(next(prize.iter(t.NB_PARTICIPANTS), None)),
                    date=iso_date(_text(prize.find(t.DATE_DECISION_JURY))),
                )
            )
    return found


def _distinct_winners(winners: Iterable[Winner | None]) -> list[Winner]:
    """Winners in document order, without repeats."""
    return list(dict.fromkeys(winner for winner in winners if winner is not None))


def _old_awards(form: etree._Element, t: _Tags) -> list[_Awarded]:
    """R2.0.7/8 forms: each block holding an `ECONOMIC_OPERATOR_NAME_ADDRESS` is an awarded contract."""
    found = []
    blocks: list[etree._Element] = []
    for operator in form.iter(t.ECONOMIC_OPERATOR_NAME_ADDRESS):
        block = operator.getparent()
        if block is not None and block not in blocks:
            blocks.append(block)
    for block in blocks:
        winners = []
        for operator in block.iterfind(t.ECONOMIC_OPERATOR_NAME_ADDRESS):
            contact = operator.find(t.CONTACT_DATA_WITHOUT_RESPONSIBLE_NAME)
            contact = contact if contact is not None else operator
            organisation = contact.find(t.ORGANISATION)
            official = organisation.find(t.OFFICIALNAME) if organisation is not None else None
            national = organisation.find(t.NATIONALID) if organisation is not None else None
            winners.append(
                _winner(
                    _text(official if official is not None else organisation),
                    _text(national if national is not None else contact.find(t.NATIONALID)),
                    _text(contact.find(t.TOWN)),
                    contact.find(t.COUNTRY),
                    None,
                )
            )
        value: tuple[float | None, str | None] = (None, None)
        for costs in block.iter(t.COSTS_RANGE_AND_CURRENCY_WITH_VAT_RATE):
            value = _money(costs.find(t.VALUE_COST), costs.get("CURRENCY"))
            break
        day = block.find(t.CONTRACT_AWARD_DATE)
        found.append(
            _Awarded(
                lot=_text(block.find(t.LOT_NUMBER)) or _text(block.find(t.LOT_NO)),
                winners=_distinct_winners(winners),
                value=value,
                tenders_received=_count(block.find(t.OFFERS_RECEIVED_NUMBER)),
                date=_day_month_year(day, t),
            )
        )
    return found


def _day_month_year(element: etree._Element | None, t: _Tags) -> date | None:
    if element is None:
        return None
    year, month, day = (element.findtext(t.ns + part) for part in ("YEAR", "MONTH", "DAY"))
    if year and month and day and year.strip().isdigit() and month.strip().isdigit() and day.strip().isdigit():
        return iso_date(f"{int(year):04d}-{int(month):02d}-{int(day):02d}")
    return None

"""Belgian e-Procurement (BOSA, publicprocurement.be): one publication of the search API
(`GET .../api/sea/search/publications` → `{totalCount, publications: [...]}`) to one normalized notice.

What the API gives and how it is read (checked on the recorded production page of 2026-01-28 and on the
official API's integration-environment answer; see sources.md, Belgian bullet):

- `publicationWorkspaceId` is the notice's id (`source_id`); its page is
  `https://www.publicprocurement.be/publication-workspaces/{id}` (sources.md; the site redirects it to its
  `/general` tab) and its documents tab `.../publication-workspaces/{id}/documents`.
- `noticeSubType` is the eForms notice subtype (`16`, `29`, `E3`, `E4`...; the integration environment writes
  `BE-E4`): see `NOTICE_TYPES`. A publication with `cancelledAt` is a cancellation: `change`.
  A workspace re-published after a corrigendum (several `noticeIds` / `publishedAt`) keeps the same id and
  carries the whole corrected notice, so its type stays that of its subtype (the store keeps the versions).
- Texts come as `[{language, text}]` in every published language, in no reliable order (the same record
  lists titles FR, NL and descriptions NL, FR). The API does not say which version is the original, so: the
  original is the first of `publicationLanguages` that is a national language (nl, fr, de) and has a title,
  English only when nothing else is published (Belgian law requires the notice in the buyer's language(s);
  English is always an added version). Buyer name, description and lot titles follow the same preference.
- `vaultSubmissionDeadline` is naive Brussels wall-clock time (`2026-02-17T10:00:00`).
- No estimated value, no lot CPV or NUTS, no lot ids in this API. Lot ids are read from titles such as
  `Lot 9 : ...` or the generated `<dossier number> - 2`, else numbered by position (see `_lot_ids`).
- `publicationReferenceNumbersTED` / `...BDA` hold this publication's own e-Notification reference
  (= `referenceNumber`, e.g. `PPP0T3-424/6018/RF/26/PO/1020_001`), not other publications: those are left out
  of `related`; a TED publication number found there is kept, normalized to `123456-2024`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from ..notice import MAX_TEXT, Buyer, ContractNature, Lot, Notice, NoticeType, Procedure
from .fields import (
    BRUSSELS,
    NoticeError,
    collapse,
    country_alpha2,
    cpv_code,
    distinct,
    distinct_cpv,
    iso_date,
    language_alpha2,
    zoned_datetime,
)

PAGE_URL = "https://www.publicprocurement.be/publication-workspaces/{id}"
DOCUMENTS_URL = "https://www.publicprocurement.be/publication-workspaces/{id}/documents"

_NATIONAL_LANGUAGES = frozenset({"nl", "fr", "de"})


def _subtype_range(first: int, last: int, notice_type: NoticeType) -> dict[str, NoticeType]:
    return {str(n): notice_type for n in range(first, last + 1)}


NOTICE_TYPES: dict[str, NoticeType] = {
    # eForms SDK notice-types.json: 1-3 PIN on a buyer profile, 4-6 PIN only for information,
    # 7-9 PIN to shorten time limits; E1 pre-market consultation, E2 voluntary (below-threshold) planning;
    # T01 planning for public passenger transport.
    **_subtype_range(1, 9, "prior-information"),
    "E1": "prior-information",
    "E2": "prior-information",
    "T01": "prior-information",
    # 10-14 PIN used as a call for competition, 15 qualification system, 16-22 contract notices,
    # 23-24 design contests; E3 voluntary contract notice; CEI call for expressions of interest.
    **_subtype_range(10, 24, "contract-notice"),
    "E3": "contract-notice",
    "CEI": "contract-notice",
    # 25-28 voluntary ex-ante transparency, 29-35 contract award, 36-37 design contest results;
    # E4 voluntary award notice; T02 result for public passenger transport.
    **_subtype_range(25, 37, "award"),
    "E4": "award",
    "T02": "award",
    # 38-40 contract modification; E6 voluntary contract modification.
    **_subtype_range(38, 40, "change"),
    "E6": "change",
    # E5 contract completion: neither a call, an award nor a change of a publication.
    "E5": "other",
}
"""eForms notice subtype → §2 notice type. Seen in the recorded data: 16, 21, 29, 30, 33, E3, E4 and
(integration environment) BE-E4; the `BE-` prefix is dropped before the look-up. Unknown subtypes: `other`."""

PROCEDURES: dict[str, Procedure] = {
    "OPEN": "open",
    "RESTRICTED": "restricted",
    "NEG_W_CALL": "negotiated",
    "NEG_WO_CALL": "negotiated",
    "S_NEG_W_CALL": "negotiated",
    "S_NEG_WO_CALL": "negotiated",
    "COMP_DIAL": "competitive-dialogue",
    "INNOVATION": "innovation-partnership",
}
"""`dossier.procurementProcedureType` → §2 procedure, by prefix after dropping the directive suffixes
(`_24`, `_25`, `_81`, `_24_81`...). Seen: OPEN, NEG_WO_CALL_24 and NEG_WO_CALL_25 (negotiated without prior
publication), S_NEG_W_CALL_24_81 (Belgian simplified negotiated procedure with prior publication). Other
values are read by their first word: RESTR* restricted, *NEG* negotiated, COMP*DIAL* competitive dialogue,
INNOV* innovation partnership, anything else `other`."""

NATURES: dict[str, ContractNature] = {"WORKS": "works", "SUPPLIES": "supplies", "SERVICES": "services"}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_DIRECTIVE_SUFFIX = re.compile(r"(?:_\d{2})+$")
_TED_NUMBER = re.compile(r"0*(\d{1,8})-(\d{4})")
_OJS_NUMBER = re.compile(r"(\d{4})/S\s*\d{1,3}-0*(\d{1,8})", re.IGNORECASE)
_LOT_TITLE_NUMBER = re.compile(
    r"(?:lot|perceel|los|partie|deel)\s*(?:n[°ºo]\.?\s*|nr\.?\s*|#\s*)?(\d{1,3})(?!\d)", re.IGNORECASE
)
_GENERATED_LOT_TITLE = re.compile(r"(.+?)\s+-\s+(\d{1,3})")


def parse_be_publication(publication: Mapping[str, Any]) -> Notice:
    """One element of `publications` of the BOSA search API as a normalized notice."""
    if not isinstance(publication, Mapping):
        raise NoticeError("BE publication: not a JSON object")
    workspace_id = _identifier(publication.get("publicationWorkspaceId"))
    if workspace_id is None:
        raise NoticeError("BE publication: no publicationWorkspaceId")
    where = f"BE publication {workspace_id}"

    published = iso_date(_string(publication.get("publicationDate")))
    if published is None:
        raise NoticeError(f"{where}: no valid publicationDate ({repr(publication.get('publicationDate'))[:40]})")

    notice_type = _notice_type(publication, where)
    dossier = _mapping(publication.get("dossier"))

    ranked = _ranked_languages(publication.get("publicationLanguages"))
    titles = _texts(dossier.get("titles"))
    title_language, title = _pick(titles, ranked)
    if title is None:
        raise NoticeError(f"{where}: no dossier title")
    languages = distinct([title_language, *ranked])
    if not languages:
        raise NoticeError(f"{where}: no publication language")

    description = _pick(_texts(dossier.get("descriptions")), languages)[1]
    buyer = _buyer(_mapping(publication.get("organisation")), languages, where)

    cpv_main = cpv_code(_string(_mapping(publication.get("cpvMainCode")).get("code")))
    cpv_additional = distinct_cpv(
        cpv_main,
        (_string(_mapping(item).get("code")) for item in _list(publication.get("cpvAdditionalCodes"))),
    )
    nuts = _nuts(publication.get("nutsCodes"))

    lots = _lots(publication.get("lots"), dossier, languages, title, cpv_main, cpv_additional, nuts)

    deadline = None
    if notice_type != "award":
        raw_deadline = publication.get("vaultSubmissionDeadline")
        deadline = _deadline(raw_deadline if isinstance(raw_deadline, str) else None)

    return Notice(
        source="be",
        source_id=workspace_id,
        notice_type=notice_type,
        title=title[:MAX_TEXT],
        description=description[:MAX_TEXT] if description else None,
        buyer=buyer,
        cpv_main=cpv_main,
        cpv_additional=cpv_additional,
        nuts=nuts,
        contract_nature=_nature(publication.get("natures")),
        procedure=_procedure(_string(dossier.get("procurementProcedureType"))),
        published=published,
        deadline=deadline,
        estimated_value=None,
        currency=None,
        lots=lots,
        languages=languages,
        url=PAGE_URL.format(id=quote(workspace_id, safe="")),
        documents_url=DOCUMENTS_URL.format(id=quote(workspace_id, safe="")),
        related=_related(publication),
    )


# --- JSON shapes: untrusted content, every accessor tolerates a wrong type -------------------------------


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None or isinstance(value, Mapping) else [value]


def _string(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _identifier(value: Any) -> str | None:
    text = collapse(_string(value))
    return text if text and len(text) <= 300 else None


def _texts(value: Any) -> list[tuple[str | None, str]]:
    """`[{language, text}]` as (ISO 639-1 language or None, collapsed text), blank texts left out."""
    result = []
    for item in _list(value):
        if isinstance(item, str):
            language, text = None, collapse(item)
        else:
            entry = _mapping(item)
            language, text = (
                language_alpha2(_string(entry.get("language"))),
                collapse(_string(entry.get("text"))),
            )
        if text:
            result.append((language, text))
    return result


def _pick(texts: list[tuple[str | None, str]], languages: Iterable[str]) -> tuple[str | None, str | None]:
    """The text in the first preferred language that has one, else the first text given."""
    by_language: dict[str | None, str] = {}
    for language, text in texts:
        by_language.setdefault(language, text)
    for language in languages:
        if language in by_language:
            return language, by_language[language]
    return texts[0] if texts else (None, None)


def _ranked_languages(value: Any) -> list[str]:
    """`publicationLanguages` as ISO 639-1: national languages (nl, fr, de) first, else in the given order."""
    languages = distinct(language_alpha2(_string(code)) for code in _list(value))
    return sorted(languages, key=lambda language: language not in _NATIONAL_LANGUAGES)


# --- fields ------------------------------------------------------------------------------------------------


def _notice_type(publication: Mapping[str, Any], where: str) -> NoticeType:
    if collapse(_string(publication.get("cancelledAt"))):
        return "change"
    subtype = collapse(_string(publication.get("noticeSubType")))
    if subtype is None:
        raise NoticeError(f"{where}: no noticeSubType")
    subtype = subtype.upper().removeprefix("BE-")
    return NOTICE_TYPES.get(subtype, "other")


def _procedure(raw: str | None) -> Procedure | None:
    code = collapse(raw)
    if code is None:
        return None
    code = _DIRECTIVE_SUFFIX.sub("", code.upper().replace("-", "_").replace(" ", "_"))
    if code in PROCEDURES:
        return PROCEDURES[code]
    if code.startswith("RESTR"):
        return "restricted"
    if code.startswith("OPEN"):
        return "open"
    if "DIAL" in code:
        return "competitive-dialogue"
    if code.startswith("INNOV"):
        return "innovation-partnership"
    if "NEG" in code:
        return "negotiated"
    return "other"


def _nature(value: Any) -> ContractNature | None:
    for raw in _list(value):
        nature = NATURES.get((collapse(_string(raw)) or "").upper())
        if nature:
            return nature
    return None


def _buyer(organisation: Mapping[str, Any], languages: list[str], where: str) -> Buyer:
    name = _pick(_texts(organisation.get("organisationNames")), languages)[1]
    if name is None:
        raise NoticeError(f"{where}: no organisation name")
    address = _mapping(organisation.get("address"))
    country = country_alpha2(_string(address.get("country") or address.get("countryCode"))) or "BE"
    return Buyer(name=name[:MAX_TEXT], country=country, id=_identifier(organisation.get("organisationId")))


def _nuts(value: Any) -> list[str]:
    codes = []
    for raw in _list(value):
        code = (collapse(_string(raw if not isinstance(raw, Mapping) else raw.get("code"))) or "").upper()
        if re.fullmatch(r"[A-Z]{2}[0-9A-Z]{0,3}", code):
            codes.append(code)
    return distinct(codes)


def _deadline(raw: str | None) -> str | None:
    """Naive Brussels time as given by the API; an offset, when given, is kept; a bare date stays a date."""
    text = collapse(raw)
    if text is None:
        return None
    if _DATE.fullmatch(text):
        day = iso_date(text)
        return day.isoformat() if day else None
    if _DATE_TIME.match(text):
        return zoned_datetime(text, zone=BRUSSELS)
    return None


def _lots(
    value: Any,
    dossier: Mapping[str, Any],
    languages: list[str],
    title: str,
    cpv_main: str | None,
    cpv_additional: list[str],
    nuts: list[str],
) -> list[Lot]:
    blocks = [_texts(_mapping(item).get("titles")) for item in _list(value) if isinstance(item, Mapping)]
    if len(blocks) <= 1:
        # Not divided into lots: the one lot is the whole procedure (the API gives no lot CPV or NUTS).
        lot_title = _pick(blocks[0], languages)[1] if blocks else None
        lot_id = _lot_ids(blocks, dossier)[0] if blocks else "1"
        return [
            Lot(
                id=lot_id,
                title=(lot_title or title)[:MAX_TEXT],
                cpv_main=cpv_main,
                cpv_additional=cpv_additional,
                nuts=nuts,
            )
        ]
    # Several lots: their own CPV and places are not in this API, so they stay unknown per lot.
    ids = _lot_ids(blocks, dossier)
    lots = []
    for lot_id, texts in zip(ids, blocks, strict=True):
        lot_title = _pick(texts, languages)[1]
        lots.append(Lot(id=lot_id, title=lot_title[:MAX_TEXT] if lot_title else None))
    return lots


def _lot_ids(blocks: list[list[tuple[str | None, str]]], dossier: Mapping[str, Any]) -> list[str]:
    """Lot numbers from the titles (`Lot 9 : ...`, `Perceel 2`, or the generated `<dossier number> - 2`);
    lots without one get the smallest unused numbers in order; all by position if two titles claim one number.

    The API lists lots in no particular order (`Lot 9`, `Lot 8`, `Lot 1`... in one record), so a position
    alone would give `Lot 9` the id 1."""
    references = {collapse(_string(dossier.get(key))) for key in ("number", "referenceNumber")} - {None}
    numbers: list[int | None] = [_lot_number(texts, references) for texts in blocks]
    found = [n for n in numbers if n is not None]
    if len(found) != len(set(found)):
        return [str(position) for position in range(1, len(blocks) + 1)]
    used = set(found)
    free = (n for n in range(1, len(blocks) + len(used) + 1) if n not in used)
    return [str(n if n is not None else next(free)) for n in numbers]


def _lot_number(texts: list[tuple[str | None, str]], references: set[str | None]) -> int | None:
    for _, text in texts:
        match = _LOT_TITLE_NUMBER.match(text)
        if match:
            return int(match.group(1))
        generated = _GENERATED_LOT_TITLE.fullmatch(text)
        if generated and generated.group(1) in references:
            return int(generated.group(2))
    return None


def _related(publication: Mapping[str, Any]) -> list[str]:
    """TED publication numbers (normalized `123456-2024`) and other BDA publications named in the record;
    the record's own e-Notification reference, which these lists repeat, is left out."""
    own = collapse(_string(publication.get("referenceNumber")))
    references = []
    for raw in _list(publication.get("publicationReferenceNumbersTED")):
        text = collapse(_string(raw))
        if not text or text == own:
            continue
        ted = _TED_NUMBER.fullmatch(text)
        ojs = _OJS_NUMBER.fullmatch(text)
        if ted:
            references.append(f"{int(ted.group(1))}-{ted.group(2)}")
        elif ojs:
            references.append(f"{int(ojs.group(2))}-{ojs.group(1)}")
        else:
            references.append(text)
    for raw in _list(publication.get("publicationReferenceNumbersBDA")):
        text = collapse(_string(raw))
        if text and text != own:
            references.append(text)
    return distinct(ref[:300] for ref in references)

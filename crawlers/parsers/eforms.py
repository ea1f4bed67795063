"""TED eForms XML (UBL 2.3 + eForms extensions): one notice document in, one normalized notice out.

Paths are those of the eForms SDK (BT numbers in comments); sources.md (TED section) lists them.
Everything is read with a few direct `find`/`findall` calls on precomputed namespaced paths: no
`xpath()` and no scan of the whole tree (the 100-lot example is 1.7 MB).

Decisions where the documentation is silent:
- Business registration notices (X01 EEIG, X02 European company; root
  `BusinessRegistrationInformationNotice`) announce a company, not a procurement: no buyer, no title,
  no CPV. They are refused with a NoticeError ("not a procurement notice") rather than published as
  `other` notices with an invented buyer and title.
- Unpublished notices (most SDK examples) have no OJ S publication number: `source_id` is then the
  eForms notice identifier and version, `<notice-id>-<VersionID>`, which is exactly how eForms itself
  refers to a notice (`efbc:ChangedNoticeIdentifier`, `cbc:ID[@schemeName='notice-id-ref']`); `url`
  is null for them.
- `source_id` is the publication number as the notice writes it (`00522031-2023`): the store's key, kept
  so a store filled before stays deduplicated. `url` uses TED's own form, `522031-2023`, the one its site
  and search API write; linking reads both forms as one publication (`crawlers.store.procedures`).
- `notice_type` comes from `cbc:NoticeTypeCode`, else from the subtype; a notice with `efac:Changes`
  is a `change` whatever its form. The tender deadline is kept for a change of a contract notice (it
  often is what changed) but null for anything that follows the award (award, completion,
  modification, and changes of those).
- An unknown procedure code (the converter writes `UNKNOWN`) gives `procedure` null, not `other`.
- A procedure without `cac:ProcurementProjectLot` (PIN on a buyer profile) gets one lot `"1"` carrying
  the procedure's title, CPV, NUTS and estimate.
- Awards (result notices: can-*, veat, compl; not can-modif, which is a `change`) come from
  `efac:NoticeResult`: one award per winning tender (`efac:LotTender`) of each lot result whose winner was
  chosen (`selec-w`, or no code as VEAT notices write them; `clos-nw` and `open-nw` lots have none). The
  winning tenders of a lot result are those its settled contracts name (among the tenders the result lists,
  else those of its lot), else the tenders it lists (rank 1 when ranked). A tender named again by another
  lot's result (one contract for two lots) adds that lot to its award. The winners are the tenderers of the
  tender's tendering party in document order (several = a group; subcontractors are left out), read in
  `efac:Organizations`; value = the tender's `PayableAmount` (BT-720; the notice value BT-161 when the notice
  has one award and no tender value); date = the contract's conclusion (BT-145), else the award decision
  (BT-1451); tenders received = the lot result's `tenders` statistic (BT-759). A notice without lot results
  (some VEAT) takes its settled contracts' tenders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time

from lxml import etree
from pydantic import ValidationError

from ..identifiers import normalize_identifier
from ..notice import Award, Buyer, ContractNature, Lot, Notice, NoticeType, Procedure, Winner
from .fields import (
    NoticeError,
    amount,
    award_lot_ids,
    buyer_zone,
    collapse,
    country_alpha2,
    cpv_code,
    deadline,
    distinct,
    iso_date,
    language_alpha2,
    ted_notice_url,
)

EFORMS_ROOTS = frozenset(
    {
        "ContractNotice",
        "PriorInformationNotice",
        "ContractAwardNotice",
        # X01/X02 company registrations: recognised as eForms, then refused as not procurement.
        "BusinessRegistrationInformationNotice",
    }
)


_CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
_CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
_EXT = "{urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2}"
_EFEXT = "{http://data.europa.eu/p27/eforms-ubl-extensions/1}"
_EFAC = "{http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1}"
_EFBC = "{http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1}"


def _path(*steps: str) -> str:
    """A namespaced ElementPath from `prefix:Name` steps."""
    prefixes = {"cbc": _CBC, "cac": _CAC, "ext": _EXT, "efext": _EFEXT, "efac": _EFAC, "efbc": _EFBC}
    parts = []
    for step in steps:
        prefix, _, name = step.partition(":")
        parts.append(prefixes[prefix] + name)
    return "/".join(parts)


# Root level (the notice's own eForms extension, not those nested in lots or criteria).
_EXTENSION = _path("ext:UBLExtensions", "ext:UBLExtension", "ext:ExtensionContent", "efext:EformsExtension")
_NOTICE_ID = _path("cbc:ID")  # BT-701, schemeName notice-id
_VERSION_ID = _path("cbc:VersionID")  # BT-757
_ISSUE_DATE = _path("cbc:IssueDate")  # BT-05 dispatch date
_NOTICE_TYPE = _path("cbc:NoticeTypeCode")  # BT-02
_NOTICE_LANGUAGE = _path("cbc:NoticeLanguageCode")  # BT-702(a)
_ADDITIONAL_LANGUAGE = _path("cac:AdditionalNoticeLanguage", "cbc:ID")  # BT-702(b)
_BUYER_REF = _path("cac:ContractingParty", "cac:Party", "cac:PartyIdentification", "cbc:ID")  # OPT-300
_PROJECT = _path("cac:ProcurementProject")
_PROCESS = _path("cac:TenderingProcess")
_TERMS = _path("cac:TenderingTerms")
_LOT = _path("cac:ProcurementProjectLot")
# Inside the root extension.
_PUBLICATION_ID = _path("efac:Publication", "efbc:NoticePublicationID")  # OPP-010
_PUBLICATION_DATE = _path("efac:Publication", "efbc:PublicationDate")  # OPP-012
_SUBTYPE = _path("efac:NoticeSubType", "cbc:SubTypeCode")  # OPP-070
_CHANGES = _path("efac:Changes")
_CHANGED_NOTICE = _path("efac:Changes", "efbc:ChangedNoticeIdentifier")  # BT-758
_COMPANY = _path("efac:Organizations", "efac:Organization", "efac:Company")
_SETTLED_CONTRACT_REFERENCE = _path(
    "efac:NoticeResult", "efac:SettledContract", "cac:NoticeDocumentReference", "cbc:ID"
)  # OPT-100 framework notice
# Results, inside the root extension (efac:NoticeResult).
_NOTICE_RESULT = _path("efac:NoticeResult")
_NOTICE_VALUE = _path("cbc:TotalAmount")  # BT-161
_LOT_RESULT = _path("efac:LotResult")
_RESULT_CODE = _path("cbc:TenderResultCode")  # BT-142
_TENDER_REF = _path("efac:LotTender", "cbc:ID")  # OPT-320 (lot result), OPT-315's tenders (contract)
_CONTRACT_REF = _path("efac:SettledContract", "cbc:ID")  # OPT-315
_RESULT_LOT = _path("efac:TenderLot", "cbc:ID")  # BT-13713, BT-13714
_STATISTICS = _path("efac:ReceivedSubmissionsStatistics")
_STATISTICS_CODE = _path("efbc:StatisticsCode")  # BT-760
_STATISTICS_NUMBER = _path("efbc:StatisticsNumeric")  # BT-759
_TENDER = _path("efac:LotTender")
_TENDER_RANK = _path("cbc:RankCode")  # BT-171
_TENDER_VALUE = _path("cac:LegalMonetaryTotal", "cbc:PayableAmount")  # BT-720
_TENDERING_PARTY_REF = _path("efac:TenderingParty", "cbc:ID")  # OPT-310
_CONTRACT = _path("efac:SettledContract")
_CONTRACT_CONCLUSION = _path("cbc:IssueDate")  # BT-145
_CONTRACT_DECISION = _path("cbc:AwardDate")  # BT-1451
_TENDERING_PARTY = _path("efac:TenderingParty")
_TENDERER_REF = _path("efac:Tenderer", "cbc:ID")  # OPT-300 tenderer (efac:SubContractor left out)
_COMPANY_SIZE = _path("efbc:CompanySizeCode")  # BT-165 winner size
# Inside an efac:Company.
_COMPANY_ID = _path("cac:PartyIdentification", "cbc:ID")
_COMPANY_NAME = _path("cac:PartyName", "cbc:Name")
_COMPANY_TOWN = _path("cac:PostalAddress", "cbc:CityName")
_COMPANY_COUNTRY = _path("cac:PostalAddress", "cac:Country", "cbc:IdentificationCode")
_COMPANY_LEGAL_ID = _path("cac:PartyLegalEntity", "cbc:CompanyID")
# Inside a cac:ProcurementProject (procedure or lot).
_NAME = _path("cbc:Name")  # BT-21
_DESCRIPTION = _path("cbc:Description")  # BT-24
_NATURE = _path("cbc:ProcurementTypeCode")  # BT-23 (listName contract-nature)
_MAIN_CPV = _path("cac:MainCommodityClassification", "cbc:ItemClassificationCode")  # BT-262
_ADDITIONAL_CPV = _path("cac:AdditionalCommodityClassification", "cbc:ItemClassificationCode")  # BT-263
_NUTS = _path("cac:RealizedLocation", "cac:Address", "cbc:CountrySubentityCode")  # BT-5071
_ESTIMATE = _path("cac:RequestedTenderTotal", "cbc:EstimatedOverallContractAmount")  # BT-27
# Inside a cac:TenderingProcess / cac:TenderingTerms.
_PROCEDURE_CODE = _path("cbc:ProcedureCode")  # BT-105
_DEADLINE_PERIOD = _path("cac:TenderSubmissionDeadlinePeriod")  # BT-131
_PARTICIPATION_PERIOD = _path("cac:ParticipationRequestReceptionPeriod")  # BT-1311
_END_DATE = _path("cbc:EndDate")
_END_TIME = _path("cbc:EndTime")
_PREVIOUS_NOTICE = _path("cac:NoticeDocumentReference", "cbc:ID")  # OPP-090, BT-125
_DOCUMENTS_URI = _path(
    "cac:CallForTendersDocumentReference", "cac:Attachment", "cac:ExternalReference", "cbc:URI"
)  # BT-15

NOTICE_TYPES: dict[str, NoticeType] = {
    # Prior information: PINs of every kind, including those used as a call for competition (the
    # competition is announced, the call itself is the PIN), transport PINs and pre-market consultations.
    "pin-only": "prior-information",
    "pin-buyer": "prior-information",
    "pin-rtl": "prior-information",
    "pin-tran": "prior-information",
    "pin-cfc-standard": "prior-information",
    "pin-cfc-social": "prior-information",
    "pmc": "prior-information",
    # Calls for competition.
    "cn-standard": "contract-notice",
    "cn-social": "contract-notice",
    "cn-desg": "contract-notice",
    "qu-sy": "contract-notice",
    "subco": "contract-notice",
    # Results.
    "can-standard": "award",
    "can-social": "award",
    "can-desg": "award",
    "can-tran": "award",
    "veat": "award",
    "compl": "award",
    # Modification of a contract during its term.
    "can-modif": "change",
}
"""`cbc:NoticeTypeCode` (BT-02) → §2 notice type; a notice with `efac:Changes` is a `change` anyway."""

SUBTYPE_NOTICE_TYPES: dict[str, NoticeType] = {
    **dict.fromkeys([str(n) for n in range(1, 15)] + ["E1", "E2", "T01", "CEI"], "prior-information"),
    **dict.fromkeys([str(n) for n in range(15, 25)] + ["E3"], "contract-notice"),
    **dict.fromkeys([str(n) for n in range(25, 38)] + ["E4", "E5", "T02"], "award"),
    **dict.fromkeys([str(n) for n in range(38, 41)] + ["E6"], "change"),
}
"""`efac:NoticeSubType/cbc:SubTypeCode` (OPP-070) → §2 notice type, used when the type code is missing or
unknown: 1-14 PINs, 15-24 contract notices (qualification systems, subcontracting, design contests
included), 25-37 award notices (VEAT and design contest results included), 38-40 modifications; the
voluntary E1-E6, the transport T01/T02 and the institutions' call for expressions of interest (CEI)."""

_NOT_PROCUREMENT_TYPES = frozenset({"brin-eeig", "brin-ecs"})
_NOT_PROCUREMENT_SUBTYPES = frozenset({"X01", "X02"})

PROCEDURES: dict[str, Procedure] = {
    "open": "open",
    "restricted": "restricted",
    "neg-w-call": "negotiated",  # negotiated with a call / competitive procedure with negotiation
    "neg-wo-call": "negotiated",  # negotiated without prior call for competition
    "comp-dial": "competitive-dialogue",
    "innovation": "innovation-partnership",
    "oth-single": "other",
    "oth-mult": "other",
    "comp-tend": "other",  # competitive tendering, Regulation 1370/2007 art. 5(3) (public transport)
    "exp-int-rail": "other",  # request for expression of interest, rail only
}
"""`cbc:ProcedureCode` (BT-105) → §2 procedure; any other code (`UNKNOWN` from the converter) → null."""

CONTRACT_NATURES: dict[str, ContractNature] = {
    "works": "works",
    "supplies": "supplies",
    "services": "services",
}
"""`cbc:ProcurementTypeCode` (BT-23); `combined` (and anything else) → null."""

_POST_AWARD: frozenset[NoticeType] = frozenset({"award", "change"})
"""Types (before the `efac:Changes` override) of notices that follow the award: no tender deadline."""


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    value = element.text
    return collapse(value) if isinstance(value, str) else None


def _first_text(elements: Iterable[etree._Element]) -> str | None:
    for element in elements:
        value = _text(element)
        if value:
            return value
    return None


def _in_language(elements: list[etree._Element], language: str) -> str | None:
    """The text written in the notice's language (eForms repeats a text once per language), else the first."""
    for element in elements:
        if (element.get("languageID") or "").strip().upper() == language:
            value = _text(element)
            if value:
                return value
    return _first_text(elements)


def _codes(elements: Iterable[etree._Element], list_name: str) -> Iterator[str]:
    """Texts of code elements of that list (a code without listName is accepted)."""
    for element in elements:
        listed = element.get("listName")
        if listed and listed.strip().lower() != list_name:
            continue
        value = _text(element)
        if value:
            yield value


def _nuts(project: etree._Element | None) -> list[str]:
    if project is None:
        return []
    codes = []
    for raw in _codes(project.findall(_NUTS), "nuts"):
        code = raw.upper()
        # TED's placeholder `00` (and anything that is not a NUTS code, e.g. a country name) is left out;
        # `LU000`, `ITZZZ` (extra-regio) are real codes.
        if code != "00" and 2 <= len(code) <= 5 and code[:2].isalpha() and code.isalnum() and code.isascii():
            codes.append(code)
    return distinct(codes)


def _estimate(project: etree._Element | None) -> tuple[float, str] | None:
    """The estimated value and its currency; an amount without a currency is not usable (§2: the
    currency is given exactly when the value is)."""
    if project is None:
        return None
    element = project.find(_ESTIMATE)
    value = amount(_text(element))
    currency = (element.get("currencyID") or "").strip().upper() if element is not None else ""
    if value is None or len(currency) != 3 or not currency.isalpha():
        return None
    return value, currency


def _deadline_key(value: str) -> datetime:
    """Sort key of a §2 deadline: a moment; a date alone counts as the end of that day (UTC when naive)."""
    moment = datetime.fromisoformat(value)
    if len(value) == 10:
        moment = datetime.combine(moment.date(), time(23, 59, 59))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _notice_type(type_code: str | None, subtype: str | None) -> NoticeType:
    if type_code and type_code in NOTICE_TYPES:
        return NOTICE_TYPES[type_code]
    if subtype and subtype in SUBTYPE_NOTICE_TYPES:
        return SUBTYPE_NOTICE_TYPES[subtype]
    return "other"


def _buyer(root: etree._Element, extension: etree._Element | None, language: str) -> Buyer | str:
    """The first buyer, resolved in efac:Organizations; or what is wrong with it."""
    reference = _first_text(root.iterfind(_BUYER_REF))
    if reference is None:
        return "no buyer (cac:ContractingParty/cac:Party/cac:PartyIdentification/cbc:ID)"
    companies = extension.iterfind(_COMPANY) if extension is not None else iter(())
    for company in companies:
        if _first_text(company.iterfind(_COMPANY_ID)) != reference:
            continue
        name = _in_language(company.findall(_COMPANY_NAME), language)
        if name is None:
            return f"buyer {reference} has no name (efac:Company/cac:PartyName/cbc:Name)"
        return Buyer(
            name=name,
            country=country_alpha2(_text(company.find(_COMPANY_COUNTRY))),
            id=_first_text(company.iterfind(_COMPANY_LEGAL_ID)) or reference,
            town=_text(company.find(_COMPANY_TOWN)),
        )
    return f"buyer {reference} not found in efac:Organizations"


def _source_id(root: etree._Element, extension: etree._Element | None) -> tuple[str | None, bool]:
    """(source_id, published): the OJ S publication number as TED writes it (`00000372-2025`; converted
    legacy notices carry the legacy `150049-2018`), else `<notice-id>-<VersionID>` for a notice not
    yet published (most SDK examples): that is how eForms itself refers to a notice version."""
    if extension is not None:
        for element in extension.iterfind(_PUBLICATION_ID):
            value = _text(element)
            if value and element.get("schemeName") in (None, "ojs-notice-id"):
                return value.replace(" ", ""), True
    for element in root.iterfind(_NOTICE_ID):
        notice_id = _text(element)
        if notice_id and element.get("schemeName") in (None, "notice-id"):
            version = _text(root.find(_VERSION_ID))
            return (f"{notice_id}-{version}" if version else notice_id), False
    return None, False


def _languages(root: etree._Element) -> tuple[str, list[str]]:
    """(the notice language as written, upper case, e.g. `FRA`; §2 languages, empty when unknown)."""
    written = _text(root.find(_NOTICE_LANGUAGE))
    main = language_alpha2(written)
    if written is None or main is None:
        return "", []
    others = (language_alpha2(_text(e)) for e in root.iterfind(_ADDITIONAL_LANGUAGE))
    return written.upper(), distinct([main, *others])


def _lot_deadline(process: etree._Element | None, country: str | None) -> str | None:
    """BT-131 tender deadline, else BT-1311 deadline for requests to participate (restricted and
    negotiated procedures announce only that one; legacy TED's DATE_RECEIPT_TENDERS holds either)."""
    if process is None:
        return None
    zone = buyer_zone(country)
    for path in (_DEADLINE_PERIOD, _PARTICIPATION_PERIOD):
        period = process.find(path)
        if period is not None:
            found = deadline(_text(period.find(_END_DATE)), _text(period.find(_END_TIME)), zone=zone)
            if found:
                return found
    return None


def _url(values: Iterable[str | None]) -> str | None:
    """The first value that can be an address (the SDK's invalid examples write `invalid url`)."""
    return next((v for v in values if v and " " not in v), None)


def parse_eforms(root: etree._Element) -> Notice:
    """The normalized notice of an eForms document, or NoticeError saying what is missing and where."""
    try:
        return _parse(root)
    except (NoticeError, ValidationError):
        raise  # the dispatcher reports both, a ValidationError with the failing field
    except (AttributeError, KeyError, TypeError, IndexError, ValueError) as error:
        raise NoticeError(f"eForms notice not understood: {type(error).__name__}: {error}") from None


def _parse(root: etree._Element) -> Notice:
    root_name = etree.QName(root).localname
    extension = root.find(_EXTENSION)
    type_code = _text(root.find(_NOTICE_TYPE))
    subtype = _text(extension.find(_SUBTYPE)) if extension is not None else None
    if (
        root_name == "BusinessRegistrationInformationNotice"
        or type_code in _NOT_PROCUREMENT_TYPES
        or subtype in _NOT_PROCUREMENT_SUBTYPES
    ):
        raise NoticeError(f"not a procurement notice: business registration notice ({type_code}, subtype {subtype})")
    if root_name not in EFORMS_ROOTS:
        raise NoticeError(f"not an eForms notice: root <{root_name}>")

    # Required parts: every missing one is named in the one error.
    problems = []
    source_id, is_published = _source_id(root, extension)
    if source_id is None:
        problems.append("no notice identifier (efbc:NoticePublicationID nor cbc:ID notice-id)")
    published = iso_date(_text(extension.find(_PUBLICATION_DATE)) if extension is not None else None)
    published = published or iso_date(_text(root.find(_ISSUE_DATE)))
    if published is None:
        problems.append("no publication date (efbc:PublicationDate nor cbc:IssueDate)")
    language, languages = _languages(root)
    if not languages:
        problems.append("no notice language (cbc:NoticeLanguageCode)")
    project = root.find(_PROJECT)
    title = _in_language(project.findall(_NAME), language) if project is not None else None
    if title is None:
        problems.append("no title (cac:ProcurementProject/cbc:Name)")
    buyer = _buyer(root, extension, language)
    if isinstance(buyer, str):
        problems.append(buyer)
    if problems or source_id is None or published is None or title is None or project is None:
        raise NoticeError("incomplete eForms notice: " + "; ".join(problems))
    assert isinstance(buyer, Buyer)

    base_type = _notice_type(type_code, subtype)
    is_change = extension is not None and extension.find(_CHANGES) is not None
    notice_type: NoticeType = "change" if is_change else base_type
    wants_deadline = base_type not in _POST_AWARD

    cpv_main = cpv_code(next(_codes(project.iterfind(_MAIN_CPV), "cpv"), None))
    procedure_cpv = [cpv_code(c) for c in _codes(project.iterfind(_ADDITIONAL_CPV), "cpv")]
    all_cpv: list[str | None] = list(procedure_cpv)
    nuts = _nuts(project)
    procedure_estimate = _estimate(project)
    natures = [_text(project.find(_NATURE))]

    process = root.find(_PROCESS)
    terms = root.find(_TERMS)
    deadlines = [_lot_deadline(process, buyer.country)] if wants_deadline else []
    related = [_text(e) for e in extension.iterfind(_CHANGED_NOTICE)] if extension is not None else []
    if process is not None:
        related.extend(_text(e) for e in process.iterfind(_PREVIOUS_NOTICE))
    documents = [_text(e) for e in terms.iterfind(_DOCUMENTS_URI)] if terms is not None else []

    lots: list[Lot] = []
    lot_estimates: list[tuple[float, str] | None] = []
    for lot in root.iterfind(_LOT):
        lot_id_element = lot.find(_NOTICE_ID)
        lot_id = _text(lot_id_element)
        scheme = lot_id_element.get("schemeName") if lot_id_element is not None else None
        if scheme == "LotsGroup" or (lot_id or "").startswith("GLO-"):
            continue  # a group of lots (BT-330) is not a lot
        if not lot_id:
            raise NoticeError(f"lot {len(lots) + 1}: cac:ProcurementProjectLot without cbc:ID")
        lot_project = lot.find(_PROJECT)
        lot_main = None
        lot_additional: list[str | None] = []
        lot_nuts: list[str] = []
        lot_title = None
        lot_estimate = None
        if lot_project is not None:
            lot_title = _in_language(lot_project.findall(_NAME), language)
            lot_main = cpv_code(next(_codes(lot_project.iterfind(_MAIN_CPV), "cpv"), None))
            lot_additional = [cpv_code(c) for c in _codes(lot_project.iterfind(_ADDITIONAL_CPV), "cpv")]
            lot_nuts = _nuts(lot_project)
            lot_estimate = _estimate(lot_project)
            natures.append(_text(lot_project.find(_NATURE)))
        lot_estimates.append(lot_estimate)
        all_cpv.append(lot_main)
        all_cpv.extend(lot_additional)
        nuts.extend(lot_nuts)
        lot_process = lot.find(_PROCESS)
        if wants_deadline:
            deadlines.append(_lot_deadline(lot_process, buyer.country))
        if lot_process is not None:
            related.extend(_text(e) for e in lot_process.iterfind(_PREVIOUS_NOTICE))
        lot_terms = lot.find(_TERMS)
        if lot_terms is not None:
            documents.extend(_text(e) for e in lot_terms.iterfind(_DOCUMENTS_URI))
        lots.append(
            Lot(
                id=lot_id,
                title=lot_title,
                cpv_main=lot_main,
                cpv_additional=_without(lot_main, lot_additional),
                nuts=lot_nuts,
                estimated_value=lot_estimate[0] if lot_estimate else None,
            )
        )
    if extension is not None:
        related.extend(_text(e) for e in extension.iterfind(_SETTLED_CONTRACT_REFERENCE))

    estimate = procedure_estimate
    if estimate is None and lots and all(lot_estimates):
        currencies = {e[1] for e in lot_estimates if e}
        if len(currencies) == 1:
            estimate = (sum(e[0] for e in lot_estimates if e), currencies.pop())
    if not lots:
        lots.append(
            Lot(
                id="1",
                title=title,
                cpv_main=cpv_main,
                cpv_additional=_without(cpv_main, procedure_cpv),
                nuts=list(nuts),
                estimated_value=estimate[0] if estimate else None,
            )
        )

    procedure_code = _text(process.find(_PROCEDURE_CODE)) if process is not None else None
    nature = natures[0] if natures[0] else _only(natures[1:])
    found_deadlines = [d for d in deadlines if d]
    return Notice(
        source="ted",
        source_id=source_id,
        notice_type=notice_type,
        title=title,
        description=_in_language(project.findall(_DESCRIPTION), language),
        buyer=buyer,
        cpv_main=cpv_main,
        cpv_additional=_without(cpv_main, all_cpv),
        nuts=distinct(nuts),
        contract_nature=CONTRACT_NATURES.get(nature or ""),
        procedure=PROCEDURES.get(procedure_code or ""),
        published=published,
        deadline=min(found_deadlines, key=_deadline_key) if found_deadlines else None,
        estimated_value=estimate[0] if estimate else None,
        currency=estimate[1] if estimate else None,
        lots=lots,
        languages=languages,
        url=ted_notice_url(source_id) if is_published else None,
        documents_url=_url(documents),
        related=[r for r in distinct(related) if r != source_id],
        awards=_awards(extension, language, [lot.id for lot in lots])
        if base_type == "award" and extension is not None
        else [],
    )


def _without(main: str | None, codes: Iterable[str | None]) -> list[str]:
    """Already normalized codes without repeats and without `main`."""
    return [code for code in distinct(codes) if code != main]


def _only(values: list[str | None]) -> str | None:
    """The one value shared by all lots (the nature of a procedure whose lots all agree), else None."""
    found = set(values)
    return found.pop() if len(found) == 1 else None


SME_SIZES = {"sme": True, "micro": True, "small": True, "medium": True, "large": False}
"""`efbc:CompanySizeCode` (BT-165, economic-operator-size) → `Winner.sme`; anything else → null."""

_NOT_AWARDED = frozenset({"clos-nw", "open-nw"})
"""BT-142 codes of a lot result without a winner: closed without one, or still open."""


def _ids(element: etree._Element, path: str) -> list[str]:
    return distinct(_text(e) for e in element.iterfind(path))


def _by_id(elements: Iterable[etree._Element], path: str = _NOTICE_ID) -> dict[str, etree._Element]:
    """Elements by their own `cbc:ID` (the first of repeated ids)."""
    found: dict[str, etree._Element] = {}
    for element in elements:
        key = _text(element.find(path))
        if key:
            found.setdefault(key, element)
    return found


def _winner(company: etree._Element, language: str) -> Winner | None:
    name = _in_language(company.findall(_COMPANY_NAME), language)
    if name is None:
        return None
    country = country_alpha2(_text(company.find(_COMPANY_COUNTRY)))
    size = (_text(company.find(_COMPANY_SIZE)) or "").lower()
    return Winner(
        name=name[:1000],
        country=country,
        identifier=normalize_identifier(_first_text(company.iterfind(_COMPANY_LEGAL_ID)), country),
        town=(_text(company.find(_COMPANY_TOWN)) or "")[:300] or None,
        sme=SME_SIZES.get(size),
    )


def _tenders_received(lot_result: etree._Element) -> int | None:
    for statistics in lot_result.iterfind(_STATISTICS):
        if (_text(statistics.find(_STATISTICS_CODE)) or "").lower() == "tenders":
            number = _text(statistics.find(_STATISTICS_NUMBER))
            if number and number.isdigit():
                return int(number)
    return None


def _winning_tenders(
    lot_result: etree._Element,
    lot_id: str | None,
    tenders: dict[str, etree._Element],
    contracts: dict[str, etree._Element],
) -> list[str]:
    """The tenders that won this lot result (see the module's docstring)."""
    listed = _ids(lot_result, _TENDER_REF)
    contracted = distinct(
        tender
        for contract_id in _ids(lot_result, _CONTRACT_REF)
        if (contract := contracts.get(contract_id)) is not None
        for tender in _ids(contract, _TENDER_REF)
    )
    if contracted:
        among_listed = [tender for tender in listed if tender in contracted]
        if among_listed:
            return among_listed
        of_lot = [t for t in contracted if t in tenders and _text(tenders[t].find(_RESULT_LOT)) == lot_id]
        return of_lot or contracted
    ranks = {t: _text(tenders[t].find(_TENDER_RANK)) for t in listed if t in tenders}
    if any(ranks.values()):
        return [tender for tender in listed if ranks.get(tender) == "1"]
    return listed


def _awards(extension: etree._Element, language: str, notice_lots: list[str]) -> list[Award]:
    """The awarded contracts of a result notice (see the module's docstring for the rules)."""
    result = extension.find(_NOTICE_RESULT)
    if result is None:
        return []
    tenders = _by_id(result.iterfind(_TENDER))
    contracts = _by_id(result.iterfind(_CONTRACT))
    parties = _by_id(result.iterfind(_TENDERING_PARTY))
    companies = _by_id(extension.iterfind(_COMPANY), _COMPANY_ID)
    contract_of: dict[str, etree._Element] = {}
    for settled in contracts.values():
        for tender_ref in _ids(settled, _TENDER_REF):
            contract_of.setdefault(tender_ref, settled)

    # (tender id, lot ids, tenders received) in document order; a tender seen again only adds its lot.
    won: dict[str, tuple[list[str], int | None]] = {}
    lot_results = result.findall(_LOT_RESULT)
    for lot_result in lot_results:
        if (_text(lot_result.find(_RESULT_CODE)) or "").lower() in _NOT_AWARDED:
            continue
        lot_id = _text(lot_result.find(_RESULT_LOT))
        received = _tenders_received(lot_result)
        for tender_ref in _winning_tenders(lot_result, lot_id, tenders, contracts):
            lots, _ = won.setdefault(tender_ref, ([], received))
            if lot_id and lot_id not in lots:
                lots.append(lot_id)
    if not lot_results:  # VEAT notices without lot results: the settled contracts' tenders
        for tender_ref in contract_of:
            element = tenders.get(tender_ref)
            lot_id = _text(element.find(_RESULT_LOT)) if element is not None else None
            won.setdefault(tender_ref, ([lot_id] if lot_id else [], None))

    awards = []
    for tender_id, (lot_ids, received) in won.items():
        tender = tenders.get(tender_id)
        winners: list[Winner] = []
        value: tuple[float, str] | None = None
        if tender is not None:
            party = parties.get(_text(tender.find(_TENDERING_PARTY_REF)) or "")
            for organization in _ids(party, _TENDERER_REF) if party is not None else []:
                company = companies.get(organization)
                winner = _winner(company, language) if company is not None else None
                if winner is not None and winner not in winners:
                    winners.append(winner)
            value = _money(tender.find(_TENDER_VALUE))
        contract = contract_of.get(tender_id)
        date = None
        if contract is not None:
            date = iso_date(_text(contract.find(_CONTRACT_CONCLUSION))) or iso_date(
                _text(contract.find(_CONTRACT_DECISION))
            )
        awards.append((lot_ids, winners, value, received, date))
    if len(awards) == 1 and awards[0][2] is None:
        lot_ids, winners, _, received, date = awards[0]
        awards[0] = (lot_ids, winners, _money(result.find(_NOTICE_VALUE)), received, date)
    return [
        Award(
            lot_ids=award_lot_ids(lot_ids, notice_lots),
            winners=winners,
            value=value[0] if value else None,
            currency=value[1] if value else None,
            tenders_received=received,
            date=date,
        )
        for lot_ids, winners, value, received, date in awards
        if winners or value
    ]


def _money(element: etree._Element | None) -> tuple[float, str] | None:
    """An amount with its currency (`currencyID`), else None."""
    value = amount(_text(element))
    currency = (element.get("currencyID") or "").strip().upper() if element is not None else ""
    if value is None or len(currency) != 3 or not currency.isalpha():
        return None
    return value, currency

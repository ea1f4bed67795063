"""TED eForms parser: every recorded eForms file, five fully specified notices, and the tricky rules."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree
from sqlalchemy.engine import Engine

from crawlers.parsers import parse_bytes
from crawlers.parsers.eforms import NOTICE_TYPES, PROCEDURES, SUBTYPE_NOTICE_TYPES, parse_eforms
from crawlers.parsers.fields import NoticeError
from crawlers.parsers.xml import parse_xml
from crawlers.store.procedures import link_procedures
from crawlers.store.service import Incoming, notice_table, store_notices
from tests.factories import incoming, make_notice

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ted_eforms"
SDK = FIXTURES / "sdk-examples"
CONVERTED = FIXTURES / "converted-from-ted-xml"
PUBLISHED = FIXTURES / "published"
ALL_FILES = sorted([*SDK.glob("*.xml"), *CONVERTED.glob("*.xml"), *PUBLISHED.glob("*.xml")])

# Files that must fail, with the reason expected in the message and why.
EXPECTED_FAILURES = {
    # The SDK's empty skeletons and "stage" drafts: no notice identifier, no language, no title, no buyer.
    "INVALID_can_24_empty.xml": "no notice identifier (efbc:NoticePublicationID nor cbc:ID notice-id); "
    "no notice language (cbc:NoticeLanguageCode); no title",
    "INVALID_can_24_stage-1.xml": "no notice language (cbc:NoticeLanguageCode); no title",
    # Stage 2 has a language but every text is empty: empty cbc:ID, empty title, empty buyer reference.
    "INVALID_can_24_stage-2.xml": "no notice identifier (efbc:NoticePublicationID nor cbc:ID notice-id); "
    "no title (cac:ProcurementProject/cbc:Name); no buyer",
    "INVALID_cn_24_empty.xml": "no publication date (efbc:PublicationDate nor cbc:IssueDate)",
    "INVALID_cn_24_stage-1.xml": "no notice language (cbc:NoticeLanguageCode); no title",
    "INVALID_cn_24_stage-2.xml": "no title (cac:ProcurementProject/cbc:Name)",
    "INVALID_pin-buyer_24_stage-1.xml": "no notice language (cbc:NoticeLanguageCode); no title",
    "INVALID_pin-only_24_empty.xml": "no notice language (cbc:NoticeLanguageCode); no title",
    # A language but no procedure title and no buyer.
    "INVALID_pin-only_24_minimal.xml": "no title (cac:ProcurementProject/cbc:Name); no buyer",
    "INVALID_pin-only_24_stage-1.xml": "no title (cac:ProcurementProject/cbc:Name); no buyer",
    # Business registration notices (EEIG, European company): no procurement, refused on purpose.
    "X01_EEIG.xml": "not a procurement notice: business registration notice (brin-eeig, subtype X01)",
    "X02_registration.xml": "not a procurement notice: business registration notice (brin-ecs, subtype X02)",
}

# INVALID_* files that parse fine, because what makes them invalid is a schematron rule we do not read:
# - INVALID_change-cn_24_FRA_comments.xml: a change notice whose changes touch fields that a change may
#   not touch (procedure identifier, procedure type...) -- a rule across two notices; the notice itself
#   is complete and is a valid `change` of da4d46e9-...-01.
# - INVALID_cn_24_multiple.xml: invalid code values in repeated elements (einvoicing `invalid`,
#   number-threshold `invalid`, a second document reference with URI `invalid url`, an empty
#   efac:Organization, an empty lot MainCommodityClassification); the parser reads none of these codes,
#   skips the empty CPV, and skips `invalid url` for documents_url (the first, valid URL is kept).
OP_TITLE = "Provision of IT Services Related to OP IT Systems (EUR-Lex, N-Lex, Search Layer, and Others)"

SCHEMATRON_ONLY_INVALID = {"INVALID_change-cn_24_FRA_comments.xml", "INVALID_cn_24_multiple.xml"}


def _parse_file(path: Path) -> dict[str, Any]:
    outcome = parse_bytes(path.read_bytes())
    assert not outcome.failures, outcome.failures
    assert len(outcome.notices) == 1
    assert outcome.notices[0].format == "eforms"
    return outcome.notices[0].notice.to_json_dict()


def test_all_files_are_covered() -> None:
    assert len(list(SDK.glob("*.xml"))) == 92
    assert len(list(PUBLISHED.glob("*.xml"))) == 1
    assert len(list(CONVERTED.glob("*.xml"))) >= 60
    assert set(EXPECTED_FAILURES) | SCHEMATRON_ONLY_INVALID >= {p.name for p in SDK.glob("INVALID_*.xml")}


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_invariants(path: Path) -> None:
    outcome = parse_bytes(path.read_bytes())
    if path.name in EXPECTED_FAILURES:
        assert not outcome.notices
        assert len(outcome.failures) == 1
        assert EXPECTED_FAILURES[path.name] in outcome.failures[0].reason
        return
    assert not outcome.failures, outcome.failures
    assert len(outcome.notices) == 1
    notice: dict[str, Any] = outcome.notices[0].notice.to_json_dict()
    assert notice["source"] == "ted"
    assert notice["source_id"]
    cpvs = ([notice["cpv_main"]] if notice["cpv_main"] else []) + notice["cpv_additional"]
    assert all(re.fullmatch(r"\d{8}", c) for c in cpvs)
    assert len(cpvs) == len(set(cpvs))
    assert re.fullmatch(r"[A-Z]{2}", notice["buyer"]["country"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", notice["published"])
    assert notice["lots"]
    assert all(re.fullmatch(r"[a-z]{2}", lang) for lang in notice["languages"])
    assert notice["notice_type"] in {"contract-notice", "prior-information", "award", "change"}
    assert "00" not in notice["nuts"]
    assert notice["title"] == " ".join(notice["title"].split())
    if notice["deadline"]:
        assert notice["notice_type"] not in {"award"}
    if path.parent == CONVERTED or path.parent == PUBLISHED:
        # published notices: the OJ S number and the TED page
        assert re.fullmatch(r"\d{6,8}-\d{4}", notice["source_id"])
        number = notice["source_id"].lstrip("0")  # TED's site writes the number without leading zeros
        assert notice["url"] == f"https://ted.europa.eu/en/notice/-/detail/{number}"
    elif path.name != "pin-buyer_24_published.xml":
        # unpublished SDK examples: <notice-id>-<version>, no page at TED yet
        assert re.fullmatch(r"[0-9a-f-]{36}-\d{2}", notice["source_id"])
        assert notice["url"] is None


# ---------------------------------------------------------------------------------------------------
# Fully specified notices: each value checked against the XML by hand.


def test_french_contract_notice_with_two_lots() -> None:
    assert _parse_file(SDK / "cn_24_FRA_comments.xml") == {
        "source": "ted",
        # not published: cbc:ID notice-id + "-" + cbc:VersionID
        "source_id": "da4d46e9-490b-41ff-a2ae-8166d356a619-01",
        "notice_type": "contract-notice",  # cn-standard, subtype 16
        "title": "Service d'entretien de remise en état et de nettoyage des espaces verts",
        "description": "Service d'entretien de remise en état et de nettoyage des espaces verts.",
        # ContractingParty ORG-0001 -> efac:Company; CompanyID given; FRA -> FR
        "buyer": {"name": "Rouen Habitat", "country": "FR", "id": "123 456 789", "town": "Rouen Cedex 1"},
        "cpv_main": "77310000",
        "cpv_additional": [],  # both lots repeat 77310000
        # procedure RealizedLocation; the buyer's own FRD22 and eSender's LU000 are addresses, not places
        "nuts": ["FRD22"],
        "contract_nature": "services",
        "procedure": "open",
        "published": "2019-05-10",  # no efac:Publication: cbc:IssueDate 2019-05-10+01:00
        "deadline": "2019-06-24T16:00:00+00:00",  # EndDate 2019-06-24Z + EndTime 16:00:00Z, both lots
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                "id": "LOT-0001",
                "title": "Agence centre",
                "cpv_main": "77310000",
                "cpv_additional": [],
                "nuts": ["FRD22"],
                "estimated_value": None,
            },
            {
                "id": "LOT-0002",
                "title": "Agence Hauts de Rouen",
                "cpv_main": "77310000",
                "cpv_additional": [],
                "nuts": ["FRD22"],
                "estimated_value": None,
            },
        ],
        "languages": ["fr"],
        "url": None,  # not published
        "documents_url": "https://www.marches-publics.info/accueil.htm",
        "related": [],
        "awards": [],
    }


def test_prior_information_notice() -> None:
    assert _parse_file(SDK / "pin-only_24_maximal.xml") == {
        "source": "ted",
        "source_id": "9fe2b9d7-c32a-4dcb-af3f-35bf584d0abb-03",  # VersionID 03
        "notice_type": "prior-information",  # pin-only, subtype 4
        "title": "Procurement Title ---",
        "description": "Description ---",
        "buyer": {"name": "Buyer Name", "country": "LU", "id": "VAT12341", "town": "Luxembourg"},
        "cpv_main": "79622000",
        "cpv_additional": ["79624000"],
        "nuts": ["LU000"],  # LU000 is a real NUTS-3 code (Luxembourg); the other place is `anyw-eea`
        # cbc:ProcurementTypeCode services; the ProcurementAdditionalType `works` is not the main nature
        "contract_nature": "services",
        "procedure": None,  # a PIN only for information has no cbc:ProcedureCode
        "published": "2023-05-23",
        "deadline": None,  # only an AdditionalInformationRequestPeriod, which is not a tender deadline
        "estimated_value": 9999999.99,
        "currency": "EUR",
        "lots": [
            {
                "id": "PAR-0000",  # schemeName Part
                "title": "Part Title ---",
                "cpv_main": "79622000",
                "cpv_additional": [],
                "nuts": ["LU000"],  # the second place is a country only (GBR, anyw-cou): no NUTS code
                "estimated_value": 9999999.99,
            }
        ],
        "languages": ["en"],
        "url": None,
        "documents_url": "http://nonrestricteddocuments.com",  # Doc1, before the restricted Doc2
        "related": ["12345678-2020"],  # lot NoticeDocumentReference ojs-notice-id
        "awards": [],
    }


def test_published_award_notice() -> None:
    assert _parse_file(PUBLISHED / "eforms_ubl_2025.xml") == {
        "source": "ted",
        "source_id": "00000372-2025",  # NoticePublicationID ojs-notice-id, kept as written
        "notice_type": "award",  # can-standard, subtype 29
        "title": "Lootemonitor",
        "description": "Juhtmevaba anduritega lootemonitor ja hooldusteenus",
        # CityName " Viljandi vald" collapsed; EST -> EE; CompanyID 90004585
        "buyer": {
            "name": "Sihtasutus Viljandi Haigla",
            "country": "EE",
            "id": "90004585",
            "town": "Viljandi vald",
        },
        "cpv_main": "33195000",
        "cpv_additional": [],
        "nuts": ["EE009"],  # only the lot has a RealizedLocation
        "contract_nature": "supplies",
        "procedure": "open",
        "published": "2025-01-02",  # efbc:PublicationDate 2025-01-02+01:00, not IssueDate 2024-12-30
        "deadline": None,  # award notice
        # NoticeResult TotalAmount 23185.00 EUR is the awarded value, not an estimate
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                "id": "LOT-0000",
                "title": "Lootemonitor",
                "cpv_main": "33195000",
                "cpv_additional": [],
                "nuts": ["EE009"],
                "estimated_value": None,
            }
        ],
        "languages": ["et"],
        "url": "https://ted.europa.eu/en/notice/-/detail/372-2025",  # TED's form of the number
        "documents_url": None,
        "related": [],
        # LotResult RES-0000 selec-w -> SettledContract CON-0001 -> LotTender TEN-0001 -> TPA-0001 -> ORG-0004
        "awards": [
            {
                "lot_ids": ["LOT-0000"],
                "winners": [
                    {
                        "name": "Medivar OÜ",
                        "country": "EE",
                        # CompanyID 12339040 is an Estonian registry code, neither a BE/FR number nor a VAT number
                        "identifier": None,
                        "town": "Tallinn",  # CityName " Tallinn" collapsed
                        "sme": None,  # no efbc:CompanySizeCode
                    }
                ],
                "value": 23185.0,  # the tender's PayableAmount
                "currency": "EUR",
                "tenders_received": 1,  # StatisticsCode tenders
                "date": "2024-12-30",  # the contract's IssueDate 2024-12-30+02:00
            }
        ],
    }


def test_change_notice() -> None:
    assert _parse_file(SDK / "change-cn_24_void.xml") == {
        "source": "ted",
        "source_id": "1d192942-a4a3-4833-8775-ca38f7ec09ca-01",
        "notice_type": "change",  # cn-standard with efac:Changes (a cancellation)
        "title": OP_TITLE,
        # the description spans two lines in the file: whitespace collapsed
        "description": "Provision of IT services related to the information systems of the publications "
        "office (namely EUR-Lex, N-Lex, and Search Layer), with the possibility to extend the provision to "
        "other information systems.",
        "buyer": {
            "name": "Publications Office of the European Union",
            "country": "LU",
            "id": "EU-PO",
            "town": "Luxembourg",
        },
        "cpv_main": "72230000",
        "cpv_additional": [],
        "nuts": ["FRD22"],  # place of performance, although the buyer is in LU000
        "contract_nature": "services",
        "procedure": "open",
        "published": "2019-12-21",
        # a change of a contract notice keeps its deadline (often what changed)
        "deadline": "2020-02-04T10:00:00+02:00",
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                "id": "LOT-0000",
                "title": OP_TITLE,
                "cpv_main": "72230000",
                "cpv_additional": [],
                "nuts": ["FRD22"],
                "estimated_value": None,
            }
        ],
        "languages": ["en"],
        "url": None,
        "documents_url": "https://etendering.ted.europa.eu/cft/cft-display.html?cftId=5629",
        # efbc:ChangedNoticeIdentifier: the contract notice cn_24_minimal.xml (f42be27e-...) version 01
        "related": ["f42be27e-09cf-4f0e-a745-63ec689631e6-01"],
        "awards": [],
    }


def test_real_contract_notice_with_lot_values() -> None:
    assert _parse_file(CONVERTED / "20-213571-001-EXP.xml") == {
        "source": "ted",
        "source_id": "209416-2020",  # the converter writes the legacy number as NoticePublicationID
        "notice_type": "contract-notice",
        "title": "Information and Communications Technology Services",
        "description": "English Institute of Sport (‘the EIS’) is seeking to appoint through a restricted "
        "procedure a suitably qualified and experienced provider of ICT support services. The services will "
        "compromise provision and support of Wide Area Network, Local Area Network including Wireless at our "
        "regional high performance centres, and provision of a dedicated 24-hour service desk for our 450 "
        "users. The staff are based at several performance centres in the UK, but most of the workforce "
        "regularly work away from their centres and have work patterns that are mobile and remote. A large "
        "number of staff work abroad as required by the sports we work with; their overseas travel may "
        "cover periods up to several months. As a publicly funded organisation EIS is seeking to maximise "
        "value for money, and wishes to minimise one-offset up costs as well as ongoing revenue costs.",
        # no cac:PartyLegalEntity/cbc:CompanyID: the organization id stands in; GBR -> GB
        "buyer": {
            "name": "English Institute of Sport Ltd",
            "country": "GB",
            "id": "ORG-0001",
            "town": "Manchester",
        },
        "cpv_main": "72600000",
        "cpv_additional": ["72500000", "64200000"],  # lot 1 additional, then lot 2 additional
        "nuts": [],  # places are `anyw` regions only (the converter dropped the NUTS)
        "contract_nature": "services",
        "procedure": "restricted",
        "published": "2020-05-05",  # PublicationDate; IssueDate is 2020-05-01
        "deadline": "2020-06-05T12:00:00+01:00",
        # procedure-level estimate, which here equals the sum of the lots (1295520 + 234856)
        "estimated_value": 1530376.0,
        "currency": "GBP",
        "lots": [
            {
                "id": "LOT-0001",
                "title": "Managed Services",
                "cpv_main": "72600000",
                "cpv_additional": ["72500000"],
                "nuts": [],
                "estimated_value": 1295520.0,
            },
            {
                "id": "LOT-0002",
                "title": "Wide Area Network",
                "cpv_main": "72600000",
                "cpv_additional": ["64200000"],
                "nuts": [],
                "estimated_value": 234856.0,
            },
        ],
        "languages": ["en"],
        "url": "https://ted.europa.eu/en/notice/-/detail/209416-2020",
        "documents_url": "https://www.eis2win.co.uk/register-interest-to-tender/",
        "related": [],
        "awards": [],
    }


# ---------------------------------------------------------------------------------------------------
# Focused rules, on the recorded files.


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("E1_minimal.xml", "prior-information"),  # pmc: pre-market consultation
        ("E2_minimal.xml", "prior-information"),  # voluntary PIN
        ("E3_minimal.xml", "contract-notice"),
        ("E4_minimal.xml", "award"),
        ("E5_minimal.xml", "award"),  # compl: completion notice
        ("E6_minimal.xml", "change"),  # can-modif: contract modification
        ("CEI.xml", "prior-information"),  # pin-cfc-standard, call for expressions of interest
        ("pin-buyer_24.xml", "prior-information"),
        ("pin-rtl_25.xml", "prior-information"),
        ("pin-cfc-social_25.xml", "prior-information"),
        ("t01_PRT.xml", "prior-information"),  # pin-tran
        ("qu-sy_25.xml", "contract-notice"),
        ("subco_81.xml", "contract-notice"),
        ("cn-desg_24.xml", "contract-notice"),
        ("cn-social_24.xml", "contract-notice"),
        ("can-desg_25.xml", "award"),
        ("can-social_24.xml", "award"),
        ("t02_ESP.xml", "award"),  # can-tran
        ("veat_24.xml", "award"),
        ("can-modif_24_value.xml", "change"),
        ("change-cn_24_open_dates.xml", "change"),  # cn-standard + efac:Changes
    ],
)
def test_notice_types(name: str, expected: str) -> None:
    assert _parse_file(SDK / name)["notice_type"] == expected


def test_every_notice_type_and_subtype_is_mapped() -> None:
    # the eForms SDK code lists notice-type.gc and notice-subtype.gc, less the business registrations
    # (brin-eeig, brin-ecs; X01, X02), which are refused
    known = {
        "pin-only", "pin-buyer", "pin-rtl", "pin-tran", "pin-cfc-standard", "pin-cfc-social", "pmc",
        "cn-standard", "cn-social", "cn-desg", "qu-sy", "subco", "can-standard", "can-social", "can-desg",
        "can-tran", "veat", "compl", "can-modif",
    }  # fmt: skip
    assert set(NOTICE_TYPES) == known
    subtypes = {str(n) for n in range(1, 41)} | {"E1", "E2", "E3", "E4", "E5", "E6", "T01", "T02", "CEI"}
    assert set(SUBTYPE_NOTICE_TYPES) == subtypes
    assert SUBTYPE_NOTICE_TYPES["14"] == "prior-information"
    assert SUBTYPE_NOTICE_TYPES["15"] == SUBTYPE_NOTICE_TYPES["24"] == "contract-notice"
    assert SUBTYPE_NOTICE_TYPES["25"] == SUBTYPE_NOTICE_TYPES["37"] == "award"
    assert SUBTYPE_NOTICE_TYPES["38"] == SUBTYPE_NOTICE_TYPES["E6"] == "change"


def test_subtype_decides_when_the_type_code_is_unknown() -> None:
    extension = "<efac:NoticeSubType><cbc:SubTypeCode>29</cbc:SubTypeCode></efac:NoticeSubType>"
    assert _parse(_notice(type_code="", extension=extension))["notice_type"] == "award"
    assert _parse(_notice(type_code="future-type"))["notice_type"] == "other"


def test_related_keeps_previous_notice_references_as_written() -> None:
    # can_81_FRA: TenderingProcess/NoticeDocumentReference ojs-notice-id 362098-2020
    assert _parse_file(SDK / "can_81_FRA.xml")["related"] == ["362098-2020"]
    # can_24_maximal: previous planning notice (notice-id-ref, per lot) then the framework notice of the
    # settled contracts (OPT-100), each once
    assert _parse_file(SDK / "can_24_maximal.xml")["related"] == [
        "9c0fd704-64d3-4294-a3b6-6df45911ab9f-01",
        "12345678-2023",
    ]
    # converted notice: OPP-090 previous notice, legacy number padded by the converter
    assert _parse_file(CONVERTED / "20-156983-001-EXP.xml")["related"] == ["00214462-2019"]


def test_lots_group_is_not_a_lot() -> None:
    notice = _parse_file(SDK / "cn_24_maximal.xml")
    assert [lot["id"] for lot in notice["lots"]] == ["LOT-0001", "LOT-0002"]  # GLO-0001 skipped


def test_hundred_lots() -> None:
    notice = _parse_file(SDK / "cn_24_maximal_100_lots.xml")
    assert len(notice["lots"]) == 100
    assert notice["lots"][99]["id"] == "LOT-0100"


def test_multilingual_notice_takes_the_notice_language() -> None:
    notice = _parse_file(SDK / "cn_24_multilingual.xml")
    assert notice["title"] == OP_TITLE  # the ENG cbc:Name, although the BUL one comes first
    assert notice["languages"][0] == "en"
    assert len(notice["languages"]) == 24 and len(set(notice["languages"])) == 24
    assert {"fr", "nl", "de", "ga", "mt"} <= set(notice["languages"])


def test_pin_without_lots_gets_one_lot_from_the_procedure() -> None:
    notice = _parse_file(SDK / "pin-buyer_24_published.xml")
    assert notice["source_id"] == "12345678-2025"
    assert notice["url"] == "https://ted.europa.eu/en/notice/-/detail/12345678-2025"
    assert notice["published"] == "2025-05-22"
    assert notice["lots"] == [
        {
            "id": "1",
            "title": notice["title"],
            "cpv_main": "33157000",
            "cpv_additional": [],
            "nuts": ["ITC33"],
            "estimated_value": None,
        }
    ]


def test_deadline_from_requests_to_participate_when_no_tender_deadline() -> None:
    # restricted procedure: only BT-1311 ParticipationRequestReceptionPeriod 2020-05-07+01:00 23:55:00+01:00
    assert _parse_file(SDK / "cn_81.xml")["deadline"] == "2020-05-07T23:55:00+01:00"


def test_sum_of_lot_estimates_when_no_procedure_estimate() -> None:
    # converted 21-364082: no procedure-level estimate, the one lot has 40000000 DKK
    notice = _parse_file(CONVERTED / "21-364082-001-EXP.xml")
    assert (notice["estimated_value"], notice["currency"]) == (40000000.0, "DKK")


def test_procedure_codes() -> None:
    assert _parse_file(SDK / "veat_24.xml")["procedure"] == "negotiated"  # neg-wo-call
    assert _parse_file(SDK / "cn_24_nego_accel.xml")["procedure"] == "negotiated"  # neg-w-call
    assert _parse_file(SDK / "cn-social_25.xml")["procedure"] == "innovation-partnership"
    assert _parse_file(SDK / "t01_PRT.xml")["procedure"] == "other"  # comp-tend
    assert _parse_file(SDK / "cn-desg_25.xml")["procedure"] == "other"  # oth-single
    assert _parse_file(CONVERTED / "21-635824-001-EXP.xml")["procedure"] is None  # converter's UNKNOWN
    assert PROCEDURES["comp-dial"] == "competitive-dialogue" and PROCEDURES["exp-int-rail"] == "other"


def test_extra_regio_nuts_and_order() -> None:
    assert _parse_file(SDK / "can_25_ITA.xml")["nuts"] == ["ITZZZ"]
    # procedure place BE100 first, then the lots' FRD22 (BE100 again not repeated)
    assert _parse_file(SDK / "INVALID_change-cn_24_FRA_comments.xml")["nuts"] == ["BE100", "FRD22"]


# ---------------------------------------------------------------------------------------------------
# Focused rules, on small hand-made notices.

_NAMESPACES = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" '
    'xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2" '
    'xmlns:efac="http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1" '
    'xmlns:efbc="http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1" '
    'xmlns:efext="http://data.europa.eu/p27/eforms-ubl-extensions/1"'
)


def _lot(lot_id: str, *, value: str = "", deadline: str = "", nuts: str = "", scheme: str = "Lot") -> str:
    return f"""
    <cac:ProcurementProjectLot>
      <cbc:ID schemeName="{scheme}">{lot_id}</cbc:ID>
      <cac:TenderingProcess>{deadline}</cac:TenderingProcess>
      <cac:ProcurementProject>
        <cbc:Name languageID="FRA">Lot {lot_id}</cbc:Name>
        {value}
        <cac:MainCommodityClassification>
          <cbc:ItemClassificationCode listName="cpv">45000000</cbc:ItemClassificationCode>
        </cac:MainCommodityClassification>
        {nuts}
      </cac:ProcurementProject>
    </cac:ProcurementProjectLot>"""


def _notice(
    *,
    root: str = "ContractNotice",
    type_code: str = "cn-standard",
    extension: str = "",
    names: str = '<cbc:Name languageID="FRA">Travaux de voirie</cbc:Name>',
    project: str = "",
    nature: str = "works",
    lots: str = "",
    country: str = "BEL",
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" {_NAMESPACES}>
  <ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><efext:EformsExtension>
    {extension}
    <efac:Organizations><efac:Organization><efac:Company>
      <cac:PartyIdentification><cbc:ID schemeName="organization">ORG-0001</cbc:ID></cac:PartyIdentification>
      <cac:PartyName><cbc:Name languageID="FRA">Commune de Namur</cbc:Name></cac:PartyName>
      <cac:PostalAddress><cbc:CityName>Namur</cbc:CityName>
        <cac:Country>
          <cbc:IdentificationCode listName="country">{country}</cbc:IdentificationCode>
        </cac:Country>
      </cac:PostalAddress>
    </efac:Company></efac:Organization></efac:Organizations>
  </efext:EformsExtension></ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>
  <cbc:ID schemeName="notice-id">11111111-2222-3333-4444-555555555555</cbc:ID>
  <cbc:IssueDate>2026-03-02+01:00</cbc:IssueDate>
  <cbc:VersionID>01</cbc:VersionID>
  <cbc:NoticeTypeCode>{type_code}</cbc:NoticeTypeCode>
  <cbc:NoticeLanguageCode>FRA</cbc:NoticeLanguageCode>
  <cac:ContractingParty><cac:Party><cac:PartyIdentification>
    <cbc:ID schemeName="organization">ORG-0001</cbc:ID>
  </cac:PartyIdentification></cac:Party></cac:ContractingParty>
  <cac:ProcurementProject>
    {names}
    <cbc:ProcurementTypeCode listName="contract-nature">{nature}</cbc:ProcurementTypeCode>
    {project}
  </cac:ProcurementProject>
  {lots}
</{root}>""".encode()


def _parse(data: bytes) -> dict[str, Any]:
    return parse_eforms(parse_xml(data)).to_json_dict()


def _deadline(day: str, at: str) -> str:
    return f"""<cac:TenderSubmissionDeadlinePeriod><cbc:EndDate>{day}</cbc:EndDate>
      <cbc:EndTime>{at}</cbc:EndTime></cac:TenderSubmissionDeadlinePeriod>"""


def _value(amount: str, currency: str = "EUR") -> str:
    return f"""<cac:RequestedTenderTotal>
      <cbc:EstimatedOverallContractAmount currencyID="{currency}">{amount}
      </cbc:EstimatedOverallContractAmount>
    </cac:RequestedTenderTotal>"""


def test_title_in_the_notice_language() -> None:
    names = (
        '<cbc:Name languageID="ENG">Road works</cbc:Name>'
        '<cbc:Name languageID="FRA">  Travaux\n  de voirie </cbc:Name>'
        '<cbc:Name languageID="NLD">Wegenwerken</cbc:Name>'
    )
    assert _parse(_notice(names=names))["title"] == "Travaux de voirie"


def test_earliest_deadline_across_lots_and_offsets() -> None:
    lots = (
        _lot("LOT-0001", deadline=_deadline("2026-04-10+02:00", "12:00:00+02:00"))
        + _lot("LOT-0002", deadline=_deadline("2026-04-10Z", "09:30:00Z"))  # 11:30 in Brussels: earlier
        + _lot("LOT-0003")  # no deadline
    )
    assert _parse(_notice(lots=lots))["deadline"] == "2026-04-10T09:30:00+00:00"


def test_deadline_without_offset_is_the_buyers_local_time() -> None:
    lots = _lot("LOT-0001", deadline=_deadline("2026-07-01", "10:00:00"))
    assert _parse(_notice(lots=lots))["deadline"] == "2026-07-01T10:00:00+02:00"  # Brussels, summer


def test_award_and_change_of_award_have_no_deadline() -> None:
    lots = _lot("LOT-0001", deadline=_deadline("2026-04-10+02:00", "12:00:00+02:00"))
    award = _parse(_notice(root="ContractAwardNotice", type_code="can-standard", lots=lots))
    assert (award["notice_type"], award["deadline"]) == ("award", None)
    changes = "<efac:Changes><efbc:ChangedNoticeIdentifier>aaaa-01</efbc:ChangedNoticeIdentifier></efac:Changes>"
    changed = _parse(_notice(root="ContractAwardNotice", type_code="can-standard", lots=lots, extension=changes))
    assert (changed["notice_type"], changed["deadline"], changed["related"]) == ("change", None, ["aaaa-01"])
    changed_cn = _parse(_notice(lots=lots, extension=changes))
    assert (changed_cn["notice_type"], changed_cn["deadline"]) == ("change", "2026-04-10T12:00:00+02:00")


def test_estimate_sum_needs_every_lot_and_one_currency() -> None:
    both = _lot("LOT-0001", value=_value("1000")) + _lot("LOT-0002", value=_value("2500.50"))
    notice = _parse(_notice(lots=both))
    assert (notice["estimated_value"], notice["currency"]) == (3500.5, "EUR")
    assert [lot["estimated_value"] for lot in notice["lots"]] == [1000.0, 2500.5]
    one_missing = _lot("LOT-0001", value=_value("1000")) + _lot("LOT-0002")
    assert _parse(_notice(lots=one_missing))["estimated_value"] is None
    two_currencies = _lot("LOT-0001", value=_value("1000")) + _lot("LOT-0002", value=_value("1000", "GBP"))
    assert _parse(_notice(lots=two_currencies))["currency"] is None
    zero = _lot("LOT-0001", value=_value("0"))
    assert _parse(_notice(lots=zero))["estimated_value"] is None  # 0 means not given
    # the procedure-level estimate wins over the sum
    notice = _parse(_notice(project=_value("9000"), lots=both))
    assert notice["estimated_value"] == 9000.0


def test_framework_maximum_and_awarded_total_are_not_estimates() -> None:
    framework = """<cac:RequestedTenderTotal><ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent>
      <efext:EformsExtension>
        <efbc:FrameworkMaximumAmount currencyID="EUR">5000000</efbc:FrameworkMaximumAmount>
      </efext:EformsExtension></ext:ExtensionContent></ext:UBLExtension></ext:UBLExtensions>
    </cac:RequestedTenderTotal>"""
    result = '<efac:NoticeResult><cbc:TotalAmount currencyID="EUR">23185.00</cbc:TotalAmount></efac:NoticeResult>'
    notice = _parse(_notice(project=framework, extension=result))
    assert (notice["estimated_value"], notice["currency"]) == (None, None)


def test_nuts_placeholder_dropped_and_procedure_first() -> None:
    def place(code: str) -> str:
        return f"""<cac:RealizedLocation><cac:Address>
          <cbc:CountrySubentityCode listName="nuts">{code}</cbc:CountrySubentityCode></cac:Address>
        </cac:RealizedLocation>"""

    lots = _lot("LOT-0001", nuts=place("BE351") + place("00")) + _lot("LOT-0002", nuts=place("BE100"))
    notice = _parse(_notice(project=place("BE352") + place("00"), lots=lots))
    assert notice["nuts"] == ["BE352", "BE351", "BE100"]
    assert notice["lots"][0]["nuts"] == ["BE351"]


def test_combined_nature_is_null() -> None:
    assert _parse(_notice(nature="combined"))["contract_nature"] is None


def test_cpv_check_digit_and_repeats() -> None:
    project = """<cac:MainCommodityClassification>
        <cbc:ItemClassificationCode listName="cpv">45233140-2</cbc:ItemClassificationCode>
      </cac:MainCommodityClassification>
      <cac:AdditionalCommodityClassification>
        <cbc:ItemClassificationCode listName="cpv">45000000</cbc:ItemClassificationCode>
      </cac:AdditionalCommodityClassification>
      <cac:AdditionalCommodityClassification>
        <cbc:ItemClassificationCode listName="cpv">45233140</cbc:ItemClassificationCode>
      </cac:AdditionalCommodityClassification>"""
    notice = _parse(_notice(project=project, lots=_lot("LOT-0001")))  # the lot's main is 45000000 too
    assert (notice["cpv_main"], notice["cpv_additional"]) == ("45233140", ["45000000"])


def test_lots_group_skipped_in_hand_made_notice() -> None:
    lots = _lot("GLO-0001", scheme="LotsGroup", value=_value("5")) + _lot("LOT-0001")
    notice = _parse(_notice(lots=lots))
    assert [lot["id"] for lot in notice["lots"]] == ["LOT-0001"]
    assert notice["estimated_value"] is None  # the group's value is not a lot estimate


def test_business_registration_is_refused() -> None:
    with pytest.raises(NoticeError, match="not a procurement notice"):
        _parse(_notice(root="BusinessRegistrationInformationNotice", type_code="brin-eeig"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_notice(names=""), "no title"),
        (_notice(names='<cbc:Name languageID="FRA">   </cbc:Name>'), "no title"),
        (
            _notice(country="BEL").replace(b">ORG-0001</cbc:ID>\n  </cac:Party", b">ORG-9</cbc:ID>\n  </cac:Party"),
            "buyer ORG-9 not found in efac:Organizations",
        ),
        (
            _notice().replace(b"<cbc:NoticeLanguageCode>FRA", b"<cbc:NoticeLanguageCode>XXX"),
            "no notice language",
        ),
        (_notice().replace(b"2026-03-02+01:00", b"someday"), "no publication date"),
        (_notice(lots=_lot("")), "cac:ProcurementProjectLot without cbc:ID"),
    ],
)
def test_missing_required_parts(data: bytes, reason: str) -> None:
    with pytest.raises(NoticeError, match=re.escape(reason)):
        _parse(data)


def test_damaged_documents_never_raise_anything_else() -> None:
    """Remove every element of a rich notice in turn: a notice or a clear failure, never a crash."""
    data = (SDK / "cn_24_maximal.xml").read_bytes()
    original = etree.fromstring(data)
    count = sum(1 for _ in original.iter(etree.Element))
    for index in range(1, count, 7):
        root = etree.fromstring(data)
        victim = next(e for i, e in enumerate(root.iter(etree.Element)) if i == index)
        parent = victim.getparent()
        assert parent is not None
        parent.remove(victim)
        outcome = parse_bytes(etree.tostring(root))
        assert len(outcome.notices) + len(outcome.failures) == 1
    # text where elements were expected, and elements where text was expected
    root = etree.fromstring(data)
    for element in root.iter(etree.Element):
        if len(element):
            element.text = "odd"
    assert len(parse_bytes(etree.tostring(root)).notices) == 1


def test_parse_is_close_to_bare_lxml() -> None:
    """Benchmark guard (goal: within 3x of `etree.fromstring`); generous bound against noisy machines."""
    data = (SDK / "cn_24_maximal_100_lots.xml").read_bytes()

    def best(run: Callable[[], object]) -> float:
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            run()
            timings.append(time.perf_counter() - start)
        return min(timings)

    bare = best(lambda: etree.fromstring(data))
    ours = best(lambda: parse_bytes(data))
    assert ours < 5 * bare + 0.01


def test_published_date_prefers_publication_date() -> None:
    extension = """<efac:Publication>
      <efbc:NoticePublicationID schemeName="ojs-notice-id">00123456-2026</efbc:NoticePublicationID>
      <efbc:PublicationDate>2026-03-05+01:00</efbc:PublicationDate></efac:Publication>"""
    notice = _parse(_notice(extension=extension))
    assert notice["published"] == date(2026, 3, 5).isoformat()
    assert notice["source_id"] == "00123456-2026"
    assert notice["url"] == "https://ted.europa.eu/en/notice/-/detail/123456-2026"
    unpublished = _parse(_notice())
    assert (unpublished["source_id"], unpublished["published"], unpublished["url"]) == (
        "11111111-2222-3333-4444-555555555555-01",
        "2026-03-02",
        None,
    )


@pytest.mark.parametrize(
    "link",
    [
        "https://ted.europa.eu/en/notice/-/detail/372-2025",  # TED's form, as its site links it
        "https://ted.europa.eu/fr/notice/-/detail/00000372-2025",  # the number as the notice writes it
        "https://ted.europa.eu/udl?uri=TED:NOTICE:372-2025:TEXT:FR:HTML",  # the older TED address
    ],
)
def test_a_feed_entry_linking_to_the_ted_page_joins_the_notice_whatever_the_zeros(engine: Engine, link: str) -> None:
    """The store keeps `00000372-2025` (its key before the page address changed); a feed entry pointing at
    TED's page for it, under any form of the number, is a publication of the same procedure."""
    [parsed] = parse_bytes((PUBLISHED / "eforms_ubl_2025.xml").read_bytes()).notices
    entry = make_notice(
        source="feed:veille-école-numérique",
        source_id="https://veille.example.org/item/372",
        title="Avis TED 372-2025 relayé par École Numérique SA",
        buyer={"name": "École Numérique SA", "country": None},
        cpv_main=None,
        cpv_additional=[],
        nuts=[],
        deadline=None,
        estimated_value=None,
        currency=None,
        lots=[{"id": "1"}],
        url=link,
    )
    store_notices(engine, [Incoming(parsed, "eforms_ubl_2025.xml"), incoming(entry)])

    link_procedures(engine)

    with engine.connect() as connection:
        procedures = dict(connection.execute(sa.select(notice_table.c.source, notice_table.c.procedure_id)).all())
    assert parsed.notice.source_id == "00000372-2025"
    assert procedures[entry.source] is not None and procedures[entry.source] == procedures["ted"]

"""TED legacy XML (TED_EXPORT R2.0.7, R2.0.8, R2.0.9) → normalized notices."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from crawlers.parsers import parse_bytes
from crawlers.parsers.fields import NoticeError
from crawlers.parsers.ted_legacy import (
    DOCUMENT_TYPE_CODES,
    FORM_NOTICE_TYPES,
    FORM_SUBTYPE_NOTICE_TYPES,
    _notice_type,
    parse_ted_export,
)
from crawlers.parsers.xml import parse_xml

FIXTURES = Path(__file__).parent.parent / "fixtures"
LEGACY = FIXTURES / "ted_legacy"
CONVERTER = LEGACY / "ted-xml-data-converter"
DEV = CONVERTER / "development-notices"
SCRAPER = LEGACY / "scraper-tedawards"
FILES = sorted(LEGACY.rglob("*.xml"))

# Files expected to fail, with why: none. Every recorded legacy notice (69 converter notices of 15 form
# types, the three scraper-tedawards notices of R2.0.7, R2.0.8 and R2.0.9, an F06 of ted-rdf-mapping) is a
# publishable notice.
EXPECTED_FAILURES: dict[str, str] = {}

CPV = re.compile(r"\d{8}")
LANGUAGE = re.compile(r"[a-z]{2}")


def load(path: Path) -> etree._Element:
    return parse_xml(path.read_bytes())


def parse(path: Path) -> dict[str, Any]:
    return parse_ted_export(load(path)).to_json_dict()


def parse_root(root: etree._Element) -> dict[str, Any]:
    return parse_ted_export(root).to_json_dict()


def original_form(root: etree._Element) -> etree._Element:
    return next(f for f in root.iterfind("{*}FORM_SECTION/*") if f.get("CATEGORY") == "ORIGINAL")


def remove(root: etree._Element, path: str) -> None:
    """Removes every element at `path` (ElementPath with `{*}` wildcards) from the tree."""
    found = root.findall(path)
    assert found, path
    for element in found:
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)


# --- 1. every recorded file -----------------------------------------------------------------------------


def test_every_file_is_covered() -> None:
    assert len(FILES) == 73
    assert {p.parent.name for p in FILES} == {
        "development-notices",
        "test-notices",
        "scraper-tedawards",
        "ted-rdf-mapping",  # an F06 utilities award notice
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_invariants(path: Path) -> None:
    outcome = parse_bytes(path.read_bytes())
    if path.name in EXPECTED_FAILURES:
        assert not outcome.notices and outcome.failures
        return
    assert outcome.failures == []
    assert len(outcome.notices) == 1
    parsed = outcome.notices[0]
    assert parsed.format == "ted-legacy"
    assert parsed.record == ""
    notice: dict[str, Any] = parsed.notice.to_json_dict()
    root = load(path)

    assert notice["source"] == "ted"
    assert notice["source_id"] == root.get("DOC_ID")
    assert re.fullmatch(r"\d{6}-\d{4}", notice["source_id"])
    assert notice["url"] == f"https://ted.europa.eu/en/notice/-/detail/{notice['source_id'].lstrip('0')}"
    date_pub = root.findtext("{*}CODED_DATA_SECTION/{*}REF_OJS/{*}DATE_PUB") or ""
    assert notice["published"] == f"{date_pub[:4]}-{date_pub[4:6]}-{date_pub[6:]}"
    assert notice["title"] and notice["title"] == " ".join(notice["title"].split())
    assert notice["buyer"]["name"]
    assert re.fullmatch(r"[A-Z]{2}", notice["buyer"]["country"])
    assert notice["buyer"]["country"] != "UK"

    codes = [notice["cpv_main"], *notice["cpv_additional"]]
    assert all(CPV.fullmatch(code) for code in codes)
    assert len(codes) == len(set(codes))
    assert "00" not in notice["nuts"] and len(notice["nuts"]) == len(set(notice["nuts"]))
    assert notice["lots"]
    assert len({lot["id"] for lot in notice["lots"]}) == len(notice["lots"])
    for lot in notice["lots"]:
        assert lot["cpv_main"] is None or CPV.fullmatch(lot["cpv_main"])
        assert lot["cpv_main"] not in lot["cpv_additional"]
        assert "00" not in lot["nuts"]
        # notice NUTS gather the lots' ones (procedure level first, then lots)
        assert set(lot["nuts"]) <= set(notice["nuts"])
        assert {lot["cpv_main"], *lot["cpv_additional"]} - {None} <= set(codes)

    assert notice["languages"] and all(LANGUAGE.fullmatch(lang) for lang in notice["languages"])
    assert notice["languages"][0] == (original_form(root).get("LG") or "").lower()
    assert len(notice["languages"]) == len(root.findall("{*}FORM_SECTION/*[@LG]"))
    assert (notice["estimated_value"] is None) == (notice["currency"] is None)
    if notice["notice_type"] == "award":
        assert notice["deadline"] is None
    assert notice["source_id"] not in notice["related"]
    assert all(re.fullmatch(r"\d{6}-\d{4}", reference) for reference in notice["related"])


_SOURCES_ROW = re.compile(
    r"\| ((?:development|test)-notices/[\w-]+\.xml) \| \d+ \| TED_EXPORT [^,]+, DOC_ID ([\d-]+), "
    r"(F\d\d)_2014 \([^)]*\), buyer country (\w\w), pub (\d{8}), original lang (\w\w), (\d+) language"
)


def test_agrees_with_the_fixture_catalogue() -> None:
    """SOURCES.md §2a describes each converter notice (id, form, country, date, languages) independently
    of this parser: every row must match what the parser reads."""
    rows = _SOURCES_ROW.findall((FIXTURES / "SOURCES.md").read_text(encoding="utf-8"))
    assert len(rows) == 69
    for name, doc_id, form, country, pub, lang, versions in rows:
        notice = parse(CONVERTER / name)
        assert notice["source_id"] == doc_id, name
        assert notice["buyer"]["country"] == {"UK": "GB"}.get(country, country), name
        assert notice["published"].replace("-", "") == pub, name
        assert notice["languages"][0] == lang.lower(), name
        assert len(notice["languages"]) == int(versions), name
        expected_type = FORM_NOTICE_TYPES[form]
        if form not in {"F01", "F04", "F07", "F21", "F22", "F23"}:  # these depend on NOTICE/@TYPE
            assert notice["notice_type"] == expected_type, name


# --- 2. fully specified notices -------------------------------------------------------------------------


def test_french_qualification_system_with_call_for_competition() -> None:
    """SNCF qualification system (F07, QSU_CALL_COMPETITION): a standing call for competition, French.
    There is no French F02 contract notice in the recorded set; this is the French call for competition."""
    notice = parse(DEV / "20-271232-001-EXP.xml")
    assert notice == {
        "source": "ted",
        "source_id": "265664-2020",  # TED_EXPORT/@DOC_ID
        # NOTICE TYPE="QSU_CALL_COMPETITION" (coded TD_DOCUMENT_TYPE O "with call for competition")
        "notice_type": "contract-notice",
        "title": "Transport routier de voyageurs (TRV)",
        # OBJECT_CONTRACT has no SHORT_DESCR: the single OBJECT_DESCR's three paragraphs, one per line
        "description": (
            "Transport routier de voyageurs SNCF des activités voyageurs (TER dans les régions, "
            "Transilien en Île-de-France, voyages et intercités en interrégion).\n"
            "En situation normale pour les lignes régulières routières ou mixtes ferroviaires des activités "
            "voyageurs.\n"
            "En situation perturbée ou temporaire pour les services de substitutions routières lors des "
            "interruptions ou modification de trafic ferroviaire pour cause de travaux sur le réseau "
            "d'infrastructure, d'aléas de production ou d'exploitation."
        ),
        # ADDRESS_CONTRACTING_BODY (SNCF Voyageurs, the additional body, is not the first buyer)
        "buyer": {"name": "SNCF", "country": "FR", "id": "552 049 447", "town": "Saint-Denis"},
        "cpv_main": "60112000",
        "cpv_additional": ["60100000"],  # OBJECT_DESCR/CPV_ADDITIONAL
        "nuts": ["FR"],  # OBJECT_DESCR/n2016:NUTS; the buyer's FR106 is an address, not a place
        "contract_nature": "services",  # TYPE_CONTRACT CTYPE="SERVICES"
        "procedure": None,  # no PT_* element, coded PR_PROC 9 "Not applicable"
        "published": "2020-06-08",
        "deadline": None,  # a qualification system has no DATE_RECEIPT_TENDERS (none coded either)
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                # one OBJECT_DESCR without LOT_NO: lot "1", with the procedure's title and main CPV
                "id": "1",
                "title": "Transport routier de voyageurs (TRV)",
                "cpv_main": "60112000",
                "cpv_additional": ["60100000"],
                "nuts": ["FR"],
                "estimated_value": None,
            }
        ],
        "languages": ["fr"],
        "url": "https://ted.europa.eu/en/notice/-/detail/265664-2020",
        "documents_url": "http://www.sncf.com/fr/fournisseurs/dossiers-qualification",  # URL_DOCUMENT
        "related": [],  # no REF_NOTICE
        "awards": [],
    }


DISCOBUS = {"name": "Discobus — AZ-Production", "country": "FR", "identifier": None, "town": "Troyes", "sme": True}
CONCEPT_AUDIO = {"name": "Concept Audio", "country": "FR", "identifier": None, "town": "Nogent-sur-Seine", "sme": True}


def _troyes_award(lot_id: str, winner: dict[str, Any], value: float) -> dict[str, Any]:
    return {
        "lot_ids": [lot_id],
        "winners": [winner],
        "value": value,  # VALUES/VAL_TOTAL CURRENCY="EUR"
        "currency": "EUR",
        "tenders_received": None,
        "date": "2021-05-21",  # DATE_CONCLUSION_CONTRACT
    }


def _troyes_lot(lot_id: str, title: str) -> dict[str, Any]:
    return {
        "id": lot_id,
        "title": title,
        "cpv_main": "75200000",  # 2014 lots have no main CPV of their own: the procedure's
        "cpv_additional": ["48952000"],
        "nuts": ["FRF22"],
        "estimated_value": None,  # no VAL_OBJECT; the INFO_ADD annual maxima are framework maxima
    }


def test_french_notice_with_lots() -> None:
    """Ville de Troyes VEAT (F15) with six lots: the French notice with lots of the converter set."""
    notice = parse(DEV / "21-298854-001-EXP.xml")
    assert notice == {
        "source": "ted",
        "source_id": "295428-2021",
        "notice_type": "award",  # F15 voluntary ex ante transparency (coded TD_DOCUMENT_TYPE V)
        "title": (
            "Accord-cadre mono-attributaire à bons de commande relatif aux prestations de sonorisation et/ou "
            "animation des manifestations organisées par la ville de Troyes"
        ),
        "description": (
            "Le présent accord-cadre porte sur des prestations de services de sonorisation et/ou "
            "animation des manifestations organisées par la ville de Troyes, décomposée en six lots tels "
            "que décrits au sein du cahier des clauses techniques particulières.\n"
            "Sont exclues du présent marché, les prestations de sonorisation ou d'animation des "
            "manifestations ou opérations incluant plusieurs intervenants et pour lesquelles une "
            "coordination technique et/ou synchronisée est indispensable (spectacles de son et lumière, "
            "d'arts vivants, ville en lumières, etc.)."
        ),
        "buyer": {"name": "Mairie de Troyes", "country": "FR", "id": None, "town": "Troyes"},
        "cpv_main": "75200000",
        "cpv_additional": ["48952000"],  # every lot repeats it: once
        "nuts": ["FRF22"],
        "contract_nature": "services",
        # PROCEDURE/DIRECTIVE_2009_81_EC/PT_AWARD_CONTRACT_WITHOUT_CALL: negotiated without a call
        "procedure": "negotiated",
        "published": "2021-06-11",
        "deadline": None,  # award
        # OBJECT_CONTRACT/VAL_TOTAL 35360 EUR is the awarded total, not an estimate
        "estimated_value": None,
        "currency": None,
        "lots": [
            _troyes_lot("1", "Sonorisation et animation des manifestations sportives"),
            _troyes_lot("2", "Sonorisation des cérémonies commémoratives"),
            _troyes_lot("3", "Sonorisation et animation des manifestations de la vie sociale"),
            _troyes_lot("4", "Sonorisation et animations des manifestations de type commercial"),
            _troyes_lot("5", "Sonorisation des manifestations de type festif"),
            _troyes_lot("6", "Création et diffusion musicale des manifestations festives"),
        ],
        "languages": ["fr"],
        "url": "https://ted.europa.eu/en/notice/-/detail/295428-2021",
        "documents_url": None,
        "related": [],
        "awards": [  # one AWARD_CONTRACT per lot, LOT_NO 1-6, NO_AWARDED_TO_GROUP, SME, no TENDERS block (VEAT)
            _troyes_award("1", DISCOBUS, 10900.0),
            _troyes_award("2", DISCOBUS, 5510.0),
            _troyes_award("3", DISCOBUS, 1920.0),
            _troyes_award("4", DISCOBUS, 4030.0),
            _troyes_award("5", CONCEPT_AUDIO, 11700.0),
            _troyes_award("6", CONCEPT_AUDIO, 1300.0),
        ],
    }


def test_r207_award_of_2011() -> None:
    """Southend Borough Council, 2011, R2.0.7 CONTRACT_AWARD FORM="3": the old form family."""
    notice = parse(SCRAPER / "ted_v2_r2_0_7_2011.xml")
    assert notice == {
        "source": "ted",
        "source_id": "005302-2011",
        "notice_type": "award",  # FORM="3" (coded TD_DOCUMENT_TYPE 7)
        "title": (  # TITLE_CONTRACT/P, the trailing full stop as written
            "Tender for occupational health service, employee assistance programme services and absence "
            "management services."
        ),
        "description": "\n".join(
            [
                "Southend Borough Council on behalf of the Essex Strategic HR Group are tendering for the "
                "provision of occupational health, employee assistance programme and absence management "
                "services. The tender will be let in lots but partnerships of suppliers or suppliers "
                "providing the entire scope of the contract will be allowed to bid.",
                "The lots will be as follows with a brief description of the service required:",
                "— Lot 1: occupational health services will include the below elements:",
                "a. Pre-employment checks;",
                "b. Referrals and examinations;",
                "c. Health surveillance;",
                "d. Case conferences;",
                "e. Professional and technical advice;",
                "f. Assessments and testing;",
                "g. Inoculations and consumable medical supplies;",
                "h. Termination on ill health grounds;",
                "i. Health promotions and training.",
                "— Lot 2: employee assistance programme services will include the below elements:",
                "a. Provision of helpline service;",
                "b. Provisions of an online service;",
                "c. Provision of some counselling not within the remit of occupational health.",
                "— Lot 3: absence management and reporting services will include the below elements:",
                "a. Provision of a 24/7, 365 call centre staffed by trained nurses;",
                "b. Provision of sickness management services and reporting.",
                "The contract will be open to all public sector bodies within the geographical boundaries of "
                "the County of Essex.",
                "Companies wishing to bid must register at the following web address https://southend.proactisp2p.com.",
                "For further instructions please contact the person named in Section 1.",
            ]
        ),
        # CA_CE_CONCESSIONAIRE_PROFILE: ORGANISATION is plain text in R2.0.7; COUNTRY UK is GB
        "buyer": {"name": "Southend Borough Council", "country": "GB", "id": None, "town": "Southend-on-Sea"},
        "cpv_main": "85147000",
        "cpv_additional": ["85140000"],
        "nuts": ["UK"],  # LOCATION_NUTS/NUTS CODE="UK": a country-level NUTS code, kept as written
        "contract_nature": "services",  # TYPE_CONTRACT VALUE="SERVICES"
        "procedure": "restricted",  # TYPE_OF_PROCEDURE_DEF/PT_RESTRICTED
        "published": "2011-01-07",
        "deadline": None,
        # The decimal-comma values of this file are all award values: TOTAL_FINAL_VALUE "878 000,00" is the
        # awarded total, the three INITIAL_ESTIMATED_TOTAL_VALUE_CONTRACT ("440 000,00", "96 000,00",
        # "768 000,00") are per awarded contract, like R2.0.9's AWARDED_CONTRACT/VALUES/VAL_ESTIMATED_TOTAL:
        # none is the procedure's estimate (see test_old_form_contract_notice for the decimal comma).
        "estimated_value": None,
        "currency": None,
        "lots": [
            {  # no lot block in an old award form: one lot carrying the procedure's data
                "id": "1",
                "title": (
                    "Tender for occupational health service, employee assistance programme services and "
                    "absence management services."
                ),
                "cpv_main": "85147000",
                "cpv_additional": ["85140000"],
                "nuts": ["UK"],
                "estimated_value": None,
            }
        ],
        "languages": ["en"],
        "url": "https://ted.europa.eu/en/notice/-/detail/5302-2011",
        "documents_url": None,
        "related": ["211116-2010"],  # REF_NOTICE/NO_DOC_OJS "2010/S 137-211116"
        # three AWARD_OF_CONTRACT blocks, one ECONOMIC_OPERATOR_NAME_ADDRESS each; no LOT_NUMBER: the only lot;
        # value = COSTS_RANGE_AND_CURRENCY_WITH_VAT_RATE (FMTVAL), not INITIAL_ESTIMATED_TOTAL_VALUE_CONTRACT
        "awards": [
            {
                "lot_ids": ["1"],
                "winners": [
                    {"name": "Team Prevent", "country": "GB", "identifier": None, "town": "Towcester", "sme": None}
                ],
                "value": 408000.0,  # not the initial estimate 440 000,00
                "currency": "GBP",
                "tenders_received": 4,  # OFFERS_RECEIVED_NUMBER
                "date": "2010-12-22",  # CONTRACT_AWARD_DATE DAY 22 MONTH 12 YEAR 2010
            },
            {
                "lot_ids": ["1"],
                "winners": [
                    {"name": "Workplace Options", "country": "GB", "identifier": None, "town": "London", "sme": None}
                ],
                "value": 80000.0,
                "currency": "GBP",
                "tenders_received": 4,
                "date": "2010-12-22",
            },
            {
                "lot_ids": ["1"],
                "winners": [
                    {
                        "name": "Diagnostic Health Solutions Ltd",
                        "country": "GB",
                        "identifier": None,
                        "town": "London",
                        "sme": None,
                    }
                ],
                "value": 390000.0,
                "currency": "GBP",
                "tenders_received": 3,
                "date": "2010-12-22",
            },
        ],
    }


# The original first, then the other forms in document order (FORM_LG_LIST "DA DE EN ES FI FR EL ...").
# fmt: off
ECHA_LANGUAGES = ["en", "da", "de", "es", "fi", "fr", "el", "it", "nl", "pt", "sv", "cs",
                  "et", "hu", "lt", "lv", "mt", "pl", "sk", "sl", "ga", "bg", "ro", "hr"]
# fmt: on


def test_notice_with_24_language_versions() -> None:
    """ECHA (an EU agency) public sale: 24 forms, the Danish and German translations come before the English
    original in the document; everything is read from the original."""
    notice = parse(DEV / "18-168448-001-EXP.xml")
    assert notice == {
        "source": "ted",
        "source_id": "178087-2018",
        "notice_type": "contract-notice",
        "title": "Public sale of ECHA Service Car (BMW Active Hybrid 5 Sedan)",
        "description": (
            "ECHA is selling, via public auction, an ecological and powerful 5-class BMW Active Hybrid Sedan "
            "with full detailed service history. The vehicle has been used solely as an official "
            "representation vehicle with 12 000 km. ECHA purchased the vehicle in August 2014."
        ),
        "buyer": {
            "name": "European Chemicals Agency (ECHA)",
            "country": "FI",
            "id": None,
            "town": "Helsinki",
        },
        "cpv_main": "34100000",
        "cpv_additional": ["34110000"],
        "nuts": ["FI1B1"],  # namespace n2016 is the relative URI "ted/2016/nuts" in this file
        "contract_nature": "supplies",
        "procedure": "open",
        "published": "2018-04-25",
        "deadline": "2018-05-28T12:00:00+03:00",  # 12:00 in Helsinki, summer time
        # no VAL_ESTIMATED_TOTAL: the one lot's VAL_OBJECT (the auction's minimum bid, given as II.2.6)
        "estimated_value": 31000.0,
        "currency": "EUR",
        "lots": [
            {
                "id": "1",
                "title": "Public sale of ECHA Service Car (BMW Active Hybrid 5 Sedan)",
                "cpv_main": "34100000",
                "cpv_additional": ["34110000"],
                "nuts": ["FI1B1"],
                "estimated_value": 31000.0,
            }
        ],
        "languages": ECHA_LANGUAGES,
        "url": "https://ted.europa.eu/en/notice/-/detail/178087-2018",
        "documents_url": "https://hanki.tarjouspalvelu.fi",
        "related": [],
        "awards": [],
    }


# --- 3. the rules of this format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("development-notices/20-155018-001-EXP.xml", "prior-information"),  # F01 PRI_ONLY
        ("development-notices/22-434184-001-EXP.xml", "prior-information"),  # F04 PER_REDUCING_TIME_LIMITS
        ("development-notices/19-099886-001-EXP.xml", "prior-information"),  # F08 buyer profile
        ("development-notices/21-364082-001-EXP.xml", "contract-notice"),  # F05
        ("development-notices/20-566267-001-EXP.xml", "contract-notice"),  # F02, coded Y (DPS)
        ("development-notices/20-271232-001-EXP.xml", "contract-notice"),  # F07 QSU_CALL_COMPETITION
        ("development-notices/20-620029-001-EXP.xml", "prior-information"),  # F07 without NOTICE, coded Q
        ("development-notices/19-289373-001-EXP.xml", "contract-notice"),  # F22 QSU_CALL_COMPETITION
        ("development-notices/20-318547-001-EXP.xml", "prior-information"),  # F22 QSU_ONLY
        ("development-notices/20-295737-001-EXP.xml", "contract-notice"),  # F21 CONTRACT
        ("development-notices/21-635824-001-EXP.xml", "award"),  # F21 AWARD_CONTRACT
        ("development-notices/21-364516-001-EXP.xml", "contract-notice"),  # F12 design contest
        ("development-notices/19-111211-001-EXP.xml", "award"),  # F13 results of a design contest
        ("development-notices/23-119901-001-EXP.xml", "change"),  # F14 additional information
        ("development-notices/22-073124-001-EXP.xml", "award"),  # F15 VEAT
        ("development-notices/21-119282-001-EXP.xml", "contract-notice"),  # F24 concession notice
        ("development-notices/19-318420-001-EXP.xml", "award"),  # F25 concession award
        ("../scraper-tedawards/ted_v2_r2_0_8_2015.xml", "award"),  # R2.0.8 CONTRACT_AWARD FORM="3"
    ],
)
def test_notice_type(name: str, expected: str) -> None:
    assert parse(CONVERTER / name)["notice_type"] == expected


def test_notice_type_tables() -> None:
    assert _notice_type("F20", None, "K") == "change"  # modification notice (no recorded file)
    assert _notice_type("F14", None, "V") == "change"  # a VEAT's corrigendum is a change, not an award
    assert _notice_type("F21", None, "0") == "prior-information"  # no NOTICE/@TYPE: the coded type decides
    assert _notice_type(None, None, "3") == "contract-notice"  # unknown form (OTH_NOT...): coded type
    assert _notice_type(None, None, "S") == "other"
    assert _notice_type("F02", "AWARD_CONTRACT", "3") == "award"  # NOTICE/@TYPE first
    assert set(FORM_NOTICE_TYPES) == {f"F{n:02d}" for n in range(1, 26)}
    assert {"change", "award", "contract-notice", "prior-information"} == set(DOCUMENT_TYPE_CODES.values())
    assert "QSU_ONLY" in FORM_SUBTYPE_NOTICE_TYPES


def test_original_form_of_a_multilingual_original() -> None:
    """A Swiss notice has three ORIGINAL forms (EN, FR, DE) and three LG_ORIG: the first is read."""
    notice = parse(DEV / "22-104446-001-EXP.xml")
    assert notice["languages"] == ["en", "fr", "de"]
    assert notice["title"] == (  # the EN form, not the FR or DE originals after it
        "Generation of technical data for the application for authorisation of a new food additive in the EU"
    )
    assert notice["buyer"]["country"] == "CH"


def test_translations_are_not_read() -> None:
    root = load(DEV / "18-168448-001-EXP.xml")
    first = root.find("{*}FORM_SECTION/{*}F02_2014")
    assert first is not None and first.get("LG") == "DA" and first.get("CATEGORY") == "TRANSLATION"
    assert parse_root(root)["title"].startswith("Public sale of ECHA")


def test_undivided_procedure_lot_without_title_takes_procedure_title() -> None:
    notice = parse(DEV / "20-377805-001-EXP.xml")
    assert [lot["id"] for lot in notice["lots"]] == ["1"]
    assert notice["lots"][0]["title"] == notice["title"]


def test_lot_numbers_as_written() -> None:
    assert [lot["id"] for lot in parse(CONVERTER / "test-notices/20-320448-001-EXP.xml")["lots"]] == [
        "A",
        "B",
    ]
    lots = parse(DEV / "20-156983-001-EXP.xml")["lots"]
    assert [lot["id"] for lot in lots] == ["2", "1", "3", "4", "5", "6", "7"]  # document order
    assert lots[0]["title"] == "Lot 2: Aberdeenshire North"
    many = parse(DEV / "19-271873-001-EXP.xml")["lots"]
    assert len(many) == 109 and len({lot["id"] for lot in many}) == 109


def test_repeated_lot_numbers_stay_distinct() -> None:
    root = load(DEV / "20-213571-001-EXP.xml")
    for lot_no in original_form(root).iterfind("{*}OBJECT_CONTRACT/{*}OBJECT_DESCR/{*}LOT_NO"):
        lot_no.text = "1"
    assert [lot["id"] for lot in parse_root(root)["lots"]] == ["1", "1 (2)"]


def test_nuts_from_lots_in_document_order() -> None:
    notice = parse(DEV / "20-156983-001-EXP.xml")
    # lots 2..5: UKM50 UKM62; lots 6, 7: UKM71. The coded PERFORMANCE_NUTS order (UKM62, UKM71, UKM50)
    # and the buyers' addresses (UKM5) are not used.
    assert notice["nuts"] == ["UKM50", "UKM62", "UKM71"]
    assert notice["lots"][5]["nuts"] == ["UKM71"]


def test_nuts_placeholder_00_left_out() -> None:
    notice = parse(DEV / "20-260117-001-EXP.xml")  # Kenya: OBJECT_DESCR/n2016:NUTS CODE="00"
    assert notice["nuts"] == [] and notice["lots"][0]["nuts"] == []


def test_nuts_of_2021_namespace() -> None:
    assert parse(SCRAPER / "ted_v2_r2_0_9_2024.xml")["nuts"] == ["AT332"]


def test_coded_performance_nuts_not_used_when_the_form_has_no_place() -> None:
    """Design contest results: the coded PERFORMANCE_NUTS (FR1, PL22, PL2, PL911) are the winners' regions."""
    notice = parse(DEV / "18-536293-001-EXP.xml")
    assert notice["nuts"] == []
    assert notice["buyer"]["country"] == "PL"


def test_change_notice_takes_coded_place_and_deadline() -> None:
    """F14 corrigendum: no place and no PROCEDURE in the form; the coded section keeps the procedure's
    place and the corrected deadline (CHANGE IV.2.2: 2023-02-28 → 2023-03-03 17:00, Lisbon time)."""
    notice = parse(DEV / "23-119901-001-EXP.xml")
    assert notice["nuts"] == ["PT16E"]  # not the buyer's CA_CE_NUTS "PT"
    assert notice["deadline"] == "2023-03-03T17:00:00+00:00"
    assert notice["related"] == ["267307-2022"]  # the corrected notice (REF_NOTICE, NOTICE_NUMBER_OJ)
    assert notice["lots"] == [
        {
            "id": "1",
            "title": notice["title"],
            "cpv_main": "45221121",
            "cpv_additional": [],
            "nuts": ["PT16E"],
            "estimated_value": None,
        }
    ]


def _corrigendum_with_cpv_changes() -> etree._Element:
    """The recorded F14 as TED writes one that corrects the CPV (no recorded example): the coded section
    lists every code of the procedure, a CHANGE block replaces an additional code by two others."""
    root = load(DEV / "23-119901-001-EXP.xml")
    ns = root.nsmap[None]
    notice_data = root.find("{*}CODED_DATA_SECTION/{*}NOTICE_DATA")
    assert notice_data is not None
    main = notice_data.find("{*}ORIGINAL_CPV")
    assert main is not None
    for position, code in enumerate(["45233140", "71322000"], start=1):
        extra = etree.Element(f"{{{ns}}}ORIGINAL_CPV", CODE=code)
        notice_data.insert(notice_data.index(main) + position, extra)
    change = etree.fromstring(
        f'<CHANGE xmlns="{ns}"><WHERE><SECTION>II.2.2)</SECTION></WHERE>'
        "<OLD_VALUE><CPV_ADDITIONAL><CPV_CODE CODE='45233000'/></CPV_ADDITIONAL></OLD_VALUE>"
        "<NEW_VALUE><CPV_ADDITIONAL><CPV_CODE CODE='45233141'/></CPV_ADDITIONAL>"
        "<CPV_ADDITIONAL><CPV_CODE CODE='71322000'/></CPV_ADDITIONAL></NEW_VALUE></CHANGE>"
    )
    changes = original_form(root).find("{*}CHANGES")
    assert changes is not None
    changes.append(change)
    return root


def test_change_notice_keeps_coded_and_corrected_additional_cpv() -> None:
    notice = parse_root(_corrigendum_with_cpv_changes())

    assert notice["cpv_main"] == "45221121"
    assert notice["cpv_additional"] == ["45233140", "71322000", "45233141"]  # not the replaced 45233000
    assert [(lot["cpv_main"], lot["cpv_additional"]) for lot in notice["lots"]] == [
        ("45221121", ["45233140", "71322000", "45233141"])
    ]


_DEFENCE_FORMS = {
    "F16": ("PRIOR_INFORMATION_DEFENCE", "FD_PRIOR_INFORMATION_DEFENCE", "0", "prior-information"),
    "F17": ("CONTRACT_DEFENCE", "FD_CONTRACT_DEFENCE", "3", "contract-notice"),
    "F18": ("CONTRACT_AWARD_DEFENCE", "FD_CONTRACT_AWARD_DEFENCE", "7", "award"),
}


def _defence_notice(form: str, place: str = "") -> bytes:
    """An R2.0.8 defence notice written after the schema (no recorded one): the place of performance only
    in the coded `PERFORMANCE_NUTS`, unless `place` puts a `SITE_OR_LOCATION` in the form."""
    tag, body, document_type, _ = _DEFENCE_FORMS[form]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TED_EXPORT xmlns="http://publications.europa.eu/TED_schema/Export" DOC_ID="054321-2015" EDITION="2015040">
 <CODED_DATA_SECTION>
  <REF_OJS><COLL_OJ>S</COLL_OJ><NO_OJ>40</NO_OJ><DATE_PUB>20150226</DATE_PUB></REF_OJS>
  <NOTICE_DATA><NO_DOC_OJS>2015/S 040-054321</NO_DOC_OJS><LG_ORIG>FR</LG_ORIG><ISO_COUNTRY VALUE="BE"/>
   <ORIGINAL_CPV CODE="35300000">Armes, munitions et pièces associées</ORIGINAL_CPV>
   <PERFORMANCE_NUTS CODE="BE352">Arr. Namur</PERFORMANCE_NUTS>
   <PERFORMANCE_NUTS CODE="BE335">Arr. Liège</PERFORMANCE_NUTS>
   <CA_CE_NUTS CODE="BE100">Bruxelles</CA_CE_NUTS>
  </NOTICE_DATA>
  <CODIF_DATA><TD_DOCUMENT_TYPE CODE="{document_type}">Defence</TD_DOCUMENT_TYPE>
   <NC_CONTRACT_NATURE CODE="2">Supplies</NC_CONTRACT_NATURE></CODIF_DATA>
 </CODED_DATA_SECTION>
 <FORM_SECTION>
  <{tag} CATEGORY="ORIGINAL" FORM="{form[1:]}" LG="FR" VERSION="R2.0.8.S02.E01">
   <{body} CTYPE="SUPPLIES">
    <CONTRACTING_AUTHORITY_INFORMATION_DEFENCE><NAME_ADDRESSES_CONTACT_CONTRACT><CA_CE_CONCESSIONAIRE_PROFILE>
     <ORGANISATION><OFFICIALNAME>Défense — Direction Générale Ressources Matérielles</OFFICIALNAME></ORGANISATION>
     <TOWN>Evere</TOWN><COUNTRY VALUE="BE"/>
    </CA_CE_CONCESSIONAIRE_PROFILE></NAME_ADDRESSES_CONTACT_CONTRACT></CONTRACTING_AUTHORITY_INFORMATION_DEFENCE>
    <OBJECT_CONTRACT_INFORMATION_DEFENCE><DESCRIPTION_CONTRACT_INFORMATION_DEFENCE>
     <TITLE_CONTRACT><P>Munitions d'entraînement pour la composante Terre</P></TITLE_CONTRACT>
     <TYPE_CONTRACT_PLACE_DELIVERY_DEFENCE><TYPE_CONTRACT_DEFENCE TYPE_CONTRACT="SUPPLIES"/>{place}
     </TYPE_CONTRACT_PLACE_DELIVERY_DEFENCE>
     <CPV><CPV_MAIN><CPV_CODE CODE="35300000"/></CPV_MAIN></CPV>
    </DESCRIPTION_CONTRACT_INFORMATION_DEFENCE></OBJECT_CONTRACT_INFORMATION_DEFENCE>
   </{body}>
  </{tag}>
 </FORM_SECTION>
</TED_EXPORT>
""".encode()


@pytest.mark.parametrize("form", sorted(_DEFENCE_FORMS))
def test_defence_forms_take_the_coded_place(form: str) -> None:
    [parsed] = parse_bytes(_defence_notice(form)).notices
    notice: dict[str, Any] = parsed.notice.to_json_dict()

    assert notice["notice_type"] == _DEFENCE_FORMS[form][3]
    assert notice["buyer"]["name"] == "Défense — Direction Générale Ressources Matérielles"
    assert notice["nuts"] == ["BE352", "BE335"]  # not the buyer's CA_CE_NUTS BE100
    assert [lot["nuts"] for lot in notice["lots"]] == [["BE352", "BE335"]]


def test_defence_form_place_written_in_the_form_comes_first() -> None:
    place = '<SITE_OR_LOCATION><LABEL>Camp de Marche-en-Famenne</LABEL><NUTS CODE="BE343"/></SITE_OR_LOCATION>'
    [parsed] = parse_bytes(_defence_notice("F17", place)).notices
    assert parsed.notice.nuts == ["BE343"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("development-notices/20-377805-001-EXP.xml", "2020-09-18T09:00:00+02:00"),  # "9:00", Amsterdam
        ("development-notices/21-077815-001-EXP.xml", "2021-03-10"),  # date without time
        ("development-notices/20-566267-001-EXP.xml", "2021-01-04T13:00:00+00:00"),  # London, winter
        ("development-notices/21-364236-001-EXP.xml", "2021-08-18T23:59:00+02:00"),  # Stockholm
        ("development-notices/20-260117-001-EXP.xml", "2020-06-12T16:00:00"),  # Kenya: zone unknown
        ("development-notices/22-434184-001-EXP.xml", "2022-08-12T10:00:00+02:00"),  # F04 PIN with a limit
        ("development-notices/21-048169-001-EXP.xml", None),  # award
    ],
)
def test_deadline(name: str, expected: str | None) -> None:
    assert parse(CONVERTER / name)["deadline"] == expected


def test_coded_deadline_used_when_the_form_has_none() -> None:
    root = load(DEV / "20-156983-001-EXP.xml")
    remove(root, "{*}FORM_SECTION/*/{*}PROCEDURE/{*}DATE_RECEIPT_TENDERS")
    remove(root, "{*}FORM_SECTION/*/{*}PROCEDURE/{*}TIME_RECEIPT_TENDERS")
    assert parse_root(root)["deadline"] == "2020-05-08T12:00:00+01:00"  # DT_DATE_FOR_SUBMISSION, BST


def test_estimate_prefers_the_procedure_total() -> None:
    notice = parse(DEV / "22-434184-001-EXP.xml")
    assert (notice["estimated_value"], notice["currency"]) == (2695980.0, "EUR")
    assert [lot["estimated_value"] for lot in notice["lots"]] == [1300000.0, 1450000.0]


def test_estimate_sums_lots_only_when_every_lot_has_one() -> None:
    root = load(DEV / "20-213571-001-EXP.xml")
    remove(root, "{*}FORM_SECTION/*/{*}OBJECT_CONTRACT/{*}VAL_ESTIMATED_TOTAL")
    notice = parse_root(root)
    assert (notice["estimated_value"], notice["currency"]) == (1530376.0, "GBP")  # 1295520 + 234856
    remove(root, "{*}FORM_SECTION/*/{*}OBJECT_CONTRACT/{*}OBJECT_DESCR[2]/{*}VAL_OBJECT")
    notice = parse_root(root)
    assert (notice["estimated_value"], notice["currency"]) == (None, None)
    assert notice["lots"][0]["estimated_value"] == 1295520.0


def test_lot_estimates_in_different_currencies_are_not_summed() -> None:
    root = load(DEV / "20-213571-001-EXP.xml")
    remove(root, "{*}FORM_SECTION/*/{*}OBJECT_CONTRACT/{*}VAL_ESTIMATED_TOTAL")
    original_form(root).findall("{*}OBJECT_CONTRACT/{*}OBJECT_DESCR/{*}VAL_OBJECT")[1].set("CURRENCY", "EUR")
    assert parse_root(root)["estimated_value"] is None


def test_awarded_values_are_not_estimates() -> None:
    # F03: OBJECT_CONTRACT/VAL_TOTAL 388481.50 EUR and the coded VALUES PROCUREMENT_TOTAL are awarded
    notice = parse(SCRAPER / "ted_v2_r2_0_9_2024.xml")
    assert (notice["estimated_value"], notice["currency"]) == (None, None)
    # F03 with initial estimates per awarded contract (AWARDED_CONTRACT/VALUES/VAL_ESTIMATED_TOTAL)
    assert parse(DEV / "20-157543-001-EXP.xml")["estimated_value"] is None
    # F25 concession award giving a procedure-level estimate: that one is kept
    notice = parse(DEV / "19-318420-001-EXP.xml")
    assert (notice["estimated_value"], notice["currency"]) == (6500000.0, "EUR")


def test_contract_nature_and_procedure_from_coded_data() -> None:
    notice = parse(DEV / "21-364516-001-EXP.xml")  # F12 has no TYPE_CONTRACT: coded NC_CONTRACT_NATURE 4
    assert notice["contract_nature"] == "services"
    notice = parse(DEV / "21-119282-001-EXP.xml")  # F24 has no PT_*: coded PR_PROC E, concession procedure
    assert notice["procedure"] == "other"
    assert parse(DEV / "21-362579-001-EXP.xml")["procedure"] == "negotiated"  # PT_COMPETITIVE_NEGOTIATION
    assert parse(DEV / "21-635824-001-EXP.xml")["procedure"] == "negotiated"  # PT_INVOLVING_NEGOTIATION


def test_r208_buyer_with_official_name_and_national_id() -> None:
    notice = parse(SCRAPER / "ted_v2_r2_0_8_2015.xml")
    assert notice["buyer"] == {
        "name": "Région Bretagne",
        "country": "FR",
        "id": "233 5000 16000 40",
        "town": "Rennes Cedex 7",
    }
    assert notice["title"] == "Fourniture de services postaux pour les besoins de la région Bretagne."
    assert notice["cpv_main"] == "64110000" and notice["cpv_additional"] == ["64113000"]
    assert notice["nuts"] == []  # no LOCATION_NUTS in this form; no coded PERFORMANCE_NUTS either
    assert notice["procedure"] == "open" and notice["contract_nature"] == "services"
    # INITIAL_ESTIMATED_TOTAL_VALUE_CONTRACT "1 420 000" belongs to the awarded contract
    assert notice["estimated_value"] is None
    assert notice["related"] == ["299275-2014"]


_OLD_CONTRACT_NOTICE = """<?xml version="1.0" encoding="UTF-8"?>
<TED_EXPORT xmlns="http://publications.europa.eu/TED_schema/Export" DOC_ID="012345-2012" EDITION="2012010">
 <CODED_DATA_SECTION>
  <REF_OJS><COLL_OJ>S</COLL_OJ><NO_OJ>10</NO_OJ><DATE_PUB>20120117</DATE_PUB></REF_OJS>
  <NOTICE_DATA><NO_DOC_OJS>2012/S 10-012345</NO_DOC_OJS><LG_ORIG>FR</LG_ORIG><ISO_COUNTRY VALUE="BE"/>
   <REF_NOTICE><NO_DOC_OJS>2011/S 200-1234</NO_DOC_OJS><NO_DOC_OJS>BDA 11-123</NO_DOC_OJS></REF_NOTICE>
  </NOTICE_DATA>
  <CODIF_DATA><TD_DOCUMENT_TYPE CODE="3">Contract notice</TD_DOCUMENT_TYPE>
   <NC_CONTRACT_NATURE CODE="1">Works</NC_CONTRACT_NATURE>
   <PR_PROC CODE="1">Open procedure</PR_PROC></CODIF_DATA>
 </CODED_DATA_SECTION>
 <FORM_SECTION>
  <CONTRACT CATEGORY="ORIGINAL" FORM="2" LG="FR" VERSION="R2.0.8.S02.E01">
   <FD_CONTRACT CTYPE="WORKS">
    <CONTRACTING_AUTHORITY_INFORMATION><NAME_ADDRESSES_CONTACT_CONTRACT><CA_CE_CONCESSIONAIRE_PROFILE>
     <ORGANISATION><OFFICIALNAME>Ville de Namur</OFFICIALNAME>
      <NATIONALID>0207.343.572</NATIONALID></ORGANISATION>
     <ADDRESS>Hôtel de Ville</ADDRESS><TOWN>Namur</TOWN><POSTAL_CODE>5000</POSTAL_CODE><COUNTRY VALUE="BE"/>
    </CA_CE_CONCESSIONAIRE_PROFILE></NAME_ADDRESSES_CONTACT_CONTRACT></CONTRACTING_AUTHORITY_INFORMATION>
    <OBJECT_CONTRACT_INFORMATION>
     <DESCRIPTION_CONTRACT_INFORMATION>
      <TITLE_CONTRACT><P>Rénovation   de la</P><P>voirie communale</P></TITLE_CONTRACT>
      <TYPE_CONTRACT_LOCATION><TYPE_CONTRACT VALUE="WORKS"/></TYPE_CONTRACT_LOCATION>
      <LOCATION_NUTS><LOCATION><P>Namur</P></LOCATION><NUTS CODE="BE352"/><NUTS CODE="00"/></LOCATION_NUTS>
      <SHORT_CONTRACT_DESCRIPTION><P>Travaux de voirie.</P><P>Deux lots.</P></SHORT_CONTRACT_DESCRIPTION>
      <CPV><CPV_MAIN><CPV_CODE CODE="45233140"/></CPV_MAIN>
       <CPV_ADDITIONAL><CPV_CODE CODE="45233141"/></CPV_ADDITIONAL></CPV>
      <F02_DIVISION_INTO_LOTS><F02_DIV_INTO_LOT_YES VALUE="ALL_LOTS">
       <F02_ANNEX_B><LOT_NUMBER>1</LOT_NUMBER><LOT_TITLE>Chaussées</LOT_TITLE>
        <CPV><CPV_MAIN><CPV_CODE CODE="45233142"/></CPV_MAIN></CPV>
        <NATURE_QUANTITY_SCOPE><COSTS_RANGE_AND_CURRENCY CURRENCY="EUR"><VALUE_COST>1 000 000,25</VALUE_COST>
        </COSTS_RANGE_AND_CURRENCY></NATURE_QUANTITY_SCOPE></F02_ANNEX_B>
       <F02_ANNEX_B><LOT_NUMBER>2</LOT_NUMBER><LOT_TITLE>Trottoirs</LOT_TITLE>
        <CPV><CPV_MAIN><CPV_CODE CODE="45233161"/></CPV_MAIN>
         <CPV_ADDITIONAL><CPV_CODE CODE="45233141"/></CPV_ADDITIONAL></CPV>
        <NATURE_QUANTITY_SCOPE><COSTS_RANGE_AND_CURRENCY CURRENCY="EUR">
         <VALUE_COST FMTVAL="234567.25">234 567,25</VALUE_COST>
        </COSTS_RANGE_AND_CURRENCY></NATURE_QUANTITY_SCOPE></F02_ANNEX_B>
      </F02_DIV_INTO_LOT_YES></F02_DIVISION_INTO_LOTS>
     </DESCRIPTION_CONTRACT_INFORMATION>
     <QUANTITY_SCOPE><NATURE_QUANTITY_SCOPE><COSTS_RANGE_AND_CURRENCY CURRENCY="EUR">
      <VALUE_COST>1 234 567,50</VALUE_COST></COSTS_RANGE_AND_CURRENCY></NATURE_QUANTITY_SCOPE>
     </QUANTITY_SCOPE>
    </OBJECT_CONTRACT_INFORMATION>
    <PROCEDURE_DEFINITION_CONTRACT_NOTICE>
     <TYPE_OF_PROCEDURE><TYPE_OF_PROCEDURE_DETAIL_FOR_CONTRACT_NOTICE><PT_OPEN/></TYPE_OF_PROCEDURE_DETAIL_FOR_CONTRACT_NOTICE></TYPE_OF_PROCEDURE>
     <ADMINISTRATIVE_INFORMATION_CONTRACT_NOTICE>
      <RECEIPT_LIMIT_DATE><DAY>20</DAY><MONTH>02</MONTH><YEAR>2012</YEAR><TIME>11:00</TIME></RECEIPT_LIMIT_DATE>
     </ADMINISTRATIVE_INFORMATION_CONTRACT_NOTICE>
    </PROCEDURE_DEFINITION_CONTRACT_NOTICE>
   </FD_CONTRACT>
  </CONTRACT>
  <CONTRACT CATEGORY="TRANSLATION" FORM="2" LG="NL" VERSION="R2.0.8.S02.E01">
   <FD_CONTRACT CTYPE="WORKS"/></CONTRACT>
 </FORM_SECTION>
</TED_EXPORT>
"""


def test_old_form_contract_notice() -> None:
    """An R2.0.8 contract notice written after the schema (no recorded one): old-form lots (`F02_ANNEX_B`),
    decimal-comma values without FMTVAL, `RECEIPT_LIMIT_DATE`, `LOCATION_NUTS`."""
    notice = parse_root(parse_xml(_OLD_CONTRACT_NOTICE.encode()))
    assert notice == {
        "source": "ted",
        "source_id": "012345-2012",
        "notice_type": "contract-notice",  # FORM="2"
        "title": "Rénovation de la voirie communale",
        "description": "Travaux de voirie.\nDeux lots.",
        "buyer": {"name": "Ville de Namur", "country": "BE", "id": "0207.343.572", "town": "Namur"},
        "cpv_main": "45233140",
        "cpv_additional": ["45233141", "45233142", "45233161"],
        "nuts": ["BE352"],
        "contract_nature": "works",
        "procedure": "open",
        "published": "2012-01-17",
        "deadline": "2012-02-20T11:00:00+01:00",
        "estimated_value": 1234567.5,  # "1 234 567,50"
        "currency": "EUR",
        "lots": [
            {
                "id": "1",
                "title": "Chaussées",
                "cpv_main": "45233142",
                "cpv_additional": [],
                "nuts": [],
                "estimated_value": 1000000.25,
            },
            {
                "id": "2",
                "title": "Trottoirs",
                "cpv_main": "45233161",
                "cpv_additional": ["45233141"],
                "nuts": [],
                "estimated_value": 234567.25,
            },
        ],
        "languages": ["fr", "nl"],
        "url": "https://ted.europa.eu/en/notice/-/detail/12345-2012",
        "documents_url": None,
        "related": ["001234-2011", "BDA 11-123"],  # a reference in another format is kept as written
        "awards": [],
    }


def test_old_form_lot_sum_when_no_procedure_value() -> None:
    root = parse_xml(_OLD_CONTRACT_NOTICE.encode())
    remove(root, ".//{*}QUANTITY_SCOPE")
    notice = parse_root(root)
    assert (notice["estimated_value"], notice["currency"]) == (1234567.5, "EUR")  # 1 000 000,25 + 234 567,25


def test_title_and_buyer_fall_back_to_the_translation_section() -> None:
    root = load(DEV / "20-156983-001-EXP.xml")
    remove(root, "{*}FORM_SECTION/*/{*}OBJECT_CONTRACT/{*}TITLE")
    remove(root, "{*}FORM_SECTION/*/{*}CONTRACTING_BODY/{*}ADDRESS_CONTRACTING_BODY/{*}OFFICIALNAME")
    notice = parse_root(root)
    assert notice["title"] == "Construction work"  # ML_TI_DOC LG="EN"/TI_TEXT/P
    assert notice["buyer"]["name"] == "Langstane Housing Association Ltd"  # ML_AA_NAMES/AA_NAME


def test_buyer_country_falls_back_to_coded_iso_country() -> None:
    root = load(DEV / "20-156983-001-EXP.xml")
    remove(root, "{*}FORM_SECTION/*/{*}CONTRACTING_BODY/{*}ADDRESS_CONTRACTING_BODY/{*}COUNTRY")
    assert parse_root(root)["buyer"]["country"] == "GB"  # ISO_COUNTRY VALUE="UK"


def test_invalid_codes_are_skipped() -> None:
    root = load(DEV / "20-156983-001-EXP.xml")
    form = original_form(root)
    next(form.iterfind("{*}OBJECT_CONTRACT/{*}OBJECT_DESCR/{*}CPV_ADDITIONAL/{*}CPV_CODE")).set("CODE", "4500")
    next(form.iterfind("{*}OBJECT_CONTRACT/{*}OBJECT_DESCR/{*}NUTS")).set("CODE", "Aberdeen")
    notice = parse_root(root)
    assert notice["lots"][0]["cpv_additional"] == []
    assert notice["lots"][0]["nuts"] == ["UKM62"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("{*}CODED_DATA_SECTION/{*}REF_OJS/{*}DATE_PUB", "no publication date"),
        ("{*}FORM_SECTION/*", "no form"),
    ],
)
def test_missing_required_parts(path: str, message: str) -> None:
    root = load(DEV / "20-156983-001-EXP.xml")
    remove(root, path)
    with pytest.raises(NoticeError, match=message):
        parse_ted_export(root)


def test_missing_title_everywhere() -> None:
    root = load(DEV / "20-156983-001-EXP.xml")
    remove(root, "{*}FORM_SECTION/*/{*}OBJECT_CONTRACT/{*}TITLE")
    remove(root, "{*}TRANSLATION_SECTION")
    with pytest.raises(NoticeError, match=r"154324-2020: no title"):
        parse_ted_export(root)


def test_missing_id_uses_the_oj_number_else_fails() -> None:
    root = load(DEV / "20-156983-001-EXP.xml")
    del root.attrib["DOC_ID"]
    assert parse_root(root)["source_id"] == "154324-2020"  # NO_DOC_OJS "2020/S 064-154324"
    remove(root, "{*}CODED_DATA_SECTION/{*}NOTICE_DATA/{*}NO_DOC_OJS")
    with pytest.raises(NoticeError, match="no notice number"):
        parse_ted_export(root)


def test_failures_are_reported_per_file() -> None:
    outcome = parse_bytes(b'<TED_EXPORT DOC_ID="1-2020"><FORM_SECTION/></TED_EXPORT>')
    assert outcome.notices == []
    assert [f.reason for f in outcome.failures] == ["TED_EXPORT 1-2020: no publication date "
                                                    "(CODED_DATA_SECTION/REF_OJS/DATE_PUB)"]  # fmt: skip


def test_text_markup_inside_paragraphs() -> None:
    root = load(DEV / "20-156983-001-EXP.xml")
    title_p = next(original_form(root).iterfind("{*}OBJECT_CONTRACT/{*}TITLE/{*}P"))
    title_p.text = "Kitchen 2"
    superscript = etree.SubElement(title_p, title_p.tag.replace("}P", "}FT"), TYPE="SUP")
    superscript.text = "nd"
    superscript.tail = "  phase\n"
    assert parse_root(root)["title"] == "Kitchen 2nd phase"

"""Belgian e-Procurement (BOSA search API) publications → normalized notices."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from crawlers.parsers import parse_bytes
from crawlers.parsers.be import NOTICE_TYPES, parse_be_publication
from crawlers.parsers.fields import NoticeError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "be_eprocurement"
REAL = FIXTURES / "publicprocurement_2026-01-28T20-49-47-147Z.json"
INTEGRATION = FIXTURES / "search_20260206_175253.json"
FILES = sorted(FIXTURES.glob("*.json"))

# Files expected to fail, with why: none. Both recorded pages parse whole (25 + 5 publications).
EXPECTED_FAILURES: dict[str, str] = {}


def publications(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_bytes())["json"]["publications"]


def real(index: int) -> dict[str, Any]:
    return copy.deepcopy(publications(REAL)[index])


def parse(publication: Mapping[str, Any]) -> dict[str, Any]:
    return parse_be_publication(publication).to_json_dict()


# --- 1. every recorded file -----------------------------------------------------------------------------


def test_every_file_is_covered() -> None:
    assert [p.name for p in FILES] == [REAL.name, INTEGRATION.name]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_invariants(path: Path) -> None:
    outcome = parse_bytes(path.read_bytes())
    if path.name in EXPECTED_FAILURES:
        assert not outcome.notices and outcome.failures
        return
    assert outcome.failures == []
    assert len(outcome.notices) == len(publications(path))
    for parsed in outcome.notices:
        assert parsed.format == "be-json"
        assert re.fullmatch(r"json\.publications\[\d+\]", parsed.record)
        notice: dict[str, Any] = parsed.notice.to_json_dict()
        assert notice["source"] == "be"
        assert re.fullmatch(r"[0-9a-f-]{36}", notice["source_id"])
        assert notice["url"] == f"https://www.publicprocurement.be/publication-workspaces/{notice['source_id']}"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", notice["published"])
        assert notice["buyer"]["country"] == "BE"
        codes = [notice["cpv_main"], *notice["cpv_additional"]]
        assert all(re.fullmatch(r"\d{8}", code) for code in codes)
        assert len(set(codes)) == len(codes)
        assert notice["lots"]
        for lot in notice["lots"]:
            assert all(re.fullmatch(r"\d{8}", c) for c in [*filter(None, [lot["cpv_main"]]), *lot["cpv_additional"]])
        assert notice["languages"] and all(re.fullmatch(r"[a-z]{2}", lang) for lang in notice["languages"])
        assert notice["title"] == " ".join(notice["title"].split())
        assert notice["estimated_value"] is None and notice["currency"] is None
        if notice["notice_type"] == "award":
            assert notice["deadline"] is None


# --- 2. fully specified notices (values read from the JSON by hand) ----------------------------------------

URL = "https://www.publicprocurement.be/publication-workspaces/"


def test_contract_notice_with_lots_machelen() -> None:
    # publications[2]: subtype 16, S_NEG_W_CALL_24_81 (simplified negotiated with publication), 7 lots
    # that have only titles (no lot CPV/NUTS in this API), framework agreement, NL only.
    assert parse(real(2)) == {
        "source": "be",
        "source_id": "84320e98-96d9-49fe-8397-774ddec51568",
        "notice_type": "contract-notice",
        "title": "Ophalen en verwerken afval technische dienst",
        "description": "Ophalen en verwerken afval technische dienst",
        "buyer": {"name": "Gemeente Machelen", "country": "BE", "id": "503", "town": None},
        "cpv_main": "90000000",
        # cpvAdditionalCodes repeats the main code 90000000-7: left out.
        "cpv_additional": ["90510000"],
        "nuts": ["BE241"],
        "contract_nature": "services",
        "procedure": "negotiated",
        "published": "2026-01-28",
        # vaultSubmissionDeadline "2026-02-17T10:00:00" is Brussels time (CET in February).
        "deadline": "2026-02-17T10:00:00+01:00",
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                "id": str(n),
                "title": title,
                "cpv_main": None,
                "cpv_additional": [],
                "nuts": [],
                "estimated_value": None,
            }
            for n, title in enumerate(
                [
                    "Ophalen en verwerken van PMD",
                    "Ophalen en verwerken van boomwortels en andere niet te verhakselen takken/stammen",
                    "Ophalen en verwerken houtafval",
                    "Ophalen en verwerken van aarde vermengd met een beperkt gedeelte steenbrokken, beton, "
                    "bouwafval (max. ca 20%)",
                    "Ophalen en verwerken van gemengd groenafval",
                    "Huur, ledigen en verwerken van Schaeffers voor evenementen: rest, PMD, papier en karton",
                    "Ophalen en verwerken van steenbrokken en beton",
                ],
                start=1,
            )
        ],
        "languages": ["nl"],
        "url": URL + "84320e98-96d9-49fe-8397-774ddec51568",
        "documents_url": URL + "84320e98-96d9-49fe-8397-774ddec51568/documents",
        # publicationReferenceNumbersBDA holds only this publication's own reference
        # (PPP01I-681/6007/2025/26_001).
        "related": [],
        "awards": [],
    }


def test_award_kapellen() -> None:
    # publications[18]: subtype E4 (voluntary award notice), no vaultSubmissionDeadline, 3 lots.
    assert parse(real(18)) == {
        "source": "be",
        "source_id": "42c07a59-a315-4be7-81aa-cf41cd0a1e45",
        "notice_type": "award",
        "title": "groenonderhoud gebouwen",
        "description": "groenonderhoud gebouwen",
        "buyer": {"name": "Kapellen", "country": "BE", "id": "280", "town": None},
        "cpv_main": "77000000",
        "cpv_additional": [],
        "nuts": ["BE211"],
        "contract_nature": "services",
        "procedure": "negotiated",
        "published": "2026-01-28",
        "deadline": None,
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                "id": "1",
                "title": "groenonderhoud tuin Oude Pastorij",
                "cpv_main": None,
                "cpv_additional": [],
                "nuts": [],
                "estimated_value": None,
            },
            {
                "id": "2",
                "title": "groenonderhoud Beukenhof",
                "cpv_main": None,
                "cpv_additional": [],
                "nuts": [],
                "estimated_value": None,
            },
            {
                "id": "3",
                "title": "sportcomplex voetbal Kapelsestraat",
                "cpv_main": None,
                "cpv_additional": [],
                "nuts": [],
                "estimated_value": None,
            },
        ],
        "languages": ["nl"],
        "url": URL + "42c07a59-a315-4be7-81aa-cf41cd0a1e45",
        "documents_url": URL + "42c07a59-a315-4be7-81aa-cf41cd0a1e45/documents",
        "related": [],
        "awards": [],
    }


def test_contract_notice_english_listed_first_thomas_more() -> None:
    # publications[14]: publicationLanguages ["EN", "NL"], a Flemish college: Dutch is the original, English
    # the added version. One lot with the generated title "<dossier number> - 1": it gets the procedure's
    # CPV/NUTS.
    assert parse(real(14)) == {
        "source": "be",
        "source_id": "08d0c884-1ae7-43c2-87f4-cf79cc4bffbe",
        "notice_type": "contract-notice",
        "title": "Levering, installatie en inbedrijfstelling van een laboratorium vacuümmenger",
        "description": "Levering, installatie en inbedrijfstelling van een laboratorium vacuümmenger met "
        "een nuttig volume van minimaal 150 liter, bestemd voor geavanceerde meng-, dispergeer- en "
        "emulgeerprocessen.",
        "buyer": {"name": "Thomas More Kempen", "country": "BE", "id": "5098", "town": None},
        "cpv_main": "42996400",
        "cpv_additional": [],
        "nuts": ["BE213"],
        "contract_nature": "supplies",
        "procedure": "negotiated",
        "published": "2026-01-28",
        "deadline": "2026-02-23T11:00:00+01:00",
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                "id": "1",
                "title": "TMK/VOPMVB/2025-040 - 1",
                "cpv_main": "42996400",
                "cpv_additional": [],
                "nuts": ["BE213"],
                "estimated_value": None,
            }
        ],
        "languages": ["nl", "en"],
        "url": URL + "08d0c884-1ae7-43c2-87f4-cf79cc4bffbe",
        "documents_url": URL + "08d0c884-1ae7-43c2-87f4-cf79cc4bffbe/documents",
        "related": [],
        "awards": [],
    }


KLAVERTJE_NL = (
    "Het project omvat renovatie, gedeeltelijke heropbouw en nieuwbouw. Het bestaande gebouw, dat dateert"
    " uit de jaren 1970 en gekenmerkt wordt door de architecturale stijl en gevels die typisch zijn voor "
    "die periode, zal grotendeels behouden en gerenoveerd worden. Een deel ervan zal worden afgebroken om"
    " plaats te maken voor een nieuwe doorgang. In het midden van het perceel zal een nieuw volume worden"
    " gebouwd voor de uitbreiding van het kinderdagverblijf. Van de tweede tot de vierde verdieping "
    "zullen er ook appartementen worden ingericht. Het project besteedt bijzondere aandacht aan "
    "duurzaamheid. De gevelelementen van het gesloopte gedeelte zullen zorgvuldig worden gedemonteerd en "
    "vervolgens opnieuw worden gebruikt op de site. Bovendien zullen ecologische materialen, zoals "
    "hennepkalk en houtvezelisolatie, worden gebruikt voor de isolatie van de gevels. Het project omvat "
    "ook de inrichting van de omgeving. De nieuwe doorgang tussen de Avenue de l'Héliport en de Drève "
    "Verte wordt volledig aangelegd en de bestaande tuin van het kinderdagverblijf wordt heringericht. "
    "Het is essentieel dat de planning wordt nageleefd, aangezien het project deel uitmaakt van een "
    "duurzaam wijkcontract. Het is ook absoluut noodzakelijk dat het kinderdagverblijf op een bepaalde "
    "datum weer open kan gaan. De voorlopige oplevering van het project moet uiterlijk op 28 februari "
    "2029 plaatsvinden."
)


def test_cancelled_contract_notice_klavertje() -> None:
    # publications[0]: subtype 16 but cancelledAt 2026-01-28T09:08:45 (second publishedAt 54 ms before): the
    # publication of the day is the cancellation → change. Bilingual Brussels notice, publicationLanguages
    # ["NL", "FR"] (titles listed FR first, descriptions NL first: the API order is no signal): NL is the
    # original.
    # The description has a leading space and double spaces between paragraphs: collapsed.
    assert parse(real(0)) == {
        "source": "be",
        "source_id": "94cee4d6-7856-4003-b530-700d5e3eb577",
        "notice_type": "change",
        "title": "Werken Klavertje 4",
        "description": KLAVERTJE_NL,
        "buyer": {"name": "Grondregie Stad Brussel", "country": "BE", "id": "4743", "town": None},
        "cpv_main": "45000000",
        "cpv_additional": [],
        "nuts": ["BE100"],
        "contract_nature": "works",
        "procedure": "open",
        "published": "2026-01-28",
        # Kept as the API gives it for the cancelled call (midnight, Brussels).
        "deadline": "2026-01-29T00:00:00+01:00",
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                "id": "1",
                "title": "Werken Klavertje 4",
                "cpv_main": "45000000",
                "cpv_additional": [],
                "nuts": ["BE100"],
                "estimated_value": None,
            }
        ],
        "languages": ["nl", "fr"],
        "url": URL + "94cee4d6-7856-4003-b530-700d5e3eb577",
        "documents_url": URL + "94cee4d6-7856-4003-b530-700d5e3eb577/documents",
        "related": [],
        "awards": [],
    }


def test_ted_published_integration_record() -> None:
    # Integration-environment test data (shape only): tedPublished true, and publicationReferenceNumbersTED
    # is ["9/26/2023 3:26 PM 3PID2068 2023-054_9/26/2023 3:26 PM - PPP0C4"], i.e. the record's own
    # referenceNumber, not a TED publication number nor another publication: `related` stays empty.
    # No real record of the 2026-01-28 page was sent to TED (all tedPublished false, all TED lists empty).
    publication = publications(INTEGRATION)[1]
    assert parse(publication) == {
        "source": "be",
        "source_id": "b977f1e4-75d0-4a78-ab5a-05e79d6608ef",
        "notice_type": "contract-notice",
        "title": "Reconstruction école",
        "description": "Le marché comprend tous les travaux nécessaires à la reconstruction de l'école du "
        "Merlo sise rue du Merlo 16 à 1180 Bruxelles. L’entreprise comporte tous les travaux, les "
        "fournitures, les transports, la main d’œuvre et les moyens d’exécution pour une construction "
        "complète et impeccable, rien omis ni excepté.",
        "buyer": {"name": "3PNLDFRA", "country": "BE", "id": "3303", "town": None},
        "cpv_main": "45000000",
        "cpv_additional": [],
        "nuts": ["BE100"],
        "contract_nature": "works",
        "procedure": "open",
        "published": "2023-09-27",
        # 30 October 2023 is after the end of summer time (29 October): CET.
        "deadline": "2023-10-30T11:30:00+01:00",
        "estimated_value": None,
        "currency": None,
        "lots": [
            {
                "id": "1",
                "title": "Reconstruction école",
                "cpv_main": "45000000",
                "cpv_additional": [],
                "nuts": ["BE100"],
                "estimated_value": None,
            }
        ],
        "languages": ["fr", "nl"],
        "url": URL + "b977f1e4-75d0-4a78-ab5a-05e79d6608ef",
        "documents_url": URL + "b977f1e4-75d0-4a78-ab5a-05e79d6608ef/documents",
        "related": [],
        "awards": [],
    }


# --- 3. the tricky rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtype", "expected"),
    [
        ("1", "prior-information"),
        ("4", "prior-information"),
        ("9", "prior-information"),
        ("10", "contract-notice"),
        ("16", "contract-notice"),
        ("21", "contract-notice"),
        ("24", "contract-notice"),
        ("E3", "contract-notice"),
        ("25", "award"),
        ("29", "award"),
        ("30", "award"),
        ("33", "award"),
        ("37", "award"),
        ("E4", "award"),
        ("BE-E4", "award"),
        ("e4", "award"),
        ("38", "change"),
        ("40", "change"),
        ("E6", "change"),
        ("E5", "other"),
        ("E1", "prior-information"),
        ("E2", "prior-information"),
        ("X01", "other"),
        ("99", "other"),
        (16, "contract-notice"),
    ],
)
def test_notice_type_from_subtype(subtype: object, expected: str) -> None:
    publication = real(2)
    publication["noticeSubType"] = subtype
    notice = parse(publication)
    assert notice["notice_type"] == expected
    assert (notice["deadline"] is None) == (expected == "award")


def test_notice_type_table_covers_every_eforms_subtype() -> None:
    assert {str(n) for n in range(1, 41)} <= set(NOTICE_TYPES)


def test_subtypes_seen_in_the_real_page() -> None:
    kinds = {p["noticeSubType"]: parse(p)["notice_type"] for p in publications(REAL) if not p.get("cancelledAt")}
    assert kinds == {
        "16": "contract-notice",
        "21": "contract-notice",
        "E3": "contract-notice",
        "29": "award",
        "30": "award",
        "33": "award",
        "E4": "award",
    }


def test_cancelled_award_is_a_change_without_deadline() -> None:
    publication = real(18)
    publication["cancelledAt"] = "2026-01-28T10:00:00"
    notice = parse(publication)
    assert notice["notice_type"] == "change"
    assert notice["deadline"] is None


def test_missing_subtype_fails() -> None:
    publication = real(2)
    del publication["noticeSubType"]
    with pytest.raises(NoticeError, match="noticeSubType"):
        parse_be_publication(publication)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-02-17T10:00:00", "2026-02-17T10:00:00+01:00"),
        ("2026-07-01T10:00:00", "2026-07-01T10:00:00+02:00"),
        ("2026-03-29T10:00:00.123456", "2026-03-29T10:00:00+02:00"),
        ("2026-02-17T09:00:00Z", "2026-02-17T09:00:00+00:00"),
        ("2026-02-17T10:00:00+01:00", "2026-02-17T10:00:00+01:00"),
        ("2026-02-17", "2026-02-17"),
        ("not a date", None),
        (None, None),
        (20260217, None),
    ],
)
def test_deadline(raw: object, expected: str | None) -> None:
    publication = real(2)
    publication["vaultSubmissionDeadline"] = raw
    assert parse(publication)["deadline"] == expected


def test_original_language_prefers_national_languages_in_listed_order() -> None:
    # SCK CEN (publications[7]): ["EN", "NL", "FR"], titles listed FR, NL, EN → Dutch; buyer "SCK CEN" (NL).
    notice = parse(real(7))
    assert notice["languages"] == ["nl", "fr", "en"]
    assert notice["buyer"]["name"] == "SCK CEN"
    # Brussels-Capital bilingual (publications[11]): ["NL", "FR"] → Dutch title, Dutch buyer name.
    notice = parse(real(11))
    assert notice["languages"] == ["nl", "fr"]
    assert notice["title"].startswith("OVERHEIDSOPDRACHT VAN DIENSTEN MET ALS VOORWERP")
    assert notice["buyer"]["name"] == "Gewestelijk agentschap voor netheid - Net Brussel"
    # Listed FR first → French (integration record 1 above); English alone stays English.
    publication = real(14)
    publication["publicationLanguages"] = ["EN"]
    publication["dossier"]["titles"] = [{"language": "EN", "text": "Laboratory mixer"}]
    assert parse(publication)["languages"] == ["en"]


def test_title_missing_in_listed_language_falls_back() -> None:
    publication = real(14)
    publication["dossier"]["titles"] = [{"language": "EN", "text": "Laboratory mixer"}]
    notice = parse(publication)
    assert notice["title"] == "Laboratory mixer"
    assert notice["languages"] == ["en", "nl"]
    # Description follows the title's language when it exists in it.
    assert notice["description"].startswith("Supply, installation and commissioning")

    publication["publicationLanguages"] = []
    publication["dossier"]["titles"] = [{"language": "DE", "text": "Labormischer"}]
    assert parse(publication)["languages"] == ["de"]


def test_lot_ids_read_from_unordered_lot_titles() -> None:
    # publications[8]: 12 lots listed "Lot 9 :", "Lot 8 :", "Lot 1 :", ... " Lot 10 :" (leading space).
    lots = parse(real(8))["lots"]
    assert [lot["id"] for lot in lots] == ["9", "8", "1", "3", "12", "10", "5", "7", "4", "2", "6", "11"]
    assert lots[0]["title"] == "Lot 9 : l’IA et les outils numériques au service de mon entreprise"
    assert lots[5]["title"] == "Lot 10 : Cession et transmission d’entreprise"


def test_lot_ids_generated_title_and_free_numbers() -> None:
    # publications[11]: lots "25-2722 - 2" (generated from dossier number 25-2722) and one without a number.
    lots = parse(real(11))["lots"]
    assert [(lot["id"], lot["title"][:20]) for lot in lots] == [
        ("2", "25-2722 - 2"),
        ("1", "OVERHEIDSOPDRACHT VA"),
    ]


def test_lot_ids_by_position_when_titles_collide() -> None:
    publication = real(18)
    for lot in publication["lots"]:
        lot["titles"] = [{"language": "NL", "text": "Perceel 1: groen"}]
    assert [lot["id"] for lot in parse(publication)["lots"]] == ["1", "2", "3"]


def test_no_lot_block_gives_one_lot_with_procedure_fields() -> None:
    publication = real(4)
    publication["lots"] = []
    notice = parse(publication)
    assert notice["lots"] == [
        {
            "id": "1",
            "title": notice["title"],
            "cpv_main": "48900000",
            "cpv_additional": ["30216110", "48329000"],
            "nuts": ["BE352"],
            "estimated_value": None,
        }
    ]


def test_cpv_check_digits_and_order() -> None:
    # publications[4]: main 48900000-7, additional [30216110-0, 48900000-7, 48329000-0].
    notice = parse(real(4))
    assert notice["cpv_main"] == "48900000"
    assert notice["cpv_additional"] == ["30216110", "48329000"]


def test_nuts_distinct_in_order_and_junk_dropped() -> None:
    assert parse(real(1))["nuts"] == ["BE336", "BE335", "BE334", "BE332", "BE331"]
    publication = real(1)
    publication["nutsCodes"] = ["be100", "BE100", "", None, 12, "not nuts", {"code": "BE241"}]
    assert parse(publication)["nuts"] == ["BE100", "BE241"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("OPEN", "open"),
        ("NEG_WO_CALL_24", "negotiated"),
        ("NEG_WO_CALL_25", "negotiated"),
        ("S_NEG_W_CALL_24_81", "negotiated"),
        ("RESTRICTED_24", "restricted"),
        ("COMP_DIAL_24", "competitive-dialogue"),
        ("INNOVATION_PARTNERSHIP_25", "innovation-partnership"),
        ("DESIGN_CONTEST", "other"),
        (None, None),
        ("", None),
    ],
)
def test_procedure(raw: str | None, expected: str | None) -> None:
    publication = real(2)
    publication["dossier"]["procurementProcedureType"] = raw
    assert parse(publication)["procedure"] == expected


@pytest.mark.parametrize(
    ("natures", "expected"),
    [
        (["WORKS"], "works"),
        (["SUPPLIES"], "supplies"),
        ("SERVICES", "services"),
        (["MIXED"], None),
        (None, None),
    ],
)
def test_contract_nature(natures: object, expected: str | None) -> None:
    publication = real(2)
    publication["natures"] = natures
    assert parse(publication)["contract_nature"] == expected


def test_related_ted_numbers_normalized_own_reference_left_out() -> None:
    publication = real(2)
    own = publication["referenceNumber"]
    publication["publicationReferenceNumbersTED"] = [own, "00123456-2026", "2026/S 019-045678", "045678-2026"]
    publication["publicationReferenceNumbersBDA"] = [own, "PPP01I-681/6007/2025/26_002"]
    assert parse(publication)["related"] == ["123456-2026", "45678-2026", "PPP01I-681/6007/2025/26_002"]


def test_url_is_escaped() -> None:
    publication = real(2)
    publication["publicationWorkspaceId"] = "a b/../c?d"
    notice = parse(publication)
    assert notice["source_id"] == "a b/../c?d"
    assert notice["url"] == URL + "a%20b%2F..%2Fc%3Fd"


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("publicationWorkspaceId", "publicationWorkspaceId"),
        ("publicationDate", "publicationDate"),
        ("dossier", "title"),
        ("organisation", "organisation name"),
        ("publicationLanguages", None),
    ],
)
def test_required_fields(field: str, message: str | None) -> None:
    publication = real(2)
    del publication[field]
    if message is None:  # languages then come from the title's own language tag
        assert parse(publication)["languages"] == ["nl"]
        return
    with pytest.raises(NoticeError, match=message):
        parse_be_publication(publication)


def test_no_language_at_all_fails() -> None:
    publication = real(2)
    publication["publicationLanguages"] = None
    publication["dossier"]["titles"] = ["Ophalen afval"]
    with pytest.raises(NoticeError, match="language"):
        parse_be_publication(publication)


WRONG_VALUES: list[object] = [None, "", "x", 0, 1.5, True, [], {}, ["x"], [None], [{}], {"a": 1}, [[1]]]


@pytest.mark.parametrize("index", [0, 2, 8])
def test_wrong_types_never_crash(index: int) -> None:
    base = real(index)
    paths: list[tuple[str, ...]] = [(key,) for key in base]
    paths += [("dossier", key) for key in base["dossier"]] + [("organisation", key) for key in base["organisation"]]
    paths += [("lots", "0", key) for key in base["lots"][0]] + [("cpvMainCode", "code")]
    for path in paths:
        for value in WRONG_VALUES:
            publication = real(index)
            target: Any = publication
            for key in path[:-1]:
                target = target[int(key)] if isinstance(target, list) else target[key]
            target[path[-1]] = value
            with contextlib.suppress(NoticeError, ValidationError):
                parse_be_publication(publication)


def test_not_an_object() -> None:
    with pytest.raises(NoticeError):
        parse_be_publication(["not", "a", "record"])  # type: ignore[arg-type]


def test_bad_record_is_one_failure_in_its_page() -> None:
    document = json.loads(REAL.read_bytes())
    del document["json"]["publications"][3]["dossier"]["titles"]
    outcome = parse_bytes(json.dumps(document).encode())
    assert len(outcome.notices) == 24
    assert [(f.record, f.reason) for f in outcome.failures] == [
        ("json.publications[3]", "BE publication efd5f306-076d-4981-a2f3-ddedd5bc9313: no dossier title")
    ]

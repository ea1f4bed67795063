"""Awards of TED result notices, eForms and legacy, field by field on real recorded notices.

The converted eForms notices (tests/fixtures/ted_eforms/converted-from-ted-xml) are the Publications Office's
conversions of the legacy notices of the same name: both readings must find the same winners and values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crawlers.parsers import parse_bytes
from crawlers.store.service import content_hash
from tests.factories import make_notice

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SDK = FIXTURES / "ted_eforms" / "sdk-examples"
CONVERTED = FIXTURES / "ted_eforms" / "converted-from-ted-xml"
LEGACY = FIXTURES / "ted_legacy" / "ted-xml-data-converter" / "development-notices"
SCRAPER = FIXTURES / "ted_legacy" / "scraper-tedawards"
RDF_MAPPING = FIXTURES / "ted_legacy" / "ted-rdf-mapping"


def _notice(path: Path) -> dict[str, Any]:
    outcome = parse_bytes(path.read_bytes())
    assert not outcome.failures, outcome.failures
    (parsed,) = outcome.notices
    return parsed.notice.to_json_dict()


def _awards(path: Path) -> list[dict[str, Any]]:
    awards: list[dict[str, Any]] = _notice(path)["awards"]
    return awards


BESSIERES_GROUP = [
    {
        "name": "SAS Stéphane BESSIERES",
        "country": "FR",
        "identifier": None,
        "town": "SAINT CHELY D'APCHER",
        "sme": True,
    },
    {"name": "BET INSE SARL", "country": "FR", "identifier": None, "town": "ONET LE CHATEAU", "sme": True},
    {"name": "SARL Pierre BRUNEL", "country": "FR", "identifier": None, "town": "MENDE", "sme": True},
    {"name": "SIGMA ACOUSTIQUE", "country": "FR", "identifier": None, "town": "RODEZ", "sme": True},
]


def test_legacy_veat_awarded_to_a_group() -> None:
    """F15 (VEAT) of SELO for the commune of Nasbinals: AWARDED_TO_GROUP, four CONTRACTORs, each SME."""
    assert _awards(LEGACY / "22-073124-001-EXP.xml") == [
        {
            "lot_ids": ["1"],  # no LOT_NO: the notice's only lot
            "winners": BESSIERES_GROUP,
            "value": 120000.0,  # VALUES/VAL_TOTAL CURRENCY="EUR"
            "currency": "EUR",
            "tenders_received": None,  # a VEAT has no TENDERS block
            "date": "2022-01-21",  # DATE_CONCLUSION_CONTRACT
        }
    ]


def test_eforms_tendering_party_of_four_tenderers_is_one_award() -> None:
    """The same notice converted to eForms: one TenderingParty with four efac:Tenderer = one award, a group;
    the winner size `sme` (BT-165) gives sme true."""
    assert _awards(CONVERTED / "22-073124-001-EXP.xml") == [
        {
            "lot_ids": ["LOT-0000"],
            "winners": BESSIERES_GROUP,
            "value": 120000.0,  # LotTender PayableAmount
            "currency": "EUR",
            "tenders_received": None,
            "date": "2022-01-21",  # SettledContract IssueDate
        }
    ]


def test_eforms_several_lots_with_polish_vat_numbers() -> None:
    """Polish hospital, eight lots: seven awarded (one tender each), one not (no lot result with a winner)."""
    awards = _awards(CONVERTED / "22-086633-001-EXP.xml")
    assert [a["lot_ids"] for a in awards] == [[f"LOT-000{n}"] for n in range(1, 8)]
    assert [(a["value"], a["currency"]) for a in awards] == [
        (47620.0, "EUR"),  # as the conversion writes it
        (57231.0, "PLN"),
        (36436.5, "PLN"),
        (7950.0, "PLN"),
        (68950.0, "PLN"),
        (1139.0, "PLN"),
        (11800.0, "PLN"),
    ]
    assert [a["tenders_received"] for a in awards] == [3, 2, 2, 2, 1, 2, 3]
    stanley = awards[3]["winners"]
    assert stanley == [
        {
            "name": "Przedsiębiorstwo Produkcyjno-Handlowe Import-Export STANLEY sp. z o.o.",
            "country": "PL",
            "identifier": "PL7820006755",  # CompanyID, a Polish NIP: VAT number with its prefix
            "town": "Poznań",
            "sme": True,
        }
    ]
    # the conversion has one SettledContract for six of the tenders: its IssueDate (the legacy form dates lot 6
    # a week earlier, 2021-04-13)
    assert {a["date"] for a in awards} == {"2021-04-20"}
    assert _awards(LEGACY / "22-086633-001-EXP.xml")[5]["date"] == "2021-04-13"


def test_not_awarded_lots_have_no_entry() -> None:
    """German pharmacy tender: lot results LOT-0002 and LOT-0005 selec-w, LOT-0003 clos-nw (none)."""
    awards = _awards(CONVERTED / "22-091559-001-EXP.xml")
    assert {lot for a in awards for lot in a["lot_ids"]} == {"LOT-0002", "LOT-0005"}
    heumann = awards[3]
    assert [w["name"] for w in heumann["winners"]] == [
        "Heumann Pharma GmbH & Co. Generica KG (BG Heumann / Heunet GbR)",
        "Heunet Pharma GmbH (BG Heumann / Heunet GbR)",
    ]
    assert (heumann["value"], heumann["tenders_received"]) == (214000.0, 5)
    # the legacy original: NO_AWARDED_CONTRACT blocks give nothing either
    assert {lot for a in _awards(LEGACY / "22-091559-001-EXP.xml") for lot in a["lot_ids"]} == {"2", "5"}
    # a Swedish award notice whose only lot was not awarded (NO_AWARDED_CONTRACT; eForms clos-nw)
    assert _awards(LEGACY / "21-364240-001-EXP.xml") == []
    assert _awards(CONVERTED / "21-364240-001-EXP.xml") == []


def test_framework_with_several_suppliers_and_groups() -> None:
    """National Highways framework (lot 1: six suppliers, two of them groups): one award per winning tender."""
    lot_1 = [a for a in _awards(CONVERTED / "21-000061-001-EXP.xml") if a["lot_ids"] == ["LOT-0001"]]
    assert [[w["name"] for w in a["winners"]] for a in lot_1] == [
        ["Amey OW Ltd"],
        ["ATKINS Ltd", "Jacobs UK Ltd"],
        ["Costain Ltd"],
        ["Arcadis Consulting (UK) Ltd", "Pell Frischmann Consulting Engineers Ltd", "TRL Ltd"],
        ["Ove Arup and Partners Ltd"],
        ["WSP UK Ltd"],
    ]
    assert {a["tenders_received"] for a in lot_1} == {7}
    assert lot_1[-1]["date"] == "2020-10-14"


def test_subcontractors_are_not_winners_and_sizes() -> None:
    """SDK maximal award notice: TPA-0001 has two tenderers and a subcontractor (ORG-0010), left out."""
    first = _awards(SDK / "can_24_maximal.xml")[0]
    assert [(w["name"], w["sme"]) for w in first["winners"]] == [("Gyro Soft SA", False), ("The best App Ltd.", True)]
    assert first["winners"][1]["identifier"] == "DE928374653"
    assert first["date"] == "2023-03-24"  # IssueDate (conclusion) rather than AwardDate 2023-03-23


def test_french_siren_of_winners() -> None:
    """Rouen Habitat's award (SDK example adapted from a real notice): CompanyID of the winners, normalized."""
    awards = _awards(SDK / "can_24_FRA_comments.xml")
    assert [(a["lot_ids"], a["winners"][0]["name"], a["winners"][0]["identifier"]) for a in awards] == [
        (["LOT-0001"], "Espaces Verts Lemire", "326912557"),
        (["LOT-0002"], "ID Verde SASU", "339609661"),
    ]
    assert [(a["value"], a["tenders_received"]) for a in awards] == [(95414.0, 3), (26500.0, 2)]


def test_one_contract_for_two_lots_is_one_award() -> None:
    """VEAT: both lot results name contract CON-0001, whose one tender covers them: one award, two lots."""
    (award,) = _awards(SDK / "veat_81.xml")
    assert award["lot_ids"] == ["LOT-0001", "LOT-0002"]
    assert [w["name"] for w in award["winners"]] == ["New Org"]


def test_r208_award_with_an_organisation_block() -> None:
    """Région Bretagne 2014 (R2.0.8 CONTRACT_AWARD): ORGANISATION/OFFICIALNAME, only an initial estimate."""
    assert _awards(SCRAPER / "ted_v2_r2_0_8_2015.xml") == [
        {
            "lot_ids": ["1"],  # LOT_NUMBER 1
            "winners": [{"name": "la poste", "country": None, "identifier": None, "town": "Rennes", "sme": None}],
            "value": None,  # INITIAL_ESTIMATED_TOTAL_VALUE_CONTRACT is not the awarded value
            "currency": None,
            "tenders_received": 1,
            "date": "2014-12-17",
        }
    ]


def test_design_contest_prize_winners_each_their_own_award() -> None:
    awards = _awards(LEGACY / "18-156915-001-EXP.xml")
    assert [[w["name"] for w in a["winners"]] for a in awards] == [
        ["2. Preis: lohrer.hochrein.landschaftsarchitekten und stadtplaner Gmbh"],
        ["2. Preis: planerzirkel h.g.kleymann"],
    ]
    assert {(a["value"], a["currency"], a["tenders_received"]) for a in awards} == {(31932.77, "EUR", 16)}


PAIRS = sorted(p.name for p in CONVERTED.glob("*.xml") if (LEGACY / p.name).exists())


@pytest.mark.parametrize("name", PAIRS)
def test_legacy_and_converted_eforms_agree(name: str) -> None:
    """Same notice, two formats: the same winners (names, in order) and values, award by award (a design
    contest's prize value is not a tender value in eForms: compared where both give one)."""
    legacy, eforms = _notice(LEGACY / name), _notice(CONVERTED / name)
    if legacy["notice_type"] != "award":
        assert legacy["awards"] == [] and eforms["awards"] == []
        return

    def names(awards: list[dict[str, Any]]) -> list[list[str]]:
        return [[w["name"] for w in a["winners"]] for a in awards]

    assert names(legacy["awards"]) == names(eforms["awards"])
    for old, new in zip(legacy["awards"], eforms["awards"], strict=True):
        if old["value"] is not None and new["value"] is not None:
            assert old["value"] == new["value"]


def test_non_award_notices_have_none() -> None:
    assert _notice(CONVERTED / "20-213571-001-EXP.xml")["awards"] == []  # contract notice
    assert _notice(SDK / "can-modif_24_value.xml")["awards"] == []  # a modification is a change


def test_empty_awards_leave_the_content_hash_as_before() -> None:
    """A notice stored before §2 had `awards` must not look changed when crawled again."""
    data = make_notice(title="Entretien des espaces verts — École Numérique").to_json_dict()
    assert data["awards"] == []
    before = {key: value for key, value in data.items() if key != "awards"}
    assert content_hash(data) == content_hash(before)
    with_award = make_notice(
        notice_type="award", deadline=None, awards=[{"winners": [{"name": "École Numérique SA"}]}]
    ).to_json_dict()
    assert content_hash(with_award) != content_hash({k: v for k, v in with_award.items() if k != "awards"})


def test_f06_utilities_award() -> None:
    """PKP Intercity (F06_2014, utilities, negotiated without call): the value inside `VALUE`, not `VALUES`."""
    assert _awards(RDF_MAPPING / "002303-2018.xml") == [
        {
            "lot_ids": ["1"],  # NO_LOT_DIVISION, no LOT_NO
            "winners": [
                {
                    "name": "Zakłady Naprawcze Taboru Kolejowego i Miejskiego Sp. z o.o.",
                    "country": "PL",
                    "identifier": None,  # no NATIONALID
                    "town": "Gdańsk",
                    "sme": True,  # <SME/>
                }
            ],
            "value": 3366090.0,  # AWARDED_CONTRACT/VALUE/VAL_TOTAL CURRENCY="PLN"
            "currency": "PLN",
            "tenders_received": 1,  # TENDERS/NB_TENDERS_RECEIVED
            "date": "2017-12-22",  # DATE_CONCLUSION_CONTRACT
        }
    ]

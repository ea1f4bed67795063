"""DECP (données essentielles de la commande publique) contracts → award notices, on real recorded records."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from crawlers.parsers import parse_bytes
from crawlers.parsers.decp import is_decp_record, parse_decp_record
from crawlers.parsers.fields import NoticeError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "decp"
FLUX_2024_02 = FIXTURES / "decp-13001845000028-2024-02-29-01.json"  # `marches: [...]`, titulaires unwrapped
FLUX_2024_10 = FIXTURES / "decp-13001845000028-2024-10-06-01.json"  # `marches: {marche: [...]}`, wrapped
GIP = "13001845000028"  # the buyer of every recorded record: GIP Maximilien (its SIRET; no name in the records)


def contracts(path: Path) -> list[dict[str, Any]]:
    marches = json.loads(path.read_bytes())["marches"]
    return copy.deepcopy(marches if isinstance(marches, list) else marches["marche"])


def contract(path: Path, contract_id: str) -> dict[str, Any]:
    return next(c for c in contracts(path) if c["id"] == contract_id)


def parse(record: dict[str, Any]) -> dict[str, Any]:
    return parse_decp_record(record).to_json_dict()


def siret_winner(siret: str) -> dict[str, Any]:
    return {"name": siret, "country": "FR", "identifier": siret, "town": None, "sme": None}


MAXIMILIEN_TITLE = (
    "Développement et intégration à l’écosystème de la plateforme Maximilien d’un système d’information relatif à "
    "la gestion des consultations de formation professionnelle."
)
EXPECTED_2024_02: dict[str, Any] = {
    "source": "decp",
    "source_id": GIP + "2024_D2F_2023S12323_33 962_01",  # acheteur.id + id (the consolidated data's uid)
    "notice_type": "award",
    "title": MAXIMILIEN_TITLE,
    "description": None,
    "buyer": {"name": GIP, "country": "FR", "id": GIP, "town": None},  # the 2022 format names no buyer
    "cpv_main": "72210000",
    "cpv_additional": [],
    "nuts": [],  # lieuExecution 93 is a "Code département"
    "contract_nature": "services",  # CPV division 72
    "procedure": "open",  # "Appel d'offres ouvert"
    "published": "2024-02-29",  # datePublicationDonnees
    "deadline": None,
    "estimated_value": None,
    "currency": None,
    "lots": [
        {
            "id": "1",
            "title": MAXIMILIEN_TITLE,
            "cpv_main": "72210000",
            "cpv_additional": [],
            "nuts": [],
            "estimated_value": None,
        }
    ],
    "languages": ["fr"],
    "url": None,
    "documents_url": None,
    "related": [],
    "awards": [
        {
            "lot_ids": ["1"],
            "winners": [siret_winner("44090956200041")],  # typeIdentifiant SIRET, no denominationSociale
            "value": 952543.75,  # montant
            "currency": "EUR",
            "tenders_received": None,  # offresRecues null
            "date": "2024-01-02",  # dateNotification
        }
    ],
}


def test_record_of_the_2022_format() -> None:
    (only,) = contracts(FLUX_2024_02)
    assert parse(only) == EXPECTED_2024_02


def test_wrapped_titulaires_subcontracting_and_negotiated_procedure() -> None:
    tma = parse(contract(FLUX_2024_10, "D2F2019S0000102"))
    assert tma["source_id"] == GIP + "D2F2019S0000102"
    assert tma["procedure"] == "negotiated"  # "Procédure avec négociation"
    assert tma["contract_nature"] == "services"  # CCAG TIC, CPV 72250000
    # the subcontractor of actesSousTraitance (SIRET 44090956244090) did not win the contract
    assert tma["awards"] == [
        {
            "lot_ids": ["1"],
            "winners": [siret_winner("37890194600483")],
            "value": 4087520.83,
            "currency": "EUR",
            "tenders_received": None,
            "date": "2018-11-13",
        }
    ]


def test_framework_without_amount_and_works_by_ccag() -> None:
    framework = parse(contract(FLUX_2024_10, "D2F0000402"))  # accord-cadre multi-attributaires, montant 0.0
    assert [(a["value"], a["currency"], a["date"]) for a in framework["awards"]] == [(None, None, "2019-06-07")]
    assert framework["procedure"] is None  # no procedure in the record
    works = parse(contract(FLUX_2024_10, "D2F0000502"))  # CCAG Travaux, CPV 45000000
    assert works["contract_nature"] == "works"
    # the modification (montant 50.0) does not replace the contract's own amount
    assert [a["value"] for a in works["awards"]] == [30000.0]


def test_a_titulaire_whose_siret_is_not_one_keeps_its_number_as_name() -> None:
    odd = parse(contract(FLUX_2024_10, "D2F0000302"))  # "SIRET" 4781914061: ten digits
    assert odd["awards"][0]["winners"] == [
        {"name": "4781914061", "country": "FR", "identifier": None, "town": None, "sme": None}
    ]


def test_every_recorded_record_parses() -> None:
    outcome = parse_bytes(FLUX_2024_10.read_bytes())
    assert outcome.failures == []
    assert len(outcome.notices) == 17
    assert {parsed.format for parsed in outcome.notices} == {"decp-json"}
    assert [parsed.record for parsed in outcome.notices][:2] == ["marches.marche[0]", "marches.marche[1]"]
    notices = [parsed.notice for parsed in outcome.notices]
    assert all(n.notice_type == "award" and n.published.isoformat() == "2024-10-06" for n in notices)
    assert all(len(n.awards) == 1 and n.awards[0].winners for n in notices)
    assert len({n.source_id for n in notices}) == 17


# --- the flat records of the consolidated dataset's API (decp-2022-marches-valides) ---------------------------


def flat(record: dict[str, Any]) -> dict[str, Any]:
    """A recorded contract in the API's flat shape: names lower-cased and joined with `_`, titulaires spread
    over numbered columns, `CDL` where nothing is given (as the ministry's dataset writes them)."""
    titulaires = [t.get("titulaire", t) for t in record["titulaires"]]
    row: dict[str, Any] = {
        "id": record["id"],
        "acheteur_id": record["acheteur"]["id"],
        "objet": record["objet"],
        "codecpv": record.get("codeCPV", "CDL"),
        "procedure": record.get("procedure", "CDL"),
        "nature": record["nature"],
        "montant": record["montant"],
        "offresrecues": record.get("offresRecues") or "CDL",
        "datenotification": record["dateNotification"],
        "datepublicationdonnees": record["datePublicationDonnees"],
        "lieuexecution_code": record["lieuExecution"]["code"],
        "lieuexecution_typecode": record["lieuExecution"]["typeCode"],
    }
    for number in (1, 2, 3):
        titulaire = titulaires[number - 1] if number <= len(titulaires) else {}
        row[f"titulaire_id_{number}"] = titulaire.get("id", "CDL")
        row[f"titulaire_typeidentifiant_{number}"] = titulaire.get("typeIdentifiant", "CDL")
    return row


def test_flat_api_record_reads_as_the_regulatory_one() -> None:
    (only,) = contracts(FLUX_2024_02)
    row = flat(only)
    assert is_decp_record(row)
    assert parse(row) == EXPECTED_2024_02


def test_flat_record_with_a_group_of_named_titulaires() -> None:
    row = flat(contract(FLUX_2024_10, "D2F2021S0392902"))
    row.update(
        acheteur_nom="GIP Maximilien",
        offresrecues="4",
        titulaire_denominationsociale_1="École Numérique SA",
        titulaire_id_2="FR 12 530 796 176",
        titulaire_typeidentifiant_2="TVA",
        titulaire_denominationsociale_2="Société Générale d'Études",
    )
    notice = parse(row)
    assert notice["buyer"]["name"] == "GIP Maximilien"
    (award,) = notice["awards"]  # two titulaires of one contract: a group
    assert award["winners"] == [
        {"name": "École Numérique SA", "country": "FR", "identifier": "81833726300045", "town": None, "sme": None},
        {"name": "Société Générale d'Études", "country": "FR", "identifier": "530796176", "town": None, "sme": None},
    ]
    assert (award["value"], award["tenders_received"], award["date"]) == (24937.5, 4, "2021-06-08")


def test_several_holders_without_a_group_are_one_award_each() -> None:
    record = contract(FLUX_2024_10, "D2F2020S0757302")  # typeGroupementOperateurs "Pas de groupement"
    record["titulaires"].append({"titulaire": {"typeIdentifiant": "SIRET", "id": "44090956200041"}})
    awards = parse(record)["awards"]
    assert [[w["identifier"] for w in a["winners"]] for a in awards] == [["80885963100018"], ["44090956200041"]]
    record["typeGroupementOperateurs"] = "Solidaire"
    assert len(parse(record)["awards"]) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "without id"),
        ({"objet": "  "}, "no object"),
        ({"acheteur": {"id": "CDL"}}, "no buyer id"),
        ({"dateNotification": None, "datePublicationDonnees": "CDL"}, "no date"),
    ],
)
def test_a_record_that_is_not_a_contract_fails_clearly(change: dict[str, Any], message: str) -> None:
    (only,) = contracts(FLUX_2024_02)
    only.update(change)
    with pytest.raises(NoticeError, match=message):
        parse_decp_record(only)


def test_a_bad_contract_among_good_ones_is_set_aside_alone() -> None:
    document = json.loads(FLUX_2024_10.read_bytes())
    document["marches"]["marche"][1]["objet"] = ""
    outcome = parse_bytes(json.dumps(document).encode())
    assert len(outcome.notices) == 16
    assert [(f.record, f.reason) for f in outcome.failures] == [
        ("marches.marche[1]", "DECP contract D2F0000502: no object (objet)")
    ]

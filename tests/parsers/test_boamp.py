"""BOAMP: opendatasoft API v2.1 records (2006 v110 schema, 2026 FNSimple) and BOAMP XML notices (v230)."""

from __future__ import annotations

import copy
import doctest
import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from crawlers.parsers import boamp, parse_bytes
from crawlers.parsers.boamp import NOTICE_TYPES, PROCEDURES, as_list, parse_boamp_record, parse_boamp_xml
from crawlers.parsers.fields import NoticeError
from crawlers.parsers.xml import parse_xml

FIXTURES = Path(__file__).parent.parent / "fixtures" / "boamp"
JSON_DIR = FIXTURES / "opendatasoft-json"
XML_DIR = FIXTURES / "boamp-xml"
OLD_PAGE = JSON_DIR / "json_api_boamp.json"  # 20 records of July 2006, donnees in the v110 schema
NEW_PAGE = JSON_DIR / "boamp-where-date.json"  # wrapper {ok,url,status,data}: 3 FNSimple records of 2026
FILES = sorted(JSON_DIR.glob("*.json")) + sorted(XML_DIR.glob("*.xml"))

# Files expected to fail, with why: none. Every recorded page and notice is a complete notice.
EXPECTED_FAILURES: dict[str, str] = {}
EXPECTED_COUNTS = {OLD_PAGE.name: 20, NEW_PAGE.name: 3}


def old_records() -> list[dict[str, Any]]:
    return copy.deepcopy(json.loads(OLD_PAGE.read_bytes())["results"])


def new_records() -> list[dict[str, Any]]:
    return copy.deepcopy(json.loads(NEW_PAGE.read_bytes())["data"]["results"])


def new_record(idweb: str) -> dict[str, Any]:
    return next(r for r in new_records() if r["idweb"] == idweb)


def old_record(idweb: str) -> dict[str, Any]:
    return next(r for r in old_records() if r["idweb"] == idweb)


def xml(name: str) -> dict[str, Any]:
    return parse_boamp_xml(parse_xml((XML_DIR / name).read_bytes())).to_json_dict()


def record(data: dict[str, Any]) -> dict[str, Any]:
    return parse_boamp_record(data).to_json_dict()


def with_donnees(data: dict[str, Any], edit: Any) -> dict[str, Any]:
    """The record with its `donnees` JSON string decoded, edited in place by `edit`, and encoded back."""
    donnees = json.loads(data["donnees"])
    edit(donnees)
    data["donnees"] = json.dumps(donnees, ensure_ascii=False)
    return data


# --- 1. every recorded file -----------------------------------------------------------------------------


def test_every_file_is_covered() -> None:
    assert len(FILES) == 2 + 16


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_invariants(path: Path) -> None:
    outcome = parse_bytes(path.read_bytes())
    if path.name in EXPECTED_FAILURES:
        assert not outcome.notices and outcome.failures
        return
    assert outcome.failures == []
    assert len(outcome.notices) == EXPECTED_COUNTS.get(path.name, 1)
    for parsed in outcome.notices:
        assert parsed.format == ("boamp-xml" if path.suffix == ".xml" else "boamp-json")
        notice: dict[str, Any] = parsed.notice.to_json_dict()
        assert notice["source"] == "boamp"
        assert re.fullmatch(r"\d{2}-\d{1,6}|[A-Z]{3}\d{8}[0-9A-Z]{4}", notice["source_id"])
        assert notice["url"] == f"https://www.boamp.fr/pages/avis/?q=idweb:{notice['source_id']}"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", notice["published"])
        assert notice["buyer"]["country"] == "FR"
        assert notice["buyer"]["name"] == " ".join(notice["buyer"]["name"].split())
        codes = [*filter(None, [notice["cpv_main"]]), *notice["cpv_additional"]]
        assert all(re.fullmatch(r"\d{8}", code) for code in codes)
        assert len(set(codes)) == len(codes)
        assert notice["lots"]
        lot_codes = set()
        for lot in notice["lots"]:
            assert lot["id"]
            own = [*filter(None, [lot["cpv_main"]]), *lot["cpv_additional"]]
            assert all(re.fullmatch(r"\d{8}", c) for c in own) and len(set(own)) == len(own)
            lot_codes.update(own)
            assert set(lot["nuts"]) <= set(notice["nuts"])
        assert lot_codes <= set(codes)
        assert notice["languages"] == ["fr"]
        assert notice["title"] == " ".join(notice["title"].split())
        assert (notice["estimated_value"] is None) == (notice["currency"] is None)
        assert all(re.fullmatch(r"[A-Z]{2}[0-9A-Z]{0,3}", code) for code in notice["nuts"])
        if notice["notice_type"] == "award":
            assert notice["deadline"] is None and notice["estimated_value"] is None
        assert notice["source_id"] not in notice["related"]


# --- 2. fully specified notices, read from the files by hand -----------------------------------------------

LOTS_7308 = [
    # lots.lot[].description (trailing spaces dropped); no lot number in the record: numbered in order
    "1- Prestations pour l’URSSAF de Rouen (Seine Maritime)",
    "2- Prestations pour l’URSSAF du Havre (Seine-Maritime)",
    "3- Prestations pour l’URSSAF de Dieppe (Seine Maritime)",
    "4- Prestations pour l’URSSAF d’Evreux (Eure)",
    "5- Prestations pour les URSSAF de Caen-Isigny et Caen-Unicité (Calvados)",
    "6- Prestations pour l’URSSAF de Saint-Lô (Manche)",
    "7- Prestations pour l’URSSAF d’Alençon-Valframbert (Orne)",
]

EXPECTED_7308: dict[str, Any] = {
    "source": "boamp",
    "source_id": "26-7308",
    "notice_type": "contract-notice",  # nature APPEL_OFFRE
    "title": "Prestations traiteurs pour l'URSSAF Normandie",  # flat objet
    "description": (  # natureMarche.description, its trailing space dropped
        "L’accord-cadre a pour objet la réalisation de prestations de services de traiteurs pour les cafés "
        "d’accueil/pause-café, les cocktails, les plateaux-repas, les buffets qui ont lieu sur les 8 sites "
        "(dont 2 sites sur Caen) indiqués au DCE ou dans des salles de réunion tierces."
    ),
    # organisme.nomOfficiel (the flat nomacheteur writes "URSSAF Normandie"), codeIdentificationNational
    "buyer": {"name": "URSSAF NORMANDIE", "country": "FR", "id": "90209799700016", "town": "ROUEN CEDEX 1"},
    "cpv_main": "55520000",  # natureMarche.codeCPV.objetPrincipal.classPrincipale
    "cpv_additional": [],  # every lot repeats 55520000; descripteur_code 304 is BOAMP's thesaurus, not CPV
    "nuts": [],  # lieuExecution "Normandie" and five départements: no NUTS code in the record
    "contract_nature": "services",
    "procedure": "open",
    "published": "2026-01-21",
    # dateReceptionOffres "2026-02-27T12:00:00" has no zone: Paris time (CET in February); the flat
    # datelimitereponse "2026-02-27T12:00:00+00:00" is the same wall-clock time wrongly labelled UTC
    "deadline": "2026-02-27T12:00:00+01:00",
    # valeurEstimee is a range, fourchette 1 to 75,000 EUR, of a framework agreement (techAchat accordCadre):
    # not an estimate (module docstring), and no lot has a value
    "estimated_value": None,
    "currency": None,
    "lots": [
        {"id": str(n), "title": t, "cpv_main": "55520000", "cpv_additional": [], "nuts": [], "estimated_value": None}
        for n, t in enumerate(LOTS_7308, start=1)
    ],
    "languages": ["fr"],
    "url": "https://www.boamp.fr/pages/avis/?q=idweb:26-7308",
    "documents_url": "https://www.marches-publics.gouv.fr/entreprise/consultation/2927597?orgAcronyme=s7h",
    "related": [],
    "awards": [],
}

EXPECTED_7298: dict[str, Any] = {
    "source": "boamp",
    "source_id": "26-7298",
    "notice_type": "contract-notice",
    "title": "TRAVAUX D'AMENAGEMENTS INTERIEURS ET EXTERIEURS",
    "description": None,  # natureMarche.description says exactly the title
    "buyer": {"name": "COMMUNE DE LA MADELEINE", "country": "FR", "id": "21590368300013", "town": "LA MADELEINE"},
    # classPrincipale 45432111. The buyer also typed "45432111-5 ... / 44111400-5 ..." in the free-text
    # procedure.categorieAcheteur: not a classification field, not read.
    "cpv_main": "45432111",
    "cpv_additional": [],
    "nuts": [],  # "(59) Nord" is a département
    "contract_nature": "works",
    "procedure": "open",
    "published": "2026-01-21",
    "deadline": "2026-02-16T12:00:00+01:00",  # dateReceptionOffres, with its own offset
    "estimated_value": None,
    "currency": None,
    "lots": [  # lotsMarche non: one lot, the procedure's
        {
            "id": "1",
            "title": "TRAVAUX D'AMENAGEMENTS INTERIEURS ET EXTERIEURS",
            "cpv_main": "45432111",
            "cpv_additional": [],
            "nuts": [],
            "estimated_value": None,
        }
    ],
    "languages": ["fr"],
    "url": "https://www.boamp.fr/pages/avis/?q=idweb:26-7298",
    "documents_url": "https://marchespublics596280.fr/entreprise/consultation/581998?orgAcronyme=50368",
    "related": [],
    "awards": [],
}

EXPECTED_CHENOVE: dict[str, Any] = {  # results[0] of the 2006 page, v110 schema
    "source": "boamp",
    "source_id": "BXP06181020621O",
    "notice_type": "contract-notice",  # nature APPEL_OFFRE, etat INITIAL
    "title": "travaux de restructuration, extension et création d'un bassin supplémentaire au centre nautique "
    "de Chenôve",
    "description": "restructuration, extension et création d'un bassin supplémentaire au centre nautique de Chenôve.",
    # IDENT/NOM "ville de Chenôve." and VILLE "Chenôve,": the typeset layout's separators dropped
    "buyer": {"name": "ville de Chenôve", "country": "FR", "id": None, "town": "Chenôve"},
    "cpv_main": None,  # no CPV_OBJ; CLASSES "Travaux de construction" and descripteurs are not CPV
    "cpv_additional": [],
    "nuts": [],
    "contract_nature": "works",  # type_marche TRAVAUX
    "procedure": "negotiated",  # type_procedure MARCHE_NEGOCIE
    "published": "2006-07-04",  # dateparution (gestion writes "2006-07-4")
    # DELAI/RECEPT_CANDIDAT "21 juillet 2006" + AUTRES ", à 12 heures" (negotiated: requests to participate)
    "deadline": "2006-07-21T12:00:00+02:00",
    "estimated_value": None,
    "currency": None,
    "lots": [  # LOTS/NUM_LOT ["1", "4"] with LOTS/AUTRES ["", "gros oeuvre.", "bardages."]
        {
            "id": "1",
            "title": "gros oeuvre.",
            "cpv_main": None,
            "cpv_additional": [],
            "nuts": [],
            "estimated_value": None,
        },
        {"id": "4", "title": "bardages.", "cpv_main": None, "cpv_additional": [], "nuts": [], "estimated_value": None},
    ],
    "languages": ["fr"],
    "url": "https://www.boamp.fr/pages/avis/?q=idweb:BXP06181020621O",
    "documents_url": "http://marches.e-bourgogne.fr/acces_direct.php?id=11593",  # DOCUMENTS/URL, final "." dropped
    "related": [],
    "awards": [],
}

EXPECTED_CALAIS: dict[str, Any] = {  # results[15] of the 2006 page: CPV_OBJ, ART27CMP list, CODE_NUTS
    "source": "boamp",
    "source_id": "BWP06184070151T",
    "notice_type": "contract-notice",
    "title": "Installation d'escaliers, d'accroches de contrepoids, réfection des locaux techniques pour les "
    "postes d'accostage 5, 7, 8, à Calais",
    "description": "installation d'escaliers, d'accroches de contrepoids, réfection des locaux techniques pour les "
    "postes d'accostage 5, 7, 8.",
    "buyer": {
        "name": "chambre de commerce et d'industrie de Calais, établissement public de l'Etat",
        "country": "FR",
        "id": None,
        "town": "Calais Cedex",
    },
    "cpv_main": "45453100",  # CPV_OBJ "45453100."
    "cpv_additional": ["45262650", "45320000", "45223110", "29221613"],  # ART27CMP "45262650, ..., 29221613."
    "nuts": ["FR302"],  # OBJET/CODE_NUTS "FR302." (next to LIEU_EXEC "port de Calais")
    "contract_nature": "works",
    "procedure": "open",
    "published": "2006-07-05",
    "deadline": "2006-08-28T16:00:00+02:00",  # "28 août 2006" + ", à 16 heures"
    "estimated_value": None,
    "currency": None,
    "lots": [  # "Prestations divisées en lots : non."
        {
            "id": "1",
            "title": "Installation d'escaliers, d'accroches de contrepoids, réfection des locaux techniques pour "
            "les postes d'accostage 5, 7, 8, à Calais",
            "cpv_main": "45453100",
            "cpv_additional": ["45262650", "45320000", "45223110", "29221613"],
            "nuts": ["FR302"],
            "estimated_value": None,
        }
    ],
    "languages": ["fr"],
    "url": "https://www.boamp.fr/pages/avis/?q=idweb:BWP06184070151T",
    "documents_url": None,  # DOCUMENTS gives postal addresses only
    "related": [],
    "awards": [],
}

EXPECTED_PUB: dict[str, Any] = {  # test-pub.xml, JOUE contract notice of the Ville de Paris
    "source": "boamp",
    "source_id": "16-186394",
    "notice_type": "contract-notice",  # NATURE/APPEL_OFFRE/STANDARD, STATUT/INITIAL
    "title": "2016 DFA 167 - Prestations de remorquage pour les véhicules de la ville de Paris",  # RESUME_OBJET
    "description": "Accords-cadres à bons de commande relatifs à des prestations de remorquage pour les véhicules "
    "de la ville de Paris, en deux lots séparés.",
    "buyer": {"name": "Ville de Paris", "country": "FR", "id": None, "town": "Paris cedex 13"},
    "cpv_main": "50118110",
    "cpv_additional": [],
    # the lots' CODE_NUTS FR10; ADJUDICATEUR_NUTS FR101 (the buyer) and the CODE_NUTS FR101 of the
    # RENSEIGNEMENTS / ENVOYER_OFFRES addresses are not places of performance
    "nuts": ["FR10"],
    "contract_nature": "services",  # TYPE_MARCHE/SERVICE
    "procedure": "open",
    "published": "2017-01-01",
    "deadline": "2017-02-07T12:00:00+01:00",  # CONDITION_DELAI/RECEPT_OFFRES
    # no VALEUR: the minimum and maximum amounts of the frameworks are only in the lots' INFO_COMPL text
    "estimated_value": None,
    "currency": None,
    "lots": [
        {
            "id": "1",
            "title": "Prestations de remorquage pour les véhicules légers de la ville de Paris",
            "cpv_main": "50118110",
            "cpv_additional": [],
            "nuts": ["FR10"],
            "estimated_value": None,
        },
        {
            "id": "2",
            "title": "Prestations de remorquage pour les poids lourds de la ville de Paris",
            "cpv_main": "50118110",
            "cpv_additional": [],
            "nuts": ["FR10"],
            "estimated_value": None,
        },
    ],
    "languages": ["fr"],
    "url": "https://www.boamp.fr/pages/avis/?q=idweb:16-186394",
    "documents_url": "https://marches.maximilien.fr",  # IDENTITE/URL_DOCUMENT
    "related": [],
    "awards": [],
}

FECAMP_TITLE = (  # RESUME_OBJET as BOAMP wrote it, lower-cased
    "mise en oeuvre d'une aire de glisse (skatepark, roller, bmx et trottinette) sur le site de la mâture à fécamp"
)
EXPECTED_ATTRIBUTION_10: dict[str, Any] = {
    "source": "boamp",
    "source_id": "16-185754",
    "notice_type": "award",
    "title": FECAMP_TITLE,
    "description": "Mise en oeuvre d'une aire de glisse (skatepark, roller, BMX et trottinette) sur le site de la "
    "Mâture à Fécamp.Dialogue compétitif en application des articles 36 et 67 du Code des marchés publics. Cette "
    "procédure a pour objet l'instauration d'un dialogue entre les candidats sélectionnés et la Ville de Fécamp. "
    "Ce dialogue établi sur la base du projet partiellement défini devra aboutir à une solution pour la "
    "réalisation d'une aire de glisse. A l'issue du dialogue, le candidat dont l'offre finale sera retenue "
    "assurera l'exécution des travaux.",
    "buyer": {"name": "ville de Fécamp", "country": "FR", "id": None, "town": "Fecamp cedex"},
    "cpv_main": "45212100",
    "cpv_additional": [],
    "nuts": ["FR232"],  # OBJET/LIEU_EXEC_LIVR/CODE_NUTS
    "contract_nature": None,  # no TYPE_MARCHE
    "procedure": "competitive-dialogue",
    # the notice's own INDEXATION/DATE_PUBLICATION, not the 2015-02-06 of the earlier notice it quotes
    "published": "2017-01-13",
    "deadline": None,
    "estimated_value": None,  # MONTANT 348852 EUR is the awarded amount
    "currency": None,
    # one DECISION: its NUM_LOT "2016-52" is a contract number, not a lot; the procedure is the lot
    "lots": [
        {
            "id": "1",
            "title": FECAMP_TITLE,
            "cpv_main": "45212100",
            "cpv_additional": [],
            "nuts": ["FR232"],
            "estimated_value": None,
        }
    ],
    "languages": ["fr"],
    "url": "https://www.boamp.fr/pages/avis/?q=idweb:16-185754",
    "documents_url": None,  # URL_PROFIL_ACHETEUR is not read for an award
    "related": ["15-14160"],  # MARCHE/ANNONCE_ANTERIEUR/REFERENCE/IDWEB
    # one DECISION, three TITULAIRE: a group (the names say "(Mandataire)", "(co-traitant)", "(Co-traitant)",
    # dropped from the names); the amount and the number of offers are the mandataire's RENSEIGNEMENT
    "awards": [
        {
            "lot_ids": ["1"],
            "winners": [
                {
                    "name": "CONCRETE WAVES SKATE PARKS",
                    "country": "FR",
                    "identifier": None,
                    "town": "TARNOS",
                    "sme": None,
                },
                {"name": "SPORT DES VILLES", "country": "FR", "identifier": None, "town": "CAEN", "sme": None},
                {
                    "name": "LAURENCE CREMEL PAYSAGISTE",
                    "country": "FR",
                    "identifier": None,
                    "town": "PARIS",
                    "sme": None,
                },
            ],
            "value": 348852.0,
            "currency": "EUR",
            "tenders_received": 3,
            "date": "2016-12-26",
        }
    ],
}

LOTS_TOULON = [  # OBJET/LOTS/LOT: NUM, INTITULE, CPV/PRINCIPAL; every CODE_NUTS is FR825
    ("1", "surgelés viande poisson légumes", "15896000"),
    ("2", "surgelés élaborés", "15894300"),
    ("3", "pâtisseries surgelées", "15812000"),
    ("4", "viande fraîche volaille et lapin", "15110000"),
    ("5", "viande fraîche porc boeuf veau agneau", "15110000"),
    ("6", "charcuterie et rôti cuit (autres que surgelés ou en conserve appertisée)", "15131120"),
    ("7", "produits de la mer ou d'eau douce (autres que surgelés ou en conserve appertisée)", "15200000"),
    ("8", "fruits et légumes crus et préparés 4e et 5e gamme (préparés et réfrigérés)", "15300000"),
    ("9", "boissons", "15900000"),
    ("10", "produits laitiers et avicoles (autres que surgelés)", "15500000"),
    ("11", "épicerie : fonds", "15891600"),
    ("12", "épicerie", "15800000"),
    ("13", "épicerie - compotes, fruits au sirop, biscuits, desserts", "15833100"),
    ("14", "épicerie - petits déjeuners", "15813000"),
    ("15", "produits laitiers bio", "15500000"),
    ("16", "eau gélifiée lyophilisée", "15880000"),
    ("17", "entrées et plats mixés en frais", "15880000"),
    ("18", "nutriments pour supplémentation orale", "15880000"),
    ("19", "viande et volaille bio (frais)", "15110000"),
    ("20", "pains et viennoiseries", "15811000"),
    ("21", "pâtisserie fraîche sucrée ou salée", "15812100"),
]
BRAKE = ("Brake France Service", "Béziers", False)  # PME_NON
AWARDS_TOULON = [  # DECISION: NUM_LOT, TITULAIRE (DENOMINATION, VILLE, PME_OUI/PME_NON), MONTANT, NB_OFFRE_RECU
    ("1", *BRAKE, 130000.0, 3),
    ("2", *BRAKE, 60000.0, 4),
    ("3", *BRAKE, 15000.0, 4),
    ("4", "Société de Distribution Avicole Sda", "Ancenis Cedex", True, 45000.0, 5),
    ("5", "Générale Frigorifique Distribution Lerda", "Le Muy", True, 65000.0, 2),
    ("6", *BRAKE, 40000.0, 3),
    ("7", "Davigel", "Dieppe", False, 10000.0, 6),
    ("8", "Terreazur Pomona", "Toulon", True, 30000.0, 1),
    ("10", *BRAKE, 150000.0, 5),
    ("11", "Nectarys Sarl", "Juine Sur Loire", True, 13000.0, 4),
    ("12", "Felix Potin Provence", "Brignoles", True, 65000.0, 1),
    ("14", "Pro A Pro Distribution Sud", "Miramas", False, 40000.0, 3),
    ("15", "Passion Froid Groupe Pomona", "Aix En Provence cedex 3", False, 4500.0, 2),
    ("16", "Nectarys Sarl", "Juigne Sur Loire", True, 3000.0, 4),
    ("17", "les-repas-sante", "Beaune", True, 20000.0, 1),
    ("18", "les-repas-sante", "Beaune", True, 6500.0, 2),
    ("20", "Paindor Toulon Sas", "Ollioules", True, 90000.0, 2),
    ("21", "Sarl Boulangerie-Patisserie Lapierre", "Toulon", True, 4500.0, 1),
]
EXPECTED_ATTRIBUTION_12: dict[str, Any] = {
    "source": "boamp",
    "source_id": "17-2599",
    "notice_type": "award",  # NATURE/ATTRIBUTION/STANDARD
    "title": "Fourniture de denrées alimentaires pour le Centre Communal d'Action Sociale de Toulon",
    "description": "Le présent marché public a pour objet la fourniture de denrées alimentaires nécessaire à la "
    "confection d'environ 245 000 repas par an.6 sites de livraison sur la commune de Toulon sont concernés.Le "
    "marché public est un accord-cadre mono-attributaire à bons de commandes et à lots séparés",
    "buyer": {"name": "C.C.A.S. de Toulon", "country": "FR", "id": "26830066200015", "town": "Toulon"},
    "cpv_main": "15890000",
    "cpv_additional": [  # the lots' codes in order, each once
        "15896000",
        "15894300",
        "15812000",
        "15110000",
        "15131120",
        "15200000",
        "15300000",
        "15900000",
        "15500000",
        "15891600",
        "15800000",
        "15833100",
        "15813000",
        "15880000",
        "15811000",
        "15812100",
    ],
    "nuts": ["FR825"],  # the lots'; not ADJUDICATEUR_NUTS, nor the TITULAIRE/CODE_NUTS of the winners
    "contract_nature": "supplies",
    "procedure": "open",
    "published": "2017-01-08",
    "deadline": None,
    "estimated_value": None,  # CARACTERISTIQUES VALEUR_MIN/VALEUR_MAX: lowest and highest offers, awarded
    "currency": None,
    "lots": [
        {"id": n, "title": t, "cpv_main": c, "cpv_additional": [], "nuts": ["FR825"], "estimated_value": None}
        for n, t, c in LOTS_TOULON
    ],
    "languages": ["fr"],
    "url": "https://www.boamp.fr/pages/avis/?q=idweb:17-2599",
    "documents_url": None,
    # the earlier notice: its idweb, and its JOUE publication (ANNEE 2016, NUM_ANNONCE 252708), also given
    # in DONNEES/PUBLICATION_ANTERIEURE
    "related": ["16-107438", "252708-2016"],
    # one DECISION per lot; lots 9, 13 and 19 are INFRUCTUEUX: no entry
    "awards": [
        {
            "lot_ids": [lot],
            "winners": [{"name": name, "country": "FR", "identifier": None, "town": town, "sme": sme}],
            "value": value,
            "currency": "EUR",
            "tenders_received": offers,
            "date": "2016-10-20",
        }
        for lot, name, town, sme, value, offers in AWARDS_TOULON
    ],
}


def test_26_7308_seven_lots_and_a_value_range() -> None:
    assert record(new_record("26-7308")) == EXPECTED_7308


def test_26_7298() -> None:
    assert record(new_record("26-7298")) == EXPECTED_7298


def test_2006_record_chenove() -> None:
    assert record(old_record("BXP06181020621O")) == EXPECTED_CHENOVE


def test_2006_record_calais() -> None:
    assert record(old_record("BWP06184070151T")) == EXPECTED_CALAIS


def test_xml_contract_notice() -> None:
    assert xml("test-pub.xml") == EXPECTED_PUB


def test_xml_award_fecamp() -> None:
    assert xml("test-attribution-10.xml") == EXPECTED_ATTRIBUTION_10


def test_xml_award_with_lots_and_a_joue_reference() -> None:
    assert xml("test-attribution-12.xml") == EXPECTED_ATTRIBUTION_12


# --- 3. the rules of this source ----------------------------------------------------------------------------


def test_doctests() -> None:
    result = doctest.testmod(boamp)
    assert result.attempted > 0 and result.failed == 0


def test_as_list() -> None:
    assert as_list(None) == []
    assert as_list({"a": 1}) == [{"a": 1}]
    assert as_list([{"a": 1}, None, {"a": 2}]) == [{"a": 1}, {"a": 2}]
    assert as_list("") == [""]


def test_the_notice_types() -> None:
    assert {NOTICE_TYPES[k] for k in ("APPEL_OFFRE", "PRE_INFORMATION", "ATTRIBUTION", "RECTIFICATIF")} == {
        "contract-notice",
        "prior-information",
        "award",
        "change",
    }
    data = new_record("26-7298")
    for nature, expected in [
        ("PRE-INFORMATION", "prior-information"),
        ("ATTRIBUTION", "award"),
        ("RECTIFICATIF", "change"),
        ("ANNULATION", "change"),
        ("MODIFICATION", "change"),
        ("SOMETHING_NEW", "other"),
    ]:
        notice = record({**data, "nature": nature})
        assert notice["notice_type"] == expected, nature
        if expected == "award":
            assert notice["deadline"] is None


def test_a_2006_cancellation_and_corrigendum_are_changes_with_their_previous_notices() -> None:
    """Nature APPEL_OFFRE, but etat (gestion STATUT) ANNULATION / RECTIFICATIF."""
    cancelled = record(old_record("BWP06181000031P"))
    assert cancelled["notice_type"] == "change"
    assert cancelled["related"] == ["BWP06151100141C"]  # annonces_anterieures_schema_v110, gestion AVISLIEE
    assert cancelled["deadline"] is None
    corrected = record(old_record("BWP06184060013B"))
    assert corrected["notice_type"] == "change"
    assert corrected["related"] == ["BWP06173060423D", "BWP06173080211A"]  # a string of two JSON objects


def test_flat_links_in_their_current_shape() -> None:
    data = {**new_record("26-7298"), "nature": "RECTIFICATIF", "annonce_lie": ["26-200"]}
    assert record(data)["related"] == ["26-200"]
    data["annonces_anterieures"] = "26-150, 26-200"
    assert record(data)["related"] == ["26-200", "26-150"]


def test_the_procedures() -> None:
    assert PROCEDURES["PROCEDURE_ADAPTEE"] == "other"  # MAPA
    data = new_record("26-7298")
    for raw, expected in [
        ("OUVERT", "open"),
        ("RESTREINT", "restricted"),
        ("MARCHE_NEGOCIE", "negotiated"),
        ("PROCEDURE_AVEC_NEGOCIATION", "negotiated"),
        ("DIALOGUE_COMPETITIF", "competitive-dialogue"),
        ("PARTENARIAT_INNOVATION", "innovation-partnership"),
        ("PROCEDURE_ADAPTEE", "other"),
        ("CONCOURS", "other"),
    ]:
        assert record({**data, "type_procedure": raw})["procedure"] == expected, raw
    gestion = json.loads(data["gestion"])
    assert record({**data, "type_procedure": None})["procedure"] == "open"  # gestion INDEXATION/TYPE_PROCEDURE
    gestion["INDEXATION"].pop("TYPE_PROCEDURE")
    assert record({**data, "type_procedure": None, "gestion": json.dumps(gestion)})["procedure"] is None


def test_deadline_prefers_the_zoned_value_inside_the_record() -> None:
    data = new_record("26-7298")
    assert data["datelimitereponse"] == "2026-02-16T12:00:00+00:00"  # Paris time wrongly labelled UTC
    assert record(data)["deadline"] == "2026-02-16T12:00:00+01:00"


def test_deadline_from_the_flat_field_alone_is_paris_wall_clock_time() -> None:
    def drop(donnees: dict[str, Any]) -> None:
        del donnees["FNSimple"]["initial"]["procedure"]["dateReceptionOffres"]

    data = with_donnees(new_record("26-7298"), drop)
    gestion = json.loads(data["gestion"])
    del gestion["INDEXATION"]["DATE_LIMITE_REPONSE"]
    data["gestion"] = json.dumps(gestion)
    assert record(data)["deadline"] == "2026-02-16T12:00:00+01:00"
    assert record({**data, "datelimitereponse": "2026-07-01T10:30:00+00:00"})["deadline"] == (
        "2026-07-01T10:30:00+02:00"  # summer time
    )
    # 2006 records write a date-only deadline as midnight "UTC"
    assert record({**data, "datelimitereponse": "2026-07-01T00:00:00+00:00"})["deadline"] == "2026-07-01"
    assert record({**data, "datelimitereponse": None})["deadline"] is None


def test_a_deadline_without_zone_inside_the_record_is_paris_time() -> None:
    assert record(new_record("26-7113"))["deadline"] == "2026-02-20T11:00:00+01:00"  # "...T11:00:00.000"


def test_2006_deadlines_in_french_words() -> None:
    assert record(old_record("BXP06184040153H"))["deadline"] == "2006-07-20T16:30:00+02:00"  # "à 16 h 30"
    assert record(old_record("BXP06184050691F"))["deadline"] == "2006-07-19T17:15:00+02:00"  # "à 17 h 15"
    assert record(old_record("BWP06184040631P"))["deadline"] == "2006-09-01T16:00:00+02:00"  # "1er septembre"
    # negotiated: only a deadline for candidatures (RECEPT_CANDIDAT "2 août 2006", "à 17 heures")
    assert record(old_record("BWP06184060791N"))["deadline"] == "2006-08-02T17:00:00+02:00"


def test_a_value_range_is_not_an_estimate_unless_its_ends_meet() -> None:
    def estimate(node: Any) -> Any:
        def edit(donnees: dict[str, Any]) -> None:
            donnees["FNSimple"]["initial"]["natureMarche"]["valeurEstimee"] = node

        notice = record(with_donnees(new_record("26-7308"), edit))
        return notice["estimated_value"], notice["currency"]

    assert estimate({"@devise": "EUR", "fourchette": {"valeurBasse": "1", "valeurHaute": "75000"}}) == (None, None)
    assert estimate({"@devise": "EUR", "fourchette": {"valeurBasse": "75000", "valeurHaute": "75000"}}) == (
        75000.0,
        "EUR",
    )
    assert estimate({"@devise": "EUR", "#text": "150000"}) == (150000.0, "EUR")
    assert estimate("150000") == (150000.0, "EUR")
    assert estimate({"@devise": "EUR", "#text": "0"}) == (None, None)  # 0 means not given


def test_the_estimate_is_the_sum_of_the_lots_only_when_every_lot_has_one() -> None:
    def values(amounts: list[str | None]) -> Any:
        def edit(donnees: dict[str, Any]) -> None:
            initial = donnees["FNSimple"]["initial"]
            del initial["natureMarche"]["valeurEstimee"]
            initial["lots"]["lot"] = initial["lots"]["lot"][: len(amounts)]
            for lot, value in zip(initial["lots"]["lot"], amounts, strict=True):
                if value:
                    lot["valeurEstimee"] = {"@devise": "EUR", "#text": value}

        notice = record(with_donnees(new_record("26-7308"), edit))
        return notice["estimated_value"], [lot["estimated_value"] for lot in notice["lots"]]

    assert values(["10000", "2500,50"]) == (12500.5, [10000.0, 2500.5])
    assert values(["10000", None]) == (None, [10000.0, None])


def test_a_single_lot_is_the_procedure() -> None:
    """One `lot` written as an object, not a list, with no title and no CPV of its own: it is the procedure."""

    def edit(donnees: dict[str, Any]) -> None:
        donnees["FNSimple"]["initial"]["lots"] = {"lot": {"description": "Lot unique"}}

    notice = record(with_donnees(new_record("26-7113"), edit))
    assert notice["lots"] == [
        {
            "id": "1",
            "title": "Rénovation de la caserne de gendarmerie de DOULAINCOURT-SAUCOURT (52)",
            "cpv_main": "45443000",
            "cpv_additional": [],
            "nuts": [],
            "estimated_value": None,
        }
    ]
    assert notice["cpv_additional"] == []


def test_descripteurs_are_not_cpv() -> None:
    notice = record(new_record("26-7113"))
    assert notice["cpv_main"] == "45443000"
    assert notice["cpv_additional"] == ["45261900", "45421000", "45442100"]  # the lots' codes
    assert not {"169", "222", "264"} & {notice["cpv_main"], *notice["cpv_additional"]}


def test_departements_are_not_nuts() -> None:
    notice = record(new_record("26-7113"))  # nine départements in code_departement
    assert notice["nuts"] == [] and all(lot["nuts"] == [] for lot in notice["lots"])


def test_buyer_name_and_town_of_the_2006_layout() -> None:
    buyers = {r["idweb"]: record(r)["buyer"] for r in old_records()}
    assert buyers["BWP06181010191H"] == {"name": "SAVTB 55", "country": "FR", "id": None, "town": "Verdun"}
    assert buyers["BXP06184040153H"]["name"] == "conseil général des Pyrénées-Atlantiques, D.E.C.S."  # kept
    assert buyers["BWP06181000031P"]["town"] == "Rennes Cedex 9"  # "Rennes Cedex 9,"


def test_2006_documents_url_is_where_documents_are_obtained() -> None:
    # DOCUMENTS/URL next to OBTENUS (first of two identical URLs "http://www.cg64.fr.")
    assert record(old_record("BXP06184040153H"))["documents_url"] == "http://www.cg64.fr"
    # Wattignies: DOCUMENTS has only ENVOYES (where to send tenders), its URL is not the documents'
    assert record(old_record("BWP06184060791N"))["documents_url"] is None


def test_2006_lots_with_codes_and_nuts_country() -> None:
    craon = record(old_record("BWP06181100013U"))
    assert len(craon["lots"]) == 18 and craon["lots"][5] == {
        "id": "6",
        "title": "Menuiseries extérieures - fermetures - serrurerie.",
        "cpv_main": "28120000",  # NOMENC_LOT "28120000."
        "cpv_additional": [],
        "nuts": [],
        "estimated_value": None,
    }
    assert record(old_record("BWP06181060191B"))["nuts"] == ["FR"]  # CODE_NUTS "FR." (the whole country)


def test_malformed_donnees_falls_back_on_the_flat_fields() -> None:
    data = {**new_record("26-7308"), "donnees": '{"FNSimple": {"organisme": '}
    notice = record(data)
    assert notice["title"] == "Prestations traiteurs pour l'URSSAF Normandie"
    assert notice["buyer"] == {"name": "URSSAF Normandie", "country": "FR", "id": None, "town": None}
    assert notice["cpv_main"] is None and notice["lots"][0]["id"] == "1"
    assert notice["deadline"] == "2026-02-27T12:00:00+01:00"  # gestion DATE_LIMITE_REPONSE, no zone: Paris
    with pytest.raises(NoticeError, match="donnees is malformed JSON"):
        parse_boamp_record({**data, "nomacheteur": None})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"idweb": None}, "without idweb"),
        ({"dateparution": None, "gestion": None}, "no publication date"),
        ({"dateparution": "not a date", "gestion": "{}"}, "no publication date"),
        ({"objet": None, "donnees": None, "gestion": None}, "no title"),
    ],
)
def test_a_record_that_is_not_a_notice_fails_clearly(change: dict[str, Any], message: str) -> None:
    with pytest.raises(NoticeError, match=message):
        parse_boamp_record({**new_record("26-7298"), **change})


@pytest.mark.parametrize(
    "donnees",
    [
        42,
        "[1, 2]",
        '"text"',
        json.dumps({"FNSimple": {"organisme": "x", "initial": []}}),
        json.dumps({"FNSimple": {"organisme": {"nomOfficiel": ["A", "B"]}, "initial": {"lots": {"lot": "x"}}}}),
        json.dumps({"FNSimple": {"initial": {"natureMarche": {"codeCPV": [1, {"objetPrincipal": None}]}}}}),
        json.dumps({"IDENT": "x", "OBJET": ["a"], "LOTS": {"NUM_LOT": [None, 3]}, "DELAI": {"RECEPT_OFFRES": 5}}),
        json.dumps({"IDENTITE": [], "OBJET": {"LOTS": {"LOT": ["a", {"NUM": {"#text": 2}}]}}}),
        json.dumps({"EFORMS": {"ContractNotice": {"cac:ProcurementProjectLot": [1, "x", {"cbc:ID": {}}]}}}),
        "[" * 50_000 + "]" * 50_000,
    ],
)
def test_odd_shapes_never_crash(donnees: Any) -> None:
    data = {**new_record("26-7298"), "donnees": donnees}
    notice = record(data)  # the flat fields still make a notice
    assert notice["source_id"] == "26-7298"
    with pytest.raises(NoticeError):
        parse_boamp_record({**data, "nomacheteur": 7, "dateparution": ["x"], "gestion": None})


def test_a_page_with_a_broken_record_keeps_the_others() -> None:
    page = json.loads(NEW_PAGE.read_bytes())
    page["data"]["results"][1]["idweb"] = ""
    outcome = parse_bytes(json.dumps(page).encode())
    assert [f.record for f in outcome.failures] == ["data.results[1]"]
    assert "without idweb" in outcome.failures[0].reason
    assert [n.notice.source_id for n in outcome.notices] == ["26-7298", "26-7113"]


# --- XML ---------------------------------------------------------------------------------------------------


def test_xml_buyer_nuts_is_not_a_place_of_performance() -> None:
    carcans = xml("test-pub-8.xml")  # ADJUDICATEUR_NUTS "FR"; LOT/CODE_NUTS "FR612"
    assert carcans["nuts"] == ["FR612"]
    semmy = xml("test-pub-3.xml")  # ADJUDICATEUR_NUTS "FR102" only
    assert semmy["nuts"] == []


def test_xml_undivided_procedure_merges_its_lot_blocks() -> None:
    carcans = xml("test-pub-8.xml")  # DIV_EN_LOTS/NON with two identical LOT blocks
    assert carcans["lots"] == [
        {
            "id": "1",
            "title": carcans["title"],
            "cpv_main": "65100000",
            "cpv_additional": [],
            "nuts": ["FR612"],
            "estimated_value": 3200000.0,
        }
    ]
    assert (carcans["estimated_value"], carcans["currency"]) == (3200000.0, "EUR")  # CARACTERISTIQUES/VALEUR_TOTALE
    assert carcans["procedure"] is None  # no TYPE_PROCEDURE (the text says "restreinte": not read)
    assert carcans["deadline"] == "2017-04-26T12:00:00+01:00"  # the offset as written, though it was CEST


def test_xml_single_lot_without_cpv_takes_the_procedures() -> None:
    axat = xml("test-pub-7.xml")
    assert axat["lots"][0]["cpv_main"] == "09000000" and axat["lots"][0]["nuts"] == ["FR811"]
    assert axat["estimated_value"] == 3113000.0


def test_xml_lot_value_is_the_estimate_of_a_single_lot() -> None:
    cap_janet = xml("test-pub-2.xml")  # no procedure value; the only LOT has VALEUR 50000 and three CPV
    assert (cap_janet["estimated_value"], cap_janet["currency"]) == (50000.0, "EUR")
    assert cap_janet["cpv_main"] == "71240000"
    assert cap_janet["cpv_additional"] == ["79311000", "71335000"]
    assert cap_janet["lots"][0]["cpv_additional"] == ["79311000", "71335000"]
    assert cap_janet["documents_url"] == "http://www.marches-publics.gouv.fr"


def test_xml_design_contest_description_from_its_only_lot() -> None:
    semmy = xml("test-pub-3.xml")  # APPEL_OFFRE/CONCOURS with TYPE_PROCEDURE/RESTREINT, no OBJET_COMPLET
    assert semmy["notice_type"] == "contract-notice" and semmy["procedure"] == "restricted"
    assert semmy["description"].startswith("Appel à candidatures pour une mission de maîtrise d'oeuvre")


def test_xml_awards() -> None:
    saintes = xml("test-attribution-2.xml")
    assert saintes["estimated_value"] is None  # ATTRIBUTION/VALEUR_TOTALE 38820 is awarded
    assert saintes["published"] == "2017-02-14"  # not 2016-08-10, the earlier notice's
    assert saintes["related"] == ["16-119846"]
    troyes = xml("test-attribution-4.xml")  # three DECISION blocks with NUM_LOT 1, 2, 3 and no lot block
    assert [lot["id"] for lot in troyes["lots"]] == ["1", "2", "3"]
    assert troyes["related"] == ["16-155545", "16-159242"]
    merignac = xml("test-attribution-5.xml")
    assert merignac["estimated_value"] is None and merignac["deadline"] is None
    assert merignac["procedure"] == "other"  # PROCEDURE_ADAPTE


def test_recent_award_record_takes_the_flat_titulaire_names() -> None:
    # a real 2026 record made an award: recent attribution records list the winners' names in the flat
    # `titulaire` field (the results themselves are in an eForms `donnees`)
    data = new_record("26-7298")
    data.update(nature="ATTRIBUTION", titulaire=["École Numérique SA", "PAPREC FRANCE", "École Numérique SA"])
    notice = record(data)
    assert notice["notice_type"] == "award" and len(notice["lots"]) == 1
    lot = notice["lots"][0]["id"]
    assert notice["awards"] == [
        {
            "lot_ids": [lot],
            "winners": [{"name": name, "country": None, "identifier": None, "town": None, "sme": None}],
            "value": None,
            "currency": None,
            "tenders_received": None,
            "date": None,
        }
        for name in ("École Numérique SA", "PAPREC FRANCE")
    ]
    data.update(nature="APPEL_OFFRE")
    assert record(data)["awards"] == []


def _winners(award: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(winner["name"], winner["town"]) for winner in award["winners"]]


def test_xml_award_without_renseignement_takes_the_decision_and_total() -> None:
    saintes = xml("test-attribution-2.xml")  # TITULAIRE without RENSEIGNEMENT; VALEUR_TOTALE, DATE_DECISION
    assert saintes["awards"] == [
        {
            "lot_ids": ["1"],
            "winners": [
                {
                    "name": "SARL ENVIRONNEMENT & SOLUTIONS",
                    "country": "FR",
                    "identifier": None,
                    "town": None,
                    "sme": None,
                }
            ],
            "value": 38820.0,
            "currency": "EUR",
            "tenders_received": None,
            "date": "2017-02-06",
        }
    ]
    orsay = xml("test-attribution-3.xml")  # no amount anywhere
    assert [(a["value"], a["date"], _winners(a)) for a in orsay["awards"]] == [
        (None, "2016-12-14", [("Axe Sig/Atmosphère", None)])
    ]
    merignac = xml("test-attribution-5.xml")
    assert [(a["value"], a["currency"], _winners(a)) for a in merignac["awards"]] == [
        (159691.6, "EUR", [("Moter", "Mérignac")])
    ]


def test_xml_award_sans_suite_has_no_entry() -> None:
    troyes = xml("test-attribution-4.xml")  # ATTRIBUTION/SANS_SUITE; DECISION blocks without TITULAIRE
    assert troyes["notice_type"] == "award" and troyes["awards"] == []


def test_xml_several_holders_without_a_group_are_one_award_each() -> None:
    # a framework agreement with several holders: no name says mandataire or co-traitant, each TITULAIRE has
    # its own RENSEIGNEMENT; MONTANT_MINI 5000 / MONTANT_MAXI 60000 is a range, not the awarded value
    suresnes = xml("test-attribution-7.xml")
    assert [(_winners(a), a["value"], a["tenders_received"], a["date"]) for a in suresnes["awards"]] == [
        ([("ADECCO MEDICAL", "VILLEURBANNE")], None, 4, "2017-01-31"),
        ([("SELECT TT APPEL MEDICAL", "LA PLAINE SAINT DENIS")], None, 4, "2017-01-31"),
        ([("TROOPS IZUMA", "SAINT ANDRE DE CORCY")], None, 4, "2017-01-31"),
    ]
    gap = xml("test-attribution-6.xml")  # five holders, MONTANT_INDEFINI
    assert [w["name"] for a in gap["awards"] for w in a["winners"]] == [
        "ADIPAP",
        "KEMIRA FRANCE SAS",
        "OTV SUD AFRIQUE",
        "SAS SNF",
        "DIAGONAL WATER TREATMENT",
    ]
    assert {a["value"] for a in gap["awards"]} == {None} and {a["tenders_received"] for a in gap["awards"]} == {6}
    hautes_alpes = xml("test-attribution-9.xml")
    assert [(_winners(a), a["value"]) for a in hautes_alpes["awards"]] == [
        ([("ROIRET Energies", "Saint-Priest")], 150000.0),
        ([("SCARA & Cie", "Embrun")], 150000.0),
    ]


def test_xml_repairs_windows_1252_punctuation() -> None:
    carcans = xml("test-pub-8.xml")  # "l<U+0092>objet" in the file
    assert carcans["description"].startswith("L’objet de la présente consultation")
    assert "\x92" not in json.dumps(carcans, ensure_ascii=False)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<ANNONCE><DONNEES/></ANNONCE>", "no ANNONCE/GESTION"),
        (b"<ANNONCE><GESTION><REFERENCE><IDWEB>17-1</IDWEB></REFERENCE></GESTION></ANNONCE>", "no publication"),
        (
            b"<ANNONCE><GESTION><REFERENCE><IDWEB>17-1</IDWEB></REFERENCE><INDEXATION>"
            b"<DATE_PUBLICATION>2017-01-01</DATE_PUBLICATION></INDEXATION></GESTION></ANNONCE>",
            "no title",
        ),
        (
            b"<ANNONCE><GESTION><REFERENCE><IDWEB>17-1</IDWEB></REFERENCE><INDEXATION>"
            b"<DATE_PUBLICATION>2017-01-01</DATE_PUBLICATION><RESUME_OBJET>x</RESUME_OBJET></INDEXATION>"
            b"</GESTION></ANNONCE>",
            "no buyer name",
        ),
    ],
)
def test_xml_that_is_not_a_notice_fails_clearly(document: bytes, message: str) -> None:
    with pytest.raises(NoticeError, match=message):
        parse_boamp_xml(parse_xml(document))


def test_xml_with_odd_content_still_parses() -> None:
    document = (XML_DIR / "test-pub.xml").read_bytes()
    odd = document.replace(b"<NUM>2</NUM>", b"<NUM>1</NUM>").replace(
        b"<CODE_NUTS>FR10</CODE_NUTS>", b"<CODE_NUTS>00</CODE_NUTS>", 1
    )
    notice: dict[str, Any] = parse_boamp_xml(parse_xml(odd)).to_json_dict()
    assert [lot["id"] for lot in notice["lots"]] == ["1", "2"]  # a repeated lot number: numbered in order
    assert notice["nuts"] == ["FR10"]  # "00" is not a NUTS code
    odd = document.replace(
        b"<DENOMINATION>Ville de Paris</DENOMINATION>", b"<DENOMINATION><B>Ville</B> de Paris</DENOMINATION>"
    )
    assert parse_boamp_xml(parse_xml(odd)).buyer.name == "Ville de Paris"


def _xml_to_json(element: etree._Element) -> Any:
    """The XML as the opendatasoft dataset writes it in `donnees` (xmltodict's conventions)."""
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        if element.attrib:
            attributes = {"@" + (k if isinstance(k, str) else k.decode()): v for k, v in element.attrib.items()}
            return {**attributes, "#text": element.text}
        return element.text or ""
    result: dict[str, Any] = {}
    for child in children:
        value = _xml_to_json(child)
        if child.tag in result:
            existing = result[child.tag]
            result[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[child.tag] = value
    return result


@pytest.mark.parametrize("name", ["test-pub.xml", "test-pub-8.xml", "test-attribution-12.xml"])
def test_v230_donnees_in_json_reads_like_the_xml(name: str) -> None:
    """A v230-era API record (`donnees` = the XML's DONNEES as JSON) gives the notice the XML gives."""
    root = parse_xml((XML_DIR / name).read_bytes())
    expected = parse_boamp_xml(root).to_json_dict()
    gestion_element, donnees_element = root.find("GESTION"), root.find("DONNEES")
    assert gestion_element is not None and donnees_element is not None
    gestion = _xml_to_json(gestion_element)
    nature = next(iter(gestion["REFERENCE"]["TYPE_AVIS"]["NATURE"]))
    data = {
        "idweb": expected["source_id"],
        "objet": gestion["INDEXATION"]["RESUME_OBJET"],
        "dateparution": gestion["INDEXATION"]["DATE_PUBLICATION"],
        "nature": nature,
        "etat": "INITIAL",
        "nomacheteur": "not this one",
        "type_procedure": None,
        "type_marche": None,
        "url_avis": expected["url"],
        "gestion": json.dumps(gestion, ensure_ascii=False),
        "donnees": json.dumps(_xml_to_json(donnees_element), ensure_ascii=False),
    }
    assert record(data) == expected


def test_eforms_donnees_give_classification_lots_and_deadline() -> None:
    """No recorded example: the shape is that of eForms UBL converted like the other schemas."""
    donnees = {
        "EFORMS": {
            "ContractNotice": {
                "cac:ProcurementProject": {
                    "cbc:Name": "Maintenance des ascenseurs",
                    "cbc:Description": "Maintenance préventive et corrective",
                    "cac:MainCommodityClassification": {
                        "cbc:ItemClassificationCode": {"@listName": "cpv", "#text": "50750000"}
                    },
                    "cac:RealizedLocation": {"cac:Address": {"cbc:CountrySubentityCode": "FRK26"}},
                },
                "cac:ProcurementProjectLot": [
                    {
                        "cbc:ID": {"@schemeName": "Lot", "#text": "LOT-0001"},
                        "cac:TenderingTerms": {
                            "cac:CallForTendersDocumentReference": {
                                "cac:Attachment": {"cac:ExternalReference": {"cbc:URI": "https://x.example/dce"}}
                            }
                        },
                        "cac:TenderingProcess": {
                            "cac:TenderSubmissionDeadlinePeriod": {
                                "cbc:EndDate": "2026-03-02+01:00",
                                "cbc:EndTime": "12:00:00+01:00",
                            }
                        },
                        "cac:ProcurementProject": {
                            "cbc:Name": "Site A",
                            "cac:MainCommodityClassification": {"cbc:ItemClassificationCode": "50750000"},
                            "cac:AdditionalCommodityClassification": [
                                {"cbc:ItemClassificationCode": "45313000"},
                                {"cbc:ItemClassificationCode": "50750000"},
                            ],
                            "cac:RequestedTenderTotal": {
                                "cbc:EstimatedOverallContractAmount": {"@currencyID": "EUR", "#text": "120000"}
                            },
                        },
                    },
                    {
                        "cbc:ID": "LOT-0002",
                        "cac:TenderingProcess": {
                            "cac:TenderSubmissionDeadlinePeriod": {"cbc:EndDate": "2026-02-27+01:00"}
                        },
                        "cac:ProcurementProject": {
                            "cbc:Name": "Site B",
                            "cac:MainCommodityClassification": {"cbc:ItemClassificationCode": "50750000"},
                            "cac:RealizedLocation": [{"cac:Address": {"cbc:CountrySubentityCode": "FRK21"}}],
                        },
                    },
                ],
            }
        }
    }
    data = {
        "idweb": "26-9001",
        "objet": "Maintenance des ascenseurs des sites A et B",
        "dateparution": "2026-01-21",
        "nature": "APPEL_OFFRE",
        "nomacheteur": "Ville de Lyon",
        "type_procedure": "OUVERT",
        "type_marche": ["SERVICES"],
        "donnees": json.dumps(donnees),
    }
    notice = record(data)
    assert notice["cpv_main"] == "50750000" and notice["cpv_additional"] == ["45313000"]
    assert notice["nuts"] == ["FRK26", "FRK21"]
    assert [(lot["id"], lot["title"], lot["estimated_value"]) for lot in notice["lots"]] == [
        ("LOT-0001", "Site A", 120000.0),
        ("LOT-0002", "Site B", None),
    ]
    assert notice["estimated_value"] is None  # not every lot has an estimate
    assert notice["deadline"] == "2026-02-27"  # the earliest of the lots'
    assert notice["documents_url"] == "https://x.example/dce"
    assert notice["buyer"]["name"] == "Ville de Lyon"

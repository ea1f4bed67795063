"""The staff's view of a notice's CPV codes over real HTTP: the real codes next to the inferred ones with their
confidence, on the tender page (staff only) and its JSON twin `GET /api/v1/cpv/{source}/{source_id}`."""

from __future__ import annotations

from typing import Any

import httpx

from pib.web.auth import add_staff, create_api_token
from tests.factories import make_notice
from tests.watch.helpers import store
from tests.web.conftest import Portal, add_user
from tests.web.test_auth import sign_in
from tests.web.test_tender import text_of
from watch.cpv.model import ROUTING_THRESHOLD
from watch.cpv.registry import save_model

STAFF = "equipe@cluster.example"
MEMBER = "direction@ecole-numerique.example"
SOFTWARE = (
    "Prestations de services informatiques : conception, développement, hébergement et maintenance évolutive "
    "d'un logiciel de gestion des inscriptions de l'École Numérique."
)


def _notices(portal: Portal, classifier: Any) -> None:
    save_model(portal.engine, classifier, trained_on=classifier.trained_on, store_notices=0)
    store(
        portal.engine,
        make_notice(
            source_id="26-0701",
            title="Développement d'une application de gestion scolaire",
            description=SOFTWARE,
            cpv_main="72212000",
            cpv_additional=[],
            lots=[{"id": "1"}],
        ),
        make_notice(
            source="feed:wallonie",
            source_id="https://marches.example/avis/9",
            title="Maintenance du logiciel de gestion scolaire",
            description=SOFTWARE,
            cpv_main=None,
            cpv_additional=[],
            lots=[{"id": "1"}],
        ),
    )


def test_staff_see_the_real_and_the_inferred_codes_members_do_not(portal: Portal, cpv_classifier: Any) -> None:
    _notices(portal, cpv_classifier)
    add_staff(portal.engine, email=STAFF, language="fr")
    add_user(portal.engine, firm="École Numérique SA", address=MEMBER)
    staff = sign_in(portal, STAFF)
    coded = text_of(staff.get("/tenders/boamp/26-0701").text)
    assert "Codes CPV, réels et déduits" in coded
    assert "72212000 Services de programmation de logiciels d'application" in coded
    section = coded.split("Codes de l'avis Déduits du texte ")[1].split(" Modèle CPV version")[0]
    real_part, inferred_part = section.split("72212000 Services de programmation de logiciels d'application ")
    assert real_part == ""
    assert "72000000 Services de technologies de l'information" in inferred_part
    assert "confiance 0," in inferred_part and "parmi les codes de l'avis" in inferred_part
    assert "utilisé pour le routage" not in coded  # a notice with codes is routed on its own
    assert "Modèle CPV version 1." in coded

    uncoded = text_of(staff.get("/tenders/feed%3Awallonie/https%3A%2F%2Fmarches.example%2Favis%2F9").text)
    threshold = f"{ROUTING_THRESHOLD:.1f}".replace(".", ",")
    assert f"Aucun : le routage utilise les codes déduits avec une confiance d'au moins {threshold}." in uncoded
    assert "72000000 Services de technologies de l'information" in uncoded and "utilisé pour le routage" in uncoded

    member = sign_in(portal, MEMBER)
    page = member.get("/tenders/boamp/26-0701")
    assert page.status_code == 200 and "Développement d'une application de gestion scolaire" in text_of(page.text)
    assert "Déduits du texte" not in page.text and "déduit" not in page.text


def test_the_json_twin_is_for_staff_tokens(portal: Portal, cpv_classifier: Any) -> None:
    _notices(portal, cpv_classifier)
    add_staff(portal.engine, email=STAFF)
    add_user(portal.engine, firm="École Numérique SA", address=MEMBER)
    api = portal.client()

    def get(path: str, token: str | None) -> httpx.Response:
        return api.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})

    staff, member = create_api_token(portal.engine, email=STAFF), create_api_token(portal.engine, email=MEMBER)
    answer = get("/api/v1/cpv/boamp/26-0701?language=fr", staff)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["real"] == [{"code": "72212000", "label": "Services de programmation de logiciels d'application"}]
    assert (body["model_version"], body["threshold"], body["inferred_for_routing"]) == (1, ROUTING_THRESHOLD, False)
    division = next(code for code in body["inferred"] if code["code"] == "72000000")
    assert division["level"] == "division" and division["confirmed"] is True and division["routes"] is True
    assert ROUTING_THRESHOLD <= division["confidence"] <= 1
    assert division["label"].startswith("Services de technologies de l'information")
    confidences = [code["confidence"] for code in body["inferred"]]
    assert confidences == sorted(confidences, reverse=True)
    uncoded = get("/api/v1/cpv/feed:wallonie/https://marches.example/avis/9", staff).json()
    assert uncoded["real"] == [] and uncoded["inferred_for_routing"] is True
    assert get("/api/v1/cpv/boamp/26-0701", member).status_code == 403
    assert get("/api/v1/cpv/boamp/26-0701", None).status_code == 401
    assert get("/api/v1/cpv/boamp/26-9999", staff).status_code == 404

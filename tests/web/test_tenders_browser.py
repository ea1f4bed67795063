"""The tender search in Debian's chromium: a member signed in by the emailed link types words, submits, clicks
a facet (the URL narrows, so the search can be shared), opens the filters; screenshots in var/screenshots/,
axe-core finds no serious or critical violation, and the CSP refuses nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.web.conftest import Portal, add_user, screenshot, serious_violations
from tests.web.test_tenders import ADDRESS, FIRM, tenders  # noqa: F401  (the fixture)


def check(page: Any, name: str) -> None:
    screenshot(page, name)
    assert serious_violations(page) == [], name
    assert page.refused == [], name


def test_search_then_narrow_by_a_facet(page: Any, portal: Portal, tenders: None) -> None:  # noqa: F811
    add_user(portal.engine, firm=FIRM, address=ADDRESS)
    page.goto(portal.url + "/login")
    page.get_by_label("Adresse e-mail").fill(ADDRESS)
    page.get_by_role("button", name="M’envoyer un lien de connexion").click()
    page.wait_for_load_state()
    page.goto(portal.sign_in_link(ADDRESS))
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(portal.url + "/")

    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Marchés").click()
    page.wait_for_url(portal.url + "/tenders")
    page.get_by_label("Mots du titre, de la description, des lots ou de l’acheteur").fill("écoles")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    page.wait_for_load_state()
    assert parse_qs(urlsplit(page.url).query)["q"] == ["écoles"]
    assert page.get_by_role("heading", name="Marchés trouvés : 3").is_visible()
    results = page.locator(".result h3").all_inner_texts()
    assert "Plateforme de l'École Numérique" in results and "École numérique : maintenance" not in results
    check(page, "tenders-01-search")

    page.get_by_role("complementary").get_by_role("link", name="Belgique").click()
    page.wait_for_load_state()
    query = parse_qs(urlsplit(page.url).query)
    assert query["region"] == ["BE"] and query["q"] == ["écoles"]
    assert page.locator(".result h3").all_inner_texts() == ["Logiciel de gestion des écoles"]
    assert page.get_by_role("heading", name="Marchés trouvés : 1").is_visible()
    region = page.get_by_label("Région : code NUTS ou pays")
    assert region.is_visible() and region.input_value() == "BE"  # filters in use: shown open
    check(page, "tenders-02-facet")

    page.get_by_label("Code ou libellé CPV").fill("inconnu du tout")
    page.get_by_role("button", name="Appliquer les filtres").click()
    page.wait_for_load_state()
    assert page.locator("#cpv-error").inner_text() == "Aucun code ou libellé CPV ne correspond à « inconnu du tout »."
    check(page, "tenders-03-error")

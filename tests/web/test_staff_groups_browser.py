"""The staff console's interest board and partner groups in Debian's chromium, in French: a staff user sees the
board of a tender that École Numérique SA and Öberg flagged, forms a group of them, sets Öberg's role and lot,
moves the group to submitted, and the grid shows the gap (lot 3); the printable summary. Screenshots in
var/screenshots/, axe-core on each page (no serious or critical violation), no inline script or style."""

from __future__ import annotations

from typing import Any

from pib.web.auth import add_staff
from tests.web.conftest import Portal
from tests.web.test_browser import check
from tests.web.test_staff_interests import FIRM_A, FIRM_B, FIRM_C, STAFF, cluster


def signed_in_staff(browser: Any, portal: Portal) -> Any:
    add_staff(portal.engine, email=STAFF, language="fr")
    context = browser.new_context(locale="fr-BE")
    page = context.new_page()
    page.refused = []
    page.on(
        "console",
        lambda message: page.refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(portal.url + "/login")
    page.get_by_label("Adresse e-mail").fill(STAFF)
    page.get_by_role("button", name="M’envoyer un lien de connexion").click()
    page.wait_for_load_state()
    page.goto(portal.sign_in_link(STAFF))
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(portal.url + "/")
    return page


def test_staff_form_a_group_from_the_board_and_submit_it(browser: Any, portal: Portal) -> None:
    cluster(portal.engine)
    page = signed_in_staff(browser, portal)
    try:
        page.goto(portal.url + "/staff/interests")
        assert page.locator("h1").inner_text() == "Tableau des intérêts"
        tender = page.locator("article", has=page.get_by_role("heading", name="Plateforme numérique des écoles"))
        board = tender.inner_text()
        assert FIRM_A in board and FIRM_B in board and "Personne ne couvre le lot 3" in board
        assert "Cherche des partenaires" in board and "hébergement" in board
        check(page, "staff-interests-01-board")

        tender.get_by_role("link", name="Former un groupement").click()
        page.get_by_label("Nom du groupement").fill("Écoles 2026")
        page.get_by_label(FIRM_A).check()
        page.get_by_label(FIRM_B).check()
        check(page, "staff-groups-01-form")
        page.get_by_role("button", name="Former le groupement").click()
        assert page.get_by_role("status").inner_text() == "Groupement formé."
        assert page.locator("h1").inner_text() == "Écoles 2026"

        oberg = page.get_by_role("form", name=FIRM_B)
        oberg.get_by_label("Rôle").select_option(label="Sous-traitant")
        oberg.get_by_label("Lot 2").check()
        oberg.get_by_role("button", name="Enregistrer").click()
        assert page.get_by_role("status").inner_text() == "Rôle et lots enregistrés."
        assert page.get_by_role("form", name=FIRM_B).get_by_label("Rôle").input_value() == "subcontractor"
        assert f"{FIRM_B} désormais Sous-traitant, lots 2" in page.locator(".history").inner_text()

        grid = page.get_by_role("table", name="Couverture : lots × entreprises")
        gap = grid.get_by_role("row").filter(has_text="Lot 3").inner_text()
        assert "Manque : aucune entreprise du groupement ne prend ce lot" in gap
        assert "Couvert" in grid.get_by_role("row").filter(has_text="Lot 1").inner_text()
        suggestions = page.locator("section", has=page.get_by_role("heading", name="Partenaires suggérés"))
        assert FIRM_C in suggestions.inner_text() and "fait le CPV 79341000" in suggestions.inner_text()
        check(page, "staff-groups-02-group")

        page.get_by_label("Faire passer le groupement à").select_option(label="Déposé")
        page.get_by_label("Note (facultative)").fill("Dépôt sur la plateforme à 11 h")
        page.get_by_role("button", name="Changer le statut").click()
        assert page.locator("#group-status").inner_text() == "Statut : Déposé"
        assert "En formation → Déposé: Dépôt sur la plateforme à 11 h" in page.locator(".history").inner_text()
        gap = (
            page.get_by_role("table", name="Couverture : lots × entreprises")
            .get_by_role("row")
            .filter(has_text="Lot 3")
        )
        assert "Manque" in gap.inner_text()
        check(page, "staff-groups-03-submitted")

        page.get_by_role("link", name="Résumé d'une page à imprimer").click()
        page.emulate_media(media="print")
        assert not page.locator(".site-header").is_visible()
        sheet = page.locator("main").inner_text()
        assert "Écoles 2026" in sheet and "Déposé" in sheet and "Manque" in sheet
        page.emulate_media(media="screen")
        check(page, "staff-groups-04-summary")
    finally:
        page.context.close()

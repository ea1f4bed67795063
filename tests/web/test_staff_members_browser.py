"""In Debian's chromium: a staff user signs in by the emailed link, uploads a members file, reads its preview
(in French), applies it and finds the firm; then edits a firm with a mistake and reads the error next to the field.
Screenshots under var/screenshots/, axe-core with no serious or critical violation, no inline code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pib.web.auth import add_staff
from tests.web.conftest import Portal
from tests.web.test_browser import check
from watch.members import export_yaml, import_members, read_yaml

STAFF = "animation@cluster.example"
BEFORE = """\
members:
  - name: École Numérique SA
    users: [{email: direction@ecole-numerique.example, language: fr}]
    profiles:
      - {name: Logiciels, cpv: ["72000000"]}
      - {name: Formation, keywords: ["formation"]}
"""
UPLOAD = """\
members:
  - name: École Numérique SA
    users: [{email: direction@ecole-numerique.example, language: nl}]
    profiles:
      - {name: Logiciels, cpv: ["72000000", "48000000"], frequency: weekly}
  - name: Brûlerie Öberg SPRL
    profiles: [{name: Café}]
  - name: Ardenne Numérique SRL
    users: [{email: contact@ardenne.example}]
    profiles: [{name: Réseaux, cpv: ["32400000"], regions: [BE3]}]
"""


def test_staff_upload_a_members_file_through_its_preview(page: Any, portal: Portal, tmp_path: Path) -> None:
    import_members(portal.engine, read_yaml(BEFORE))
    add_staff(portal.engine, email=STAFF, language="fr")
    page.goto(portal.url + "/login")
    page.get_by_label("Adresse e-mail").fill(STAFF)
    page.get_by_role("button", name="M’envoyer un lien de connexion").click()
    page.goto(portal.sign_in_link(STAFF))
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()

    page.goto(portal.url + "/staff/members")
    assert page.locator("h1").inner_text() == "Membres"
    check(page, "staff-members-01-list")
    members_file = tmp_path / "membres.yaml"
    members_file.write_text(UPLOAD, encoding="utf-8")
    page.get_by_label("Fichier des membres (.yaml, .yml ou .csv)").set_input_files(str(members_file))
    before = export_yaml(portal.engine)
    page.get_by_role("button", name="Voir les changements").click()
    assert page.locator("h1").inner_text() == "Aperçu du fichier des membres"
    main = page.locator("main").inner_text()
    assert "Rien n'est encore enregistré : voici ce que l'import de membres.yaml changerait." in main
    assert "profile 'Café' has neither cpv nor keywords" in main
    problems = page.get_by_role("region", name="Problèmes : ces membres sont écartés, les autres sont importés")
    assert problems.get_by_role("row").nth(1).inner_text().split("\t")[:2] == ["7", "Brûlerie Öberg SPRL"]
    assert page.get_by_role("heading", name="Ardenne Numérique SRL créé ligne 8").is_visible()
    assert export_yaml(portal.engine) == before
    check(page, "staff-members-02-preview")

    page.get_by_role("button", name="Appliquer ces changements").click()
    assert page.locator("h1").inner_text() == "Fichier des membres appliqué"
    assert (
        "membres.yaml a été importé : les changements ci-dessous sont enregistrés." in page.locator("main").inner_text()
    )
    check(page, "staff-members-03-applied")

    page.goto(portal.url + "/staff/members")
    page.get_by_label("Le nom contient").fill("ARDENNE numerique")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Ardenne Numérique SRL").click()
    assert page.locator("h1").inner_text() == "Ardenne Numérique SRL"
    page.locator("#profile-0-cpv").fill("32400000; 3240")
    page.get_by_role("button", name="Enregistrer l'entreprise").click()
    assert page.get_by_role("alert").first.inner_text() == "Certains champs sont à corriger ; rien n’a été enregistré."
    assert "not a CPV code" in page.locator("#profile-0-cpv-error").inner_text()
    assert page.locator("#profile-0-cpv").get_attribute("aria-invalid") == "true"
    check(page, "staff-members-04-firm-error")

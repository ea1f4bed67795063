"""My account and my firm in Debian's chromium: change the language on the account page, create an API token
and use it against the API, unsubscribe then subscribe again, make the calendar address, correct a bad CPV code
on the firm page; axe-core on every page (no serious or critical violation), screenshots in var/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from crawlers.store.models import utcnow
from tests.notifications.helpers import add_firm, add_notice
from tests.web.conftest import Portal
from tests.web.test_browser import check
from watch.feedback import record_feedback

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"


def sign_in(page: Any, portal: Portal) -> None:
    page.goto(portal.url + "/login")
    page.get_by_label("Adresse e-mail").fill(ADDRESS)
    page.get_by_role("button", name="M’envoyer un lien de connexion").click()
    page.goto(portal.sign_in_link(ADDRESS))
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(portal.url + "/")


def test_account_page_language_token_and_emails(page: Any, portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")])
    notice = add_notice(
        portal.engine, source_id="26-0301", deadline=(utcnow() + timedelta(days=9)).replace(microsecond=0).isoformat()
    )
    record_feedback(portal.engine, member_id=firm.member_id, notice_id=notice, verdict="interesting")
    sign_in(page, portal)

    page.goto(portal.url + "/firm")
    page.get_by_role("link", name="Mon compte : langue, e-mails, calendrier et jetons d’API").click()
    assert page.locator("h1").inner_text() == "Mon compte"
    check(page, "20-account")

    page.get_by_label("Langue du portail et de vos e-mails").select_option("nl")
    page.get_by_role("button", name="Enregistrer la langue").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.locator("h1").inner_text() == "Mijn account"
    page.get_by_label("Taal van het portaal en van uw e-mails").select_option("en")
    page.get_by_role("button", name="Taal opslaan").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "My account"

    page.get_by_label("Name of a new token").fill("Outil d’offres")
    page.get_by_role("button", name="Create a token").click()
    secret = page.get_by_label("Your new token (shown only now: copy it)").input_value()
    assert secret.startswith("pib_")
    assert page.get_by_role("table", name="Your tokens").get_by_role("rowheader").all_inner_texts() == [
        "Outil d’offres"
    ]
    check(page, "21-account-token")
    answer = httpx.get(f"{portal.url}/api/v1/interests/26-0301", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200, answer.text

    page.get_by_role("button", name="Unsubscribe from every email").click()
    assert "Done: PIB no longer emails you." in page.get_by_role("status").inner_text()
    assert "You unsubscribed on" in page.locator("#emails").inner_text()
    check(page, "22-account-unsubscribed")
    page.get_by_role("button", name="Receive the emails again").click()
    assert "Done: PIB emails you again." in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Unsubscribe from every email").is_visible()

    page.get_by_role("button", name="Make my calendar address").click()
    feed = page.get_by_label("Your private calendar address (shown only now: copy it)").input_value()
    check(page, "23-account-calendar")
    body = httpx.get(feed).text
    assert "SUMMARY:Deadline: Développement d'un logiciel de gestion" in body

    page.get_by_role("button", name="Revoke the token Outil d’offres").click()
    assert "The token is revoked" in page.get_by_role("status").inner_text()
    assert (
        httpx.get(f"{portal.url}/api/v1/interests/26-0301", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def test_firm_page_refuses_a_bad_code_next_to_the_field(page: Any, portal: Portal) -> None:
    add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")])
    sign_in(page, portal)
    page.get_by_role("navigation").get_by_role("link", name="Mon entreprise").click()
    assert page.locator("h1").inner_text() == FIRM
    check(page, "24-firm")
    page.get_by_label("Codes CPV").fill("72212000\n12345678")
    page.get_by_label("Mots-clés").fill("archivage électronique")
    page.get_by_role("button", name="Enregistrer les compétences").click()
    field = page.get_by_label("Codes CPV")
    assert field.get_attribute("aria-invalid") == "true"
    assert "« 12345678 » n’est pas un code CPV" in page.locator("#cpv-error").inner_text()
    assert page.get_by_label("Mots-clés").input_value() == "archivage électronique"
    check(page, "25-firm-error")
    field.fill("72212000")
    page.get_by_role("button", name="Enregistrer les compétences").click()
    assert "Enregistré : les compétences de votre entreprise." in page.get_by_role("status").inner_text()
    assert "72212000 Services de programmation de logiciels d’application" in page.locator(
        "#competences"
    ).inner_text().replace("'", "’")

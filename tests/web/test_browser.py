"""The portal in Debian's chromium: signing in through the emailed link, the layout, the language switch, the
CSP (no inline script or style, nothing refused), an axe-core check of every page; screenshots in var/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from config.settings import get_settings
from crawlers.store.models import utcnow
from notifications.links import LinkSigner
from pib.web.auth import user_table
from tests.notifications.helpers import add_firm, add_notice
from tests.web.conftest import Portal, screenshot, serious_violations

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
INLINE = "document.querySelectorAll('script:not([src]), [style], style').length"


def check(page: Any, name: str) -> None:
    """Screenshot, accessibility (no serious or critical violation), no inline code, the CSS applied."""
    assert page.evaluate(INLINE) == 0, name  # before the screenshot and axe, which add their own
    screenshot(page, name)
    assert serious_violations(page) == [], name
    assert page.refused == [], name
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui"), name  # pib.css, allowed


def test_a_member_signs_in_with_the_emailed_link_and_switches_language(page: Any, portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")])
    page.goto(portal.url + "/")
    assert page.locator("h1").inner_text() == "Les marchés publics pour les entreprises de votre cluster"
    check(page, "01-welcome")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"

    page.get_by_label("Adresse e-mail").fill(ADDRESS)
    page.get_by_role("button", name="M’envoyer un lien de connexion").click()
    assert "un lien de connexion est en route" in page.locator("main").inner_text()
    check(page, "02-link-sent")

    page.goto(portal.sign_in_link(ADDRESS))
    assert page.get_by_role("heading", name="Se connecter à PIB").is_visible()
    check(page, "03-confirm-sign-in")
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(portal.url + "/")
    assert page.locator("h1").inner_text() == FIRM
    nav = page.get_by_role("navigation", name="Navigation principale")
    assert nav.get_by_role("link").all_inner_texts() == [
        "Marchés",
        "Mes correspondances",
        "Mes profils",
        "Mon entreprise",
    ]
    check(page, "04-home")

    page.get_by_role("button", name="Nederlands").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nl"
    assert "Mijn profielen" in page.get_by_role("navigation").inner_text()
    assert page.get_by_role("button", name="Overal afmelden").is_visible()
    with portal.engine.connect() as connection:
        language = connection.execute(sa.select(user_table.c.language).where(user_table.c.id == firm.users[ADDRESS]))
        assert language.scalar_one() == "nl"  # the account's setting, used by the emails too
    check(page, "05-home-nl")

    page.goto(portal.url + "/profiles/999")
    assert page.locator("h1").inner_text() == "Pagina niet gevonden"
    check(page, "06-not-found")

    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(portal.url + "/")
    assert page.get_by_role("link", name="Aanmelden").is_visible()  # the chosen language stays after sign-out


def test_the_language_switch_before_sign_in_and_the_one_click_link_page(page: Any, portal: Portal) -> None:
    page.goto(portal.url + "/login")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Sign in"
    assert page.get_by_role("button", name="English").get_attribute("aria-pressed") == "true"
    check(page, "07-login-en")

    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")])
    notice = add_notice(portal.engine, title="Hébergement <b>cloud</b> souverain")
    token = LinkSigner(get_settings().secret_key.get_secret_value()).sign(
        action="interested", user_id=firm.users[ADDRESS], notice_id=notice, expires=utcnow() + timedelta(days=30)
    )
    page.goto(f"{portal.url}/l/{token}")
    assert "Hébergement <b>cloud</b> souverain" in page.locator("body").inner_text()
    check(page, "08-one-click-link")
    page.get_by_role("button").click()
    assert "ce marché vous intéresse" in page.locator("body").inner_text()

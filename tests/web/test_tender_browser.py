"""A tender's page in Debian's chromium: member A flags its interest in lot 2, member B's session sees a pseudonym
and never A's name, B asks to reveal, A accepts, both read the other's contacts; screenshots in var/screenshots/,
axe-core on each page (no serious or critical violation), no inline script or style."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crawlers.codelists import cpv_label
from tests.consortium.helpers import lots_notice, store
from tests.web.conftest import Portal, add_user
from tests.web.test_browser import check
from watch.deadlines import brussels_day

FIRM_A = "École Numérique SA"
FIRM_B = "Brûlerie Öberg SPRL"
ADDRESS_A = "direction@ecole-numerique.example"
ADDRESS_B = "bureau@oberg.example"
PATH = "/tenders/boamp/26-0301"


@pytest.fixture
def sessions(browser: Any, portal: Portal) -> Iterator[dict[str, Any]]:
    """Two browsers, one per firm, each signed in through the link of its own email."""
    opened: dict[str, Any] = {}
    contexts = []
    for firm, address in ((FIRM_A, ADDRESS_A), (FIRM_B, ADDRESS_B)):
        add_user(portal.engine, firm=firm, address=address)
        context = browser.new_context(locale="fr-BE")
        contexts.append(context)
        page = context.new_page()
        page.refused = []
        page.on(
            "console",
            lambda message, page=page: (
                page.refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(portal.url + "/login")
        page.get_by_label("Adresse e-mail").fill(address)
        page.get_by_role("button", name="M’envoyer un lien de connexion").click()
        page.wait_for_load_state()
        page.goto(portal.sign_in_link(address))
        page.locator("main").get_by_role("button", name="Se connecter").click()
        page.wait_for_url(portal.url + "/")
        opened[address] = page
    yield opened
    for context in contexts:
        context.close()


def test_interest_as_a_pseudonym_then_mutual_reveal(portal: Portal, sessions: dict[str, Any]) -> None:
    deadline = brussels_day(datetime.now(UTC)) + timedelta(days=20)
    codes = ["72212000", "48000000", "79341000"]
    store(
        portal.engine,
        lots_notice(
            "26-0301",
            codes,
            title="Plateforme numérique des écoles",
            deadline=f"{deadline.isoformat()}T12:00:00+01:00",
            documents_url="https://marches.example/dce/26-0301",
        ),
    )
    a, b = sessions[ADDRESS_A], sessions[ADDRESS_B]

    a.goto(portal.url + PATH)
    assert a.locator("h1").inner_text() == "Plateforme numérique des écoles"
    lots = a.get_by_role("table").inner_text()
    assert all(cpv_label(code, "fr") in lots for code in codes)
    assert "20 jours restants" in a.locator("main").inner_text()
    check(a, "tender-01-page")

    a.get_by_label("Lot 2").check()
    a.get_by_label("Mandataire").check()
    a.get_by_label("Ce que nous apportons").fill("72212000, plateformes scolaires")
    a.get_by_label("Ce qui nous manque").fill("hébergement")
    a.get_by_label("Nous cherchons des partenaires").check()
    a.get_by_role("button", name="Signaler notre intérêt").click()
    a.wait_for_load_state()
    status = a.get_by_role("status").inner_text()
    assert "Votre intérêt est enregistré" in status
    own = a.locator("#interest").inner_text()
    pseudonym_a = own.split("sous le pseudonyme ", 1)[1].split(",", 1)[0]
    check(a, "tender-02-interest-flagged")

    b.goto(portal.url + PATH)
    others = b.locator("#others").inner_text()
    assert pseudonym_a in others and "plateformes scolaires" in others and "Mandataire" in others
    assert FIRM_A not in b.content() and ADDRESS_A not in b.content()
    b.get_by_label("Sous-traitant").check()
    b.get_by_role("button", name="Signaler notre intérêt").click()
    b.wait_for_load_state()
    b.get_by_role("button", name=f"Demander à lever l’anonymat ({pseudonym_a})").click()
    b.wait_for_load_state()
    assert "elle n’a pas encore accepté" in b.locator("#others").inner_text()
    assert FIRM_A not in b.content()
    check(b, "tender-03-reveal-asked")

    a.reload()
    requests = a.locator("#requests").inner_text()
    assert "demande à savoir qui vous êtes" in requests and FIRM_B not in a.content()
    check(a, "tender-04-request-received")
    a.locator("#requests").get_by_role("button", name="Accepter").click()
    a.wait_for_load_state()
    revealed = a.locator("#revealed").inner_text()
    assert FIRM_B in revealed and ADDRESS_B in revealed
    assert a.locator("#others").get_by_role("button").count() == 0  # nothing left to ask of a revealed firm
    check(a, "tender-05-revealed-to-a")

    b.reload()
    revealed = b.locator("#revealed").inner_text()
    assert f"{pseudonym_a} est {FIRM_A}" in revealed and ADDRESS_A in revealed
    check(b, "tender-06-revealed-to-b")

    b.get_by_role("button", name="Intéressant, le suivre").click()
    b.wait_for_load_state()
    assert b.get_by_role("button", name="Ne plus suivre").is_visible()
    check(b, "tender-07-followed")

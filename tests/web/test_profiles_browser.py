"""My matches and My profiles in Debian's chromium: a member signs in by the emailed link, reads its matches, then
edits a profile through its live preview (the script asks the server as the member types) and the CPV picker, and
saves it; axe-core finds no serious or critical violation; screenshots in var/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from crawlers.store.models import utcnow
from crawlers.store.service import notice_table
from tests.factories import make_notice
from tests.notifications.helpers import add_firm
from tests.watch.helpers import spec, store
from tests.web.conftest import Portal
from tests.web.test_browser import check
from watch.deadlines import brussels_day
from watch.matching import profile_matches
from watch.models import Profile
from watch.routing import route_new

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]


def _days_ago(days: int) -> str:
    return (brussels_day(utcnow()) - timedelta(days=days)).isoformat()


def test_a_member_reads_its_matches_and_edits_a_profile_through_its_preview(page: Any, portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")])
    lot = [{"id": "1", "title": None, "cpv_main": "48000000", "cpv_additional": [], "nuts": ["FRE11"]}]
    soon = (utcnow() + timedelta(days=20)).date().isoformat()
    store(
        portal.engine,
        make_notice(source_id="P-1", title="Développement d'un portail citoyen", published=_days_ago(2), deadline=soon),
        make_notice(
            source_id="P-2",
            title="Hébergement cloud des archives",
            cpv_main="48000000",
            cpv_additional=[],
            lots=lot,
            published=_days_ago(4),
            deadline=soon,
        ),
        make_notice(
            source_id="P-3",
            title="Migration cloud de la messagerie",
            cpv_main="48000000",
            cpv_additional=[],
            lots=lot,
            published=_days_ago(6),
            deadline=soon,
        ),
        make_notice(source_id="P-4", title="Logiciel comptable", published=_days_ago(8), deadline=_days_ago(1)),
    )
    route_new(portal.engine)

    page.goto(portal.url + "/login")
    page.get_by_label("Adresse e-mail").fill(ADDRESS)
    page.get_by_role("button", name="M’envoyer un lien de connexion").click()
    page.wait_for_load_state()
    page.goto(portal.sign_in_link(ADDRESS))
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(portal.url + "/")

    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mes correspondances").click()
    page.wait_for_url(portal.url + "/matches")
    assert page.locator("h1").inner_text() == "Mes correspondances"
    entries = page.locator("ol.match-list > li")
    assert entries.count() == 2
    assert "Développement d'un portail citoyen" in entries.nth(0).inner_text()
    assert "l'un de vos codes" in entries.nth(0).inner_text()
    assert "Clôturé" in entries.nth(1).inner_text()
    check(page, "q3-01-my-matches")
    entries.nth(0).get_by_role("button", name="Intéressant, le suivre").click()
    page.wait_for_load_state()
    assert "vous suivez ce marché" in page.get_by_role("status").inner_text()
    check(page, "q3-02-my-matches-followed")

    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mes profils").click()
    page.wait_for_url(portal.url + "/profiles")
    check(page, "q3-03-my-profiles")
    page.get_by_role("link", name="Modifier « Profil daily »").click()
    assert page.locator("h1").inner_text() == "Modifier le profil « Profil daily »"

    count = re.compile(r"Marchés que ce profil aurait trouvés ces 30 derniers jours : (\d+)")
    page.wait_for_load_state()  # the form's script listens from then on: typing earlier would go unheard
    page.get_by_label("Mots-clés").fill("cloud")
    preview = page.locator("#preview")
    preview.get_by_text("Migration cloud de la messagerie").wait_for()  # asked of the server as the member types
    shown = int(count.search(preview.inner_text()).group(1))  # type: ignore[union-attr]
    since = brussels_day(utcnow()) - timedelta(days=30)
    with portal.engine.connect() as connection:
        rows = connection.execute(sa.select(notice_table.c.published, notice_table.c.data)).all()
    reference = spec(cpv=["72000000"], keywords=["cloud"])
    expected = sum(1 for published, data in rows if published >= since and profile_matches(reference, data))
    assert shown == expected == 4
    page.get_by_label("Trouver un code CPV par son libellé").fill("programmation de logiciels d'application")
    page.get_by_role("button", name=re.compile("^Ajouter 72212000")).click()
    assert page.get_by_label("Codes CPV").input_value() == "72000000 72212000"
    preview.get_by_text("Marchés que ce profil aurait trouvés").wait_for()
    check(page, "q3-04-profile-preview")

    page.get_by_label("Valeur minimale (EUR)").fill("300000")
    page.get_by_label("Valeur maximale (EUR)").fill("100000")
    preview.get_by_text("Corrigez les champs signalés").wait_for()

    page.get_by_role("button", name="Enregistrer le profil").click()  # refused next to the field, nothing saved
    page.wait_for_load_state()
    assert page.locator("#value_min-error").inner_text() == "Le minimum dépasse le maximum."
    assert page.get_by_label("Valeur minimale (EUR)").get_attribute("aria-invalid") == "true"
    check(page, "q3-05-profile-refused")
    page.get_by_label("Valeur maximale (EUR)").fill("")

    page.get_by_role("button", name="Enregistrer le profil").click()
    page.wait_for_url(portal.url + "/profiles?done=saved")
    assert page.get_by_role("status").inner_text() == "Le profil est enregistré."
    check(page, "q3-06-profile-saved")
    with portal.engine.connect() as connection:
        row = connection.execute(sa.select(profile_table).where(profile_table.c.id == firm.profiles["daily"])).one()
    assert (row.cpv, row.keywords, row.value_min, row.value_max) == (
        ["72000000", "72212000"],
        ["cloud"],
        300000.0,
        None,
    )

"""The staff console in Debian's chromium: staff sign in through the emailed link, read the dashboard (a silent
source's alarm, its 30-day chart, a job run now) and the activity charts; no inline code, nothing refused by the
CSP, no serious or critical axe-core violation; screenshots in var/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from config.settings import Settings
from crawlers.crawl.dashboard import working_day
from crawlers.crawl.runner import brussels_today
from crawlers.store.service import Failure, record_failures, store_notices
from pib.scheduler import build_scheduler, job_specs
from pib.web.auth import add_staff
from tests.factories import incoming, make_notice
from tests.web.conftest import Portal
from tests.web.test_browser import check

STAFF = "animation@cluster.example"


def test_staff_sign_in_and_read_the_dashboard_and_the_activity(page: Any, portal: Portal) -> None:
    engine = portal.engine
    today = brussels_today()
    days = [today - timedelta(days=n) for n in range(1, 30)]
    last_working = next(day for day in days if working_day(day))
    store_notices(
        engine,
        [
            incoming(make_notice(source="ted", source_id=f"{n}-2026", published=day.isoformat()))
            for n, day in enumerate(days)
            if working_day(day) and day != last_working
        ],
    )
    record_failures(engine, [Failure("boamp/page-7.json", "results[3]", "pas d’objet : titre impossible")])
    build_scheduler(engine, job_specs(Settings())).shutdown(wait=False)
    add_staff(engine, email=STAFF, language="fr")

    page.goto(portal.url + "/login")
    page.get_by_label("Adresse e-mail").fill(STAFF)
    page.get_by_role("button", name="M’envoyer un lien de connexion").click()
    page.goto(portal.sign_in_link(STAFF))
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_url(portal.url + "/")
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Équipe du cluster").click()
    page.wait_for_url(portal.url + "/staff")

    main = page.locator("main")
    assert page.locator("h1").inner_text() == "Tableau de bord"
    assert "Alarme : ted n’a rien publié le" in page.get_by_role("alert").inner_text()
    chart = page.get_by_role("img", name="ted : avis publiés par jour, 30 derniers jours")
    assert chart.is_visible()
    assert "pas d’objet : titre impossible" in main.inner_text()
    assert page.get_by_role("navigation", name="Console du personnel").get_by_role("link").all_inner_texts() == [
        "Tableau de bord",
        "Membres",
        "Tableau des intérêts",
        "Groupements",
        "Organisations",
        "Activité",
        "Audit",
    ]
    check(page, "staff-01-dashboard")

    page.get_by_role("button", name="Lancer crawl:ted maintenant").click()
    page.wait_for_url("**/staff?ran=crawl%3Ated#jobs")
    assert "crawl:ted sera lancée au prochain réveil du service" in page.get_by_role("status").inner_text()

    page.get_by_role("link", name="Activité").click()
    page.wait_for_url(portal.url + "/staff/activity")
    assert page.get_by_role("img", name="Marchés par semaine, par source").is_visible()
    page.get_by_text("Les chiffres").first.click()
    assert page.get_by_role("table", name="Marchés par semaine, par source").is_visible()
    check(page, "staff-02-activity")

    page.get_by_role("link", name="Audit").click()
    page.wait_for_url(portal.url + "/staff/audit")
    assert "job run now crawl:ted" in page.locator("tbody").inner_text().replace("\t", " ")
    check(page, "staff-03-audit")

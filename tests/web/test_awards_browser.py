"""In Debian's chromium, in French: a member reads the buyer's earlier awards on a tender page; staff read the
co-bidding network (a server-drawn SVG, its labels readable), confirm a member's link by name and read the
suggestions from awards. Screenshots under var/screenshots/, axe-core without serious or critical violation."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from pib.web.auth import add_staff
from tests.watch.awards_data import TENDER, load_cluster
from tests.web.conftest import Portal
from tests.web.test_browser import check
from watch.models import Member, User
from watch.organisations import resolve_awards

STAFF = "animation@cluster.example"
MEMBER = "info@alpha.example"


def sign_in(page: Any, portal: Portal, address: str) -> None:
    page.goto(portal.url + "/login")
    page.get_by_label("Adresse e-mail").fill(address)
    page.get_by_role("button", name="M’envoyer un lien de connexion").click()
    page.goto(portal.sign_in_link(address))
    page.locator("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def test_award_history_network_links_and_suggestions_in_the_browser(page: Any, portal: Portal) -> None:
    cluster = load_cluster(portal.engine)
    with Session(portal.engine) as session:
        session.add(User(member_id=cluster.alpha, email=MEMBER, language="fr"))
        session.add_all([Member(name="GAMMA SYSTEMES"), Member(name="Électro Wallonie SRL")])
        session.commit()
    resolve_awards(portal.engine)
    add_staff(portal.engine, email=STAFF, language="fr")

    sign_in(page, portal, MEMBER)
    page.goto(portal.url + f"/tenders/{TENDER[0]}/{TENDER[1]}")
    history = page.get_by_role("region", name="Marchés attribués auparavant par cet acheteur")
    assert "Titulaire probable" in history.inner_text()
    rows = history.get_by_role("row")
    assert rows.count() == 4
    assert rows.nth(1).inner_text().split("\t")[2] == "Groupement ALPHA LOGICIELS S.R.L., ÉCOLE NUMÉRIQUE S.A."
    history.scroll_into_view_if_needed()
    check(page, "awards-01-tender-history")
    page.context.clear_cookies()

    sign_in(page, portal, STAFF)
    page.goto(portal.url + "/staff/organisations")
    assert page.locator("h1").inner_text() == "Organisations"
    page.get_by_role("link", name="Liens de membres à confirmer : 1").click()
    assert page.locator("h1").inner_text() == "Les membres et leurs organisations"
    page.get_by_role("button", name="Confirmer : GAMMA SYSTEMES = Gamma Systèmes SA").click()
    assert page.get_by_role("status").inner_text() == "Lien confirmé."
    check(page, "awards-02-links")

    page.goto(portal.url + "/staff/awards/network")
    picture = page.get_by_role("img", name="Réseau des membres du cluster qui ont remporté des marchés ensemble")
    assert picture.is_visible()
    labels = picture.locator("text").all_text_contents()
    assert sorted(labels) == ["Alpha Logiciels SRL", "GAMMA SYSTEMES", "École Numérique SA"]
    box = picture.bounding_box()
    for label in picture.locator("text").all():  # every label drawn inside the picture, none cut off
        inner = label.bounding_box()
        assert box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"], label.text_content()
    check(page, "awards-03-network")

    page.goto(portal.url + f"/tenders/{TENDER[0]}/{TENDER[1]}")
    page.get_by_role("link", name="Entreprises ayant remporté des marchés semblables").click()
    cluster_table = page.get_by_role("table", name="Membres du cluster")
    assert cluster_table.get_by_role("row").nth(1).inner_text().startswith("École Numérique SA")
    check(page, "awards-04-suggestions")

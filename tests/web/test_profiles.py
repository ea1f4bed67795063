"""My profiles (`/profiles`): create, edit and delete the firm's watch profiles, with the preview of what a profile
would have caught in the last 30 days; bad input refused next to the field with nothing saved; another firm's
profile is 404. Over real HTTP, the form submitted as a browser without JavaScript submits it."""

from __future__ import annotations

import doctest
import re
from datetime import timedelta
from html import unescape
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.store.models import utcnow
from crawlers.store.service import notice_table
from tests.factories import make_notice
from tests.notifications.helpers import add_firm
from tests.watch.helpers import spec, store
from tests.web.conftest import Portal
from tests.web.test_auth import TOKEN_FIELD, sign_in
from watch.deadlines import brussels_day
from watch.matching import profile_matches
from watch.models import Match, Profile

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
OTHER = "Brugse Bouw NV"
OTHER_ADDRESS = "info@brugse-bouw.example"
profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]
match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
COUNT = re.compile(r"Marchés que ce profil aurait trouvés ces 30 derniers jours : (\d+)")


def _days_ago(days: int) -> str:
    return (brussels_day(utcnow()) - timedelta(days=days)).isoformat()


def _notices(engine: Engine) -> None:
    """Recent notices the profile of the tests catches or not, and an old one outside the 30 days."""
    store(
        engine,
        make_notice(source_id="R-1", title="Hébergement cloud souverain", published=_days_ago(2)),
        make_notice(
            source_id="R-2",
            title="Nettoyage des locaux",
            cpv_main="90910000",
            cpv_additional=[],
            lots=[{"id": "1", "title": None, "cpv_main": "90910000", "cpv_additional": [], "nuts": []}],
            published=_days_ago(3),
        ),
        make_notice(
            source_id="R-3",
            title="Migration vers le CLOUD",
            cpv_main="48000000",
            cpv_additional=[],
            lots=[{"id": "1", "title": None, "cpv_main": "48000000", "cpv_additional": [], "nuts": []}],
            published=_days_ago(10),
        ),
        make_notice(source_id="R-4", title="Logiciel de paie", estimated_value=9_000_000.0, published=_days_ago(5)),
        make_notice(source_id="R-5", title="Hébergement cloud de messagerie", published=_days_ago(45)),
    )


def _form(client: httpx.Client, path: str, **fields: Any) -> dict[str, Any]:
    """The form's fields as the page fills them, with changes; the CSRF token of the page."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    data: dict[str, Any] = {"csrf_token": TOKEN_FIELD.findall(page.text)[-1]}
    for name in ("name", "cpv", "cpv_query", "regions", "value_min", "value_max"):
        found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
        data[name] = unescape(found.group(1)) if found else ""
    for name in ("keywords", "exclude"):
        found = re.search(rf'name="{name}"[^>]*>(.*?)</textarea>', page.text, re.S)
        data[name] = unescape(found.group(1)) if found else ""
    data["notice_types"] = re.findall(r'name="notice_types" value="([^"]+)" checked', page.text)
    data["frequency"] = re.search(r'name="frequency" value="([^"]+)" checked', page.text).group(1)  # type: ignore[union-attr]
    data.update(fields)
    return data


def _profiles(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(profile_table).order_by(profile_table.c.id)))


def _expected(engine: Engine, **profile: Any) -> int:
    """What the reference matcher catches among the notices of the last 30 days, one per procedure."""
    since = brussels_day(utcnow()) - timedelta(days=30)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(notice_table.c.id, notice_table.c.published, notice_table.c.data)).all()
    return sum(1 for row in rows if row.published >= since and profile_matches(spec(**profile), row.data))


def _error_before_field(html: str, name: str) -> str:
    """The message shown next to a field: the error paragraph, then the field that points at it."""
    found = re.search(
        rf'<p class="field-error" id="{name}-error">([^<]+)</p>\s*<(?:input|textarea) id="{name}"[^>]*'
        rf'aria-invalid="true" aria-describedby="{name}-error',
        html,
    )
    assert found, f"no error next to {name}"
    return unescape(found.group(1))


def test_create_a_profile_through_its_preview(portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")], frequencies=())
    _notices(portal.engine)
    browser = sign_in(portal, ADDRESS)
    assert "Votre entreprise n’a pas encore de profil" in browser.get("/profiles").text

    fields = {
        "name": "Cloud & hébergement",
        "cpv": "72000000",
        "keywords": "cloud\nhébergement web",
        "exclude": "nettoyage",
        "regions": "FR",
        "value_min": "20 000",
        "value_max": "500000",
    }
    preview = browser.post("/profiles/new", data=_form(browser, "/profiles/new", action="preview", **fields))
    assert preview.status_code == 200
    count = int(COUNT.search(unescape(preview.text)).group(1))  # type: ignore[union-attr]
    expected = _expected(
        portal.engine,
        cpv=["72000000"],
        keywords=["cloud", "hébergement web"],
        exclude=["nettoyage"],
        regions=["FR"],
        value_min=20000.0,
        value_max=500000.0,
    )
    assert count == expected == 2  # not the cleaning, the 9 M€ payroll, nor R-5 (45 days ago)
    assert "Hébergement cloud souverain" in preview.text and "Migration vers le CLOUD" in preview.text
    assert "mot-clé « cloud » dans le titre" in unescape(preview.text)  # the reasons, in French
    assert _profiles(portal.engine) == []  # a preview saves nothing
    assert 'value="Cloud &amp; hébergement"' in preview.text  # the form comes back as typed

    saved = browser.post("/profiles/new", data=_form(browser, "/profiles/new", action="save", **fields))
    assert saved.status_code == 303 and saved.headers["location"] == "/profiles?done=saved"
    (row,) = _profiles(portal.engine)
    assert (row.member_id, row.name, row.cpv, row.keywords, row.exclude, row.regions) == (
        firm.member_id,
        "Cloud & hébergement",
        ["72000000"],
        ["cloud", "hébergement web"],
        ["nettoyage"],
        ["FR"],
    )
    assert (row.value_min, row.value_max, row.notice_types, row.frequency) == (
        20000.0,
        500000.0,
        ["contract-notice", "prior-information"],
        "daily",
    )
    listing = unescape(browser.get("/profiles?done=saved").text)
    assert "Le profil est enregistré." in listing
    assert "Services de technologies de l'information, conseil, développement de logiciels" in listing  # CPV label
    assert "de 20 000 € à 500 000 €" in listing.replace("\u202f", " ").replace("\xa0", " ")


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(portal: Portal) -> None:
    add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")], frequencies=("daily",))
    browser = sign_in(portal, ADDRESS)
    before = _profiles(portal.engine)
    (profile_id,) = [row.id for row in before]
    fields = {
        "name": "Services IT",
        "cpv": "72000000 12345678 7200",
        "value_min": "600000",
        "value_max": "50 000",
        "regions": "BE3 XX9",
        "keywords": "de la",
    }
    answer = browser.post(
        f"/profiles/{profile_id}", data=_form(browser, f"/profiles/{profile_id}", action="save", **fields)
    )
    assert answer.status_code == 422
    html = answer.text
    assert "Certains champs sont à corriger ; rien n’a été enregistré." in unescape(html)
    cpv = _error_before_field(html, "cpv")
    assert "12345678 n’existe pas dans la liste des codes CPV." in cpv
    assert "7200 n’est pas un code CPV (8 chiffres, comme 72000000)." in cpv
    assert _error_before_field(html, "value_min") == "Le minimum dépasse le maximum."
    assert _error_before_field(html, "regions") == "XX9 n’est ni un code NUTS ni un pays."
    assert "« de la » n’a aucun mot à chercher" in _error_before_field(html, "keywords")
    assert 'value="72000000 12345678 7200"' in html  # as typed, to correct
    assert "Corrigez les champs signalés" in unescape(html)  # no preview of a wrong profile
    assert _profiles(portal.engine) == before  # nothing saved, not even the good fields

    empty = browser.post("/profiles/new", data=_form(browser, "/profiles/new", action="save", name="Vide"))
    assert empty.status_code == 422
    assert "au moins un code CPV ou un mot-clé" in _error_before_field(empty.text, "cpv")
    taken = browser.post(
        "/profiles/new", data=_form(browser, "/profiles/new", action="save", name="Profil daily", cpv="45000000")
    )
    assert _error_before_field(taken.text, "name") == "Votre entreprise a déjà un profil nommé « Profil daily »."
    assert _profiles(portal.engine) == before


def test_another_firms_profile_is_not_found(portal: Portal) -> None:
    add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")], frequencies=("daily",))
    theirs = add_firm(portal.engine, name=OTHER, users=[(OTHER_ADDRESS, "nl")], frequencies=("weekly",))
    their_id = theirs.profiles["weekly"]
    browser = sign_in(portal, ADDRESS)
    before = _profiles(portal.engine)
    page = browser.get(f"/profiles/{their_id}")
    assert page.status_code == 404 and "Page introuvable" in page.text
    assert "Profil weekly" not in browser.get("/profiles").text
    token = TOKEN_FIELD.findall(page.text)[-1]
    edit = browser.post(
        f"/profiles/{their_id}",
        data={"csrf_token": token, "name": "Pris", "cpv": "72000000", "frequency": "daily", "action": "save"},
    )
    assert edit.status_code == 404
    assert browser.post(f"/profiles/{their_id}/delete", data={"csrf_token": token}).status_code == 404
    assert browser.get("/profiles/99999999999").status_code == 404
    assert _profiles(portal.engine) == before


def test_edit_then_delete_keeps_the_matches(portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "nl")], frequencies=("daily",))
    profile_id = firm.profiles["daily"]
    with portal.engine.begin() as connection:
        connection.execute(profile_table.update().values(procedure_types=["open"]))
    store(portal.engine, make_notice(source_id="K-1"))
    with portal.engine.begin() as connection:
        notice_id = connection.execute(sa.select(notice_table.c.id)).scalar_one()
        connection.execute(
            match_table.insert().values(
                member_id=firm.member_id,
                profile_id=profile_id,
                notice_id=notice_id,
                score=0.5,
                reasons=[],
                lot_ids=[],
                created_at=utcnow(),
            )
        )
    browser = sign_in(portal, ADDRESS)
    data = _form(
        browser,
        f"/profiles/{profile_id}",
        action="save",
        name="Software",
        keywords="software",
        notice_types=["contract-notice", "award"],
        frequency="weekly",
    )
    assert browser.post(f"/profiles/{profile_id}", data=data).status_code == 303
    (row,) = _profiles(portal.engine)
    assert (row.name, row.keywords, row.notice_types, row.frequency, row.procedure_types) == (
        "Software",
        ["software"],
        ["contract-notice", "award"],
        "weekly",
        ["open"],  # what the form has not: kept
    )
    listing = unescape(browser.get("/profiles").text)
    assert "Wekelijks overzicht" in listing and "Aankondigingen van gegunde opdrachten" in listing

    token = TOKEN_FIELD.findall(browser.get(f"/profiles/{profile_id}").text)[-1]
    deleted = browser.post(f"/profiles/{profile_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert "Het profiel is verwijderd." in unescape(browser.get(deleted.headers["location"]).text)
    assert "Software" not in browser.get("/profiles").text
    assert browser.get(f"/profiles/{profile_id}").status_code == 404
    assert "Software" in browser.get("/matches").text  # what it caught stays in My matches
    with portal.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(match_table)).scalar_one() == 1

    again = _form(browser, "/profiles/new", action="save", name="Software", cpv="48000000")
    assert browser.post("/profiles/new", data=again).status_code == 303  # the deleted one's name is free again
    (row,) = _profiles(portal.engine)
    assert (row.id, row.active, row.cpv, row.keywords) == (profile_id, True, ["48000000"], [])


def test_the_cpv_picker_and_the_fragments_of_the_script(portal: Portal) -> None:
    add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")], frequencies=())
    _notices(portal.engine)
    browser = sign_in(portal, ADDRESS)

    found = browser.post(
        "/profiles/new",
        data=_form(browser, "/profiles/new", action="find", cpv_query="programmation logiciels", name="Dév"),
    )
    assert found.status_code == 200
    assert re.search(
        r'value="add:72212000"[^>]*>Ajouter</button> <span class="code">72212000</span> '
        r"Services de programmation de logiciels d&#39;application",
        found.text,
    )
    added = browser.post(
        "/profiles/new", data=_form(browser, "/profiles/new", action="add:72212000", name="Dév", cpv="72000000")
    )
    assert 'name="cpv" value="72000000 72212000"' in added.text

    fragment = browser.get("/profiles/cpv", params={"q": "Programmation LOGICIELS"})
    assert "72212000" in fragment.text and "<html" not in fragment.text
    assert "Aucun code CPV" in unescape(browser.get("/profiles/cpv", params={"q": "zzzz qqqq"}).text)

    params = {"name": "x", "keywords": "cloud", "frequency": "daily", "notice_types": ["contract-notice"]}
    preview = unescape(browser.get("/profiles/preview", params=params).text)
    assert "<html" not in preview
    assert int(COUNT.search(preview).group(1)) == _expected(portal.engine, keywords=["cloud"]) == 2  # type: ignore[union-attr]
    wrong = unescape(browser.get("/profiles/preview", params={**params, "cpv": "99999999"}).text)
    assert "Corrigez les champs signalés" in wrong


def test_doctests() -> None:
    import pib.web.routers.matches
    import pib.web.routers.profiles

    for module in (pib.web.routers.profiles, pib.web.routers.matches):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module

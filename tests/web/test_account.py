"""My account and my firm (issue 10, point 6), over real HTTP as a browser signs in: stop and start the emails
(the state the one-click unsubscribe sets), how often alerts come, personal API tokens shown once, listed,
used against the API and revoked, the firm's competences refused next to their field or saved whole, its users;
another firm's token answers 404."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.settings import get_settings
from consortium.catalogue import catalogue_of
from crawlers.store.models import utcnow
from notifications.compose import reachable
from notifications.links import LinkSigner
from pib.web.auth import member_table, token_table, user_table
from pib.web.routers.account import profile_table
from tests.notifications.helpers import add_firm, add_notice
from tests.web.conftest import Portal
from tests.web.test_auth import csrf, sign_in

FIRM = "École Numérique SA"
ADDRESS = "direction@ecole-numerique.example"
COLLEAGUE = "anaïs@ecole-numerique.example"
OTHER_FIRM = "Électro Wallonie SRL"
OTHER = "offres@electro-wallonie.example"
SECRET = re.compile(r'id="new-token" type="text" readonly value="([^"]+)"')


def text(answer: httpx.Response) -> str:
    """The page as read: tags dropped, entities decoded, spaces folded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", answer.text)).split())


def post(client: httpx.Client, path: str, **data: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf(client, path.split("?")[0]), **data})


def receiving(engine: Engine, user_id: int) -> bool:
    """Whether the notifications would email this user (their own query of who is reachable)."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(user_table.c.id)
            .select_from(user_table.join(member_table, member_table.c.id == user_table.c.member_id))
            .where(user_table.c.id == user_id, reachable())
        ).first()
    return found is not None


def test_unsubscribe_and_subscribe_again_share_the_one_click_state(portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr"), (COLLEAGUE, "nl")])
    user_id = firm.users[ADDRESS]
    client = sign_in(portal, ADDRESS)
    page = client.get("/account")
    assert page.status_code == 200
    assert "Vous recevez par e-mail les alertes de votre entreprise" in text(page)
    assert receiving(portal.engine, user_id)

    stopped = post(client, "/account", action="unsubscribe")
    assert stopped.status_code == 303
    page = client.get(stopped.headers["location"])
    assert "PIB ne vous écrit plus" in text(page)
    assert "Vous vous êtes désabonné le" in text(page)
    assert not receiving(portal.engine, user_id)

    again = post(client, "/account", action="subscribe")
    page = client.get(again.headers["location"])
    assert "PIB vous écrit à nouveau" in text(page)
    assert receiving(portal.engine, user_id)

    # The emails' one-click unsubscribe sets the same state: the account page shows it, and undoes it.
    token = LinkSigner(get_settings().secret_key.get_secret_value()).sign(
        action="unsubscribe", user_id=user_id, notice_id=None, expires=utcnow() + timedelta(days=30)
    )
    assert portal.client().post(f"/l/{token}").status_code == 200
    assert not receiving(portal.engine, user_id)
    page = client.get("/account")
    assert "Vous vous êtes désabonné le" in text(page)
    post(client, "/account", action="subscribe")
    assert receiving(portal.engine, user_id)
    assert receiving(portal.engine, firm.users[COLLEAGUE]), "a colleague's emails are theirs"


def test_how_often_sets_every_profile_of_the_firm_only(portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "en")], frequencies=("daily", "weekly"))
    other = add_firm(portal.engine, name=OTHER_FIRM, users=[(OTHER, "fr")], frequencies=("daily",))
    client = sign_in(portal, ADDRESS)
    assert "Your firm's profiles differ today; saving sets them all." in text(client.get("/account"))
    saved = post(client, "/account", action="frequency", frequency="instant")
    assert "Saved: how often your firm's alerts come." in text(client.get(saved.headers["location"]))
    with portal.engine.connect() as connection:
        rows = dict(connection.execute(sa.select(profile_table.c.id, profile_table.c.frequency)).all())
    assert [rows[i] for i in firm.profiles.values()] == ["instant", "instant"]
    assert [rows[i] for i in other.profiles.values()] == ["daily"]
    assert 'value="instant" checked' in client.get("/account").text
    assert post(client, "/account", action="frequency", frequency="hourly").status_code == 422


def test_api_tokens_are_shown_once_listed_used_and_revoked(portal: Portal) -> None:
    add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")])
    add_firm(portal.engine, name=OTHER_FIRM, users=[(OTHER, "fr")])
    add_notice(portal.engine, source_id="26-0042")
    client = sign_in(portal, ADDRESS)

    refused = post(client, "/account", action="token-create", name="   ")
    assert refused.status_code == 422
    assert "Donnez au jeton un nom" in text(refused)

    made = post(client, "/account", action="token-create", name="Outil d’offres <Électro>")
    assert made.status_code == 201
    token = SECRET.search(made.text)
    assert token, made.text
    secret = token.group(1)
    assert "Outil d’offres <Électro>" in text(made)  # listed by its name, escaped
    assert "&lt;Électro&gt;" in made.text
    assert secret not in client.get("/account").text, "a token is shown once"

    api = portal.client(headers={"Authorization": f"Bearer {secret}"})
    answer = api.get("/api/v1/interests/26-0042")
    assert answer.status_code == 200, answer.text
    assert "Dernière utilisation" in text(client.get("/account"))

    with portal.engine.connect() as connection:
        token_id = connection.execute(sa.select(token_table.c.id)).scalar_one()
    intruder = sign_in(portal, OTHER)
    assert post(intruder, "/account", action="token-revoke", token_id=str(token_id)).status_code == 404
    assert api.get("/api/v1/interests/26-0042").status_code == 200, "another firm cannot revoke it"

    revoked = post(client, "/account", action="token-revoke", token_id=str(token_id))
    assert "le jeton est révoqué" in text(client.get(revoked.headers["location"])).lower()
    assert api.get("/api/v1/interests/26-0042").status_code == 401
    assert "Vous n’avez aucun jeton." in text(client.get("/account"))


def test_language_of_the_account_page(portal: Portal) -> None:
    add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr")])
    client = sign_in(portal, ADDRESS)
    answer = post(client, "/language", language="nl", next="/account")
    assert answer.headers["location"] == "/account"
    page = text(client.get("/account"))
    assert "Mijn account" in page and "Persoonlijke API-tokens" in page
    with portal.engine.connect() as connection:
        assert connection.execute(sa.select(user_table.c.language)).scalar_one() == "nl"


def test_the_firm_page_lists_competences_and_users_and_refuses_bad_input_next_to_the_field(portal: Portal) -> None:
    firm = add_firm(portal.engine, name=FIRM, users=[(ADDRESS, "fr"), (COLLEAGUE, "nl")])
    add_firm(portal.engine, name=OTHER_FIRM, users=[(OTHER, "fr")])
    with portal.engine.begin() as connection:
        competences = {"cpv": ["72000000"], "keywords": ["archivage électronique"], "regions": ["BE3"]}
        connection.execute(
            member_table.update().where(member_table.c.id == firm.member_id).values(competences=competences)
        )
        connection.execute(user_table.update().where(user_table.c.email == COLLEAGUE).values(unsubscribed_at=utcnow()))
    client = sign_in(portal, ADDRESS)
    page = text(client.get("/firm"))
    assert FIRM in page and OTHER_FIRM not in page
    assert "72000000 Services de technologies de l'information" in page.replace("’", "'")
    assert "Région wallonne (BE3)" in page
    assert f"{COLLEAGUE} Nederlands désabonné le" in page
    assert f"{ADDRESS} (vous) Français reçoit les e-mails" in page

    bad = post(
        client,
        "/firm",
        cpv="72212000\n99999999\n48000000",
        keywords="éclairage public",
        regions="BE3, XX9",
        certifications="ISO 27001",
        references="",
        size_band="small",
    )
    assert bad.status_code == 422
    shown = text(bad)
    assert "« 99999999 » n’est pas un code CPV" in shown
    assert "« XX9 » n’est ni un code NUTS ni un pays" in shown
    assert "éclairage public" in shown, "what was typed is kept"
    with portal.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM consortium_catalogue")).scalar() == 0

    good = post(
        client,
        "/firm",
        cpv="72212000-4\n48000000",
        keywords="éclairage public; Logiciel",
        regions="be3, fre1",
        certifications="ISO 27001",
        references="",
        size_band="small",
    )
    assert good.status_code == 303
    page = text(client.get(good.headers["location"]))
    assert "Enregistré : les compétences de votre entreprise." in page
    assert "72212000 Services de programmation de logiciels d'application" in page.replace("’", "'")
    saved = catalogue_of(portal.engine, member_id=firm.member_id)
    assert saved.cpv == ["72000000", "72212000", "48000000"]  # the members file's, then the firm's
    assert saved.keywords == ["archivage électronique", "éclairage public", "Logiciel"]
    assert saved.regions == ["BE3", "FRE1"]
    assert (saved.certifications, saved.size_band) == (["ISO 27001"], "small")


def test_staff_have_no_firm_page(portal: Portal) -> None:
    from pib.web.auth import add_staff

    add_staff(portal.engine, email="staff@cluster.example", language="en")
    client = sign_in(portal, "staff@cluster.example")
    assert client.get("/firm").status_code == 403
    page = text(client.get("/account"))
    assert "Personal API tokens" in page and "Calendar" not in page
    assert post(client, "/account", action="unsubscribe").status_code == 404

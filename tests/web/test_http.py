"""The portal over real HTTP: the one-click links answer each request whole, in sequence (issue 9 item 4),
an over-long URL gets 414 (item 5), `/` is a page, every answer carries the security headers."""

from __future__ import annotations

import http.client
from datetime import timedelta

from config.settings import get_settings
from crawlers.store.models import utcnow
from notifications.links import LinkSigner
from tests.notifications.helpers import add_firm, add_notice
from tests.web.conftest import Portal


def _signed_links(portal: Portal) -> list[tuple[str, str]]:
    """(path, a text its page must show in full) for links of users in three languages and titles of any length."""
    signer = LinkSigner(get_settings().secret_key.get_secret_value())
    expires = utcnow() + timedelta(days=30)
    links = []
    for index, (address, language) in enumerate(
        [("info@ecole-numerique.example", "fr"), ("info@vlaamse-bouw.example", "nl"), ("it@brussels.example", "en")]
    ):
        firm = add_firm(portal.engine, name=f"École Numérique {index} SA", users=[(address, language)])
        title = f"Marché {index}: " + "hébergement cloud souverain " * (1 + 20 * index)
        notice = add_notice(portal.engine, source_id=f"2026-OJS{index:03d}-000{index}", title=title)
        user = firm.users[address]
        for action in ("interested", "not-relevant"):
            token = signer.sign(action=action, user_id=user, notice_id=notice, expires=expires)
            links.append((f"/l/{token}", title.strip()[:60]))
        token = signer.sign(action="unsubscribe", user_id=user, notice_id=None, expires=expires)
        links.append((f"/l/{token}", address))
    return links


def _exchange(connection: http.client.HTTPConnection, method: str, path: str) -> tuple[int, dict[str, str], str]:
    connection.request(method, path, body=b"List-Unsubscribe=One-Click" if method == "POST" else None)
    answer = connection.getresponse()
    body = answer.read()
    headers = {name.lower(): value for name, value in answer.getheaders()}
    assert int(headers["content-length"]) == len(body), (path, headers["content-length"], len(body))
    return answer.status, headers, body.decode()


def test_link_pages_come_whole_one_after_another(portal: Portal) -> None:
    links = _signed_links(portal)
    host, port = portal.server.server_address
    kept_alive = http.client.HTTPConnection(host, port, timeout=10)  # a hang fails here instead of waiting
    try:
        for round_ in range(3):
            for path, shown in links:
                for method in ("GET", "POST"):
                    status, headers, body = _exchange(kept_alive, method, path)
                    # a verdict link acts once: once the other verdict is given it says so (409), whole too
                    assert status == 200 or (round_ and status == 409), body
                    assert body.rstrip().endswith("</html>"), body[-200:]
                    if method == "GET" and not round_:  # the question names the tender (or the address)
                        assert shown in body
                    assert headers["cache-control"] == "no-store"
                fresh = http.client.HTTPConnection(host, port, timeout=10)
                try:
                    status, _headers, body = _exchange(fresh, "GET", path)
                    assert status in (200, 409) and body.rstrip().endswith("</html>")
                finally:
                    fresh.close()
        status, _headers, body = _exchange(kept_alive, "GET", "/l/not-a-token")
        assert status == 400 and body.rstrip().endswith("</html>")
    finally:
        kept_alive.close()


def test_a_very_long_url_gets_414_and_the_server_goes_on(portal: Portal) -> None:
    host, port = portal.server.server_address
    for path in ("/l/" + "A" * 20_000, "/?q=" + "x" * 20_000):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            status, headers, body = _exchange(connection, "GET", path)
        finally:
            connection.close()
        assert status == 414, body
        assert "URI too long" in body and "content-security-policy" in headers
    with portal.client() as client:
        assert client.get("/healthz").text == "ok\n"
        assert client.get("/l/" + "A" * 7_000).status_code == 400  # long but allowed: the link's own answer


def test_the_home_page_says_what_pib_is_and_offers_to_sign_in(portal: Portal) -> None:
    with portal.client() as client:
        answer = client.get("/", headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})
        assert answer.status_code == 200
        assert "Overheidsopdrachten voor de bedrijven van uw cluster" in answer.text
        assert 'action="/login"' in answer.text and 'name="csrf_token"' in answer.text
        english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
        assert "Public tenders for the firms of your cluster" in english
        assert client.get("/", headers={"Accept-Language": "de"}).text.count("Les marchés publics pour") == 1


def test_every_answer_carries_the_security_headers(portal: Portal) -> None:
    with portal.client() as client:
        for path, status in [("/", 200), ("/login", 200), ("/nowhere", 404), ("/l/bad", 400), ("/static/pib.css", 200)]:
            answer = client.get(path)
            assert answer.status_code == status, path
            policy = answer.headers["content-security-policy"]
            assert "default-src 'none'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
            assert "unsafe-inline" not in policy
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "no-referrer"
        assert client.get("/nowhere").headers["cache-control"] == "no-store"
        assert "Page introuvable" in client.get("/nowhere").text

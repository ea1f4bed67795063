"""Signed one-click links: bound to user and notice, expiring; what each does; a bad link changes nothing."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from consortium.services import ConsortiumError, record_interest, staff_view
from notifications.links import LinkError, LinkSigner
from pib.links import handle_link
from tests.notifications.helpers import NOW, Firm, add_firm, add_notice, settings_for, user_row
from watch.models import Feedback

feedback_table: sa.Table = Feedback.__table__  # type: ignore[attr-defined]
SIGNER = LinkSigner("test-secret-key")
EXPIRES = NOW + timedelta(days=30)


def interested(engine: Engine, notice: int) -> list[int]:
    """The firms with an active interest in the tender of the notice, as the consortium's staff see them."""
    return sorted(entry.member_id for entry in staff_view(engine, tender=notice).entries if entry.withdrawn_at is None)


def state(engine: Engine, notice: int) -> tuple[list[tuple[Any, ...]], list[int], list[Any]]:
    """Everything a link may change: feedback, the consortium's interests, unsubscriptions."""
    with engine.connect() as connection:
        feedback = [
            tuple(r)
            for r in connection.execute(
                sa.select(feedback_table.c.member_id, feedback_table.c.notice_id, feedback_table.c.verdict)
            )
        ]
        users = list(connection.execute(sa.text("SELECT unsubscribed_at FROM member_user")).scalars())
    return feedback, interested(engine, notice), users


def with_part(token: str, index: int, value: str) -> str:
    parts = token.split(".")
    parts[index] = value
    return ".".join(parts)


@pytest.fixture
def firm_and_notice(engine: Engine) -> tuple[Firm, int, int]:
    firm = add_firm(engine, users=[("info@alpha.example", "fr")])
    return firm, firm.users["info@alpha.example"], add_notice(engine, title="Hébergement <b>cloud</b>")


def test_a_token_says_what_to_do_for_whom_until_when() -> None:
    token = SIGNER.sign(action="interested", user_id=12, notice_id=345, expires=EXPIRES)
    claim = SIGNER.verify(token, now=NOW)
    assert (claim.action, claim.user_id, claim.notice_id, claim.expires) == ("interested", 12, 345, EXPIRES)
    unsubscribe = SIGNER.verify(SIGNER.sign(action="unsubscribe", user_id=12, notice_id=None, expires=EXPIRES), now=NOW)
    assert unsubscribe.notice_id is None


@pytest.mark.parametrize(
    "alter",
    [
        lambda token: with_part(token, 0, "u"),  # another action
        lambda token: with_part(token, 1, "13"),  # another user
        lambda token: with_part(token, 2, "346"),  # another notice
        lambda token: with_part(token, 3, "9999999999"),  # a later expiry
        lambda token: token[:-1],  # truncated
        lambda token: token + "A",
        lambda token: "",
    ],
)
def test_an_altered_token_is_refused(alter: Any) -> None:
    token = SIGNER.sign(action="interested", user_id=12, notice_id=345, expires=EXPIRES)
    with pytest.raises(LinkError) as error:
        SIGNER.verify(alter(token), now=NOW)
    assert error.value.reason == "invalid"


def test_a_token_of_another_secret_is_refused() -> None:
    token = LinkSigner("another-secret").sign(action="interested", user_id=12, notice_id=345, expires=EXPIRES)
    with pytest.raises(LinkError, match="signature"):
        SIGNER.verify(token, now=NOW)


def test_no_link_is_signed_without_a_key() -> None:
    with pytest.raises(ValueError, match="no secret key"):
        LinkSigner("")


def test_a_token_expires() -> None:
    token = SIGNER.sign(action="interested", user_id=12, notice_id=345, expires=EXPIRES)
    SIGNER.verify(token, now=EXPIRES - timedelta(seconds=1))
    with pytest.raises(LinkError) as error:
        SIGNER.verify(token, now=EXPIRES)
    assert error.value.reason == "expired"


def test_interested_records_feedback_and_an_anonymous_interest(
    engine: Engine, tmp_path: Path, firm_and_notice: tuple[Firm, int, int]
) -> None:
    settings = settings_for(tmp_path)
    firm, user, notice = firm_and_notice
    token = SIGNER.sign(action="interested", user_id=user, notice_id=notice, expires=EXPIRES)

    status, page = handle_link(engine, token, method="GET", now=NOW, settings=settings)
    assert status == 200
    assert "Indiquer que ce marché vous intéresse ?" in page
    assert "Hébergement &lt;b&gt;cloud&lt;/b&gt;" in page and '<form method="post">' in page
    assert state(engine, notice) == ([], [], [None])  # looking at the link does nothing (mail scanners do)

    status, page = handle_link(engine, token, method="POST", now=NOW, settings=settings)
    assert status == 200 and "ce marché vous intéresse" in page
    assert state(engine, notice) == ([(firm.member_id, notice, "interesting")], [firm.member_id], [None])
    (entry,) = staff_view(engine, tender=notice).entries
    assert (entry.role, entry.lots, entry.seeks_partners) == ("partner", [], False)

    assert handle_link(engine, token, method="POST", now=NOW, settings=settings)[0] == 200  # twice: same state
    assert state(engine, notice) == ([(firm.member_id, notice, "interesting")], [firm.member_id], [None])
    assert len(staff_view(engine, tender=notice).entries) == 1


def test_interested_leaves_an_interest_declared_before_as_it_is(
    engine: Engine, tmp_path: Path, firm_and_notice: tuple[Firm, int, int]
) -> None:
    settings = settings_for(tmp_path)
    firm, user, notice = firm_and_notice
    record_interest(engine, member_id=firm.member_id, tender=notice, role="lead", brings=["72000000"])
    (before,) = staff_view(engine, tender=notice).entries
    token = SIGNER.sign(action="interested", user_id=user, notice_id=notice, expires=EXPIRES)

    assert handle_link(engine, token, method="POST", now=NOW, settings=settings)[0] == 200

    assert staff_view(engine, tender=notice).entries == [before]


def test_not_relevant_records_feedback_and_withdraws_the_interest(
    engine: Engine, tmp_path: Path, firm_and_notice: tuple[Firm, int, int]
) -> None:
    settings = settings_for(tmp_path)
    firm, user, notice = firm_and_notice
    interested_link = SIGNER.sign(action="interested", user_id=user, notice_id=notice, expires=EXPIRES)
    not_relevant = SIGNER.sign(action="not-relevant", user_id=user, notice_id=notice, expires=EXPIRES)
    handle_link(engine, interested_link, method="POST", now=NOW, settings=settings)
    assert interested(engine, notice) == [firm.member_id]

    status, _page = handle_link(engine, not_relevant, method="POST", now=NOW, settings=settings)

    assert status == 200
    assert state(engine, notice) == ([(firm.member_id, notice, "not-relevant")], [], [None])
    (entry,) = staff_view(engine, tender=notice).entries
    assert entry.withdrawn_at is not None
    # without an interest to withdraw, "not relevant" is only feedback
    assert handle_link(engine, not_relevant, method="POST", now=NOW, settings=settings)[0] == 200
    assert state(engine, notice) == ([(firm.member_id, notice, "not-relevant")], [], [None])


def test_a_consortium_error_keeps_the_verdict_and_the_page(
    engine: Engine,
    tmp_path: Path,
    firm_and_notice: tuple[Firm, int, int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(tmp_path)
    firm, user, notice = firm_and_notice

    def refuse(_engine: Engine, **_values: Any) -> None:
        raise ConsortiumError("the consortium refuses today")

    monkeypatch.setattr("pib.links.record_interest", refuse)
    token = SIGNER.sign(action="interested", user_id=user, notice_id=notice, expires=EXPIRES)

    status, page = handle_link(engine, token, method="POST", now=NOW, settings=settings)

    assert status == 200 and "ce marché vous intéresse" in page
    assert state(engine, notice) == ([(firm.member_id, notice, "interesting")], [], [None])
    assert "the consortium refuses today" in caplog.text and f"member {firm.member_id}" in caplog.text


def test_unsubscribe(engine: Engine, tmp_path: Path, firm_and_notice: tuple[Firm, int, int]) -> None:
    settings = settings_for(tmp_path)
    _firm, user, _notice = firm_and_notice
    token = SIGNER.sign(action="unsubscribe", user_id=user, notice_id=None, expires=EXPIRES)

    status, page = handle_link(engine, token, method="POST", now=NOW, settings=settings)

    assert status == 200 and "info@alpha.example" in page
    assert user_row(engine, user).unsubscribed_at == NOW


@pytest.mark.parametrize(("now", "status", "says"), [(NOW, 400, "not valid"), (EXPIRES, 410, "expired")])
def test_a_bad_link_gets_a_clear_page_and_changes_nothing(
    engine: Engine, tmp_path: Path, firm_and_notice: tuple[Firm, int, int], now: Any, status: int, says: str
) -> None:
    settings = settings_for(tmp_path)
    _firm, user, notice = firm_and_notice
    good = SIGNER.sign(action="interested", user_id=user, notice_id=notice, expires=EXPIRES)
    token = good if status == 410 else good.replace(f".{notice}.", f".{notice + 1}.")
    before = state(engine, notice)

    for method in ("GET", "POST"):
        answer, page = handle_link(engine, token, method=method, now=now, settings=settings)
        assert answer == status
        assert says in page and "nothing was changed" in page and "rien n&#39;a été changé" in page
    assert state(engine, notice) == before


def test_a_link_to_a_removed_notice_is_gone(
    engine: Engine, tmp_path: Path, firm_and_notice: tuple[Firm, int, int]
) -> None:
    settings = settings_for(tmp_path)
    _firm, user, notice = firm_and_notice
    token = SIGNER.sign(action="interested", user_id=user, notice_id=notice + 100, expires=EXPIRES)
    assert handle_link(engine, token, method="POST", now=NOW, settings=settings)[0] == 410
    assert state(engine, notice) == ([], [], [None])


def test_one_click_unsubscribe_over_http(
    engine: Engine, settings_env: None, monkeypatch: pytest.MonkeyPatch, firm_and_notice: tuple[Firm, int, int]
) -> None:
    """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the https URL of the header."""
    from config.settings import get_settings
    from pib.web import start_web

    _firm, user, _notice = firm_and_notice
    token = LinkSigner(get_settings().secret_key.get_secret_value()).sign(
        action="unsubscribe", user_id=user, notice_id=None, expires=NOW + timedelta(days=36500)
    )
    server, thread = start_web("127.0.0.1", 0, engine)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/l/{token}"
        with urllib.request.urlopen(url) as answer:  # GET: a page, no change
            assert answer.status == 200
            assert answer.headers["Cache-Control"] == "no-store"
        assert user_row(engine, user).unsubscribed_at is None
        request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST")
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 200
        unsubscribed_at = user_row(engine, user).unsubscribed_at
        assert unsubscribed_at is not None
        with urllib.request.urlopen(request) as answer:  # mail clients may repeat it: unsubscribing is not spent
            assert answer.status == 200 and "info@alpha.example" in answer.read().decode()
        assert user_row(engine, user).unsubscribed_at == unsubscribed_at
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def web(engine: Engine, settings_env: None) -> Iterator[str]:
    """The portal served over HTTP on a free port, answering the links as in production: its base URL."""
    from pib.web import start_web

    server, thread = start_web("127.0.0.1", 0, engine)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def click(url: str, *, method: str = "POST") -> tuple[int, str]:
    """What a browser shows for a link: the status and the page (an error status is a page too)."""
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_an_old_interested_link_clicked_after_not_relevant_changes_nothing(
    engine: Engine, web: str, firm_and_notice: tuple[Firm, int, int]
) -> None:
    """The latest decision wins: a link acts once, and clicked again it cannot undo what came after it."""
    from config.settings import get_settings

    firm, user, notice = firm_and_notice
    signer = LinkSigner(get_settings().secret_key.get_secret_value())
    expires = datetime.now(UTC) + timedelta(days=30)
    first_email = f"{web}/l/" + signer.sign(action="interested", user_id=user, notice_id=notice, expires=expires)
    later_email = f"{web}/l/" + signer.sign(
        action="not-relevant", user_id=user, notice_id=notice, expires=expires + timedelta(days=7)
    )

    assert click(first_email)[0] == 200
    assert state(engine, notice) == ([(firm.member_id, notice, "interesting")], [firm.member_id], [None])
    status, page = click(later_email)
    assert status == 200 and "ce marché n&#39;est pas pertinent pour vous" in page
    assert state(engine, notice) == ([(firm.member_id, notice, "not-relevant")], [], [None])

    for method in ("GET", "POST"):  # the old "interested" link, from the email still in the inbox
        status, page = click(first_email, method=method)
        assert status == 409, page
        assert "déjà servi" in page and "already used" in page and "nothing was changed" in page
        assert '<form method="post">' not in page
    assert state(engine, notice) == ([(firm.member_id, notice, "not-relevant")], [], [None])

    status, page = click(later_email)  # clicked again while its verdict stands: done, not an error
    assert status == 200 and "ce marché n&#39;est pas pertinent pour vous" in page
    assert state(engine, notice) == ([(firm.member_id, notice, "not-relevant")], [], [None])


def test_a_link_clicked_twice_at_once_acts_once(engine: Engine, firm_and_notice: tuple[Firm, int, int]) -> None:
    """A double click: both requests answer done; one verdict, one interest, one spent link."""
    settings = settings_for(Path("unused"))
    firm, user, notice = firm_and_notice
    token = SIGNER.sign(action="interested", user_id=user, notice_id=notice, expires=EXPIRES)
    answers: list[int] = []
    start = threading.Barrier(2)

    def post() -> None:
        start.wait()
        answers.append(handle_link(engine, token, method="POST", now=NOW, settings=settings)[0])

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [200, 200]
    assert state(engine, notice) == ([(firm.member_id, notice, "interesting")], [firm.member_id], [None])
    assert len(staff_view(engine, tender=notice).entries) == 1
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM notification_spent_link")).scalar() == 1


def test_a_spent_link_is_forgotten_once_it_expires(
    engine: Engine, tmp_path: Path, firm_and_notice: tuple[Firm, int, int]
) -> None:
    settings = settings_for(tmp_path)
    _firm, user, notice = firm_and_notice
    old = SIGNER.sign(action="interested", user_id=user, notice_id=notice, expires=NOW + timedelta(days=1))
    new = SIGNER.sign(action="not-relevant", user_id=user, notice_id=notice, expires=NOW + timedelta(days=60))
    assert handle_link(engine, old, method="POST", now=NOW, settings=settings)[0] == 200
    later = NOW + timedelta(days=2)
    assert handle_link(engine, new, method="POST", now=later, settings=settings)[0] == 200
    assert handle_link(engine, old, method="POST", now=later, settings=settings)[0] == 410  # expired, not spent
    with engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT action FROM notification_spent_link")).scalars().all()
    assert kept == ["not-relevant"]


def test_the_web_application_answers_unknown_paths_and_health(engine: Engine) -> None:
    from fastapi.testclient import TestClient

    from pib.web.app import create_app

    client = TestClient(create_app(engine=engine))
    assert client.get("/healthz").text == "ok\n"
    assert [client.get(path).status_code for path in ("/healthz", "/admin", "/l/garbage")] == [200, 404, 400]

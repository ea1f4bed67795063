"""Anonymity on the portal (docs/users.md), as a property over random clusters, in the style of
tests/consortium/test_anonymity.py: whatever firms flag, ask, accept, refuse or withdraw through the tender
pages, nothing a member can obtain from the portal (a tender's page, the error page of an action it tried, the
interests API's answer to its token) names a firm that did not agree to be revealed to it on that tender.

Names and addresses are strings that cannot occur by chance (a `Q` and consonants), ids have ten digits, so
finding one is a leak (the CSRF tokens, random hex, are taken out first). Then every firm takes another's name,
and each member's pages and answers must be the same but for the firms revealed to it: what it reads does not
depend on who the others are, not even through its order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from config.settings import get_settings
from consortium.models import interest_table, pseudonym_table, reveal_table
from consortium.services import reveal_log
from pib.web.app import create_app
from pib.web.auth import (
    create_api_token,
    link_table,
    request_link,
    request_table,
    session_table,
    token_table,
    use_link,
)
from tests.consortium.helpers import add_member, lots_notice, member_table, store, user_table

TENDERS = ("26-6001", "26-6002")
CODES = ["45233140", "45316110", "77310000"]
VOCABULARY = ["voirie", "éclairage public", "45316110", "basse tension"]
CONSONANTS = "bcdfghjklmnpqrstvwxz"
CSRF = re.compile(r'value="[0-9a-f]{64}"')
PSEUDONYM_AT = re.compile(r"sous le pseudonyme (.+?), jamais")


@dataclass
class Firm:
    id: int
    name: str
    email: str
    token: str = ""
    """Its personal API token."""

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.name, self.email, str(self.id))


plans = st.fixed_dictionaries(
    {
        "lots": st.lists(st.sampled_from(["1", "2", "3"]), max_size=2, unique=True),
        "role": st.sampled_from(["lead", "partner", "subcontractor"]),
        "seeks": st.booleans(),
        "brings": st.lists(st.sampled_from(VOCABULARY), max_size=2, unique=True),
    }
)
clusters = st.integers(2, 4).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "ids": st.lists(st.integers(10**9, 2**31 - 1), min_size=n, max_size=n, unique=True),
            "tokens": st.lists(
                st.text(alphabet=CONSONANTS, min_size=6, max_size=9), min_size=2 * n, max_size=2 * n, unique=True
            ),
            "interests": st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(TENDERS), plans), max_size=2 * n),
            "asks": st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    st.sampled_from(TENDERS),
                    st.sampled_from(["accept", "refuse", "wait"]),
                ),
                max_size=2 * n,
            ),
            "withdrawals": st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(TENDERS)), max_size=n),
        }
    )
)


def _reset(engine: Engine) -> None:
    tables = [reveal_table, interest_table, pseudonym_table, token_table, session_table, link_table, request_table]
    with engine.begin() as connection:
        for table in [*tables, user_table, member_table]:
            connection.execute(table.delete())


def _browser(app: object, engine: Engine, email: str) -> TestClient:
    """A browser signed in as the user of `email` (its link requested and spent, as the sign-in page does)."""
    link = request_link(engine, email=email, client=f"test-{email}")
    assert link.token is not None
    signed = use_link(engine, token=link.token)
    assert isinstance(signed, tuple)
    client = TestClient(app, base_url="http://testserver")  # type: ignore[arg-type]
    client.cookies.set("pib_session", signed[1])
    return client


def _post(client: TestClient, tender: str, **fields: str | list[str]) -> str:
    """An action on a tender's page; the page (or error page) the member then reads."""
    path = f"/tenders/boamp/{tender}"
    token = re.findall(r'name="csrf_token" value="([0-9a-f]+)"', client.get(path).text)[-1]
    answer = client.post(path, data={"csrf_token": token, **fields}, follow_redirects=True)
    return answer.text


def _allowed(engine: Engine) -> dict[tuple[int, str], frozenset[int]]:
    known: dict[tuple[int, str], set[int]] = {}
    for reveal in reveal_log(engine):
        if reveal.state == "accepted":
            source_id = reveal.tender.split(":", 1)[1]
            known.setdefault((reveal.requester_id, source_id), set()).add(reveal.target_id)
            known.setdefault((reveal.target_id, source_id), set()).add(reveal.requester_id)
    return {key: frozenset(value) for key, value in known.items()}


def _reads(browsers: dict[int, TestClient], firms: list[Firm]) -> dict[tuple[int, str], str]:
    """Each member's page of each tender and its API answer, CSRF tokens taken out."""
    seen = {}
    for firm in firms:
        for tender in TENDERS:
            page = browsers[firm.id].get(f"/tenders/boamp/{tender}").text
            bearer = {"Authorization": f"Bearer {firm.token}"}
            api = browsers[firm.id].get(f"/api/v1/interests/{tender}", headers=bearer)
            assert api.status_code == 200, api.text
            seen[(firm.id, tender)] = CSRF.sub('value=""', page) + api.text
    return seen


def _renamed(names: dict[str, str], match: re.Match[str]) -> str:
    return names[match.group(0)]


@pytest.fixture
def tenders(engine: Engine, settings_env: None) -> Engine:
    store(engine, *(lots_notice(source_id, CODES) for source_id in TENDERS))
    return engine


def test_no_member_learns_from_the_portal_who_did_not_agree(tenders: Engine) -> None:
    app = create_app(engine=tenders, settings=get_settings())

    @settings(
        max_examples=12 if tenders.dialect.name == "sqlite" else 6,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a cluster over HTTP takes minutes
    )
    @given(cluster=clusters)
    def check(cluster: dict) -> None:  # type: ignore[type-arg]
        _check(tenders, app, cluster)

    check()


def _check(engine: Engine, app: object, cluster: dict) -> None:  # type: ignore[type-arg]
    _reset(engine)
    n = len(cluster["ids"])
    firms = [
        Firm(member_id, f"Q{cluster['tokens'][i]}", f"{cluster['tokens'][n + i]}@{cluster['tokens'][i]}.example")
        for i, member_id in enumerate(cluster["ids"])
    ]
    for firm in firms:
        add_member(engine, firm.name, emails=(firm.email,), member_id=firm.id)
        firm.token = create_api_token(engine, email=firm.email)
    browsers = {firm.id: _browser(app, engine, firm.email) for firm in firms}
    errors: list[tuple[int, str, str]] = []

    def act(firm: Firm, tender: str, **fields: str | list[str]) -> None:
        errors.append((firm.id, tender, CSRF.sub('value=""', _post(browsers[firm.id], tender, **fields))))

    for index, tender, plan in cluster["interests"]:
        fields: dict[str, str | list[str]] = {"action": "interest", "role": plan["role"], "lot": plan["lots"]}
        fields |= {"brings": ", ".join(plan["brings"]), "note": f"{firms[index].name} peut commencer en mars"}
        if plan["seeks"]:
            fields["seeks_partners"] = "true"
        act(firms[index], tender, **fields)
    pseudonyms: dict[tuple[int, str], str] = {}
    for firm in firms:
        for tender in TENDERS:
            found = PSEUDONYM_AT.search(" ".join(browsers[firm.id].get(f"/tenders/boamp/{tender}").text.split()))
            if found:
                pseudonyms[(firm.id, tender)] = found.group(1)
    for asker, target, tender, _decision in cluster["asks"]:
        act(firms[asker], tender, action="ask", pseudonym=pseudonyms.get((firms[target].id, tender), "Firme Nulle-7"))
    for asker, target, tender, decision in cluster["asks"]:
        if decision != "wait" and (firms[asker].id, tender) in pseudonyms:
            act(firms[target], tender, action=decision, pseudonym=pseudonyms[(firms[asker].id, tender)])
    for index, tender in cluster["withdrawals"]:
        act(firms[index], tender, action="withdraw")

    allowed = _allowed(engine)
    before = _reads(browsers, firms)
    outputs = [(member, tender, text) for (member, tender), text in before.items()] + errors
    for member, tender, text in outputs:
        for firm in firms:
            if firm.id != member and firm.id not in allowed.get((member, tender), frozenset()):
                for secret in firm.secrets:
                    assert secret not in text, f"member {member} can read {secret!r} of firm {firm.id} on {tender}"

    # Each firm takes the next one's name and address: only the firms revealed to a member may change its pages.
    renamed = {
        firm.id: Firm(firm.id, f"{following.name}x", f"x{following.email}", firm.token)
        for firm, following in zip(firms, [*firms[1:], firms[0]], strict=True)
    }
    with engine.begin() as connection:
        for firm in renamed.values():
            connection.execute(member_table.update().where(member_table.c.id == firm.id).values(name=firm.name))
            connection.execute(user_table.update().where(user_table.c.member_id == firm.id).values(email=firm.email))
    after = _reads(browsers, list(renamed.values()))
    for (member, tender), text in before.items():
        new_names: dict[str, str] = {}
        for firm in firms:
            if firm.id == member:  # its own address is in the footer; its own name only in the note it typed
                new_names[firm.email] = renamed[firm.id].email
            elif firm.id in allowed.get((member, tender), frozenset()):
                new_names.update({firm.email: renamed[firm.id].email, firm.name: renamed[firm.id].name})
        rename: Callable[[re.Match[str]], str] = partial(_renamed, new_names)
        pattern = "|".join(re.escape(old) for old in sorted(new_names, key=len, reverse=True))
        assert after[(member, tender)] == re.sub(pattern, rename, text), f"member {member}'s {tender} changed"

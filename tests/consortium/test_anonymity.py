"""Anonymity (docs/users.md), as a property over random clusters: whatever firms flag, ask, accept, refuse
or withdraw, nothing a member can obtain (its view of a tender, its export, its partner search, the emails
sent to it, the errors it gets, the order of what it sees) names a firm that did not agree to be revealed
to it on that tender; and a firm's pseudonyms differ from one tender to the next.

Names and addresses are strings that cannot occur by chance (a `Q` and consonants), ids have ten digits
(no CPV code, count or date contains them), so finding one in an output is a leak. Then every firm is
renamed, and each member's view must be the same but for the names of the firms revealed to it: the view
does not depend on who the others are, not even through its order.

A pseudonymous firm is known to the others by what it wrote on its interest only: its catalogue (codes,
regions, keywords) ranks it in a partner search but is never shown. So a catalogue keyword (a `Z` and
consonants) is never in a member's output, and when the other firms' catalogues are all replaced, a
member's partner search shows the same firms with the same reasons, lot by lot, only perhaps in another order.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from consortium.catalogue import set_catalogue
from consortium.errors import ConsortiumError
from consortium.models import (
    catalogue_table,
    group_event_table,
    group_member_table,
    group_table,
    interest_table,
    pseudonym_table,
    reveal_table,
)
from consortium.services import (
    answer_reveal,
    member_view,
    partner_search,
    pending_reveal_notifications,
    record_interest,
    request_reveal,
    reveal_log,
    staff_view,
    withdraw_interest,
)

from .helpers import add_member, lots_notice, member_table, store, user_table

TENDERS = ("26-5001", "26-5002")
CODES = ["45233140", "45316110", "77310000"]
VOCABULARY = ["voirie", "éclairage public", "45316110", "77310000", "basse tension"]
CONSONANTS = "bcdfghjklmnpqrstvwxz"


@dataclass
class Firm:
    id: int
    name: str
    email: str
    catalogue: dict[str, list[str]] = field(default_factory=dict)
    """What the members file and the catalogue say it does: `cpv`, `keywords`, `regions`."""
    secret: str = ""
    """A keyword of its catalogue that no one else has."""

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.name, self.email, str(self.id))


@dataclass
class Outputs:
    """Everything members obtained, by (member id, tender), with who was revealed to them at the time."""

    seen: dict[tuple[int, str], list[tuple[str, frozenset[int]]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, member: int, tender: str, text: str, allowed: frozenset[int]) -> None:
        self.seen[(member, tender)].append((text, allowed))


firm_tokens = st.text(alphabet=CONSONANTS, min_size=6, max_size=9)
interest_plans = st.fixed_dictionaries(
    {
        "lots": st.lists(st.sampled_from(["1", "2", "3"]), max_size=2, unique=True),
        "role": st.sampled_from(["lead", "partner", "subcontractor"]),
        "seeks": st.booleans(),
        "brings": st.lists(st.sampled_from(VOCABULARY), max_size=2, unique=True),
        "lacks": st.lists(st.sampled_from(VOCABULARY), max_size=2, unique=True),
    }
)
catalogues = st.fixed_dictionaries(
    {
        "cpv": st.lists(st.sampled_from([*CODES, "45000000", "45316000", "77300000", "72000000"]), max_size=3),
        "keywords": st.lists(st.sampled_from([*VOCABULARY, "voirie et réseaux", "tension"]), max_size=3),
        "regions": st.lists(st.sampled_from(["BE3", "BE32", "BE1", "FR"]), max_size=2),
    }
)
clusters = st.integers(2, 5).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "ids": st.lists(st.integers(10**9, 2**31 - 1), min_size=n, max_size=n, unique=True),
            "tokens": st.lists(firm_tokens, min_size=2 * n, max_size=2 * n, unique=True),
            "cpv": st.lists(
                st.lists(st.sampled_from(["45233000", "45316000", "77300000", "45000000"]), max_size=2),
                min_size=n,
                max_size=n,
            ),
            "interests": st.lists(
                st.tuples(st.integers(0, n - 1), st.sampled_from(TENDERS), interest_plans), max_size=3 * n
            ),
            "asks": st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    st.sampled_from(TENDERS),
                    st.sampled_from(["accept", "refuse", "wait", "refuse-then-accept"]),
                ),
                max_size=2 * n,
            ),
            "withdrawals": st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(TENDERS)), max_size=n),
            "catalogues": st.lists(st.tuples(catalogues, catalogues), min_size=n, max_size=n),
            "observer": st.integers(0, n - 1),
        }
    )
)


def _reset(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in (
            group_event_table,
            group_member_table,
            group_table,
            reveal_table,
            interest_table,
            pseudonym_table,
            catalogue_table,
            user_table,
            member_table,
        ):
            connection.execute(table.delete())


def _allowed(engine: Engine) -> dict[tuple[int, str], frozenset[int]]:
    """Who each member may know on each tender now: itself, and the firms that agreed with it there."""
    known: dict[tuple[int, str], set[int]] = defaultdict(set)
    for reveal in reveal_log(engine):
        if reveal.state == "accepted":
            source_id = reveal.tender.split(":", 1)[1]
            known[(reveal.requester_id, source_id)].add(reveal.target_id)
            known[(reveal.target_id, source_id)].add(reveal.requester_id)
    return defaultdict(frozenset, {key: frozenset(value) for key, value in known.items()})


def _member_outputs(engine: Engine, firms: list[Firm], outputs: Outputs) -> dict[tuple[int, str], str]:
    allowed = _allowed(engine)
    views = {}
    for firm in firms:
        for tender in TENDERS:
            view = member_view(engine, tender=tender, member_id=firm.id)
            assert [e.pseudonym for e in view.entries] == sorted(e.pseudonym for e in view.entries)
            search = partner_search(engine, tender=tender, member_id=firm.id)
            views[(firm.id, tender)] = view.model_dump_json() + search.model_dump_json()
            outputs.add(firm.id, tender, views[(firm.id, tender)], allowed[(firm.id, tender)] | {firm.id})
    return views


def _notifications(engine: Engine, firms: list[Firm], outputs: Outputs, pseudonyms: dict[tuple[int, str], str]) -> None:
    allowed = _allowed(engine)
    by_email = {firm.email: firm.id for firm in firms}
    for notification in pending_reveal_notifications(engine):
        (recipient,) = {by_email[contact.email] for contact in notification.recipients}
        tender = notification.tender.reference.split(":", 1)[1]
        assert notification.pseudonym == pseudonyms[(recipient, tender)]
        outputs.add(recipient, tender, notification.model_dump_json(), allowed[(recipient, tender)] | {recipient})


def _attempt(engine: Engine, outputs: Outputs, member: int, tender: str, action: object) -> None:
    """Run a member's action; its error message, if any, is an output of that member."""
    try:
        action()  # type: ignore[operator]
    except ConsortiumError as error:
        outputs.add(member, tender, str(error), _allowed(engine)[(member, tender)] | {member})


@pytest.fixture
def tenders(engine: Engine) -> Engine:
    store(engine, *(lots_notice(source_id, CODES) for source_id in TENDERS))
    return engine


def test_no_member_learns_who_did_not_agree(tenders: Engine) -> None:
    """50 random clusters on SQLite, 20 on PostgreSQL (slower, and the code paths are the same)."""

    @settings(max_examples=50 if tenders.dialect.name == "sqlite" else 20, deadline=None)
    @given(cluster=clusters)
    def check(cluster: dict) -> None:  # type: ignore[type-arg]
        _check(tenders, cluster)

    check()


def _check(engine: Engine, cluster: dict) -> None:  # type: ignore[type-arg]
    _reset(engine)
    n = len(cluster["ids"])
    firms = [
        Firm(
            member_id,
            f"Q{cluster['tokens'][i]}",
            f"{cluster['tokens'][n + i]}@{cluster['tokens'][i]}.example",
            catalogue=cluster["catalogues"][i][0],
            secret=f"Z{cluster['tokens'][i]}",
        )
        for i, member_id in enumerate(cluster["ids"])
    ]
    for firm, cpv in zip(firms, cluster["cpv"], strict=True):
        add_member(engine, firm.name, emails=(firm.email,), cpv=tuple(cpv), member_id=firm.id)
        set_catalogue(
            engine,
            member_id=firm.id,
            references=[f"{firm.name} built the bridge of {firm.email}"],
            certifications=[f"{firm.name} ISO 9001"],
        )
        _set_competences(engine, firm, firm.catalogue, [*firm.catalogue["keywords"], firm.secret])
    outputs = Outputs()
    for index, tender, plan in cluster["interests"]:
        firm = firms[index]
        record_interest(
            engine,
            member_id=firm.id,
            tender=tender,
            lots=plan["lots"],
            role=plan["role"],
            seeks_partners=plan["seeks"],
            brings=plan["brings"],
            lacks=plan["lacks"],
            note=f"{firm.name} ({firm.email}) can start in March",
        )
    pseudonyms = _pseudonyms(engine)
    for asker, target, tender, _decision in cluster["asks"]:
        asker_id, target_id = firms[asker].id, firms[target].id
        pseudonym = pseudonyms.get((target_id, tender), "Firme Nulle-7")
        _attempt(
            engine,
            outputs,
            asker_id,
            tender,
            lambda a=asker_id, t=tender, p=pseudonym: request_reveal(engine, member_id=a, tender=t, pseudonym=p),
        )
    _notifications(engine, firms, outputs, pseudonyms)
    for asker, target, tender, decision in cluster["asks"]:
        asker_id, target_id = firms[asker].id, firms[target].id
        if decision == "wait" or (asker_id, tender) not in pseudonyms:
            continue
        for accept in {"accept": [True], "refuse": [False], "refuse-then-accept": [False, True]}[decision]:
            _attempt(
                engine,
                outputs,
                target_id,
                tender,
                lambda t=target_id, tn=tender, p=pseudonyms[(asker_id, tender)], a=accept: answer_reveal(
                    engine, member_id=t, tender=tn, pseudonym=p, accept=a
                ),
            )
    for index, tender in cluster["withdrawals"]:
        member = firms[index].id
        _attempt(
            engine, outputs, member, tender, lambda m=member, t=tender: withdraw_interest(engine, member_id=m, tender=t)
        )
    _notifications(engine, firms, outputs, pseudonyms)
    before = _member_outputs(engine, firms, outputs)

    for (member, _tender), texts in outputs.seen.items():
        for text, allowed in texts:
            for firm in firms:
                if firm.id not in allowed:
                    for secret in firm.secrets:
                        assert secret not in text, f"member {member} can read {secret!r} of firm {firm.id}"

    for (member, _tender), texts in outputs.seen.items():
        for text, _ in texts:
            for firm in firms:
                assert firm.id == member or firm.secret not in text, f"member {member} reads a catalogue keyword"
    _catalogues_only_rank(engine, firms, firms[cluster["observer"]], [other for _, other in cluster["catalogues"]])

    for firm in firms:
        names = [pseudonyms[(firm.id, t)] for t in TENDERS if (firm.id, t) in pseudonyms]
        assert len(set(names)) == len(names), f"firm {firm.id} has the same pseudonym on two tenders"

    # Each firm takes the next one's name (and address), so an order by name would change.
    renamed = {
        firm.id: Firm(firm.id, f"{following.name}x", f"x{following.email}")
        for firm, following in zip(firms, [*firms[1:], firms[0]], strict=True)
    }
    with engine.begin() as connection:
        for firm in renamed.values():
            connection.execute(member_table.update().where(member_table.c.id == firm.id).values(name=firm.name))
            connection.execute(user_table.update().where(user_table.c.member_id == firm.id).values(email=firm.email))
    revealed = _allowed(engine)
    after = _member_outputs(engine, list(renamed.values()), Outputs())
    for (member, tender), text in before.items():
        new_names: dict[str, str] = {}
        for firm in firms:
            if firm.id in revealed[(member, tender)]:
                new_names.update({firm.email: renamed[firm.id].email, firm.name: renamed[firm.id].name})
        if new_names:  # all at once: a firm's new name is another's old one
            pattern = "|".join(re.escape(old) for old in sorted(new_names, key=len, reverse=True))
            text = re.sub(pattern, partial(_renamed, new_names), text)
        assert after[(member, tender)] == text, f"member {member}'s view of {tender} changed with others' names"


def _set_competences(engine: Engine, firm: Firm, competences: dict[str, list[str]], keywords: list[str]) -> None:
    """A firm's members-file competences, and its catalogue's keywords."""
    with engine.begin() as connection:
        connection.execute(member_table.update().where(member_table.c.id == firm.id).values(competences=competences))
    set_catalogue(engine, member_id=firm.id, keywords=keywords)


def _shown(engine: Engine, member: int, tender: str) -> dict:  # type: ignore[type-arg]
    """A member's partner search with each lot's firms in pseudonym order: what it shows, not how it ranks."""
    shown = partner_search(engine, tender=tender, member_id=member).model_dump(mode="json")
    for lot in shown["lots"]:
        lot["candidates"].sort(key=lambda candidate: candidate["pseudonym"])
    return shown


def _catalogues_only_rank(engine: Engine, firms: list[Firm], firm: Firm, others: list[dict[str, list[str]]]) -> None:
    """With every other firm's catalogue replaced, `firm` sees the same firms saying the same things (one
    member per cluster: the clusters vary it)."""
    before = {tender: _shown(engine, firm.id, tender) for tender in TENDERS}
    for other, catalogue in zip(firms, others, strict=True):
        if other is not firm:
            _set_competences(engine, other, catalogue, [])
    for tender in TENDERS:
        assert _shown(engine, firm.id, tender) == before[tender], (
            f"member {firm.id}'s partner search on {tender} shows what the other firms' catalogues say"
        )
    for other in firms:
        if other is not firm:
            _set_competences(engine, other, other.catalogue, [*other.catalogue["keywords"], other.secret])


def _renamed(new_names: dict[str, str], found: re.Match[str]) -> str:
    return new_names[found.group(0)]


def _pseudonyms(engine: Engine) -> dict[tuple[int, str], str]:
    """Each interested firm's pseudonym on each tender, as the staff see them."""
    return {(e.member_id, t): e.pseudonym for t in TENDERS for e in staff_view(engine, tender=t).entries}

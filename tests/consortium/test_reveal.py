"""Mutual reveal: only when both firms agree do they learn who the other is; a refusal is silent."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from consortium.errors import ConsortiumError
from consortium.services import (
    answer_reveal,
    mark_reveal_notifications_sent,
    member_view,
    pending_reveal_notifications,
    record_interest,
    request_reveal,
    reveal_log,
    withdraw_interest,
)

from .helpers import add_member, lots_notice, store

TENDER = "26-3000"


@pytest.fixture
def firms(engine: Engine) -> tuple[int, int, str, str]:
    """Alpha and Beta, both interested in a two-lot tender; their pseudonyms there."""
    store(engine, lots_notice(TENDER, ["45233140", "45316110"]))
    alpha = add_member(engine, "Alpha Voirie", emails=("info@alpha.example", "jean@alpha.example"))
    beta = add_member(engine, "Beta Eclairage", emails=("contact@beta.example",))
    a = record_interest(engine, member_id=alpha, tender=TENDER, lots=["1"], role="lead", seeks_partners=True)
    b = record_interest(engine, member_id=beta, tender=TENDER, lots=["2"], brings=["45316110"])
    return alpha, beta, a.pseudonym, b.pseudonym


def test_accepted_request_reveals_both_firms_to_each_other(engine: Engine, firms: tuple[int, int, str, str]) -> None:
    alpha, beta, alpha_name, beta_name = firms
    assert request_reveal(engine, member_id=alpha, tender=TENDER, pseudonym=beta_name).state == "pending"

    asked = member_view(engine, tender=TENDER, member_id=beta)
    (incoming,) = asked.requests_received
    assert incoming.pseudonym == alpha_name
    assert incoming.entry is not None and incoming.entry.role == "lead" and incoming.entry.lots == ["1"]
    assert asked.revealed == []
    assert "Alpha" not in asked.model_dump_json()

    (notification,) = pending_reveal_notifications(engine)
    assert notification.kind == "reveal-requested"
    assert [c.email for c in notification.recipients] == ["contact@beta.example"]
    assert notification.pseudonym == beta_name
    assert notification.asker is not None and notification.asker.pseudonym == alpha_name
    assert "Alpha" not in notification.model_dump_json() and "alpha.example" not in notification.model_dump_json()
    mark_reveal_notifications_sent(engine, ids=[notification.id])
    assert pending_reveal_notifications(engine) == []

    firm = answer_reveal(engine, member_id=beta, tender=TENDER, pseudonym=alpha_name, accept=True)
    assert firm is not None and firm.name == "Alpha Voirie"
    assert [c.email for c in firm.contacts] == ["info@alpha.example", "jean@alpha.example"]

    asker = member_view(engine, tender=TENDER, member_id=alpha)
    assert [(r.pseudonym, r.state) for r in asker.requests_sent] == [(beta_name, "revealed")]
    (revealed,) = asker.revealed
    assert (revealed.pseudonym, revealed.name) == (beta_name, "Beta Eclairage")
    assert [c.email for c in revealed.contacts] == ["contact@beta.example"]
    assert [f.name for f in member_view(engine, tender=TENDER, member_id=beta).revealed] == ["Alpha Voirie"]

    accepted = {n.id: n for n in pending_reveal_notifications(engine)}
    assert {n.kind for n in accepted.values()} == {"reveal-accepted"}
    to_alpha = next(n for n in accepted.values() if n.pseudonym == alpha_name)
    to_beta = next(n for n in accepted.values() if n.pseudonym == beta_name)
    assert [c.email for c in to_alpha.recipients] == ["info@alpha.example", "jean@alpha.example"]
    assert to_alpha.counterpart is not None and to_alpha.counterpart.name == "Beta Eclairage"
    assert to_beta.counterpart is not None and to_beta.counterpart.name == "Alpha Voirie"
    mark_reveal_notifications_sent(engine, ids=accepted)
    assert pending_reveal_notifications(engine) == []

    (logged,) = reveal_log(engine)
    assert (logged.requester, logged.target, logged.state, logged.tender) == (
        "Alpha Voirie",
        "Beta Eclairage",
        "accepted",
        f"boamp:{TENDER}",
    )
    assert logged.decided_at is not None and logged.decided_at >= logged.created_at


def test_a_refusal_is_silent_to_the_asker(engine: Engine, firms: tuple[int, int, str, str]) -> None:
    alpha, beta, alpha_name, beta_name = firms
    request_reveal(engine, member_id=alpha, tender=TENDER, pseudonym=beta_name)
    before = member_view(engine, tender=TENDER, member_id=alpha)
    mark_reveal_notifications_sent(engine, ids=[n.id for n in pending_reveal_notifications(engine)])

    assert answer_reveal(engine, member_id=beta, tender=TENDER, pseudonym=alpha_name, accept=False) is None

    after = member_view(engine, tender=TENDER, member_id=alpha)
    assert after == before
    assert [(r.pseudonym, r.state) for r in after.requests_sent] == [(beta_name, "pending")]
    assert pending_reveal_notifications(engine) == []
    # Asking again changes nothing and sends nothing: the asker cannot tell a refusal from silence.
    assert request_reveal(engine, member_id=alpha, tender=TENDER, pseudonym=beta_name).state == "pending"
    assert pending_reveal_notifications(engine) == []
    assert member_view(engine, tender=TENDER, member_id=beta).requests_received == []
    assert [r.state for r in reveal_log(engine, tender=TENDER)] == ["refused"]
    with pytest.raises(ConsortiumError, match="no request from"):
        answer_reveal(engine, member_id=beta, tender=TENDER, pseudonym=alpha_name, accept=False)

    # The firm asked may change its mind and accept later.
    assert answer_reveal(engine, member_id=beta, tender=TENDER, pseudonym=alpha_name, accept=True) is not None
    assert [f.name for f in member_view(engine, tender=TENDER, member_id=alpha).revealed] == ["Beta Eclairage"]


def test_asking_a_firm_that_asked_you_is_agreeing(engine: Engine, firms: tuple[int, int, str, str]) -> None:
    alpha, beta, alpha_name, beta_name = firms
    request_reveal(engine, member_id=alpha, tender=TENDER, pseudonym=beta_name)
    assert request_reveal(engine, member_id=beta, tender=TENDER, pseudonym=alpha_name).state == "revealed"
    assert [f.name for f in member_view(engine, tender=TENDER, member_id=alpha).revealed] == ["Beta Eclairage"]
    assert len(reveal_log(engine)) == 1


def test_a_reveal_holds_for_its_tender_only(engine: Engine, firms: tuple[int, int, str, str]) -> None:
    alpha, beta, alpha_name, beta_name = firms
    request_reveal(engine, member_id=alpha, tender=TENDER, pseudonym=beta_name)
    answer_reveal(engine, member_id=beta, tender=TENDER, pseudonym=alpha_name, accept=True)
    store(engine, lots_notice("26-3001", ["45233140"]))
    record_interest(engine, member_id=alpha, tender="26-3001")
    other = record_interest(engine, member_id=beta, tender="26-3001")

    view = member_view(engine, tender="26-3001", member_id=alpha)

    assert view.revealed == []
    assert [e.pseudonym for e in view.entries] == [other.pseudonym]
    assert other.pseudonym != beta_name
    assert "Beta" not in view.model_dump_json()


def test_withdrawing_drops_the_pending_requests(engine: Engine, firms: tuple[int, int, str, str]) -> None:
    alpha, beta, _alpha_name, beta_name = firms
    request_reveal(engine, member_id=alpha, tender=TENDER, pseudonym=beta_name)
    withdraw_interest(engine, member_id=alpha, tender=TENDER)

    assert member_view(engine, tender=TENDER, member_id=beta).requests_received == []
    assert member_view(engine, tender=TENDER, member_id=alpha).requests_sent == []
    assert pending_reveal_notifications(engine) == []
    assert [r.state for r in reveal_log(engine)] == ["cancelled"]


@pytest.mark.parametrize(
    ("asker", "pseudonym", "message"),
    [
        ("alpha", "Firme Nulle-1", r"no firm 'Firme Nulle-1' is interested in boamp:26-3000"),
        ("alpha", "own", "is your own pseudonym"),
        ("gamma", "beta", "flag your interest in boamp:26-3000 first"),
    ],
)
def test_bad_requests_name_no_firm(
    engine: Engine, firms: tuple[int, int, str, str], asker: str, pseudonym: str, message: str
) -> None:
    alpha, _beta, alpha_name, beta_name = firms
    gamma = add_member(engine, "Gamma")
    who = {"alpha": alpha, "gamma": gamma}[asker]
    name = {"own": alpha_name, "beta": beta_name}.get(pseudonym, pseudonym)
    with pytest.raises(ConsortiumError, match=message) as raised:
        request_reveal(engine, member_id=who, tender=TENDER, pseudonym=name)
    assert "Beta" not in str(raised.value)


def test_a_withdrawn_firm_reads_as_unknown(engine: Engine, firms: tuple[int, int, str, str]) -> None:
    alpha, beta, _alpha_name, beta_name = firms
    withdraw_interest(engine, member_id=beta, tender=TENDER)
    with pytest.raises(ConsortiumError) as withdrawn:
        request_reveal(engine, member_id=alpha, tender=TENDER, pseudonym=beta_name)
    assert str(withdrawn.value) == f"no firm {beta_name!r} is interested in boamp:{TENDER}"

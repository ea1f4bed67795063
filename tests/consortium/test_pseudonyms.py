"""Pseudonyms are random draws kept in a table: knowing every member id and the secret key finds no firm."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from config.settings import get_settings
from consortium.models import pseudonym_table
from consortium.pseudonyms import NUMBERS, PATTERN, WORDS
from consortium.services import member_view, record_interest, staff_view
from pib.db import upgrade
from tests.conftest import ON_POSTGRES, POSTGRES_URL

from .helpers import add_member, lots_notice, store

FIRMS = ("École Numérique SA", "Bâtiments Œuvre SRL", "Çà et Là Jardins", "Électricité Wéry", "Zoë Design", "Ørsted BE")


def hmac_name(key: bytes, tender_key: str, member_id: int, attempt: int) -> str:
    """The name the earlier scheme gave: what an attacker knowing the key and the member ids computes."""
    digest = hmac.new(key, f"{tender_key}:{member_id}:{attempt}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    return f"Firme {WORDS[number % len(WORDS)]}-{number // len(WORDS) % NUMBERS + 1}"


def names(engine: Engine, tender: str, member_ids: list[int]) -> dict[int, str]:
    """Each firm's name on the tender, as the firm itself is told it."""
    views = {member: member_view(engine, tender=tender, member_id=member).own for member in member_ids}
    return {member: own.pseudonym for member, own in views.items() if own is not None}


@pytest.fixture
def cluster(engine: Engine) -> list[int]:
    store(engine, lots_notice("26-2000", ["45233140", "45316110"]), lots_notice("26-2001", ["72000000"]))
    return [add_member(engine, name, emails=(f"info@firm{n}.example",)) for n, name in enumerate(FIRMS)]


def test_knowing_every_member_id_and_the_key_maps_no_name_to_a_firm(engine: Engine, cluster: list[int]) -> None:
    for member in cluster:
        record_interest(engine, member_id=member, tender="26-2000")
    seen_by_a_member = [
        entry.pseudonym for entry in member_view(engine, tender="26-2000", member_id=cluster[0]).entries
    ]
    assert len(seen_by_a_member) == len(cluster) - 1
    with engine.connect() as connection:
        tender_key = connection.execute(sa.select(pseudonym_table.c.tender_key).limit(1)).scalar_one()

    key = get_settings().secret_key.get_secret_value().encode()
    owner = {entry.pseudonym: entry.member_id for entry in staff_view(engine, tender="26-2000").entries}
    unmasked = [
        name
        for name in seen_by_a_member
        if name in {hmac_name(key, tender_key, owner[name], attempt) for attempt in range(3)}
    ]
    assert unmasked == []


def test_the_same_firms_draw_other_names_again(engine: Engine, cluster: list[int]) -> None:
    """Nothing about a firm decides its name: cleared and given again, the names are new draws."""
    for member in cluster:
        record_interest(engine, member_id=member, tender="26-2000")
    first = names(engine, "26-2000", cluster)
    with engine.begin() as connection:
        connection.execute(pseudonym_table.delete())
    for member in cluster:  # the same firms, in the same order, flagging the same tender
        record_interest(engine, member_id=member, tender="26-2000")
    again = names(engine, "26-2000", cluster)
    assert sorted(first) == sorted(again) == sorted(cluster)
    assert again != first
    assert all(re.fullmatch(PATTERN, name) for name in [*first.values(), *again.values()])


def test_a_name_is_kept_unique_within_a_tender_and_never_reused_by_a_firm(
    engine: Engine, cluster: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Draws that collide are drawn again: with a tender's name taken, and with the firm's own other name."""
    draws = iter(["Ambre-7", "Ambre-7", "Jade-3", "Ambre-7", "Ocre-12", "Ocre-12", "Jade-3", "Ambre-7"])
    monkeypatch.setattr("consortium.pseudonyms.draw", lambda: f"Firme {next(draws)}")
    first, second = cluster[:2]
    record_interest(engine, member_id=first, tender="26-2000")  # Ambre-7
    record_interest(engine, member_id=second, tender="26-2000")  # Ambre-7 is taken there: Jade-3
    record_interest(engine, member_id=first, tender="26-2001")  # Ambre-7 is its own elsewhere: Ocre-12
    record_interest(engine, member_id=second, tender="26-2001")  # Ocre-12 taken, Jade-3 its own: Ambre-7

    assert names(engine, "26-2000", [first, second]) == {first: "Firme Ambre-7", second: "Firme Jade-3"}
    assert names(engine, "26-2001", [first, second]) == {first: "Firme Ocre-12", second: "Firme Ambre-7"}
    assert next(draws, None) is None


def test_many_firms_on_one_tender_all_get_their_own_name(engine: Engine) -> None:
    store(engine, lots_notice("26-3000", ["45233140"]), lots_notice("26-3001", ["45233140"]))
    members = [add_member(engine, f"Société Numéro {n}") for n in range(60)]
    for member in members:
        record_interest(engine, member_id=member, tender="26-3000")
        record_interest(engine, member_id=member, tender="26-3001")
    for tender in ("26-3000", "26-3001"):
        given = [entry.pseudonym for entry in staff_view(engine, tender=tender).entries]
        assert len(given) == len(set(given)) == 60
    on_one, on_other = names(engine, "26-3000", members), names(engine, "26-3001", members)
    assert all(on_one[member] != on_other[member] for member in members)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=ON_POSTGRES)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, with no schema yet, to migrate step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'steps.sqlite'}"
        return
    assert POSTGRES_URL
    name = f"pib_steps_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_upgrade_redraws_the_names_the_key_could_compute(empty_database: str) -> None:
    upgrade(empty_database, "0010")
    url = make_url(empty_database)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url)
    key = b"development-only-secret-change-me"  # what earlier versions published
    now = datetime(2026, 1, 22, tzinfo=UTC)
    given = {}
    member = sa.Table("member", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        for member_id, name in enumerate(FIRMS, 1):
            values = {"id": member_id, "name": name, "active": True, "competences": {}, "created_at": now}
            extra = {"updated_at": now, "name_key": name.casefold()}
            connection.execute(member.insert().values(**values, **{k: v for k, v in extra.items() if k in member.c}))
            for tender_key in ("n1", "n2", "p1"):
                given[(tender_key, member_id)] = hmac_name(key, tender_key, member_id, 0)
                connection.execute(
                    sa.text(
                        "INSERT INTO consortium_pseudonym (tender_key, member_id, pseudonym, created_at)"
                        " VALUES (:tender_key, :member_id, :pseudonym, :now)"
                    ),
                    {
                        "tender_key": tender_key,
                        "member_id": member_id,
                        "pseudonym": given[(tender_key, member_id)],
                        "now": now,
                    },
                )
    upgrade(empty_database, "0011")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT tender_key, member_id, pseudonym FROM consortium_pseudonym")).all()
    engine.dispose()
    now_given = {(row.tender_key, row.member_id): row.pseudonym for row in rows}
    assert sorted(now_given) == sorted(given)
    assert not set(now_given.values()) & set(given.values())
    for tender_key in ("n1", "n2", "p1"):
        on_tender = [name for (key_, _member), name in now_given.items() if key_ == tender_key]
        assert len(set(on_tender)) == len(FIRMS)
    for member_id in range(1, len(FIRMS) + 1):
        own = [name for (_key, member), name in now_given.items() if member == member_id]
        assert len(set(own)) == 3

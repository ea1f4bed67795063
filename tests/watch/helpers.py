"""Recorded notices, profiles and members for the watch tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crawlers.ingest import iter_files, parse_file
from crawlers.notice import Notice
from crawlers.store.procedures import Procedure
from crawlers.store.service import notice_table, store_notices
from tests.factories import incoming, make_notice
from watch.matching import ProfileSpec
from watch.models import Member, Profile

FIXTURES = Path(__file__).parent.parent / "fixtures"


@cache
def recorded() -> dict[tuple[str, str], Notice]:
    """Every recorded notice that parses, by (source, source_id)."""
    found: dict[tuple[str, str], Notice] = {}
    for path in iter_files([FIXTURES]):
        for parsed in parse_file(path).outcome.notices:
            found.setdefault((parsed.notice.source, parsed.notice.source_id), parsed.notice)
    return found


def recorded_notice(source: str, source_id: str) -> dict[str, Any]:
    """A recorded notice as its §2 JSON dict."""
    return recorded()[(source, source_id)].to_json_dict()


def notice(**overrides: Any) -> dict[str, Any]:
    """A factory notice as its §2 JSON dict."""
    return make_notice(**overrides).to_json_dict()


def spec(**fields: Any) -> ProfileSpec:
    fields.setdefault("id", 1)
    fields.setdefault("member_id", 1)
    for key, value in fields.items():
        if isinstance(value, list):
            fields[key] = tuple(value)
    return ProfileSpec(**fields)


def store(engine: Engine, *notices: Notice) -> list[int]:
    """Store notices; their ids, in order."""
    store_notices(engine, [incoming(n) for n in notices])
    ids = []
    with engine.connect() as connection:
        for n in notices:
            ids.append(
                connection.execute(
                    sa.select(notice_table.c.id).where(
                        notice_table.c.source == n.source, notice_table.c.source_id == n.source_id
                    )
                ).scalar_one()
            )
    return ids


def add_member(engine: Engine, name: str, *profiles: dict[str, Any]) -> tuple[int, list[int]]:
    """A member with profiles (each a dict of `watch_profile` columns, `name` optional); ids."""
    with Session(engine) as session:
        member = Member(name=name)
        session.add(member)
        session.flush()
        assert member.id is not None
        profile_ids = []
        for position, columns in enumerate(profiles):
            profile = Profile(member_id=member.id, **{"name": f"profile {position + 1}", **columns})
            session.add(profile)
            session.flush()
            assert profile.id is not None
            profile_ids.append(profile.id)
        session.commit()
        return member.id, profile_ids


def same_procedure(engine: Engine, *notice_ids: int) -> int:
    """Link notices to one procedure, as crawlers/store/procedures.py would."""
    with Session(engine) as session:
        procedure = Procedure(title="a procedure", buyer_name="a buyer")
        session.add(procedure)
        session.commit()
        procedure_id = procedure.id
    with engine.begin() as connection:
        connection.execute(
            notice_table.update().where(notice_table.c.id.in_(notice_ids)).values(procedure_id=procedure_id)
        )
    assert procedure_id is not None
    return procedure_id

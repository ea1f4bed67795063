"""Members, notices and procedures for the consortium tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.notice import Notice
from crawlers.parsers import parse_bytes
from crawlers.store.models import utcnow
from crawlers.store.procedures import Procedure
from crawlers.store.service import notice_table, store_notices
from tests.factories import incoming, make_notice
from watch.models import Member, User

FIXTURES = Path(__file__).parent.parent / "fixtures"
THREE_LOTS = FIXTURES / "ted_eforms" / "sdk-examples" / "pin-cfc-social_25.xml"
"""A recorded prior information notice (call for competition) with three lots: film production
(92111000), demolition (45111000) and industrial clothing (18113000)."""
THREE_LOTS_ID = "57f7cfe8-eb93-4351-b7ef-e1f1aa586cd9-01"

member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
procedure_table: sa.Table = Procedure.__table__  # type: ignore[attr-defined]


def add_member(
    engine: Engine,
    name: str,
    *,
    emails: tuple[str, ...] = (),
    cpv: tuple[str, ...] = (),
    keywords: tuple[str, ...] = (),
    regions: tuple[str, ...] = (),
    member_id: int | None = None,
) -> int:
    """A member firm with its users; its competences as the members file gives them."""
    competences: dict[str, Any] = {"cpv": list(cpv), "keywords": list(keywords), "regions": list(regions)}
    values: dict[str, Any] = {"name": name, "competences": competences, "active": True}
    if member_id is not None:
        values["id"] = member_id
    with engine.begin() as connection:
        new_id = connection.execute(member_table.insert().values(**values)).inserted_primary_key[0]  # type: ignore[index]
        for email in emails:
            connection.execute(user_table.insert().values(member_id=new_id, email=email, language="fr", active=True))
    return int(new_id)


def store(engine: Engine, *notices: Notice) -> None:
    summary = store_notices(engine, [incoming(notice) for notice in notices])
    assert summary.failed == 0, summary.failures


def three_lot_notice() -> Notice:
    outcome = parse_bytes(THREE_LOTS.read_bytes())
    assert not outcome.failures
    (parsed,) = outcome.notices
    return parsed.notice


def lots_notice(source_id: str, codes: list[str], **overrides: Any) -> Notice:
    """A contract notice with one lot per code, numbered from 1."""
    lots = [
        {"id": str(n), "title": f"Lot {n}", "cpv_main": code, "cpv_additional": [], "nuts": ["BE32"]}
        for n, code in enumerate(codes, 1)
    ]
    return make_notice(
        source_id=source_id,
        cpv_main=codes[0],
        cpv_additional=[c for c in dict.fromkeys(codes[1:]) if c != codes[0]],
        lots=lots,
        **overrides,
    )


def link(engine: Engine, *references: tuple[str, str]) -> int:
    """Link publications (source, source_id) as one procedure, as the crawlers' linking does."""
    with engine.begin() as connection:
        procedure_id = connection.execute(
            procedure_table.insert().values(
                title="linked", buyer_name="buyer", status="open", created_at=utcnow(), updated_at=utcnow()
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        for source, source_id in references:
            connection.execute(
                notice_table.update()
                .where(notice_table.c.source == source, notice_table.c.source_id == source_id)
                .values(procedure_id=procedure_id)
            )
    return int(procedure_id)

"""Members, users, matches, flags and changes built directly with the tables, for the notification tests."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from crawlers.store.procedures import Procedure, ProcedureChange
from crawlers.store.service import notice_table, store_notices
from notifications.models import outbox_table
from tests.factories import incoming, make_notice
from watch.models import Feedback, Match, Member, Profile, User

NOW = datetime(2026, 1, 22, 6, 0, tzinfo=UTC)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite://",
        "outbox_dir": tmp_path / "outbox",
        "public_url": "https://pib.example",
        "mail_from": "PIB <alerts@pib.example>",
        "secret_key": "test-secret-key",
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Firm:
    member_id: int
    users: dict[str, int] = field(default_factory=dict)
    """email → user id"""
    profiles: dict[str, int] = field(default_factory=dict)
    """frequency → profile id"""


def add_firm(
    engine: Engine,
    name: str = "Alpha Logiciels SRL",
    users: list[tuple[str, str]] | None = None,
    frequencies: tuple[str, ...] = ("daily",),
) -> Firm:
    with Session(engine) as session:
        member = Member(name=name)
        session.add(member)
        session.flush()
        assert member.id is not None
        firm = Firm(member.id)
        for address, language in users or [(f"info@{name.split()[0].lower()}.example", "fr")]:
            user = User(member_id=member.id, email=address, language=language)
            session.add(user)
            session.flush()
            assert user.id is not None
            firm.users[address] = user.id
        for frequency in frequencies:
            profile = Profile(member_id=member.id, name=f"Profil {frequency}", cpv=["72000000"], frequency=frequency)
            session.add(profile)
            session.flush()
            assert profile.id is not None
            firm.profiles[frequency] = profile.id
        session.commit()
    return firm


def add_notice(engine: Engine, **overrides: Any) -> int:
    notice = make_notice(**overrides)
    store_notices(engine, [incoming(notice)])
    with engine.connect() as connection:
        return connection.execute(
            sa.select(notice_table.c.id).where(
                notice_table.c.source == notice.source, notice_table.c.source_id == notice.source_id
            )
        ).scalar_one()


def add_match(
    engine: Engine,
    firm: Firm,
    notice_id: int,
    *,
    frequency: str = "daily",
    score: float = 1.0,
    reasons: list[dict[str, Any] | str] | None = None,
    lot_ids: list[str] | None = None,
) -> int:
    with Session(engine) as session:
        match = Match(
            member_id=firm.member_id,
            profile_id=firm.profiles[frequency],
            notice_id=notice_id,
            score=score,
            reasons=reasons if reasons is not None else [{"kind": "cpv", "code": "72212000", "under": "72000000"}],
            lot_ids=lot_ids or [],
        )
        session.add(match)
        session.commit()
        assert match.id is not None
        return match.id


def flag(engine: Engine, firm: Firm, notice_id: int, *, at: datetime = NOW, verdict: str = "interesting") -> None:
    with Session(engine) as session:
        session.add(Feedback(member_id=firm.member_id, notice_id=notice_id, verdict=verdict, created_at=at))
        session.commit()


def add_procedure(
    engine: Engine, notice_ids: list[int], *, deadline: str, deadline_utc: datetime, status: str = "open"
) -> int:
    with Session(engine) as session:
        procedure = Procedure(
            title="Procédure", buyer_name="Ville de Lille", deadline=deadline, deadline_utc=deadline_utc, status=status
        )
        session.add(procedure)
        session.commit()
        procedure_id = procedure.id
    with engine.begin() as connection:
        connection.execute(
            sa.update(notice_table).where(notice_table.c.id.in_(notice_ids)).values(procedure_id=procedure_id)
        )
    assert procedure_id is not None
    return procedure_id


def add_change(
    engine: Engine, procedure_id: int, notice_id: int, kind: str, detail: dict[str, Any], *, at: datetime
) -> int:
    with Session(engine) as session:
        change = ProcedureChange(
            procedure_id=procedure_id, notice_id=notice_id, kind=kind, detail=detail, created_at=at
        )
        session.add(change)
        session.commit()
        assert change.id is not None
        return change.id


def matches(engine: Engine) -> dict[int, datetime | None]:
    table = Match.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return {row.id: row.notified_at for row in connection.execute(sa.select(table.c.id, table.c.notified_at))}


def outbox_rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(outbox_table).order_by(outbox_table.c.id)))


def user_row(engine: Engine, user_id: int) -> Any:
    table = User.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return connection.execute(sa.select(table).where(table.c.id == user_id)).one()


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies, decoded."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def emls(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml")) if folder.exists() else []

"""What a members file would change, said before it changes anything (the staff console's upload preview).

The preview is the real import run as a rehearsal: `plan_import` stores each member with the very function
`pib members import` uses (`watch.members._store_member`), each in a savepoint as `import_members` gives each
its own transaction, all inside one transaction, and records every row the import writes (a flush listener)
before rolling the whole transaction back. So a member that clashes with one earlier in the same file (an
email listed twice) is a problem in the preview exactly as it is in the import.

Applying is the same call with `apply=True` and the preview's `digest`: the import is done again in one
transaction and committed only if what it wrote is what the preview said; if the members changed meanwhile
(another staff edit, a `pib members import`), nothing is saved and `PlanChanged` carries the new preview.

Saving one firm edited in the console (`save_member`) goes through the same path, so a form can never store
what a members file could not say, and a rename keeps the firm (members are otherwise found by name).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .members import (
    Directory,
    ImportSummary,
    MemberIn,
    MembersFile,
    Problem,
    _member_data,
    _store_member,
    file_transaction,
)
from .models import Member, Profile, User, name_key

Kind = Literal["member", "user", "profile"]
Action = Literal["created", "updated", "removed"]
Outcome = Literal["created", "updated", "unchanged"]
_KINDS: tuple[Kind, ...] = ("member", "user", "profile")
_IGNORED = {"id", "member_id", "name_key", "created_at", "updated_at"}
"""Columns the import sets as bookkeeping, not what the file says."""


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """One row the import creates, changes or deactivates ("removed": a user or profile no longer listed)."""

    kind: Kind
    action: Action
    subject: str
    """The member's name, the user's email or the profile's name."""
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class MemberPlan:
    line: int
    name: str
    outcome: Outcome
    changes: tuple[Change, ...] = ()


@dataclass
class ImportPlan:
    """What the import of a file does (or did, when `applied`): per member, and the problems by line."""

    members: list[MemberPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    applied: bool = False

    def count(self, kind: Kind, action: Action) -> int:
        return sum(1 for m in self.members for c in m.changes if c.kind == kind and c.action == action)

    def outcomes(self, outcome: Outcome) -> list[MemberPlan]:
        return [member for member in self.members if member.outcome == outcome]

    @property
    def digest(self) -> str:
        """A fingerprint of what the import does, to check that the applied import is the previewed one."""
        data = {"members": [asdict(m) for m in self.members], "problems": [asdict(p) for p in self.problems]}
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class PlanChanged(Exception):
    """The members changed between the preview and the apply: nothing was saved; `plan` is the new preview."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("the members changed since the preview; nothing was saved, look at the new preview")
        self.plan = plan


def _text(value: Any) -> str:
    """A column's value as the preview shows it.

    >>> _text(["72000000", "48000000"]), _text(None), _text(20000.0), _text({"cpv": ["72000000"]})
    ('72000000; 48000000', '', '20000', 'cpv: 72000000')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "; ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_text(item)}" for key, item in value.items())
    return str(value)


def _subject(row: Any) -> tuple[Kind, str]:
    if isinstance(row, Member):
        return "member", row.name
    if isinstance(row, User):
        return "user", row.email
    return "profile", row.name


def _recorded(row: Any, *, new: bool) -> Change | None:
    """The change a flush writes for one row, or None when nothing the file says differs."""
    kind, subject = _subject(row)
    state = sa.inspect(row)
    fields: list[FieldChange] = []
    for attribute in state.mapper.column_attrs:
        if attribute.key in _IGNORED:
            continue
        history = state.attrs[attribute.key].history
        if new:
            value = getattr(row, attribute.key)
            shown = value not in (None, [], {}, "") and not (attribute.key == "active" and value is True)
            if shown and not (kind != "member" and attribute.key in ("name", "email")):
                fields.append(FieldChange(attribute.key, "", _text(value)))
        elif history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if _text(before) != _text(after):
                fields.append(FieldChange(attribute.key, _text(before), _text(after)))
    if new:
        return Change(kind, "created", subject, tuple(fields))
    if not fields:
        return None
    active = next((f for f in fields if f.field == "active"), None)
    if kind != "member" and active is not None and active.after == "false":
        return Change(kind, "removed", subject, ())
    return Change(kind, "updated", subject, tuple(fields))


class _Recorder:
    """Every row a session's flushes insert or change, in order."""

    def __init__(self, session: Session) -> None:
        self.changes: list[Change] = []
        sa.event.listen(session, "before_flush", self._before_flush)

    def _before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        for row in list(session.new):
            change = _recorded(row, new=True)
            if change:
                self.changes.append(change)
        for row in list(session.dirty):
            if session.is_modified(row):
                change = _recorded(row, new=False)
                if change:
                    self.changes.append(change)


@contextmanager
def _transaction(engine: Engine) -> Iterator[tuple[sa.Connection, Session, _Recorder]]:
    """The import's own transaction for the whole file (`file_transaction`), its flushes recorded."""
    with file_transaction(engine) as (connection, session):
        yield connection, session, _Recorder(session)


def _store(
    session: Session, recorder: _Recorder, directory: Directory, line: int, member: MemberIn, plan: ImportPlan
) -> bool:
    """Store one member as the import does (in a savepoint); its plan, or its problem. Whether it stored."""
    start = len(recorder.changes)
    try:
        _store_member(session, member, ImportSummary(), directory)
    except (ValueError, sa.exc.IntegrityError) as error:
        del recorder.changes[start:]
        reason = str(error.orig) if isinstance(error, sa.exc.IntegrityError) else str(error)
        plan.problems.append(Problem(line, member.name, reason.strip().splitlines()[0] if reason.strip() else reason))
        return False
    changes = tuple(sorted(recorder.changes[start:], key=lambda c: (_KINDS.index(c.kind), c.subject)))
    created = any(c.kind == "member" and c.action == "created" for c in changes)
    outcome: Outcome = "created" if created else "updated" if changes else "unchanged"
    plan.members.append(MemberPlan(line, member.name, outcome, changes))
    return True


def plan_import(
    engine: Engine, *, members: MembersFile, apply: bool = False, expected: str | None = None
) -> ImportPlan:
    """What importing these members does; with `apply`, done, and only if its digest is `expected` (when given)."""
    plan = ImportPlan(problems=list(members.problems))
    with _transaction(engine) as (connection, session, recorder):
        directory = Directory.read(session, [member for _, member in members.members])
        for line, member in members.members:
            _store(session, recorder, directory, line, member, plan)
        plan.problems.sort(key=lambda problem: problem.line)
        if apply:
            if expected is not None and plan.digest != expected:
                raise PlanChanged(plan)
            session.flush()
            connection.commit()
            plan.applied = True
    return plan


@dataclass(frozen=True)
class FieldProblem:
    """Why a firm edited in a form cannot be saved: the form field it concerns and the reason."""

    field: str
    reason: str


class MemberNotSaved(Exception):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems


def save_member(engine: Engine, *, member: MemberIn, member_id: int | None = None) -> tuple[int, MemberPlan]:
    """Store one firm as a members file would say it (users and profiles not listed are deactivated), renaming
    the firm `member_id` first; all or nothing. Returns the firm's id and what changed."""
    plan = ImportPlan()
    with _transaction(engine) as (connection, session, recorder):
        key = name_key(member.name)
        holder = session.exec(select(Member).where(Member.name_key == key)).first()
        if member_id is None and holder is not None:
            raise MemberNotSaved([FieldProblem("name", f"a member named {holder.name!r} already exists")])
        if member_id is not None:
            row = session.get(Member, member_id)
            if row is None:
                raise MemberNotSaved([FieldProblem("name", f"no member {member_id}")])
            if holder is not None and holder.id != member_id:
                raise MemberNotSaved([FieldProblem("name", f"a member named {holder.name!r} already exists")])
            if row.name != member.name:
                row.name = member.name
                session.flush()
        renamed = tuple(recorder.changes)
        if not _store(session, recorder, Directory.read(session, [member]), 1, member, plan):
            raise MemberNotSaved(
                [FieldProblem("users" if "email" in p.reason else "name", p.reason) for p in plan.problems]
            )
        saved = session.exec(select(Member.id).where(Member.name_key == key)).one()
        connection.commit()
    result = plan.members[0]
    if renamed:
        result = MemberPlan(result.line, result.name, "updated", renamed + result.changes)
    assert saved is not None
    return saved, result


def member_in(engine: Engine, *, member_id: int) -> MemberIn | None:
    """A firm as a members file says it (its active users and profiles), to edit and save back."""
    with Session(engine) as session:
        row = session.get(Member, member_id)
        if row is None:
            return None
        users = session.exec(select(User).where(User.member_id == member_id).order_by(col(User.id))).all()
        profiles = session.exec(select(Profile).where(Profile.member_id == member_id).order_by(col(Profile.id))).all()
        return MemberIn.model_validate(_member_data(row, users, profiles))

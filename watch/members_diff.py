"""What a members file would change, said before it changes anything (the staff console's upload preview).

The preview is the real import run as a rehearsal: `plan_import` stores the members with the very code
`pib members import` runs (`watch.members.stored_file`), in one transaction, reads what each member's rows will
change just before they are written, and rolls the whole transaction back. So a member that clashes with one
earlier in the same file (an email listed twice) is a problem in the preview exactly as it is in the import.

Applying is the same call with `apply=True` and the preview's `digest`: the import is done again in one
transaction and committed only if what it wrote is what the preview said; if the members changed meanwhile
(another staff edit, a `pib members import`), nothing is saved and `PlanChanged` carries the new preview.

Saving one firm edited in the console (`save_member`) goes through the same path, so a form can never store
what a members file could not say, and a rename keeps the firm (members are otherwise found by name).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .members import (
    ImportSummary,
    MemberIn,
    MembersFile,
    Problem,
    StagedMember,
    _member_data,
    file_transaction,
    store_members,
    stored_file,
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


def _created(kind: Kind, subject: str, values: Iterable[tuple[str, Any]]) -> Change:
    """A new row said by the values the file gave it (its columns in order; what is left at its default unsaid)."""
    fields = [
        FieldChange(key, "", _text(value))
        for key, value in values
        if key not in _IGNORED
        and value not in (None, [], {}, "")
        and not (key == "active" and value is True)
        and not (kind != "member" and key in ("name", "email"))
    ]
    return Change(kind, "created", subject, tuple(fields))


def _recorded(row: Any, *, new: bool) -> Change | None:
    """The change the import writes for one row, or None when nothing the file says differs."""
    kind, subject = _subject(row)
    state = sa.inspect(row)
    if new:
        return _created(kind, subject, ((a.key, getattr(row, a.key)) for a in state.mapper.column_attrs))
    fields: list[FieldChange] = []
    for attribute in state.mapper.column_attrs:
        if attribute.key in _IGNORED:
            continue
        history = state.attrs[attribute.key].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if _text(before) != _text(after):
                fields.append(FieldChange(attribute.key, _text(before), _text(after)))
    if not fields:
        return None
    active = next((f for f in fields if f.field == "active"), None)
    if kind != "member" and active is not None and active.after == "false":
        return Change(kind, "removed", subject, ())
    return Change(kind, "updated", subject, tuple(fields))


def _added(kind: Kind, model: type[User] | type[Profile], rows: list[dict[str, Any]], subject: str) -> list[Change]:
    columns = [attribute.key for attribute in sa.inspect(model).column_attrs]
    return [_created(kind, values[subject], ((key, values.get(key)) for key in columns)) for values in rows]


def _first_line(problem: Problem) -> Problem:
    """A problem said in one line (the database's refusals go on with details)."""
    lines = problem.reason.strip().splitlines()
    return Problem(problem.line, problem.member, lines[0]) if lines else problem


def _plan_of(line: int, staged: StagedMember) -> MemberPlan:
    """What one staged member's rows change, read before they are written."""
    recorded = [_recorded(row, new=not sa.inspect(row).has_identity) for row in (staged.row, *staged.kept)]
    recorded += _added("user", User, staged.added_users, "email") + _added(
        "profile", Profile, staged.added_profiles, "name"
    )
    changes = tuple(sorted((c for c in recorded if c), key=lambda c: (_KINDS.index(c.kind), c.subject)))
    created = any(c.kind == "member" and c.action == "created" for c in changes)
    outcome: Outcome = "created" if created else "updated" if changes else "unchanged"
    return MemberPlan(line, staged.row.name, outcome, changes)


@contextmanager
def _planned(engine: Engine, members: MembersFile) -> Iterator[tuple[sa.Connection, Session, ImportPlan]]:
    """The import itself (`stored_file`), uncommitted, and its plan: each member's changes, and the problems."""
    planned: dict[int, MemberPlan] = {}
    with stored_file(engine, members, lambda line, staged: planned.update({line: _plan_of(line, staged)})) as (
        connection,
        session,
        summary,
    ):
        refused = {problem.line for problem in summary.problems}
        stored = [planned[line] for line, _ in members.members if line in planned and line not in refused]
        yield connection, session, ImportPlan(stored, [_first_line(problem) for problem in summary.problems])


def plan_import(
    engine: Engine, *, members: MembersFile, apply: bool = False, expected: str | None = None
) -> ImportPlan:
    """What importing these members does; with `apply`, done, and only if its digest is `expected` (when given)."""
    with _planned(engine, members) as (connection, _session, plan):
        if apply:
            if expected is not None and plan.digest != expected:
                raise PlanChanged(plan)
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
    key = name_key(member.name)
    with file_transaction(engine) as (connection, session):
        holder = session.exec(select(Member).where(Member.name_key == key)).first()
        if member_id is None and holder is not None:
            raise MemberNotSaved([FieldProblem("name", f"a member named {holder.name!r} already exists")])
        renamed: tuple[Change, ...] = ()
        if member_id is not None:
            row = session.get(Member, member_id)
            if row is None:
                raise MemberNotSaved([FieldProblem("name", f"no member {member_id}")])
            if holder is not None and holder.id != member_id:
                raise MemberNotSaved([FieldProblem("name", f"a member named {holder.name!r} already exists")])
            if row.name != member.name:
                row.name = member.name
                renamed = tuple(change for change in [_recorded(row, new=False)] if change)
                session.flush()
        planned: list[MemberPlan] = []
        summary = ImportSummary()
        store_members(
            session, [(1, member)], summary, one_by_one=True, staged=lambda line, s: planned.append(_plan_of(line, s))
        )
        if summary.problems:
            raise MemberNotSaved(
                [
                    FieldProblem("users" if "email" in p.reason else "name", p.reason)
                    for p in map(_first_line, summary.problems)
                ]
            )
        saved = session.exec(select(Member.id).where(Member.name_key == key)).one()
        connection.commit()
    result = planned[0]
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

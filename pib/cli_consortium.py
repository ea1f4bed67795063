"""Commands of the consortium: `pib interest`, `pib interests` (docs/cli.md), `pib partners`,
`pib reveal ...`, `pib groups ...` and `pib catalogue ...`.

Without `--as`, a command shows the staff view (identities); with `--as MEMBER`, exactly what that member
may see. A member is named by its id or its name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:  # imported in the commands' bodies, so that `pib --help` loads no database code
    from pydantic import BaseModel
    from sqlalchemy.engine import Engine

    from consortium.views import (
        AnonymousEntry,
        CatalogueView,
        GroupView,
        MemberCandidate,
        MemberPartnerSearch,
        MemberTenderView,
        OwnInterest,
        StaffCandidate,
        StaffEntry,
        StaffPartnerSearch,
        StaffTenderView,
        TenderInfo,
    )

T = TypeVar("T")

Member = Annotated[str, typer.Argument(help="The member firm: its id or its name.")]
SourceId = Annotated[str, typer.Argument(help="The tender: a notice's source_id, or SOURCE:SOURCE_ID.")]
AsMember = Annotated[str | None, typer.Option("--as", help="Show exactly what this member may see.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Lots = Annotated[list[str] | None, typer.Option("--lot", help="A lot id (repeat for several); none: every lot.")]

groups_app = typer.Typer(
    help="Partner groups (staff): assemble firms for a tender, follow them to the result.", no_args_is_help=True
)
reveal_app = typer.Typer(
    help="Mutual reveal: ask to be put in touch with a pseudonymous firm, answer a request.", no_args_is_help=True
)
catalogue_app = typer.Typer(help="The member competence catalogue (staff).", no_args_is_help=True)


def _engine() -> Engine:
    from pib.db import ready_engine

    return ready_engine()


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


@contextmanager
def _errors() -> Iterator[None]:
    """A consortium error is a message and exit code 1, not a traceback."""
    from consortium.errors import ConsortiumError

    try:
        yield
    except ConsortiumError as error:
        raise _fail(str(error)) from None


def _member_id(engine: Engine, text: str) -> int:
    from watch.members import find_member

    found = find_member(engine, text)  # by id, or by name with case and accents aside (watch.models.name_key)
    if found is None or found.id is None:
        raise _fail(f"no member {text!r} (give its id or its exact name)")
    return found.id


def _print_json(model: BaseModel | list[BaseModel]) -> None:
    if isinstance(model, list):
        sys.stdout.write("[" + ",".join(m.model_dump_json() for m in model) + "]\n")
    else:
        sys.stdout.write(model.model_dump_json(indent=2) + "\n")


def _show(model: T, as_json: bool, text: Callable[[T], list[str]]) -> None:
    if as_json:
        _print_json(model)  # type: ignore[arg-type]
    else:
        typer.echo("\n".join(text(model)))


def _lots(lots: list[str]) -> str:
    return f"lots {', '.join(lots)}" if lots else "the whole tender"


def _declared(entry: AnonymousEntry | OwnInterest | StaffEntry) -> str:
    parts = []
    brings = [*entry.brings_cpv, *entry.brings_keywords]
    lacks = [*entry.lacks_cpv, *entry.lacks_keywords]
    if brings:
        parts.append(f"brings {', '.join(brings)}")
    if lacks:
        parts.append(f"lacks {', '.join(lacks)}")
    if entry.seeks_partners:
        parts.append("seeks partners")
    return "; ".join(parts)


def _tender_lines(tender: TenderInfo) -> list[str]:
    head = f"{tender.reference}  {tender.title}  ({tender.buyer}"
    head += f", deadline {tender.deadline})" if tender.deadline else ")"
    return [head]


def _member_view_lines(view: MemberTenderView) -> list[str]:
    lines = _tender_lines(view.tender)
    lines.append(f"{view.interested} firms interested")
    lines += [f"  {count.describe()}" for count in view.counts]
    if view.own:
        own = view.own
        lines.append(f"You ({own.pseudonym}): {own.role}, {_lots(own.lots)}; {_declared(own)}".rstrip("; "))
    if view.entries:
        lines.append("Others:")
        lines += [f"  {e.pseudonym}: {e.role}, {_lots(e.lots)}; {_declared(e)}".rstrip("; ") for e in view.entries]
    lines += [f"You asked {r.pseudonym}: {r.state}" for r in view.requests_sent]
    lines += [
        f"{r.pseudonym} asks to be put in touch (since {r.asked_on}): `pib reveal answer MEMBER "
        f"{view.tender.reference} '{r.pseudonym}' --accept` (or --refuse)"
        for r in view.requests_received
    ]
    for firm in view.revealed:
        contacts = ", ".join(c.email for c in firm.contacts) or "no address"
        lines.append(f"{firm.pseudonym} is {firm.name}: {contacts}")
    return lines


def _staff_view_lines(view: StaffTenderView) -> list[str]:
    lines = _tender_lines(view.tender)
    lines.append(f"{view.interested} firms interested")
    lines += [f"  {count.describe()}" for count in view.counts]
    for e in view.entries:
        state = f" (withdrawn {e.withdrawn_at:%Y-%m-%d})" if e.withdrawn_at else ""
        lines.append(
            f"  [{e.member_id}] {e.name} = {e.pseudonym}{state}: {e.role}, {_lots(e.lots)}; {_declared(e)}".rstrip("; ")
        )
        if e.note:
            lines.append(f"      note: {e.note}")
    for r in view.reveals:
        lines.append(f"  reveal #{r.id}: {r.requester} asked {r.target} on {r.created_at:%Y-%m-%d}: {r.state}")
    for g in view.groups:
        gaps = f", lots not covered: {', '.join(g.uncovered_lots)}" if g.uncovered_lots else ", every lot covered"
        lines.append(f"  group #{g.id} {g.name}: {g.status}, {g.firms} firms{gaps}")
    return lines


def interest(
    member: Member,
    source_id: SourceId,
    lot: Lots = None,
    role: Annotated[str, typer.Option(help="lead, partner or subcontractor.")] = "partner",
    seeks_partners: Annotated[bool, typer.Option("--seeks-partners", help="Looking for partners.")] = False,
    brings: Annotated[list[str] | None, typer.Option(help="A CPV code or keyword the firm brings (repeat).")] = None,
    lacks: Annotated[list[str] | None, typer.Option(help="A CPV code or keyword the firm lacks (repeat).")] = None,
    note: Annotated[str | None, typer.Option(help="A note for the staff (never shown to other members).")] = None,
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Withdraw (from the lots given, or all).")] = False,
) -> None:
    """Record an expression of interest in a tender or some of its lots (anonymous to other members)."""
    from consortium.services import record_interest, withdraw_interest

    engine = _engine()
    member_id = _member_id(engine, member)
    with _errors():
        if withdraw:
            left = withdraw_interest(engine, member_id=member_id, tender=source_id, lots=lot or [])
            typer.echo(f"withdrawn; still interested in {_lots(left.lots)}" if left else "withdrawn")
            return
        own = record_interest(
            engine,
            member_id=member_id,
            tender=source_id,
            lots=lot or [],
            role=role,
            brings=brings or [],
            lacks=lacks or [],
            seeks_partners=seeks_partners,
            note=note,
        )
    typer.echo(f"interest recorded as {own.pseudonym}: {own.role}, {_lots(own.lots)}")


def interests(source_id: SourceId, as_member: AsMember = None, as_json: Json = False) -> None:
    """Show the interests in a tender: the staff view, or with --as exactly what a member may see."""
    from consortium.services import member_view, staff_view

    engine = _engine()
    with _errors():
        if as_member is not None:
            view = member_view(engine, tender=source_id, member_id=_member_id(engine, as_member))
            _show(view, as_json, _member_view_lines)
        else:
            _show(staff_view(engine, tender=source_id), as_json, _staff_view_lines)


def _candidate_line(place: int, candidate: MemberCandidate | StaffCandidate) -> str:
    """A member reads the order only: the score also weighs the firms' catalogues, which it may not read."""
    from consortium.views import MemberCandidate

    if isinstance(candidate, MemberCandidate):
        return f"  {place}. {candidate.pseudonym}: {'; '.join(candidate.reasons)}"
    return f"  {candidate.score:.2f} [{candidate.member_id}] {candidate.name}: {'; '.join(candidate.reasons)}"


def partners(
    source_id: SourceId,
    as_member: AsMember = None,
    for_member: Annotated[str | None, typer.Option("--for", help="Staff search on behalf of this member.")] = None,
    limit: Annotated[int, typer.Option(help="Firms shown per lot.")] = 10,
    as_json: Json = False,
) -> None:
    """Partner search, lot by lot: the firms that have what a member lacks, and the lots nobody covers."""
    from consortium.services import partner_search, staff_partner_search

    engine = _engine()
    found: MemberPartnerSearch | StaffPartnerSearch
    with _errors():
        if as_member is not None:
            found = partner_search(engine, tender=source_id, member_id=_member_id(engine, as_member), limit=limit)
        else:
            member_id = _member_id(engine, for_member) if for_member is not None else None
            found = staff_partner_search(engine, tender=source_id, member_id=member_id, limit=limit)
    if as_json:
        _print_json(found)
        return
    lines = _tender_lines(found.tender)
    for lot in found.lots:
        lacking = [*lot.lacking_cpv, *lot.lacking_keywords]
        lines.append(f"lot {lot.lot_id}" + (f" (lacking {', '.join(lacking)})" if lacking else ""))
        candidates: Sequence[MemberCandidate | StaffCandidate] = lot.candidates
        lines += [_candidate_line(place, c) for place, c in enumerate(candidates, 1)]
        if not candidates:
            lines.append("  no firm found")
    if found.covered_lots:
        lines.append(f"lacking nothing in lots {', '.join(found.covered_lots)}")
    lines.append(f"lots no interested firm takes on yet: {', '.join(found.uncovered_lots) or 'none'}")
    typer.echo("\n".join(lines))


@reveal_app.command("ask")
def reveal_ask(member: Member, source_id: SourceId, pseudonym: str) -> None:
    """Ask to be put in touch with the firm of PSEUDONYM on a tender (both must agree)."""
    from consortium.services import request_reveal

    engine = _engine()
    with _errors():
        request = request_reveal(engine, member_id=_member_id(engine, member), tender=source_id, pseudonym=pseudonym)
    typer.echo(f"{request.pseudonym}: {request.state}")


@reveal_app.command("answer")
def reveal_answer(
    member: Member,
    source_id: SourceId,
    pseudonym: str,
    accept: Annotated[bool, typer.Option("--accept/--refuse", help="Accept or refuse to be revealed.")],
) -> None:
    """Accept or refuse the request of PSEUDONYM; the asker learns nothing of a refusal."""
    from consortium.services import answer_reveal

    engine = _engine()
    with _errors():
        firm = answer_reveal(
            engine, member_id=_member_id(engine, member), tender=source_id, pseudonym=pseudonym, accept=accept
        )
    if firm is None:
        typer.echo("refused (the asker is not told)")
    else:
        typer.echo(f"{firm.pseudonym} is {firm.name}: {', '.join(c.email for c in firm.contacts) or 'no address'}")


@reveal_app.command("log")
def reveal_log(source_id: Annotated[str | None, typer.Argument()] = None, as_json: Json = False) -> None:
    """Every reveal request recorded (staff): who asked whom, on which tender, when, and the answer."""
    from consortium.services import reveal_log as log

    with _errors():
        rows = log(_engine(), tender=source_id)
    if as_json:
        _print_json(list(rows))
        return
    for r in rows:
        decided = f" on {r.decided_at:%Y-%m-%d}" if r.decided_at else ""
        typer.echo(f"#{r.id} {r.created_at:%Y-%m-%d} {r.tender}: {r.requester} asked {r.target}: {r.state}{decided}")


def _group_lines(view: GroupView) -> list[str]:
    lines = [f"group #{view.id} {view.name}: {view.status}", *_tender_lines(view.tender)]
    lines += [f"  {f.role}: [{f.member_id}] {f.name}, {_lots(f.lots)}" for f in view.firms]
    for lot in view.lots:
        firms = ", ".join(lot.firms) or "no firm takes it"
        lines.append(f"  lot {lot.lot_id} {lot.title or ''}: {'covered' if lot.covered else 'NOT covered'} ({firms})")
        for r in lot.requirements:
            by = ", ".join(r.covered_by) or (f"partly {', '.join(r.partly_by)}" if r.partly_by else "nobody")
            lines.append(f"      CPV {r.cpv} {r.label or ''}: {by}")
    for gap in view.suggestions:
        lines.append(f"  suggestions for lot {gap.lot_id}:" + ("" if gap.candidates else " none"))
        lines += [f"      {c.score:.2f} [{c.member_id}] {c.name}: {'; '.join(c.reasons)}" for c in gap.candidates]
    if view.history:
        lines.append("  history:")
    lines += [f"  {e.at:%Y-%m-%d %H:%M}  {e.describe()}" for e in view.history]
    return lines


@groups_app.command("create")
def groups_create(
    source_id: SourceId, name: Annotated[str | None, typer.Option()] = None, as_json: Json = False
) -> None:
    """Create a partner group for a tender."""
    from consortium.services import create_group

    with _errors():
        _show(create_group(_engine(), tender=source_id, name=name), as_json, _group_lines)


@groups_app.command("add")
def groups_add(
    group: int,
    member: Member,
    role: Annotated[str, typer.Option(help="lead (mandataire), partner or subcontractor.")],
    lot: Lots = None,
    as_json: Json = False,
) -> None:
    """Add a firm to a group (or change its role and lots)."""
    from consortium.services import add_firm

    engine = _engine()
    with _errors():
        view = add_firm(engine, group_id=group, member_id=_member_id(engine, member), role=role, lots=lot or [])
    _show(view, as_json, _group_lines)


@groups_app.command("remove")
def groups_remove(group: int, member: Member, as_json: Json = False) -> None:
    """Take a firm out of a group."""
    from consortium.services import remove_firm

    engine = _engine()
    with _errors():
        _show(remove_firm(engine, group_id=group, member_id=_member_id(engine, member)), as_json, _group_lines)


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(f"--date: not a date (YYYY-MM-DD): {text!r}") from None


@groups_app.command("status")
def groups_status(
    group: int,
    status: Annotated[str, typer.Argument(help="submitted, won or lost.")],
    note: Annotated[str | None, typer.Option()] = None,
    on: Annotated[str | None, typer.Option("--date", help="When (YYYY-MM-DD); today if not given.")] = None,
    as_json: Json = False,
) -> None:
    """Move a group on: forming → submitted → won or lost."""
    from consortium.services import set_status

    with _errors():
        _show(set_status(_engine(), group_id=group, status=status, note=note, at=_date(on)), as_json, _group_lines)


@groups_app.command("note")
def groups_note(
    group: int,
    text: str,
    on: Annotated[str | None, typer.Option("--date", help="When (YYYY-MM-DD); today if not given.")] = None,
) -> None:
    """Add a note to a group's history."""
    from consortium.services import add_note

    with _errors():
        add_note(_engine(), group_id=group, text=text, at=_date(on))
    typer.echo("noted")


@groups_app.command("show")
def groups_show(group: int, as_json: Json = False) -> None:
    """A group lot by lot: firms, competences covered, suggestions for the gaps, history."""
    from consortium.services import group_view

    with _errors():
        _show(group_view(_engine(), group_id=group), as_json, _group_lines)


@groups_app.command("list")
def groups_list(source_id: Annotated[str | None, typer.Argument()] = None, as_json: Json = False) -> None:
    """The partner groups, all or those of a tender."""
    from consortium.services import list_groups

    with _errors():
        summaries = list_groups(_engine(), tender=source_id)
    if as_json:
        _print_json(list(summaries))
        return
    for g in summaries:
        gaps = f"lots not covered: {', '.join(g.uncovered_lots)}" if g.uncovered_lots else "every lot covered"
        typer.echo(f"#{g.id} {g.name}: {g.status}, {g.firms} firms, {gaps}")


def _catalogue_lines(view: CatalogueView) -> list[str]:
    return [
        f"[{view.member_id}] {view.name}",
        f"  cpv: {', '.join(view.cpv)}",
        f"  keywords: {', '.join(view.keywords)}",
        f"  regions: {', '.join(view.regions)}",
        f"  certifications: {', '.join(view.certifications)}",
        f"  size: {view.size_band or ''}",
        *(f"  reference: {r}" for r in view.references),
    ]


@catalogue_app.command("show")
def catalogue_show(member: Member, as_json: Json = False) -> None:
    """A firm's competences: members file and catalogue merged."""
    from consortium.services import catalogue_of

    engine = _engine()
    with _errors():
        _show(catalogue_of(engine, member_id=_member_id(engine, member)), as_json, _catalogue_lines)


@catalogue_app.command("set")
def catalogue_set(
    member: Member,
    cpv: Annotated[list[str] | None, typer.Option(help="A CPV code (repeat); replaces the catalogue's.")] = None,
    keyword: Annotated[list[str] | None, typer.Option(help="A keyword (repeat); replaces the catalogue's.")] = None,
    region: Annotated[list[str] | None, typer.Option(help="A NUTS prefix or country (repeat).")] = None,
    certification: Annotated[list[str] | None, typer.Option(help="A certification (repeat).")] = None,
    size: Annotated[str | None, typer.Option(help="micro, small, medium or large.")] = None,
    reference: Annotated[list[str] | None, typer.Option(help="A past contract in a few words (repeat).")] = None,
    as_json: Json = False,
) -> None:
    """Set what a firm does beyond the members file (the fields given replace the catalogue's)."""
    from consortium.services import set_catalogue

    engine = _engine()
    with _errors():
        view = set_catalogue(
            engine,
            member_id=_member_id(engine, member),
            cpv=cpv,
            keywords=keyword,
            regions=region,
            certifications=certification,
            size_band=size,
            references=reference,
        )
    _show(view, as_json, _catalogue_lines)


def register(app: typer.Typer) -> None:
    """Add the consortium commands to the `pib` app."""
    app.command()(interest)
    app.command()(interests)
    app.command()(partners)
    app.add_typer(reveal_app, name="reveal")
    app.add_typer(groups_app, name="groups")
    app.add_typer(catalogue_app, name="catalogue")

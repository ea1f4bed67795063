"""Organisations: one record per real firm, resolved from the winners of every stored award (issue 14, item 2).

The store keeps each award notice whole (`notice.data["awards"]`, docs/notice.md); this module reads it and
writes its own tables, so the views are queries and not JSON scans:

- `award` (one awarded contract: notice, lots, value, tenders received, date, buyer, CPV, places) and
  `award_winner` (its winners in document order, each as written, with the organisation it was joined to and
  how: the evidence);
- `organisation`: a firm, with its national identifier when one of its awards gave it;
- `member_organisation`: which organisation a member firm of the cluster is, by identifier (confirmed at once)
  or by name (proposed, then confirmed or refused by staff).

A winner is joined to an organisation by its identifier first (`canonical_identifier`: a Belgian VAT number is
its enterprise number, a French SIRET or VAT number its SIREN), else by its name within its country
(`organisation_key`: case, accents, punctuation and legal forms aside). Two different identifiers are never
merged: a winner whose identifier differs from the organisation its name finds starts its own organisation, and
a winner without identifier whose name finds several identified firms starts an unidentified one.

`resolve_awards` reads only the award notices not resolved yet, or changed since (a newer version), in batches
of one transaction each; the scheduler runs it after linking, `pib organisations resolve` on demand.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from crawlers.store.models import JSONColumn, utcnow
from crawlers.store.service import notice_table

from .members import member_identifiers
from .models import Member, name_key

log = logging.getLogger(__name__)

# Folding names and identifiers ------------------------------------------------------------------------------

LEGAL_PHRASES = {
    "societe anonyme": "sa",
    "societe a responsabilite limitee": "srl",
    "societe privee a responsabilite limitee": "sprl",
    "societe cooperative a responsabilite limitee": "scrl",
    "societe cooperative": "sc",
    "societe par actions simplifiee unipersonnelle": "sasu",
    "societe par actions simplifiee": "sas",
    "entreprise unipersonnelle a responsabilite limitee": "eurl",
    "societe en nom collectif": "snc",
    "societe en commandite simple": "scs",
    "naamloze vennootschap": "nv",
    "besloten vennootschap met beperkte aansprakelijkheid": "bvba",
    "besloten vennootschap": "bv",
    "cooperatieve vennootschap met beperkte aansprakelijkheid": "cvba",
    "cooperatieve vennootschap": "cv",
    "gesellschaft mit beschrankter haftung": "gmbh",
    "aktiengesellschaft": "ag",
    "public limited company": "plc",
    "limited": "ltd",
    "incorporated": "inc",
}
"""Legal forms written out, as `name_key` folds them, and their abbreviation."""
LEGAL_FORMS = frozenset(
    (
        *("sa", "srl", "sprl", "sprlu", "sc", "scrl", "scs", "sca", "scri", "nv", "bv", "bvba", "cvba", "cv", "commv"),
        *("vof", "sas", "sasu", "sarl", "sarlu", "eurl", "snc", "gie", "gmbh", "ag", "kg", "ohg", "ltd", "plc", "llp"),
        *("llc", "inc", "se", "asbl", "vzw", "aisbl"),
    )
)
"""Abbreviated legal forms, folded away at either end of a name (`SA`, `S.A.`, `s.a.` alike)."""
_PHRASES = re.compile(r"\b(" + "|".join(sorted(LEGAL_PHRASES, key=len, reverse=True)) + r")\b")


def organisation_key(name: str) -> str:
    """A firm's name as names are compared to join winners: `name_key` (case, accents, punctuation aside),
    initials run together (`S.R.L.` is `srl`), legal forms written out abbreviated, and legal forms at either
    end left out.

    >>> organisation_key("Alpha Logiciels SRL") == organisation_key("ALPHA LOGICIELS S.R.L.") == "alpha logiciels"
    True
    >>> organisation_key("École Numérique, société anonyme"), organisation_key("SA École-Numérique")
    ('ecole numerique', 'ecole numerique')
    >>> organisation_key("Bouw Peeters NV/SA"), organisation_key("Müller GmbH"), organisation_key("SA")
    ('bouw peeters', 'muller', 'sa')
    """
    words: list[str] = []
    run = False  # the last word is initials run together
    for word in name_key(name).split():
        initial = len(word) == 1 and word.isalpha()
        if initial and run:
            words[-1] += word
        else:
            words.append(word)
        run = initial
    words = _PHRASES.sub(lambda found: LEGAL_PHRASES[found.group(1)], " ".join(words)).split()
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    while len(words) > 1 and words[0] in LEGAL_FORMS:
        words.pop(0)
    return " ".join(words)


_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def canonical_identifier(identifier: str | None, country: str | None = None) -> str | None:
    """The one spelling of a firm's national number under which its awards are joined: a Belgian enterprise or
    VAT number as `BE` and ten digits; a French SIREN, SIRET (its first nine digits) or VAT number (its last
    nine) as `FR` and the SIREN; any other as written, with its country prefix when it has none. None when
    nothing usable is given.

    >>> identify = canonical_identifier
    >>> identify("BE 0123.456.789"), identify("0123456789"), identify("123456789", "BE")
    ('BE0123456789', 'BE0123456789', 'BE0123456789')
    >>> identify("73282932000074"), identify("FR44732829320"), identify("732 829 320", "FR")
    ('FR732829320', 'FR732829320', 'FR732829320')
    >>> identify("DE123456789"), identify("B12345678", "ES"), identify(" - "), identify("GB222222222")
    ('DE123456789', 'ESB12345678', None, None)
    """
    if identifier is None:
        return None
    value = _NOT_ALNUM.sub("", identifier.upper())
    if len(value) < 5:
        return None
    prefix = value[:2] if value[:2].isalpha() else None
    body = value[2:] if prefix else value
    if len(set(body)) == 1:  # a placeholder (`GB222222222` in the eForms SDK's examples, `000000000`): no number
        return None
    country = prefix or (country.upper() if country else None)
    if body.isdigit():
        if country == "BE" or (country is None and len(body) == 10 and body[0] in "01"):
            if len(body) == 9:
                body = "0" + body
            if len(body) == 10:
                return "BE" + body
        if country == "FR" or (country is None and len(body) in (9, 14)):
            if len(body) == 14:  # SIRET: the SIREN and the establishment
                return "FR" + body[:9]
            if len(body) == 11 and prefix == "FR":  # VAT: a two-character key, then the SIREN
                return "FR" + body[2:]
            if len(body) == 9:
                return "FR" + body
    if prefix == "FR" and len(body) == 11 and body[2:].isdigit():  # a VAT key with letters
        return "FR" + body[2:]
    return value if prefix else (f"{country}{value}" if country else value)


def identifier_country(canonical: str | None) -> str | None:
    """
    >>> identifier_country("BE0123456789"), identifier_country("12345"), identifier_country(None)
    ('BE', None, None)
    """
    if canonical and canonical[:2].isalpha():
        return canonical[:2]
    return None


def cpv_group(code: str | None) -> str | None:
    """A CPV code's group: its first three digits, written as a code (`72212000` is in `72200000`).

    >>> cpv_group("72212000"), cpv_group(None)
    ('72200000', None)
    """
    return code[:3] + "00000" if code else None


# Tables -----------------------------------------------------------------------------------------------------

JoinedBy = Literal["new", "identifier", "name"]
LinkStatus = Literal["proposed", "confirmed", "refused"]


class Organisation(SQLModel, table=True):
    """A firm that won an award; `identifier` (canonical) is set once any of its awards gave one."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=1000)
    """The name as first written in an award."""
    name_key: str = Field(max_length=1000, index=True)
    """`organisation_key(name)`: how winners without identifier find it."""
    country: str | None = Field(default=None, max_length=2)
    identifier: str | None = Field(default=None, max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class AwardRecord(SQLModel, table=True):
    """One awarded contract of a stored notice (`notice.data["awards"][position]`), with what views ask of it."""

    __tablename__ = "award"
    __table_args__ = (sa.UniqueConstraint("notice_id", "position", name="uq_award_notice_position"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    position: int
    lot_ids: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    value: float | None = None
    currency: str | None = Field(default=None, max_length=3)
    tenders_received: int | None = None
    awarded_on: date | None = None
    """The award's date, else the notice's publication date."""
    buyer_name: str
    buyer_key: str = Field(max_length=1000, index=True)
    """`organisation_key` of the buyer's name: the buyer's earlier awards are found by it."""
    buyer_country: str | None = Field(default=None, max_length=2)
    cpv: str | None = Field(default=None, max_length=8)
    """The awarded lot's main CPV code (the notice's when the lot has none)."""
    cpv_group: str | None = Field(default=None, max_length=8, index=True)
    nuts: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    title: str | None = None
    """The awarded lot's title, else the notice's."""


class AwardWinner(SQLModel, table=True):
    """A winner of an award as written, and the organisation it was joined to: the evidence of resolution."""

    __tablename__ = "award_winner"
    __table_args__ = (sa.UniqueConstraint("award_id", "position", name="uq_award_winner_position"),)

    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="award.id", index=True, ondelete="CASCADE")
    position: int
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=1000)
    identifier: str | None = Field(default=None, max_length=40)
    """As written in the notice."""
    canonical_identifier: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, max_length=2)
    town: str | None = Field(default=None, max_length=300)
    sme: bool | None = None
    joined_by: str = Field(max_length=10)
    """`new` (it made the organisation), `identifier` or `name`."""


class AwardNotice(SQLModel, table=True):
    """An award notice resolved, in which version: a newer version is resolved again."""

    __tablename__ = "award_notice"

    notice_id: int = Field(foreign_key="notice.id", primary_key=True, ondelete="CASCADE")
    content_hash: str = Field(max_length=64)
    resolved_at: datetime = Field(default_factory=utcnow)


class MemberOrganisation(SQLModel, table=True):
    """A member firm of the cluster is this organisation: by identifier (confirmed), or by name (proposed until
    staff confirm or refuse it; a refusal is kept so the name is not proposed again)."""

    __tablename__ = "member_organisation"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "organisation_id", name="uq_member_organisation"),
        sa.CheckConstraint("status IN ('proposed', 'confirmed', 'refused')", name="ck_member_organisation_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    how: str = Field(max_length=10)
    """`identifier` or `name`."""
    status: str = Field(max_length=10)
    proposed_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=320)


organisation_table: sa.Table = Organisation.__table__  # type: ignore[attr-defined]
award_table: sa.Table = AwardRecord.__table__  # type: ignore[attr-defined]
winner_table: sa.Table = AwardWinner.__table__  # type: ignore[attr-defined]
award_notice_table: sa.Table = AwardNotice.__table__  # type: ignore[attr-defined]
link_table: sa.Table = MemberOrganisation.__table__  # type: ignore[attr-defined]
member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]


# Resolution -------------------------------------------------------------------------------------------------


@dataclass
class ResolveSummary:
    notices: int = 0
    awards: int = 0
    winners: int = 0
    created: int = 0
    by_identifier: int = 0
    by_name: int = 0
    identifiers_adopted: int = 0
    """Organisations known by name that an identified winner gave their identifier."""
    kept_apart: int = 0
    """Winners whose name found an organisation with another identifier (or several): not merged."""
    links_confirmed: int = 0
    links_proposed: int = 0
    failed: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = (
            f"{self.notices} award notices, {self.awards} awards, {self.winners} winners: "
            f"{self.created} organisations created, {self.by_identifier} winners joined by identifier, "
            f"{self.by_name} by name ({self.identifiers_adopted} identifiers adopted), "
            f"{self.kept_apart} kept apart (another identifier); members: {self.links_confirmed} linked by "
            f"identifier, {self.links_proposed} name links proposed"
        )
        if self.failed:
            text += f"; {len(self.failed)} notices failed: {', '.join(self.failed[:5])}"
        return text


class _Directory:
    """The organisations known, by identifier and by (name key, country), kept in step with the inserts."""

    def __init__(self, connection: Connection) -> None:
        self.by_identifier: dict[str, int] = {}
        self.by_name: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.identifier_of: dict[int, str | None] = {}
        for row in connection.execute(
            sa.select(
                organisation_table.c.id,
                organisation_table.c.name_key,
                organisation_table.c.country,
                organisation_table.c.identifier,
            ).order_by(organisation_table.c.id)
        ):
            self._add(row.id, row.name_key, row.country, row.identifier)

    def _add(self, ident: int, key: str, country: str | None, identifier: str | None) -> None:
        self.by_name[(key, country or "")].append(ident)
        self.identifier_of[ident] = identifier
        if identifier:
            self.by_identifier[identifier] = ident

    def find(
        self, connection: Connection, *, name: str, country: str | None, identifier: str | None, now: datetime
    ) -> tuple[int, JoinedBy, str]:
        """The organisation of a winner, made if needed; how it was joined; and what happened (`adopted`,
        `apart`, or '')."""
        if identifier and identifier in self.by_identifier:
            return self.by_identifier[identifier], "identifier", ""
        key = organisation_key(name)
        found = self.by_name.get((key, country or ""), [])
        note = ""
        if identifier:
            unidentified = [ident for ident in found if self.identifier_of[ident] is None]
            if unidentified:
                ident = unidentified[0]
                connection.execute(
                    organisation_table.update().where(organisation_table.c.id == ident).values(identifier=identifier)
                )
                self.identifier_of[ident] = identifier
                self.by_identifier[identifier] = ident
                return ident, "name", "adopted"
            note = "apart" if found else ""
        elif found:
            unidentified = [ident for ident in found if self.identifier_of[ident] is None]
            if len(found) == 1:
                return found[0], "name", ""
            if unidentified:
                return unidentified[0], "name", ""
            note = "apart"  # the name is that of several identified firms: which one is unknown
        ident = connection.execute(
            organisation_table.insert()
            .values(name=name, name_key=key, country=country, identifier=identifier, created_at=now)
            .returning(organisation_table.c.id)
        ).scalar_one()
        self._add(ident, key, country, identifier)
        return ident, "new", note


def _pending(connection: Connection, after: int, limit: int) -> list[Any]:
    return list(
        connection.execute(
            sa.select(notice_table.c.id, notice_table.c.content_hash, notice_table.c.data, notice_table.c.published)
            .outerjoin(award_notice_table, award_notice_table.c.notice_id == notice_table.c.id)
            .where(
                notice_table.c.notice_type == "award",
                notice_table.c.id > after,
                sa.or_(
                    award_notice_table.c.notice_id.is_(None),
                    award_notice_table.c.content_hash != notice_table.c.content_hash,
                ),
            )
            .order_by(notice_table.c.id)
            .limit(limit)
        )
    )


def _award_row(
    notice_id: int, position: int, award: dict[str, Any], data: dict[str, Any], published: date
) -> dict[str, Any]:
    lots = {str(lot.get("id")): lot for lot in data.get("lots") or []}
    lot_ids = [str(lot_id) for lot_id in award.get("lot_ids") or []]
    lot = lots.get(lot_ids[0]) if len(lot_ids) == 1 else (next(iter(lots.values())) if len(lots) == 1 else None)
    cpv = (lot or {}).get("cpv_main") or data.get("cpv_main")
    nuts = list((lot or {}).get("nuts") or data.get("nuts") or [])
    buyer = data.get("buyer") or {}
    awarded_on = award.get("date")
    return {
        "notice_id": notice_id,
        "position": position,
        "lot_ids": lot_ids,
        "value": award.get("value"),
        "currency": award.get("currency") or (data.get("currency") if award.get("value") is not None else None),
        "tenders_received": award.get("tenders_received"),
        "awarded_on": date.fromisoformat(awarded_on) if isinstance(awarded_on, str) else published,
        "buyer_name": buyer.get("name") or "",
        "buyer_key": organisation_key(buyer.get("name") or ""),
        "buyer_country": buyer.get("country"),
        "cpv": cpv,
        "cpv_group": cpv_group(cpv),
        "nuts": nuts,
        "title": (lot or {}).get("title") or data.get("title"),
    }


def _resolve_notice(
    connection: Connection, directory: _Directory, row: Any, summary: ResolveSummary, now: datetime
) -> None:
    connection.execute(
        winner_table.delete().where(
            winner_table.c.award_id.in_(sa.select(award_table.c.id).where(award_table.c.notice_id == row.id))
        )
    )
    connection.execute(award_table.delete().where(award_table.c.notice_id == row.id))
    data = row.data
    buyer_country = (data.get("buyer") or {}).get("country")
    for position, award in enumerate(data.get("awards") or []):
        award_id = connection.execute(
            award_table.insert()
            .values(**_award_row(row.id, position, award, data, row.published))
            .returning(award_table.c.id)
        ).scalar_one()
        summary.awards += 1
        for place, winner in enumerate(award.get("winners") or []):
            canonical = canonical_identifier(winner.get("identifier"), winner.get("country"))
            country = winner.get("country") or identifier_country(canonical) or buyer_country
            ident, joined, note = directory.find(
                connection, name=winner["name"], country=country, identifier=canonical, now=now
            )
            summary.winners += 1
            summary.created += joined == "new"
            summary.by_identifier += joined == "identifier"
            summary.by_name += joined == "name"
            summary.identifiers_adopted += note == "adopted"
            summary.kept_apart += note == "apart"
            connection.execute(
                winner_table.insert().values(
                    award_id=award_id,
                    position=place,
                    organisation_id=ident,
                    name=winner["name"],
                    identifier=winner.get("identifier"),
                    canonical_identifier=canonical,
                    country=country,
                    town=winner.get("town"),
                    sme=winner.get("sme"),
                    joined_by=joined,
                )
            )
    connection.execute(award_notice_table.delete().where(award_notice_table.c.notice_id == row.id))
    connection.execute(
        award_notice_table.insert().values(notice_id=row.id, content_hash=row.content_hash, resolved_at=now)
    )
    summary.notices += 1


def resolve_awards(engine: Engine, *, batch_size: int = 200, now: datetime | None = None) -> ResolveSummary:
    """Resolve the winners of the award notices not resolved yet (or changed since), then link the members to
    their organisations (`link_members`). Running it again changes nothing."""
    now = now or utcnow()
    summary = ResolveSummary()
    after = 0
    directory: _Directory | None = None  # read once, then kept in step with what each batch inserts
    while True:
        with engine.begin() as connection:
            rows = _pending(connection, after, batch_size)
            if not rows:
                break
            directory = directory or _Directory(connection)
            for row in rows:
                after = row.id
                nested = connection.begin_nested()
                try:
                    _resolve_notice(connection, directory, row, summary, now)
                    nested.commit()
                except Exception:  # one bad notice never stops the others; the next run tries it again
                    log.exception("award notice %s could not be resolved, left for the next run", row.id)
                    nested.rollback()
                    directory = _Directory(connection)
                    summary.failed.append(str(row.id))
    confirmed, proposed = link_members(engine, now=now)
    summary.links_confirmed, summary.links_proposed = confirmed, proposed
    return summary


# Members and their organisations ----------------------------------------------------------------------------


def _member_identifiers(engine: Engine) -> dict[int, str]:
    """The members' national numbers of the members file, in the spelling awards are joined under."""
    return {
        member: canonical
        for member, value in member_identifiers(engine).items()
        if (canonical := canonical_identifier(value))
    }


def link_members(engine: Engine, *, now: datetime | None = None) -> tuple[int, int]:
    """Link each active member to its organisation: by identifier (confirmed), else by name (proposed to staff),
    never to an organisation a staff user refused for it, nor by name to one whose identifier is not the
    member's own. Returns how many links were confirmed by identifier and proposed by name."""
    now = now or utcnow()
    identifiers = _member_identifiers(engine)
    confirmed = proposed = 0
    with engine.begin() as connection:
        members = list(
            connection.execute(sa.select(member_table.c.id, member_table.c.name).where(member_table.c.active))
        )
        existing = {
            (row.member_id, row.organisation_id): row.status
            for row in connection.execute(
                sa.select(link_table.c.member_id, link_table.c.organisation_id, link_table.c.status)
            )
        }
        organisations = list(
            connection.execute(
                sa.select(organisation_table.c.id, organisation_table.c.name_key, organisation_table.c.identifier)
            )
        )
        by_identifier = {row.identifier: row.id for row in organisations if row.identifier}
        by_key: dict[str, list[Any]] = defaultdict(list)
        for row in organisations:
            by_key[row.name_key].append(row)
        for member in members:
            own = identifiers.get(member.id)
            wanted: list[tuple[int, str, str]] = []
            if own and own in by_identifier:
                wanted.append((by_identifier[own], "identifier", "confirmed"))
            for organisation in by_key.get(organisation_key(member.name), []):
                if organisation.identifier and own and organisation.identifier != own:
                    continue  # another firm's number: a name alike is not the same firm
                if organisation.identifier and organisation.identifier == own:
                    continue  # linked by identifier above
                wanted.append((organisation.id, "name", "proposed"))
            for organisation_id, how, status in wanted:
                known = existing.get((member.id, organisation_id))
                if known is None:
                    connection.execute(
                        link_table.insert().values(
                            member_id=member.id,
                            organisation_id=organisation_id,
                            how=how,
                            status=status,
                            proposed_at=now,
                            decided_at=now if status == "confirmed" else None,
                        )
                    )
                    existing[(member.id, organisation_id)] = status
                elif known == "proposed" and status == "confirmed":
                    connection.execute(
                        link_table.update()
                        .where(link_table.c.member_id == member.id, link_table.c.organisation_id == organisation_id)
                        .values(how=how, status=status, decided_at=now)
                    )
                else:
                    continue
                confirmed += status == "confirmed"
                proposed += status == "proposed"
    return confirmed, proposed


@dataclass(frozen=True)
class LinkProposal:
    member_id: int
    member_name: str
    organisation_id: int
    organisation_name: str
    country: str | None
    identifier: str | None
    how: str
    status: str
    awards: int
    variants: list[str]


def link_proposals(engine: Engine, *, status: LinkStatus = "proposed") -> list[LinkProposal]:
    """The member–organisation links in a state (staff only: firms by name), member by member."""
    awards = (
        sa.select(sa.func.count(sa.distinct(winner_table.c.award_id)))
        .where(winner_table.c.organisation_id == organisation_table.c.id)
        .scalar_subquery()
    )
    with engine.connect() as connection:
        rows = list(
            connection.execute(
                sa.select(
                    link_table.c.member_id,
                    member_table.c.name.label("member_name"),
                    organisation_table.c.id.label("organisation_id"),
                    organisation_table.c.name.label("organisation_name"),
                    organisation_table.c.country,
                    organisation_table.c.identifier,
                    link_table.c.how,
                    link_table.c.status,
                    awards.label("awards"),
                )
                .join(member_table, member_table.c.id == link_table.c.member_id)
                .join(organisation_table, organisation_table.c.id == link_table.c.organisation_id)
                .where(link_table.c.status == status)
                .order_by(member_table.c.name_key, organisation_table.c.id)
            )
        )
        variants = name_variants(connection, [row.organisation_id for row in rows])
    return [LinkProposal(*row, variants=variants.get(row.organisation_id, [])) for row in rows]


def name_variants(connection: Connection, organisation_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each organisation's names as its awards wrote them, most frequent first."""
    found: dict[int, Counter[str]] = defaultdict(Counter)
    ids = list(organisation_ids)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for row in connection.execute(
            sa.select(winner_table.c.organisation_id, winner_table.c.name).where(
                winner_table.c.organisation_id.in_(chunk)
            )
        ):
            found[row.organisation_id][row.name] += 1
    return {ident: [name for name, _ in counter.most_common()] for ident, counter in found.items()}


class LinkError(ValueError):
    """A decision on a link that is not there (a stale form)."""


def decide_link(
    connection: Connection, *, member_id: int, organisation_id: int, accept: bool, by: str, now: datetime | None = None
) -> None:
    """Staff confirm or refuse a proposed (or earlier decided) link; `LinkError` when there is none."""
    done = connection.execute(
        link_table.update()
        .where(link_table.c.member_id == member_id, link_table.c.organisation_id == organisation_id)
        .values(status="confirmed" if accept else "refused", decided_at=now or utcnow(), decided_by=by[:320])
    )
    if done.rowcount != 1:
        raise LinkError(f"no link between member {member_id} and organisation {organisation_id}")


def member_organisations(connection: Connection, member_ids: Sequence[int] | None = None) -> dict[int, list[int]]:
    """The confirmed organisations of members (all active members when none are named)."""
    query = (
        sa.select(link_table.c.member_id, link_table.c.organisation_id)
        .join(member_table, member_table.c.id == link_table.c.member_id)
        .where(link_table.c.status == "confirmed", member_table.c.active)
        .order_by(link_table.c.member_id, link_table.c.organisation_id)
    )
    if member_ids is not None:
        query = query.where(link_table.c.member_id.in_(list(member_ids)))
    found: dict[int, list[int]] = defaultdict(list)
    for row in connection.execute(query):
        found[row.member_id].append(row.organisation_id)
    return dict(found)


# Measures ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolutionMeasure:
    organisations: int
    winners: int
    identified_organisations: int
    merged_identifiers: int
    """Organisations holding winners of two different identifiers: must be 0."""
    organisations_with_variants: int
    variants_joined: int
    """Names, as written, joined to an organisation beyond its first."""

    def describe(self) -> str:
        precision = 1.0 if self.merged_identifiers == 0 else 1 - self.merged_identifiers / max(self.organisations, 1)
        return (
            f"{self.winners} winners in {self.organisations} organisations ({self.identified_organisations} with an "
            f"identifier); {self.variants_joined} name variants joined in {self.organisations_with_variants} "
            f"organisations; organisations merging two identifiers: {self.merged_identifiers} "
            f"(merge precision {precision:.0%})"
        )


def measure(engine: Engine) -> ResolutionMeasure:
    """How the resolution went over everything resolved: merges that joined two identifiers (never), variants."""
    with engine.connect() as connection:
        organisations = connection.execute(sa.select(sa.func.count()).select_from(organisation_table)).scalar_one()
        identified = connection.execute(
            sa.select(sa.func.count()).where(organisation_table.c.identifier.is_not(None))
        ).scalar_one()
        winners = connection.execute(sa.select(sa.func.count()).select_from(winner_table)).scalar_one()
        merged = connection.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(winner_table.c.organisation_id)
                .where(winner_table.c.canonical_identifier.is_not(None))
                .group_by(winner_table.c.organisation_id)
                .having(sa.func.count(sa.distinct(winner_table.c.canonical_identifier)) > 1)
                .subquery()
            )
        ).scalar_one()
        names = (
            sa.select(winner_table.c.organisation_id, sa.func.count(sa.distinct(winner_table.c.name)).label("n"))
            .group_by(winner_table.c.organisation_id)
            .subquery()
        )
        with_variants, variants = connection.execute(
            sa.select(
                sa.func.count().filter(names.c.n > 1), sa.func.coalesce(sa.func.sum(names.c.n - 1), 0)
            ).select_from(names)
        ).one()
    return ResolutionMeasure(organisations, winners, identified, merged, with_variants, int(variants))


def median(values: Sequence[float]) -> float | None:
    """
    >>> median([3, 1, 2]), median([]), median([1, 2])
    (2, None, 1.5)
    """
    return statistics.median(values) if values else None


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

"""What the awards say, as the portal and the JSON API show it (issue 14, item 3): queries over the tables of
`watch.organisations`, each answering one public model that the page and its JSON twin both render.

- `tender_award_history`: on a tender, the buyer's earlier awards in the same CPV groups (the likely incumbent),
  how many tenders such contracts drew, the awarded values. Public data only: who won, never who flagged
  interest (nothing here reads the consortium), so the same answer is given to every reader.
- `firm_awards`: what an organisation won, with whom, against how many tenders (staff for any organisation,
  a member for its own: `member_firm_awards`).
- `cobidding_network`: the cluster's members and the contracts they won together (staff).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from itertools import combinations
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Connection, Engine

from crawlers.store.service import notice_table

from .organisations import (
    award_table,
    chunks,
    cpv_group,
    link_table,
    median,
    member_table,
    name_variants,
    organisation_key,
    organisation_table,
    winner_table,
)


class PublicModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Spread(PublicModel):
    """Median and range of the values known (`known` of them)."""

    known: int
    median: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, values: Iterable[float | int | None]) -> Spread:
        found = [float(value) for value in values if value is not None]
        if not found:
            return cls(known=0, median=None, low=None, high=None)
        return cls(known=len(found), median=median(found), low=min(found), high=max(found))


class WinnerInfo(PublicModel):
    organisation_id: int
    name: str
    """As the award wrote it."""
    country: str | None


class AwardInfo(PublicModel):
    source: str
    source_id: str
    title: str | None
    awarded_on: date | None
    buyer: str
    lot_ids: list[str]
    cpv: str | None
    value: float | None
    currency: str | None
    tenders_received: int | None
    winners: list[WinnerInfo]


class Incumbent(PublicModel):
    organisation_id: int
    name: str
    wins: int
    last: date | None


class TenderAwardHistory(PublicModel):
    """The buyer's earlier awards in the tender's CPV groups (other procedures), newest first."""

    source: str
    source_id: str
    buyer: str
    cpv_groups: list[str]
    total: int
    """Awards found; `awards` holds the newest of them."""
    tenders_received: Spread
    values: Spread
    currency: str | None
    """The currency of `values` (the most frequent among the awards)."""
    incumbents: list[Incumbent]
    """The firms that won most of these awards, most first."""
    awards: list[AwardInfo]


class CoWinner(PublicModel):
    organisation_id: int
    name: str
    together: int


class FirmAwards(PublicModel):
    """An organisation's awards, with its co-winners; `variants` and `joined_by` are the resolution's evidence."""

    organisation_id: int
    name: str
    country: str | None
    identifier: str | None
    variants: list[str]
    joined_by: dict[str, int]
    wins: int
    alone: int
    in_group: int
    tenders_received: Spread
    values: Spread
    currency: str | None
    co_winners: list[CoWinner]
    awards: list[AwardInfo]


class NetworkNode(PublicModel):
    member_id: int
    name: str
    wins: int


class NetworkEdge(PublicModel):
    source: int
    target: int
    """Member ids; `source` < `target`."""
    together: int
    """Contracts the two won together."""


class CoBiddingNetwork(PublicModel):
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]


def _awards(connection: Connection, award_ids: Sequence[int]) -> list[AwardInfo]:
    """The awards of `award_ids` in that order, with their winners."""
    if not award_ids:
        return []
    winners: dict[int, list[WinnerInfo]] = defaultdict(list)
    rows: dict[int, Any] = {}
    for chunk in chunks(award_ids):
        for row in connection.execute(
            sa.select(winner_table.c.award_id, winner_table.c.organisation_id, winner_table.c.name)
            .add_columns(winner_table.c.country)
            .where(winner_table.c.award_id.in_(chunk))
            .order_by(winner_table.c.award_id, winner_table.c.position)
        ):
            winners[row.award_id].append(
                WinnerInfo(organisation_id=row.organisation_id, name=row.name, country=row.country)
            )
        for row in connection.execute(
            sa.select(award_table, notice_table.c.source, notice_table.c.source_id)
            .join(notice_table, notice_table.c.id == award_table.c.notice_id)
            .where(award_table.c.id.in_(chunk))
        ):
            rows[row.id] = row
    return [
        AwardInfo(
            source=rows[ident].source,
            source_id=rows[ident].source_id,
            title=rows[ident].title,
            awarded_on=rows[ident].awarded_on,
            buyer=rows[ident].buyer_name,
            lot_ids=list(rows[ident].lot_ids or []),
            cpv=rows[ident].cpv,
            value=rows[ident].value,
            currency=rows[ident].currency,
            tenders_received=rows[ident].tenders_received,
            winners=winners.get(ident, []),
        )
        for ident in award_ids
        if ident in rows
    ]


def _values(rows: Sequence[Any]) -> tuple[Spread, str | None]:
    currencies = Counter(row.currency for row in rows if row.value is not None and row.currency)
    currency = currencies.most_common(1)[0][0] if currencies else None
    return Spread.of(row.value for row in rows if row.currency == currency), currency


def notice_cpv_groups(data: dict[str, Any]) -> list[str]:
    """The CPV groups of a notice (main, additional, lots'), in document order.

    >>> notice_cpv_groups({"cpv_main": "72212000", "cpv_additional": ["72260000", "48000000"], "lots": []})
    ['72200000', '48000000']
    """
    codes = [data.get("cpv_main"), *(data.get("cpv_additional") or [])]
    for lot in data.get("lots") or []:
        codes += [lot.get("cpv_main"), *(lot.get("cpv_additional") or [])]
    return list(dict.fromkeys(group for code in codes if (group := cpv_group(code))))


def tender_award_history(engine: Engine, *, source: str, source_id: str, limit: int = 10) -> TenderAwardHistory | None:
    """The buyer's earlier awards in the tender's CPV groups, from other procedures; None without the notice."""
    with engine.connect() as connection:
        notice = connection.execute(
            sa.select(notice_table.c.id, notice_table.c.procedure_id, notice_table.c.data).where(
                notice_table.c.source == source, notice_table.c.source_id == source_id
            )
        ).first()
        if notice is None:
            return None
        data = notice.data
        buyer = data.get("buyer") or {}
        groups = notice_cpv_groups(data)
        query = (
            sa.select(award_table.c.id, award_table.c.value, award_table.c.currency, award_table.c.tenders_received)
            .join(notice_table, notice_table.c.id == award_table.c.notice_id)
            .where(
                award_table.c.buyer_key == organisation_key(buyer.get("name") or ""),
                award_table.c.cpv_group.in_(groups),
                notice_table.c.id != notice.id,
            )
            .order_by(award_table.c.awarded_on.desc().nulls_last(), award_table.c.id.desc())
        )
        if buyer.get("country"):
            query = query.where(
                sa.or_(award_table.c.buyer_country == buyer["country"], award_table.c.buyer_country.is_(None))
            )
        if notice.procedure_id is not None:
            query = query.where(
                sa.or_(notice_table.c.procedure_id.is_(None), notice_table.c.procedure_id != notice.procedure_id)
            )
        rows = list(connection.execute(query)) if groups else []
        values, currency = _values(rows)
        ids = [row.id for row in rows]
        incumbents: list[Incumbent] = []
        if ids:
            wins: Counter[int] = Counter()
            last: dict[int, date | None] = {}
            for chunk in chunks(ids):
                for row in connection.execute(
                    sa.select(winner_table.c.organisation_id, award_table.c.awarded_on)
                    .join(award_table, award_table.c.id == winner_table.c.award_id)
                    .where(winner_table.c.award_id.in_(chunk))
                    .distinct()
                ):
                    wins[row.organisation_id] += 1
                    if row.awarded_on and (last.get(row.organisation_id) or date.min) < row.awarded_on:
                        last[row.organisation_id] = row.awarded_on
            top = [ident for ident, _ in sorted(wins.items(), key=lambda item: (-item[1], item[0]))[:3]]
            names = dict(
                connection.execute(
                    sa.select(organisation_table.c.id, organisation_table.c.name).where(
                        organisation_table.c.id.in_(top)
                    )
                ).all()
            )
            incumbents = [Incumbent(organisation_id=i, name=names[i], wins=wins[i], last=last.get(i)) for i in top]
        awards = _awards(connection, ids[:limit])
    return TenderAwardHistory(
        source=source,
        source_id=source_id,
        buyer=buyer.get("name") or "",
        cpv_groups=groups,
        total=len(rows),
        tenders_received=Spread.of(row.tenders_received for row in rows),
        values=values,
        currency=currency,
        incumbents=incumbents,
        awards=awards,
    )


def firm_awards(engine: Engine, *, organisation_id: int, limit: int = 100) -> FirmAwards | None:
    """What an organisation won, newest first, with whom and against how many tenders; None when unknown."""
    with engine.connect() as connection:
        organisation = connection.execute(
            sa.select(organisation_table).where(organisation_table.c.id == organisation_id)
        ).first()
        if organisation is None:
            return None
        rows = list(
            connection.execute(
                sa.select(award_table.c.id, award_table.c.value, award_table.c.currency, award_table.c.tenders_received)
                .where(
                    award_table.c.id.in_(
                        sa.select(winner_table.c.award_id).where(winner_table.c.organisation_id == organisation_id)
                    )
                )
                .order_by(award_table.c.awarded_on.desc().nulls_last(), award_table.c.id.desc())
            )
        )
        ids = [row.id for row in rows]
        together: Counter[int] = Counter()
        sizes: Counter[int] = Counter()
        other_names: dict[int, str] = {}
        for chunk in chunks(ids):
            for row in connection.execute(
                sa.select(winner_table.c.award_id, winner_table.c.organisation_id, organisation_table.c.name)
                .join(organisation_table, organisation_table.c.id == winner_table.c.organisation_id)
                .where(winner_table.c.award_id.in_(chunk))
                .distinct()
            ):
                sizes[row.award_id] += 1
                if row.organisation_id != organisation_id:
                    together[row.organisation_id] += 1
                    other_names[row.organisation_id] = row.name
        joined: dict[str, int] = dict(
            connection.execute(
                sa.select(winner_table.c.joined_by, sa.func.count())
                .where(winner_table.c.organisation_id == organisation_id)
                .group_by(winner_table.c.joined_by)
            ).all()
        )
        variants = name_variants(connection, [organisation_id]).get(organisation_id, [])
        awards = _awards(connection, ids[:limit])
    values, currency = _values(rows)
    alone = sum(1 for ident in ids if sizes[ident] <= 1)
    return FirmAwards(
        organisation_id=organisation_id,
        name=organisation.name,
        country=organisation.country,
        identifier=organisation.identifier,
        variants=variants,
        joined_by={str(key): int(value) for key, value in joined.items()},
        wins=len(ids),
        alone=alone,
        in_group=len(ids) - alone,
        tenders_received=Spread.of(row.tenders_received for row in rows),
        values=values,
        currency=currency,
        co_winners=[
            CoWinner(organisation_id=ident, name=other_names[ident], together=count)
            for ident, count in sorted(together.items(), key=lambda item: (-item[1], other_names[item[0]]))
        ],
        awards=awards,
    )


def member_firm_awards(engine: Engine, *, member_id: int) -> list[FirmAwards]:
    """The awards of the organisations a member is (links confirmed): what a member sees of itself."""
    with engine.connect() as connection:
        ids = (
            connection.execute(
                sa.select(link_table.c.organisation_id)
                .where(link_table.c.member_id == member_id, link_table.c.status == "confirmed")
                .order_by(link_table.c.organisation_id)
            )
            .scalars()
            .all()
        )
    return [found for ident in ids if (found := firm_awards(engine, organisation_id=ident)) is not None]


def member_owns(engine: Engine, *, member_id: int, organisation_id: int) -> bool:
    with engine.connect() as connection:
        return (
            connection.execute(
                sa.select(link_table.c.id).where(
                    link_table.c.member_id == member_id,
                    link_table.c.organisation_id == organisation_id,
                    link_table.c.status == "confirmed",
                )
            ).first()
            is not None
        )


def cobidding_network(engine: Engine) -> CoBiddingNetwork:
    """The active members linked to organisations (confirmed), their wins, and the contracts won together."""
    with engine.connect() as connection:
        links = list(
            connection.execute(
                sa.select(link_table.c.member_id, link_table.c.organisation_id, member_table.c.name)
                .join(member_table, member_table.c.id == link_table.c.member_id)
                .where(link_table.c.status == "confirmed", member_table.c.active)
                .order_by(member_table.c.name_key)
            )
        )
        member_of = {row.organisation_id: row.member_id for row in links}
        awards_of: dict[int, set[int]] = defaultdict(set)
        for chunk in chunks(list(member_of)):
            for row in connection.execute(
                sa.select(winner_table.c.award_id, winner_table.c.organisation_id).where(
                    winner_table.c.organisation_id.in_(chunk)
                )
            ):
                awards_of[row.award_id].add(member_of[row.organisation_id])
    names = {row.member_id: row.name for row in links}
    wins: Counter[int] = Counter()
    together: Counter[tuple[int, int]] = Counter()
    for members in awards_of.values():
        for member in members:
            wins[member] += 1
        for pair in combinations(sorted(members), 2):
            together[pair] += 1
    return CoBiddingNetwork(
        nodes=[NetworkNode(member_id=member, name=name, wins=wins[member]) for member, name in names.items()],
        edges=[
            NetworkEdge(source=a, target=b, together=count)
            for (a, b), count in sorted(together.items(), key=lambda item: (-item[1], item[0]))
        ],
    )


class OrganisationLine(PublicModel):
    organisation_id: int
    name: str
    country: str | None
    identifier: str | None
    wins: int
    members: list[str]
    """The member firms confirmed as this organisation."""


def list_organisations(engine: Engine, *, search: str = "", limit: int = 50) -> list[OrganisationLine]:
    """The organisations that won most (staff), those whose name holds `search` (folded as names are) only."""
    wins = sa.func.count(sa.distinct(winner_table.c.award_id)).label("wins")
    query = (
        sa.select(
            organisation_table.c.id,
            organisation_table.c.name,
            organisation_table.c.country,
            organisation_table.c.identifier,
            wins,
        )
        .join(winner_table, winner_table.c.organisation_id == organisation_table.c.id)
        .group_by(organisation_table.c.id)
        .order_by(wins.desc(), organisation_table.c.name_key, organisation_table.c.id)
        .limit(limit)
    )
    if key := organisation_key(search) if search.strip() else "":
        pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(organisation_table.c.name_key.like(pattern, escape="\\"))
    with engine.connect() as connection:
        rows = list(connection.execute(query))
        members: dict[int, list[str]] = defaultdict(list)
        for row in connection.execute(
            sa.select(link_table.c.organisation_id, member_table.c.name)
            .join(member_table, member_table.c.id == link_table.c.member_id)
            .where(link_table.c.status == "confirmed", link_table.c.organisation_id.in_([r.id for r in rows]))
            .order_by(member_table.c.name_key)
        ):
            members[row.organisation_id].append(row.name)
    return [
        OrganisationLine(
            organisation_id=row.id,
            name=row.name,
            country=row.country,
            identifier=row.identifier,
            wins=row.wins,
            members=members.get(row.id, []),
        )
        for row in rows
    ]


def organisation_members(engine: Engine, *, organisation_id: int) -> list[tuple[int, str, str]]:
    """The member firms linked to an organisation: (member id, name, link status), for staff."""
    with engine.connect() as connection:
        return [
            (row.member_id, row.name, row.status)
            for row in connection.execute(
                sa.select(link_table.c.member_id, member_table.c.name, link_table.c.status)
                .join(member_table, member_table.c.id == link_table.c.member_id)
                .where(link_table.c.organisation_id == organisation_id)
                .order_by(member_table.c.name_key)
            )
        ]

"""Partner suggestions from the award record (issue 14, item 3): for a tender, the firms that already won similar
contracts (the same CPV group), in the same region or elsewhere, alone or in a group, ranked with the reason
("won 3 contracts in 72200000 in BE3, one with Alpha Logiciels SRL").

Staff knowledge only: the firms of the cluster (members linked to their organisation, confirmed) apart from the
firms outside it. A member never gets this: next to the pseudonyms of a tender's interested firms, a named track
record would tell who they are (design §4), so the member's partner search (`search.partner_search`) is unchanged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.store.service import notice_table
from watch.awards import notice_cpv_groups
from watch.organisations import (
    award_table,
    chunks,
    link_table,
    member_table,
    organisation_table,
    winner_table,
)

from .tenders import load_tender
from .views import PublicModel, TenderInfo

LIMIT = 15


class Partner(PublicModel):
    name: str
    together: int


class TrackRecord(PublicModel):
    """A firm's wins in the tender's CPV groups (staff: by name)."""

    organisation_id: int
    name: str
    member_id: int | None
    """The member firm of the cluster it is; None outside the cluster."""
    member_name: str | None
    wins: int
    wins_in_region: int
    alone: int
    in_group: int
    cpv_group: str
    """The tender's CPV group it won most in."""
    region: str | None
    """The tender's region (NUTS level 1, or country) it won in, if any."""
    partners: list[Partner]
    """Its co-winners on these contracts, most frequent first."""
    last: date | None
    score: float
    reason: str
    """In English, for the command line and the API; the page says it in the reader's language from the fields."""


class AwardSuggestions(PublicModel):
    tender: TenderInfo
    cpv_groups: list[str]
    regions: list[str]
    cluster: list[TrackRecord]
    """Members of the cluster, best first."""
    outside: list[TrackRecord]
    """Firms outside the cluster, best first: staff knowledge, shown apart."""


def regions_of(nuts: list[str], country: str | None) -> set[str]:
    """Where a contract is, at NUTS level 1 (`BE3`), or its country when no place is given.

    >>> sorted(regions_of(["BE352", "BE3"], "BE")), sorted(regions_of([], "FR")), regions_of([], None)
    (['BE3'], ['FR'], set())
    """
    found = {code[:3] for code in nuts if len(code) >= 3}
    return found or ({country} if country else set())


def reason(record: TrackRecord) -> str:
    """
    >>> partner = Partner(name="Alpha Logiciels SRL", together=1)
    >>> reason(TrackRecord(organisation_id=1, name="École Numérique SA", member_id=None, member_name=None, wins=3,
    ...     wins_in_region=3, alone=2, in_group=1, cpv_group="72200000", region="BE3", partners=[partner], last=None,
    ...     score=6, reason=""))
    'won 3 contracts in 72200000 in BE3, one with Alpha Logiciels SRL'
    """
    count = "1 contract" if record.wins == 1 else f"{record.wins} contracts"
    text = f"won {count} in {record.cpv_group}"
    if record.region:
        text += f" in {record.region}"
    if record.partners:
        together = ["one" if p.together == 1 else str(p.together) for p in record.partners[:2]]
        text += ", " + " and ".join(f"{n} with {p.name}" for n, p in zip(together, record.partners[:2], strict=True))
    return text


def award_suggestions(engine: Engine, *, tender: str | int, limit: int = LIMIT) -> AwardSuggestions:
    """The firms that won contracts in the tender's CPV groups, the cluster's apart, each ranked by its wins in the
    tender's region (twice) and elsewhere."""
    with engine.connect() as connection:
        found = load_tender(connection, tender)
        data = connection.execute(
            sa.select(notice_table.c.data).where(notice_table.c.id == found.notice_id)
        ).scalar_one()
        groups = notice_cpv_groups(data)
        places = [code for lot in found.lots for code in lot.nuts] + list(data.get("nuts") or [])
        wanted = regions_of(places, (data.get("buyer") or {}).get("country"))
        same = (
            notice_table.c.procedure_id == int(found.key[1:])
            if found.key.startswith("p")
            else notice_table.c.id == found.notice_id
        )
        procedure = connection.execute(sa.select(notice_table.c.id).where(same)).scalars().all()
        awards = (
            list(
                connection.execute(
                    sa.select(
                        award_table.c.id,
                        award_table.c.cpv_group,
                        award_table.c.nuts,
                        award_table.c.buyer_country,
                        award_table.c.awarded_on,
                    ).where(award_table.c.cpv_group.in_(groups), award_table.c.notice_id.not_in(procedure))
                )
            )
            if groups
            else []
        )
        winners: dict[int, list[int]] = defaultdict(list)
        names: dict[int, str] = {}
        for chunk in chunks([award.id for award in awards]):
            for row in connection.execute(
                sa.select(winner_table.c.award_id, winner_table.c.organisation_id, organisation_table.c.name)
                .join(organisation_table, organisation_table.c.id == winner_table.c.organisation_id)
                .where(winner_table.c.award_id.in_(chunk))
                .order_by(winner_table.c.award_id, winner_table.c.position)
            ):
                if row.organisation_id not in winners[row.award_id]:
                    winners[row.award_id].append(row.organisation_id)
                names[row.organisation_id] = row.name
        members = {
            row.organisation_id: (row.member_id, row.name)
            for row in connection.execute(
                sa.select(link_table.c.organisation_id, link_table.c.member_id, member_table.c.name)
                .join(member_table, member_table.c.id == link_table.c.member_id)
                .where(link_table.c.status == "confirmed", member_table.c.active)
                .order_by(link_table.c.member_id)
            )
        }
    wins: Counter[int] = Counter()
    in_region: Counter[int] = Counter()
    alone: Counter[int] = Counter()
    by_group: dict[int, Counter[str]] = defaultdict(Counter)
    region_of: dict[int, Counter[str]] = defaultdict(Counter)
    partners: dict[int, Counter[int]] = defaultdict(Counter)
    last: dict[int, date] = {}
    for award in awards:
        firms = winners.get(award.id, [])
        where = regions_of(list(award.nuts or []), award.buyer_country) & wanted
        for firm in firms:
            wins[firm] += 1
            by_group[firm][award.cpv_group] += 1
            if where:
                in_region[firm] += 1
                region_of[firm][sorted(where)[0]] += 1
            if len(firms) == 1:
                alone[firm] += 1
            for other in firms:
                if other != firm:
                    partners[firm][other] += 1
            if award.awarded_on and (firm not in last or last[firm] < award.awarded_on):
                last[firm] = award.awarded_on
    records = []
    for firm, count in wins.items():
        member = members.get(firm)
        record = TrackRecord(
            organisation_id=firm,
            name=names[firm],
            member_id=member[0] if member else None,
            member_name=member[1] if member else None,
            wins=count,
            wins_in_region=in_region[firm],
            alone=alone[firm],
            in_group=count - alone[firm],
            cpv_group=by_group[firm].most_common(1)[0][0],
            region=region_of[firm].most_common(1)[0][0] if region_of[firm] else None,
            partners=[
                Partner(name=names[other], together=n)
                for other, n in sorted(partners[firm].items(), key=lambda item: (-item[1], names[item[0]]))
            ],
            last=last.get(firm),
            score=2.0 * in_region[firm] + (count - in_region[firm]),
            reason="",
        )
        records.append(record.model_copy(update={"reason": reason(record)}))
    records.sort(key=lambda r: (-r.score, -(r.last or date.min).toordinal(), r.name))
    return AwardSuggestions(
        tender=TenderInfo.of(found),
        cpv_groups=groups,
        regions=sorted(wanted),
        cluster=[r for r in records if r.member_id is not None][:limit],
        outside=[r for r in records if r.member_id is None][:limit],
    )

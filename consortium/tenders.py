"""A tender as the consortium sees it: one procedure (or one unlinked notice), its lots and what they need.

A member names a tender by a publication's `source_id`, or `SOURCE:SOURCE_ID` when the same id exists at
two sources. The publications of one procedure (a BOAMP notice and its TED twin) are one tender; its lots
are those of its main publication, and lot ids are compared loosely (`LOT-0002` is lot `2`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crawlers.store.service import lot_table, notice_table

from .competences import Need, word_pairs
from .errors import ConsortiumError

_LOT_NUMBER = re.compile(r"(?i)(?:lot|los|perceel|lote)?[\s_#:.°n-]*0*(\d+)")
_TYPE_RANK = {"contract-notice": 0, "prior-information": 1, "change": 2, "award": 3, "other": 4}


def lot_key(lot_id: str) -> str:
    """A lot id in a form shared by the sources that publish the same lot under different ids.

    >>> lot_key("LOT-0002"), lot_key("2"), lot_key("Lot n° 2"), lot_key("Perceel 12"), lot_key(" A-1 ")
    ('2', '2', '2', '12', 'a-1')
    """
    text = " ".join(lot_id.split())
    match = _LOT_NUMBER.fullmatch(text)
    return match.group(1) if match else text.casefold()


@dataclass(frozen=True)
class Lot:
    id: str
    """As the tender's main publication writes it."""
    key: str
    title: str | None
    cpv: tuple[str, ...]
    nuts: tuple[str, ...]
    need: Need


@dataclass(frozen=True)
class Tender:
    key: str
    """`p<procedure id>`, or `n<notice id>` for a notice not linked to a procedure."""
    keys: tuple[str, ...]
    """Every key its rows may have been recorded under (a notice linked after an interest was recorded)."""
    notice_id: int
    """The main publication: a contract notice if there is one, the one with the most lots, the latest."""
    source: str
    source_id: str
    publications: tuple[str, ...]
    """`source:source_id` of every publication of the tender."""
    notice_type: str
    title: str
    buyer: str
    deadline: str | None
    url: str | None
    lots: tuple[Lot, ...]

    def lot(self, key: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.key == key), None)

    def lot_keys(self, lot_ids: list[str]) -> list[str]:
        """The keys of lots a member named, in the tender's order; an unknown lot is an error."""
        keys = {lot_key(lot_id) for lot_id in lot_ids}
        unknown = sorted(k for k in keys if self.lot(k) is None)
        if unknown:
            known = ", ".join(lot.id for lot in self.lots)
            raise ConsortiumError(f"no lot {', '.join(unknown)} in {self.reference}: its lots are {known}")
        return [lot.key for lot in self.lots if lot.key in keys]

    def lot_id(self, key: str) -> str:
        """How the main publication names the lot of this key (the key itself for a lot it no longer has)."""
        lot = self.lot(key)
        return lot.id if lot else key

    @property
    def reference(self) -> str:
        return f"{self.source}:{self.source_id}"


def _candidates(reference: str) -> list[tuple[str, str]]:
    """The (source, source_id) pairs a `SOURCE:SOURCE_ID` reference can mean (sources may hold a colon)."""
    return [(reference[:i], reference[i + 1 :]) for i, char in enumerate(reference) if char == ":"]


def find_notice(connection: Connection, reference: str | int) -> int:
    """The id of the notice a member names: a notice id, a `source_id`, or `SOURCE:SOURCE_ID`."""
    if isinstance(reference, int):
        found = connection.execute(sa.select(notice_table.c.id).where(notice_table.c.id == reference)).first()
        if found is None:
            raise ConsortiumError(f"no notice {reference}")
        return int(found.id)
    reference = reference.strip()
    pairs = _candidates(reference)
    if pairs:
        qualified = (
            connection.execute(
                sa.select(notice_table.c.id).where(
                    sa.or_(*(sa.and_(notice_table.c.source == s, notice_table.c.source_id == i) for s, i in pairs))
                )
            )
            .scalars()
            .all()
        )
        if len(qualified) == 1:
            return int(qualified[0])
    rows = connection.execute(
        sa.select(notice_table.c.id, notice_table.c.source).where(notice_table.c.source_id == reference)
    ).all()
    if not rows:
        raise ConsortiumError(f"no notice {reference!r} (give its source_id, or SOURCE:SOURCE_ID)")
    if len(rows) > 1:
        choices = ", ".join(sorted(f"{row.source}:{reference}" for row in rows))
        raise ConsortiumError(f"{reference!r} is at several sources: say which ({choices})")
    return int(rows[0].id)


def load_tender(connection: Connection, reference: str | int) -> Tender:
    """The tender of a notice reference (see `find_notice`), with all its publications and lots."""
    notice_id = find_notice(connection, reference)
    columns = (
        notice_table.c.id,
        notice_table.c.source,
        notice_table.c.source_id,
        notice_table.c.notice_type,
        notice_table.c.published,
        notice_table.c.procedure_id,
        notice_table.c.data,
    )
    row = connection.execute(sa.select(*columns).where(notice_table.c.id == notice_id)).one()
    if row.procedure_id is None:
        publications = [row]
        key = f"n{row.id}"
        keys: tuple[str, ...] = (key,)
    else:
        publications = list(
            connection.execute(sa.select(*columns).where(notice_table.c.procedure_id == row.procedure_id)).all()
        )
        key = f"p{row.procedure_id}"
        keys = (key, *(f"n{p.id}" for p in sorted(publications, key=lambda p: p.id)))
    main = min(
        publications,
        key=lambda p: (
            _TYPE_RANK.get(p.notice_type, 9),
            -len(p.data.get("lots") or []),
            -p.published.toordinal(),
            p.id,
        ),
    )
    lots = (
        connection.execute(sa.select(lot_table).where(lot_table.c.notice_id == main.id).order_by(lot_table.c.position))
        .mappings()
        .all()
    )
    return Tender(
        key=key,
        keys=keys,
        notice_id=int(main.id),
        source=main.source,
        source_id=main.source_id,
        publications=tuple(f"{p.source}:{p.source_id}" for p in sorted(publications, key=lambda p: p.id)),
        notice_type=main.notice_type,
        title=main.data["title"],
        buyer=main.data["buyer"]["name"],
        deadline=main.data.get("deadline"),
        url=main.data.get("url"),
        lots=tuple(_lots(main.data, lots)),
    )


def _lots(data: dict[str, Any], rows: Sequence[Any]) -> list[Lot]:
    """The lots of a notice with what each needs; a lot without codes or title borrows the notice's."""
    single = len(rows) == 1
    notice_codes = tuple(c for c in [data.get("cpv_main"), *data.get("cpv_additional", [])] if c)
    notice_places = tuple(data.get("nuts") or []) or (
        (data["buyer"]["country"],) if data["buyer"].get("country") else ()
    )
    lots = []
    seen: set[str] = set()
    for row in rows:
        key = lot_key(row["lot_id"])
        if key in seen:  # two ids of one notice that read as the same lot: keep the first
            continue
        seen.add(key)
        codes = tuple(dict.fromkeys(c for c in [row["cpv_main"], *row["cpv_additional"]] if c))
        if not codes and single:
            codes = notice_codes
        pairs = word_pairs(row["title"])
        if single or not pairs:
            pairs = pairs + word_pairs(data["title"])
        text, written = tuple(s for _, s in pairs), tuple(w for w, _ in pairs)
        places = tuple(row["nuts"]) or notice_places
        lots.append(Lot(row["lot_id"], key, row["title"], codes, places, Need(key, codes, text, written, places)))
    return lots

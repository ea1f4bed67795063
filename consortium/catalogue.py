"""The member competence catalogue: what each firm does, for partner search and for the staff.

A firm's competences are those of the members file (`member.competences`: cpv, keywords, regions) and
those added here (more codes, keywords and regions; certifications, size band, references). Only codes, keywords
and regions take part in the search; certifications, size and references are shown to staff only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.parsers.fields import cpv_code
from crawlers.store.models import utcnow
from watch.models import Member, User

from .competences import Competences
from .errors import ConsortiumError
from .models import catalogue_table
from .views import CatalogueView

SizeBand = Literal["micro", "small", "medium", "large"]
SIZE_BANDS: tuple[str, ...] = get_args(SizeBand)
MAX_ITEMS = 200

member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
user_table: sa.Table = User.__table__  # type: ignore[attr-defined]


def _strings(value: Any) -> list[str]:
    """A list of non-blank strings from a JSON value that may be a list, a string or nothing."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
    return [" ".join(str(item).split()) for item in items if str(item).strip()]


def _bounded(name: str, values: Sequence[str], length: int = 300) -> list[str]:
    cleaned = list(dict.fromkeys(" ".join(v.split()) for v in values if v.strip()))
    if len(cleaned) > MAX_ITEMS:
        raise ConsortiumError(f"{name}: at most {MAX_ITEMS} entries, got {len(cleaned)}")
    too_long = [v for v in cleaned if len(v) > length]
    if too_long:
        raise ConsortiumError(f"{name}: entries are at most {length} characters, {too_long[0][:40]!r}... is longer")
    return cleaned


def set_catalogue(
    engine: Engine,
    *,
    member_id: int,
    cpv: Sequence[str] | None = None,
    keywords: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    certifications: Sequence[str] | None = None,
    size_band: str | None = None,
    references: Sequence[str] | None = None,
) -> CatalogueView:
    """Set the catalogue fields given (None leaves a field as it is) for one member."""
    values: dict[str, Any] = {}
    if cpv is not None:
        codes = [cpv_code(c) for c in cpv]
        if None in codes:
            bad = next(c for c, code in zip(cpv, codes, strict=True) if code is None)
            raise ConsortiumError(f"cpv: {bad!r} is not a CPV code (8 digits, check digit allowed)")
        values["cpv"] = _bounded("cpv", [c for c in codes if c])
    if keywords is not None:
        values["keywords"] = _bounded("keywords", keywords, 100)
    if regions is not None:
        values["regions"] = _bounded("regions", [r.upper() for r in regions], 5)
    if certifications is not None:
        values["certifications"] = _bounded("certifications", certifications)
    if size_band is not None:
        if size_band not in SIZE_BANDS:
            raise ConsortiumError(f"size band must be one of {', '.join(SIZE_BANDS)}, got {size_band!r}")
        values["size_band"] = size_band
    if references is not None:
        values["references"] = _bounded("references", references)
    with engine.begin() as connection:
        _require_member(connection, member_id)
        exists = connection.execute(
            sa.select(catalogue_table.c.member_id).where(catalogue_table.c.member_id == member_id)
        ).first()
        values["updated_at"] = utcnow()
        if exists:
            connection.execute(
                catalogue_table.update().where(catalogue_table.c.member_id == member_id).values(**values)
            )
        else:
            connection.execute(catalogue_table.insert().values(member_id=member_id, **values))
    return catalogue_of(engine, member_id=member_id)


def _require_member(connection: Connection, member_id: int) -> None:
    if connection.execute(sa.select(member_table.c.id).where(member_table.c.id == member_id)).first() is None:
        raise ConsortiumError(f"no member {member_id}")


def catalogue_of(engine: Engine, *, member_id: int) -> CatalogueView:
    """A firm's whole catalogue, members file and additions merged (staff view: it names the firm)."""
    with engine.connect() as connection:
        found = catalogues(connection, [member_id])
    if member_id not in found:
        raise ConsortiumError(f"no member {member_id}")
    return found[member_id]


def catalogues(connection: Connection, member_ids: Iterable[int]) -> dict[int, CatalogueView]:
    """The catalogues of the given firms, by member id (staff views)."""
    wanted = sorted(set(member_ids))
    if not wanted:
        return {}
    rows = connection.execute(
        sa.select(member_table.c.id, member_table.c.name, member_table.c.competences, catalogue_table)
        .select_from(member_table.outerjoin(catalogue_table, catalogue_table.c.member_id == member_table.c.id))
        .where(member_table.c.id.in_(wanted))
    ).mappings()
    result = {}
    for row in rows:
        own = row["competences"] or {}
        result[row["id"]] = CatalogueView(
            member_id=row["id"],
            name=row["name"],
            cpv=list(dict.fromkeys(_strings(own.get("cpv")) + list(row["cpv"] or []))),
            keywords=list(dict.fromkeys(_strings(own.get("keywords")) + list(row["keywords"] or []))),
            regions=list(dict.fromkeys(_strings(own.get("regions")) + list(row["regions"] or []))),
            certifications=list(row["certifications"] or []),
            size_band=row["size_band"],
            references=list(row["references"] or []),
        )
    return result


@dataclass(frozen=True)
class FirmSummary:
    """What staff see of a firm proposed by a search, beside its name."""

    name: str
    certifications: list[str]
    size_band: str | None


def firm_summaries(connection: Connection, member_ids: Iterable[int]) -> dict[int, FirmSummary]:
    """Name, certifications and size of the given firms, by member id (staff views)."""
    wanted = sorted(set(member_ids))
    if not wanted:
        return {}
    rows = connection.execute(
        sa.select(member_table.c.id, member_table.c.name, catalogue_table.c.certifications, catalogue_table.c.size_band)
        .select_from(member_table.outerjoin(catalogue_table, catalogue_table.c.member_id == member_table.c.id))
        .where(member_table.c.id.in_(wanted))
    )
    return {row.id: FirmSummary(row.name, list(row.certifications or []), row.size_band) for row in rows}


def load_competences(connection: Connection, member_ids: Iterable[int] | None = None) -> dict[int, Competences]:
    """The searchable competences of the active members (or of those of `member_ids`), by member id.

    Reads no names: what it returns cannot identify a firm beyond what it does.
    """
    query = (
        sa.select(
            member_table.c.id,
            member_table.c.competences,
            catalogue_table.c.cpv,
            catalogue_table.c.keywords,
            catalogue_table.c.regions,
        )
        .select_from(member_table.outerjoin(catalogue_table, catalogue_table.c.member_id == member_table.c.id))
        .where(member_table.c.active.is_(True))
    )
    if member_ids is not None:
        query = query.where(member_table.c.id.in_(list(member_ids)))
    result = {}
    for row in connection.execute(query):
        own = row.competences or {}
        result[row.id] = Competences.of(
            cpv=_strings(own.get("cpv")) + (row.cpv or []),
            keywords=_strings(own.get("keywords")) + (row.keywords or []),
            regions=_strings(own.get("regions")) + (row.regions or []),
        )
    return result

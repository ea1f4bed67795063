"""Pseudonyms: the name a firm goes by on one tender, like `Firme Ambre-7`.

A name is a random draw, stored when first given, and the table is the only link between a name and a
firm: nothing computed from member ids, tender keys or the secret key can find a firm behind its name,
even for someone who knows all of them. Within a tender two firms never share a name, and a firm never
gets on one tender the name it has on another.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from crawlers.store.models import utcnow

from .errors import ConsortiumError
from .models import pseudonym_table
from .tenders import Tender

WORDS = (
    "Acacia",
    "Agate",
    "Ambre",
    "Argent",
    "Azur",
    "Basalte",
    "Bouleau",
    "Bronze",
    "Cannelle",
    "Cèdre",
    "Chêne",
    "Cobalt",
    "Corail",
    "Cristal",
    "Cuivre",
    "Cyprès",
    "Dune",
    "Ébène",
    "Érable",
    "Étain",
    "Falaise",
    "Fougère",
    "Frêne",
    "Garance",
    "Genêt",
    "Givre",
    "Granit",
    "Grenat",
    "Houx",
    "Indigo",
    "Iris",
    "Jade",
    "Jaspe",
    "Lagune",
    "Lavande",
    "Lierre",
    "Lilas",
    "Lin",
    "Lotus",
    "Marbre",
    "Mélèze",
    "Menthe",
    "Mica",
    "Nacre",
    "Noyer",
    "Ocre",
    "Olivier",
    "Onyx",
    "Opale",
    "Orme",
    "Pastel",
    "Perle",
    "Peuplier",
    "Pin",
    "Platane",
    "Quartz",
    "Roseau",
    "Rubis",
    "Safran",
    "Saule",
    "Sauge",
    "Silex",
    "Tilleul",
    "Topaze",
)
NUMBERS = 999
PATTERN = r"Firme [A-ZÉ][a-zéèêô]+-[1-9][0-9]{0,2}"
_MAX_ATTEMPTS = 1000


def draw() -> str:
    """A name at random among the 63,936 (`secrets`, so past draws do not tell the next)."""
    number = secrets.randbelow(len(WORDS) * NUMBERS)
    return f"Firme {WORDS[number % len(WORDS)]}-{number // len(WORDS) + 1}"


def pseudonyms(connection: Connection, tender: Tender, member_ids: Iterable[int] | None = None) -> dict[int, str]:
    """The names the firms have on the tender (all of them, or those of `member_ids`), by member id."""
    query = sa.select(pseudonym_table.c.member_id, pseudonym_table.c.pseudonym).where(
        pseudonym_table.c.tender_key.in_(tender.keys)
    )
    if member_ids is not None:
        query = query.where(pseudonym_table.c.member_id.in_(list(member_ids)))
    # Under several keys (a notice linked to a procedure later), the first name given is kept.
    rows = connection.execute(query.order_by(pseudonym_table.c.created_at.desc(), pseudonym_table.c.id.desc()))
    return {row.member_id: row.pseudonym for row in rows}


def _insert(connection: Connection) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(pseudonym_table)


def pseudonym_for(connection: Connection, tender: Tender, member_id: int) -> str:
    """The member's name on the tender, drawn now if it has none yet.

    A name that another transaction took meanwhile (or gave this member meanwhile) is not an error: the
    insert yields to it, and the member's name is read again, or another drawn.
    """
    known = pseudonyms(connection, tender, [member_id])
    if member_id in known:
        return known[member_id]
    taken = set(
        connection.execute(
            sa.select(pseudonym_table.c.pseudonym).where(
                sa.or_(pseudonym_table.c.tender_key.in_(tender.keys), pseudonym_table.c.member_id == member_id)
            )
        ).scalars()
    )
    for _ in range(_MAX_ATTEMPTS):
        name = draw()
        if name in taken:
            continue
        inserted = connection.execute(
            _insert(connection)
            .values(tender_key=tender.key, member_id=member_id, pseudonym=name, created_at=utcnow())
            .on_conflict_do_nothing()
            .returning(pseudonym_table.c.id)
        )
        if inserted.first() is not None:
            return name
        known = pseudonyms(connection, tender, [member_id])
        if member_id in known:
            return known[member_id]
        taken.add(name)
    raise ConsortiumError(f"no free pseudonym left on {tender.reference}")


def member_of(connection: Connection, tender: Tender, pseudonym: str) -> int | None:
    """The member behind a name on the tender, or None: callers say "unknown pseudonym" either way."""
    wanted = " ".join(pseudonym.split())
    if not wanted.casefold().startswith("firme "):
        wanted = f"Firme {wanted}"
    by_name = {name.casefold(): member for member, name in pseudonyms(connection, tender).items()}
    return by_name.get(wanted.casefold())

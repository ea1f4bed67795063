"""Pseudonyms: the name a firm goes by on one tender, like `Firme Ambre-7`.

Derived from an HMAC of the tender and the member under the service's secret key, so no one without the
key can compute a firm's name on a tender from its name on another. A name is stored when first given:
it stays the same within the tender even if the key changes. Within a tender two firms never share a
name, and a firm never gets on one tender the name it has on another.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from config.settings import get_settings
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


def candidate(tender_key: str, member_id: int, attempt: int) -> str:
    """The `attempt`-th name the member may take on the tender (the first that is free is given)."""
    key = get_settings().secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"{tender_key}:{member_id}:{attempt}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    return f"Firme {WORDS[number % len(WORDS)]}-{number // len(WORDS) % NUMBERS + 1}"


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


def pseudonym_for(connection: Connection, tender: Tender, member_id: int) -> str:
    """The member's name on the tender, given now if it has none yet."""
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
    for attempt in range(_MAX_ATTEMPTS):
        name = candidate(tender.key, member_id, attempt)
        if name not in taken:
            connection.execute(
                pseudonym_table.insert().values(
                    tender_key=tender.key, member_id=member_id, pseudonym=name, created_at=utcnow()
                )
            )
            return name
    raise ConsortiumError(f"no free pseudonym left on {tender.reference}")


def member_of(connection: Connection, tender: Tender, pseudonym: str) -> int | None:
    """The member behind a name on the tender, or None: callers say "unknown pseudonym" either way."""
    wanted = " ".join(pseudonym.split())
    if not wanted.casefold().startswith("firme "):
        wanted = f"Firme {wanted}"
    by_name = {name.casefold(): member for member, name in pseudonyms(connection, tender).items()}
    return by_name.get(wanted.casefold())

"""secrets and tokens: spent link tokens, latest decision wins; pseudonyms drawn at random

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

The pseudonyms given before were HMACs of the tender and the member id under PIB_SECRET_KEY, whose
development value was published (and production took any value): whoever knew it could map every name
back to its firm. Each is replaced by a random draw, under the same rules as new ones (unique within a
tender, under all its keys; never a name the firm has on another tender). The downgrade keeps the drawn
names: nothing should go back to names that can be computed.
"""

import secrets
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# consortium.pseudonyms.WORDS and NUMBERS as of this revision (a migration does not import the app).
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


def _draw() -> str:
    number = secrets.randbelow(len(WORDS) * NUMBERS)
    return f"Firme {WORDS[number % len(WORDS)]}-{number // len(WORDS) + 1}"


def _redraw_pseudonyms() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, tender_key, member_id, pseudonym FROM consortium_pseudonym")).all()
    if not rows:
        return
    # A notice linked to a procedure is one tender with it: its names are unique across both keys.
    procedure_of = {
        f"n{notice_id}": f"p{procedure_id}"
        for notice_id, procedure_id in connection.execute(
            sa.text("SELECT id, procedure_id FROM notice WHERE procedure_id IS NOT NULL")
        )
    }
    used: defaultdict[str, set[str]] = defaultdict(set)  # old names too, so no update meets a unique constraint
    of_member: defaultdict[int, set[str]] = defaultdict(set)
    for _id, key, member_id, name in rows:
        used[procedure_of.get(key, key)].add(name)
        of_member[member_id].add(name)
    for row_id, key, member_id, _name in rows:
        tender = procedure_of.get(key, key)
        name = _draw()
        while name in used[tender] or name in of_member[member_id]:
            name = _draw()
        used[tender].add(name)
        of_member[member_id].add(name)
        connection.execute(
            sa.text("UPDATE consortium_pseudonym SET pseudonym = :name WHERE id = :id"), {"name": name, "id": row_id}
        )


def upgrade() -> None:
    op.create_table(
        "notification_spent_link",
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["member_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("notification_spent_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_spent_link_expires"), ["expires"], unique=False)
    _redraw_pseudonyms()


def downgrade() -> None:
    with op.batch_alter_table("notification_spent_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_spent_link_expires"))
    op.drop_table("notification_spent_link")

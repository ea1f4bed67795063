"""store and members: folded name keys

`member.name_key`: members are found by a key folded in Python (SQLite's lower() folds ASCII only). Existing
members get theirs here; two existing names with one key (`ELECTRO WALLONIE`, `Électro Wallonie`) keep both
members, the later one with its id in its key, and a warning names them.

`parse_error.fingerprint`: a failure is recorded once even when two ingests meet it at once; repeated rows
already there are folded into the first.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEPARATORS = re.compile(r"[\W_]+")


def _name_key(name: str) -> str:
    """`watch.models.name_key` as of this revision (a migration keeps the rule it was written with)."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    letters = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(part for part in _SEPARATORS.split(letters) if part)


def _fingerprint(origin: str, record: str, reason: str, raw_document_id: int | None) -> str:
    """`crawlers.store.service.failure_fingerprint` as of this revision."""
    return hashlib.sha256(json.dumps([origin, record, reason, raw_document_id]).encode()).hexdigest()


def _fill_name_keys(connection: sa.Connection) -> None:
    member = sa.table("member", sa.column("id", sa.Integer), sa.column("name"), sa.column("name_key"))
    taken: dict[str, str] = {}
    keys = []
    for member_id, name in connection.execute(sa.select(member.c.id, member.c.name).order_by(member.c.id)).all():
        key = _name_key(name)
        if not key or key in taken:
            clash = f"compares like member {taken[key]!r}" if key else "has no letter or digit"
            logging.getLogger("alembic.runtime.migration").warning(
                "member %s %r: its name %s; it is found by its id until renamed", member_id, name, clash
            )
            key = f"{key} #{member_id}".strip()  # '#' is never in a folded name: no later clash
        taken[key] = name
        keys.append({"row_id": member_id, "key": key})
    if keys:
        update = member.update().where(member.c.id == sa.bindparam("row_id")).values(name_key=sa.bindparam("key"))
        connection.execute(update, keys)


def _fill_fingerprints(connection: sa.Connection) -> None:
    error = sa.table(
        "parse_error",
        sa.column("id", sa.Integer),
        sa.column("origin"),
        sa.column("record"),
        sa.column("reason"),
        sa.column("raw_document_id", sa.Integer),
        sa.column("fingerprint"),
    )
    fingerprints: dict[str, int] = {}
    repeated: list[int] = []
    query = sa.select(error.c.id, error.c.origin, error.c.record, error.c.reason, error.c.raw_document_id)
    for error_id, origin, record, reason, raw_id in connection.execute(query.order_by(error.c.id)).all():
        fingerprint = _fingerprint(origin, record, reason, raw_id)
        if fingerprint in fingerprints:
            repeated.append(error_id)
        else:
            fingerprints[fingerprint] = error_id
    for start in range(0, len(repeated), 900):
        connection.execute(error.delete().where(error.c.id.in_(repeated[start : start + 900])))
    if fingerprints:
        update = error.update().where(error.c.id == sa.bindparam("row_id")).values(fingerprint=sa.bindparam("print"))
        connection.execute(update, [{"row_id": row_id, "print": key} for key, row_id in fingerprints.items()])


def upgrade() -> None:
    connection = op.get_bind()
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    _fill_name_keys(connection)
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False)
        batch_op.create_index(batch_op.f("ix_member_name_key"), ["name_key"], unique=True)

    with op.batch_alter_table("parse_error", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    _fill_fingerprints(connection)
    with op.batch_alter_table("parse_error", schema=None) as batch_op:
        batch_op.alter_column("fingerprint", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_parse_error_fingerprint"), ["fingerprint"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("parse_error", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parse_error_fingerprint"))
        batch_op.drop_column("fingerprint")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_name_key"))
        batch_op.drop_column("name_key")

"""members' enterprise or VAT numbers (the members file's identifier field)

`member.identifier`: the firm's Belgian enterprise number, French SIREN or SIRET, or VAT number with its country
prefix, normalized by `crawlers.identifiers.normalize_identifier`; null until the members file gives it. Indexed:
award winners are linked to members by it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identifier", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_member_identifier"), ["identifier"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_identifier"))
        batch_op.drop_column("identifier")

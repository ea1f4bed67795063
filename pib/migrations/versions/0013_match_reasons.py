"""match reasons: structured, translated per user

The reasons of the matches stored so far were English sentences ("CPV 48900000 under your 48000000");
they become the structured reasons of watch/reasons.py, so a French or Dutch reader gets them in their
language. A sentence of no known form stays as it is (it is then shown as it is). Downgrade writes the
sentences back. Self-contained: the forms are those of watch/matching.py before this revision.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 1000

matches = sa.table(
    "watch_match",
    sa.column("id", sa.Integer()),
    sa.column("reasons", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")),
)

_LOTS = r"(?P<which>lots?) (?P<lots>.+)"
_FORMS: list[tuple[re.Pattern[str], Callable[[dict[str, str]], dict[str, Any]]]] = [
    (
        re.compile(r"CPV (?P<code>\d{8}) inferred from the text \(confidence (?P<c>[\d.]+)\) under your (?P<u>\d{8})"),
        lambda m: {"kind": "cpv", "code": m["code"], "under": m["u"], "confidence": float(m["c"])},
    ),
    (
        re.compile(rf"CPV (?P<code>\d{{8}}) under your (?P<u>\d{{8}})(?: \({_LOTS}\))?"),
        lambda m: {
            "kind": "cpv",
            "code": m["code"],
            "under": m["u"],
            **({"lots": m["lots"].split(", ")} if m["lots"] else {}),
        },
    ),
    (
        re.compile(r"keyword '(?P<k>.+)' in the title of lot (?P<lot>.+)"),
        lambda m: {"kind": "keyword", "keyword": m["k"], "field": "lot", "lot": m["lot"]},
    ),
    (
        re.compile(r"keyword '(?P<k>.+)' in the (?P<f>title|description)"),
        lambda m: {"kind": "keyword", "keyword": m["k"], "field": m["f"]},
    ),
    (
        re.compile(r"buyer in (?P<code>[A-Z0-9]+) \(no place of performance given\)"),
        lambda m: {"kind": "buyer-place", "code": m["code"]},
    ),
    (
        re.compile(rf"{_LOTS} in (?P<code>[A-Z0-9]+)"),
        lambda m: {"kind": "place", "code": m["code"], "lots": m["lots"].split(", ")},
    ),
    (re.compile(r"in (?P<code>[A-Z0-9]+)"), lambda m: {"kind": "place", "code": m["code"]}),
    (
        re.compile(r"estimated value (?P<v>-?[\d,]+)(?: (?P<cur>[A-Z]{3}))? in your range"),
        lambda m: {"kind": "value", "amount": float(m["v"].replace(",", "")), "currency": m["cur"]},
    ),
]


def structured(reason: Any) -> Any:
    """An English sentence of watch/matching.py → its structured reason; anything else unchanged."""
    if not isinstance(reason, str):
        return reason
    for pattern, build in _FORMS:
        found = pattern.fullmatch(reason)
        if found:
            return build(found.groupdict())
    return reason


def sentence(reason: Any) -> Any:
    """A structured reason → the English sentence of watch/matching.py before this revision."""
    if not isinstance(reason, dict):
        return reason
    kind = reason.get("kind")
    lots = reason.get("lots") or []
    which = f"{'lot' if len(lots) == 1 else 'lots'} {', '.join(lots)}"
    if kind == "cpv":
        if reason.get("confidence") is not None:
            confidence = f"{reason['confidence']:.2f}"
            return f"CPV {reason['code']} inferred from the text (confidence {confidence}) under your {reason['under']}"
        return f"CPV {reason['code']} under your {reason['under']}" + (f" ({which})" if lots else "")
    if kind == "keyword":
        where = f"the title of lot {reason.get('lot')}" if reason.get("field") == "lot" else f"the {reason['field']}"
        return f"keyword '{reason['keyword']}' in {where}"
    if kind == "buyer-place":
        return f"buyer in {reason['code']} (no place of performance given)"
    if kind == "place":
        return f"{which} in {reason['code']}" if lots else f"in {reason['code']}"
    if kind == "value":
        return f"estimated value {reason['amount']:,.0f} {reason.get('currency') or ''}".rstrip() + " in your range"
    return str(reason)


def _rewrite(convert: Callable[[Any], Any]) -> None:
    """Every match's reasons through `convert`, a page of rows at a time; only changed rows are written."""
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(matches.c.id, matches.c.reasons).where(matches.c.id > after).order_by(matches.c.id).limit(PAGE)
        ).all()
        if not rows:
            return
        changed = []
        for row in rows:
            reasons = row.reasons if isinstance(row.reasons, list) else []
            converted = [convert(reason) for reason in reasons]
            if converted != reasons:
                changed.append({"match_id": row.id, "new_reasons": converted})
        if changed:
            connection.execute(
                matches.update()
                .where(matches.c.id == sa.bindparam("match_id"))
                .values(reasons=sa.bindparam("new_reasons", type_=matches.c.reasons.type)),
                changed,
            )
        after = rows[-1].id


def upgrade() -> None:
    _rewrite(structured)


def downgrade() -> None:
    _rewrite(sentence)

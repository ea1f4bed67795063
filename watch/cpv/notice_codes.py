"""What the staff see of a notice's CPV codes: its real ones and the ones the active classifier infers from its text,
with their confidence, side by side (the tender page's staff section and `GET /api/v1/cpv/{source}/{source_id}`).

Inference runs on demand, for notices with codes too, so the staff can judge the classifier where the truth is
known. A code routing would use is one at least `ROUTING_THRESHOLD` sure, and only for a notice without codes;
an inferred code is `confirmed` when one of the notice's real codes is that code or under it.
"""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from crawlers.codelists import cpv_label
from crawlers.store.service import notice_table

from ..matching import cpv_prefix
from .corpus import notice_example_codes, notice_example_text
from .model import ROUTING_THRESHOLD
from .registry import active_model


class RealCode(BaseModel):
    code: str
    label: str | None


class InferredCode(BaseModel):
    code: str
    level: str
    """division, group or class."""
    confidence: float
    label: str | None
    routes: bool
    """At least the routing threshold: a notice without codes of its own is routed with it."""
    confirmed: bool
    """One of the notice's real codes is this code or under it."""


class NoticeCodes(BaseModel):
    """A notice's CPV codes, real and inferred."""

    source: str
    source_id: str
    real: list[RealCode]
    inferred: list[InferredCode]
    model_version: int | None
    """The classifier version that inferred them; None when no model is stored yet (nothing inferred)."""
    threshold: float
    inferred_for_routing: bool
    """The notice has no code of its own: routing uses the inferred codes that reach the threshold."""


def notice_codes(engine: Engine, *, source: str, source_id: str, language: str = "en") -> NoticeCodes | None:
    """The real and inferred CPV codes of a stored notice (labels in `language`); None when there is no such notice."""
    with engine.connect() as connection:
        data = connection.execute(
            sa.select(notice_table.c.data).where(notice_table.c.source == source, notice_table.c.source_id == source_id)
        ).scalar()
    if data is None:
        return None
    real = list(notice_example_codes(data))
    loaded = active_model(engine)
    inferred: list[InferredCode] = []
    text = notice_example_text(data)
    if loaded is not None and text.strip():
        [found] = loaded.classifier.predict([text])
        inferred = [
            InferredCode(
                code=one.code,
                level=one.level,
                confidence=one.confidence,
                label=cpv_label(one.code, language),
                routes=one.confidence >= ROUTING_THRESHOLD,
                confirmed=any(code.startswith(cpv_prefix(one.code)) for code in real),
            )
            for one in found
        ]
    return NoticeCodes(
        source=source,
        source_id=source_id,
        real=[RealCode(code=code, label=cpv_label(code, language)) for code in real],
        inferred=inferred,
        model_version=loaded.version if loaded is not None else None,
        threshold=ROUTING_THRESHOLD,
        inferred_for_routing=not real,
    )

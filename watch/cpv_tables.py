"""The table of the CPV classifier's versions (`cpv_model`): each trained model, its bytes and what it learnt from.

One version is active at a time, the one routing uses; watch/cpv/registry.py saves, activates, prunes and loads
them.

Outside the `watch.cpv` package on purpose: every process registers the tables (pib/models.py), and importing
`watch.cpv` loads scikit-learn, a second or two that only the processes that classify should pay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crawlers.store.models import JSONColumn, utcnow


class CpvModelRecord(SQLModel, table=True):
    """A trained CPV classifier (`watch.cpv.model.CpvClassifier.to_bytes`), one row per version."""

    __tablename__ = "cpv_model"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(sa_column_kwargs={"unique": True})
    """1, 2, 3...: a retrain saves the next one."""
    created_at: datetime = Field(default_factory=utcnow)
    trained_on: int
    """Examples it was trained on (the shipped corpus and the store's coded notices)."""
    store_notices: int
    """Coded notices the store held when it was trained: the retrain job compares the store with this."""
    metrics: dict[str, Any] | None = Field(default=None, sa_type=JSONColumn)
    """What was measured of it, when anything was (free form: training seconds, examples by origin...)."""
    sha256: str = Field(max_length=64)
    """Of `content`: checked when the model is loaded."""
    content: bytes = Field(sa_type=sa.LargeBinary)
    active: bool = Field(default=False, index=True)
    """True on exactly one version once any exists: the one routing uses."""

"""Tables of the notice store: notices with their lots, past versions, raw documents, parse errors.

The normalized notice is kept whole (`data`, the §2 JSON) for export and re-display, and its searchable
parts as columns for the watch. Raw documents are kept (compressed) so a parser fix can re-parse without
a re-crawl.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


JSONColumn = sa.JSON().with_variant(JSONB(), "postgresql")


class RawDocument(SQLModel, table=True):
    __tablename__ = "raw_document"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    format: str = Field(max_length=20)
    origin: str = Field(max_length=1000)
    """Where it came from: a file path or a URL."""
    size: int
    content: bytes = Field(sa_type=sa.LargeBinary)
    """The bytes as received, zstd-compressed (`service.decompress`)."""
    received_at: datetime = Field(default_factory=utcnow)


class NoticeRecord(SQLModel, table=True):
    __tablename__ = "notice"
    __table_args__ = (sa.UniqueConstraint("source", "source_id", name="uq_notice_source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=60)  # looked up through uq_notice_source_id
    source_id: str = Field(max_length=300)
    notice_type: str = Field(max_length=20, index=True)
    title: str
    buyer_name: str
    buyer_country: str | None = Field(default=None, max_length=2)
    cpv_main: str | None = Field(default=None, max_length=8)
    published: date = Field(index=True)
    deadline: str | None = Field(default=None, max_length=40)
    deadline_utc: datetime | None = Field(default=None, index=True)
    """The deadline as a UTC instant, for ordering and reminders; a date-only deadline is its end of day."""
    estimated_value: float | None = None
    currency: str | None = Field(default=None, max_length=3)
    data: dict[str, Any] = Field(sa_type=JSONColumn)
    """The whole normalized notice (docs/notice.md)."""
    content_hash: str = Field(max_length=64)
    version: int = 1
    raw_document_id: int | None = Field(default=None, foreign_key="raw_document.id")
    procedure_id: int | None = Field(default=None, foreign_key="procedure.id", index=True)
    """The procedure this publication belongs to; null until linking has run over it."""
    first_seen: datetime = Field(default_factory=utcnow, index=True)  # the staff dashboard counts the new ones
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class LotRecord(SQLModel, table=True):
    __tablename__ = "lot"
    __table_args__ = (sa.UniqueConstraint("notice_id", "lot_id", name="uq_lot_notice_lot"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    lot_id: str = Field(max_length=100)
    position: int
    title: str | None = None
    cpv_main: str | None = Field(default=None, max_length=8)
    cpv_additional: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    nuts: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    estimated_value: float | None = None


class NoticeVersion(SQLModel, table=True):
    """A version of a notice that a newer one replaced (or an older one that arrived late)."""

    __tablename__ = "notice_version"
    __table_args__ = (sa.UniqueConstraint("notice_id", "content_hash", name="uq_version_notice_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True, ondelete="CASCADE")
    version: int
    content_hash: str = Field(max_length=64)
    data: dict[str, Any] = Field(sa_type=JSONColumn)
    raw_document_id: int | None = Field(default=None, foreign_key="raw_document.id")
    recorded_at: datetime = Field(default_factory=utcnow)


class ParseErrorRecord(SQLModel, table=True):
    """A file or record set aside: where it was, which record, and why."""

    __tablename__ = "parse_error"

    id: int | None = Field(default=None, primary_key=True)
    origin: str = Field(max_length=1000, index=True)
    record: str = Field(default="", max_length=200)
    reason: str
    raw_document_id: int | None = Field(default=None, foreign_key="raw_document.id")
    fingerprint: str = Field(max_length=64, unique=True, index=True)
    """sha256 of origin, record, reason and raw document (`service.failure_fingerprint`): a failure is kept once,
    even when two ingests meet it at once."""
    created_at: datetime = Field(default_factory=utcnow)

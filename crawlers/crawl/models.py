"""Tables of the crawl: checkpoints and the health record of each run."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from ..store.models import JSONColumn, utcnow


class CrawlCheckpoint(SQLModel, table=True):
    """The last publication date a source is known to be crawled through, without a gap before it.

    An incremental crawl starts a few days before it (the overlap), so a notice published late in the
    day, or an outage, never leaves a hole; it only moves forward, over windows crawled completely.
    """

    __tablename__ = "crawl_checkpoint"

    source: str = Field(primary_key=True, max_length=60)
    done_through: date
    run_id: int | None = Field(default=None, foreign_key="crawl_run.id")
    """The run that moved it last."""
    updated_at: datetime = Field(default_factory=utcnow)


class CrawlRun(SQLModel, table=True):
    """One run of one spider: what it asked, what it got, what it stored, what went wrong.

    `status` is `running` until the run ends, then `ok`, `failed` (errors: a request given up, a
    suspicious empty answer, the store refusing) or `interrupted` (the request cap, a shutdown). A run
    left `running` by a killed process is marked `failed` by the next run of its source.
    """

    __tablename__ = "crawl_run"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=60, index=True)
    status: str = Field(default="running", max_length=20, index=True)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    ended_at: datetime | None = None
    since: date | None = None
    until: date | None = None
    backfill: bool = False
    """The dates were given (`--since`/`--until`) rather than taken from the checkpoint."""
    checkpoint_before: date | None = None
    checkpoint_after: date | None = None
    found: int = 0
    """Notices the source listed for the run's dates (search results, records, feed entries)."""
    fetched: int = 0
    """Notices parsed from what was downloaded."""
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    failed: int = 0
    """Documents or records set aside (parse errors)."""
    requests: int = 0
    errors: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    warnings: list[str] = Field(default_factory=list, sa_type=JSONColumn)
    host: str = Field(default="", max_length=255)
    pid: int | None = None
    """Process that runs it, to tell a live run from one whose process was killed."""

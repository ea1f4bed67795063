"""A run's shared state: its dates, its date windows, its counters, and the checkpoint it moves.

The spider, the retry middleware and the store pipeline of one run share one `CrawlContext`, so the
health record says in one place what was fetched, stored, survived (429, 5xx, timeouts, truncated or
malformed answers, listings that changed while being paged) and what failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.settings import Settings

from ..store.models import utcnow
from .models import CrawlCheckpoint

if TYPE_CHECKING:
    from .worker import ParseWorker

SOURCES = ("ted", "boamp", "be", "decp", "feeds")
"""The crawlable sources, as `pib crawl SOURCE` names them."""

MAX_MESSAGES = 100
"""Errors and warnings kept per run; the rest are counted."""

checkpoint_table: sa.Table = CrawlCheckpoint.__table__  # type: ignore[attr-defined]

_FIXED_HOLIDAYS = {(1, 1), (5, 1), (12, 25)}
"""Days on which neither TED, BOAMP nor the Belgian platform publish, whatever the year."""


def is_working_day(day: date) -> bool:
    """A weekday that is not a fixed public holiday common to BE and FR.

    >>> is_working_day(date(2026, 3, 2)), is_working_day(date(2026, 3, 1)), is_working_day(date(2026, 5, 1))
    (True, False, False)
    """
    return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


def has_passed_working_day(start: date, end: date, *, today: date) -> bool:
    """Whether [start, end] holds a working day that is over (today's publications may still come).

    >>> has_passed_working_day(date(2026, 3, 7), date(2026, 3, 8), today=date(2026, 3, 20))
    False
    >>> has_passed_working_day(date(2026, 3, 6), date(2026, 3, 9), today=date(2026, 3, 9))
    True
    """
    day, last = start, min(end, today - timedelta(days=1))
    while day <= last:
        if is_working_day(day):
            return True
        day += timedelta(days=1)
    return False


@dataclass(eq=False)
class Window:
    """A range of publication dates crawled as one unit: the checkpoint moves over whole windows."""

    start: date
    end: date
    found: int = 0
    totals: list[int] = field(default_factory=list)
    """The total count announced by each page; a change means the listing moved under the crawler."""
    failures: list[str] = field(default_factory=list)
    rereads: int = 0

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{self.start}..{self.end}"

    def halves(self) -> tuple[Window, Window]:
        """Two windows of about half the days each (a window of one day cannot be split)."""
        middle = self.start + timedelta(days=(self.days - 1) // 2)
        return Window(self.start, middle), Window(middle + timedelta(days=1), self.end)

    def changed_while_paging(self) -> bool:
        return len(set(self.totals)) > 1

    def restart(self) -> None:
        """Forget what the pages said, to read the window again."""
        self.found, self.totals, self.rereads = 0, [], self.rereads + 1


def read_checkpoint(engine: Engine, source: str) -> date | None:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(checkpoint_table.c.done_through).where(checkpoint_table.c.source == source)
        ).scalar_one_or_none()


def write_checkpoint(engine: Engine, *, source: str, done_through: date, run_id: int | None) -> None:
    """Move a source's checkpoint forward (never backwards), in its own transaction."""
    values = {"done_through": done_through, "run_id": run_id, "updated_at": utcnow()}
    with engine.begin() as connection:
        current = connection.execute(
            sa.select(checkpoint_table.c.done_through).where(checkpoint_table.c.source == source)
        ).scalar_one_or_none()
        if current is None:
            connection.execute(checkpoint_table.insert().values(source=source, **values))
        elif done_through > current:
            connection.execute(checkpoint_table.update().where(checkpoint_table.c.source == source).values(**values))


@dataclass
class CrawlContext:
    """Everything one run shares between its spider, its middlewares and its pipeline."""

    source: str
    engine: Engine
    settings: Settings
    since: date
    until: date
    today: date
    run_id: int
    checkpoint: date | None
    """The checkpoint as it stands now: moved by this run as its windows complete."""
    backfill: bool = False
    found: int = 0
    fetched: int = 0
    requests: int = 0
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    """What was survived, counted: `HTTP 429, waited as asked (Retry-After)` → 2."""
    store_failed: bool = False
    worker: ParseWorker | None = None
    """The run's parsing process, which parses and stores the answers of the API spiders."""
    flush: Callable[[], bool] = lambda: False
    """Stores what the pipeline and the parsing process hold; True when answers are being fetched again.
    Set by the pipeline when the spider opens."""
    checkpoint_before: date | None = field(init=False, default=None)
    _blocked: bool = False
    _pending: date | None = None

    def __post_init__(self) -> None:
        self.checkpoint_before = self.checkpoint

    def note(self, event: str) -> None:
        self.events[event] += 1

    def error(self, message: str) -> None:
        if len(self.errors) < MAX_MESSAGES:
            self.errors.append(message)
        elif len(self.errors) == MAX_MESSAGES:
            self.errors.append("... more errors not kept")

    def warn(self, message: str) -> None:
        if message not in self.notes and len(self.notes) < MAX_MESSAGES:
            self.notes.append(message)

    def warnings(self) -> list[str]:
        return self.notes + [f"{event}: {count}×" for event, count in sorted(self.events.items())]

    def window_done(self, window: Window) -> None:
        """Store what the window brought, then move the checkpoint over it if it is complete.

        The checkpoint moves only over windows fully read, joined to it without a gap (a backfill far
        before it does not move it, nor one after a gap), and only once the run has found notices at
        all: a run that finds nothing is suspicious and must not pass over those days.
        """
        self.flush()
        if window.failures:
            self._blocked = True
            for failure in window.failures:
                self.error(failure)
            return
        if self._blocked or self.store_failed:
            return
        frontier = self._pending or self.checkpoint
        if frontier is not None and window.start > frontier + timedelta(days=1):
            return
        through = min(window.end, self.today)
        if frontier is not None and through <= frontier:
            return
        self._pending = through
        if self.found:
            write_checkpoint(self.engine, source=self.source, done_through=through, run_id=self.run_id)
            self.checkpoint, self._pending = through, None

"""What a profile would have caught: the tenders of the last days that it matches, before it is saved.

The portal's profile form shows "this profile would have caught N tenders in the last 30 days" as the member
types, so a firm sees at once whether its keywords catch too much or nothing. The answer is the real matching
(watch/matching.py, the same `ProfileIndex` routing uses) over the stored notices published in the window,
counted as routing counts them: one tender per procedure (a TED notice and its BOAMP twin are one), carried by
its best-scoring publication. Unlike routing, no CPV code is inferred for notices without any (training the
classifier takes seconds; a preview must answer as the member types), so such notices count through keywords only.

Preparing a notice for matching (stemming its texts) is most of the cost, so the prepared notices are kept in
memory by id and content hash (`_FactsCache`), and a preview over thousands of notices only judges them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.store.models import utcnow
from crawlers.store.service import notice_table

from .deadlines import brussels_day
from .matching import DEFAULT_NOTICE_TYPES, Hit, NoticeFacts, ProfileIndex, ProfileSpec, notice_facts
from .reasons import Reason

WINDOW_DAYS = 30
FIRST = 5
"""How many of the caught tenders a preview shows."""
CACHE_SIZE = 50_000
"""Prepared notices kept in memory (a month of Belgian and French notices is well under this)."""


@dataclass(frozen=True)
class Caught:
    """One tender the profile would have caught: its best publication, score and reasons."""

    notice_id: int
    source: str
    source_id: str
    title: str
    published: date
    deadline: str | None
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Preview:
    """How many tenders (procedures) the profile would have caught since `since`, and the best of them."""

    count: int
    first: tuple[Caught, ...]
    since: date
    days: int


class _FactsCache:
    """Prepared notices by id, dropped when the notice's content changes; the least recently used go first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[str, NoticeFacts]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, notice_id: int, content_hash: str) -> NoticeFacts | None:
        with self._lock:
            found = self._items.get(notice_id)
            if found is None or found[0] != content_hash:
                return None
            self._items.move_to_end(notice_id)
            return found[1]

    def put(self, notice_id: int, content_hash: str, facts: NoticeFacts) -> None:
        with self._lock:
            self._items[notice_id] = (content_hash, facts)
            self._items.move_to_end(notice_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_cache = _FactsCache(CACHE_SIZE)


def _window_facts(engine: Engine, *, since: date, notice_types: Iterable[str]) -> list[tuple[Any, NoticeFacts]]:
    """The notices published since a day, of the types a profile takes, prepared (from the cache when it can)."""
    columns = (
        notice_table.c.id,
        notice_table.c.source,
        notice_table.c.source_id,
        notice_table.c.title,
        notice_table.c.published,
        notice_table.c.deadline,
        notice_table.c.procedure_id,
        notice_table.c.content_hash,
    )
    where = (notice_table.c.published >= since, notice_table.c.notice_type.in_(sorted(set(notice_types))))
    with engine.connect() as connection:
        rows = list(connection.execute(sa.select(*columns).where(*where).order_by(notice_table.c.id)))
        missing = [row.id for row in rows if _cache.get(row.id, row.content_hash) is None]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            query = sa.select(notice_table.c.id, notice_table.c.content_hash, notice_table.c.data)
            for notice_id, content_hash, data in connection.execute(query.where(notice_table.c.id.in_(chunk))):
                _cache.put(notice_id, content_hash, notice_facts(data))
    prepared = []
    for row in rows:
        facts = _cache.get(row.id, row.content_hash)
        if facts is None:  # replaced between the two queries, or pushed out of a full cache: prepare it again
            with engine.connect() as connection:
                data = connection.execute(sa.select(notice_table.c.data).where(notice_table.c.id == row.id)).scalar()
            if data is None:
                continue
            facts = notice_facts(data)
        prepared.append((row, facts))
    return prepared


def preview_profile(
    engine: Engine, *, spec: ProfileSpec, now: datetime | None = None, days: int = WINDOW_DAYS, first: int = FIRST
) -> Preview:
    """The tenders published in the last `days` days (Brussels calendar days) that the profile matches."""
    since = brussels_day(now or utcnow()) - timedelta(days=days)
    index = ProfileIndex([spec])
    best: dict[Any, tuple[Hit, Any]] = {}
    for row, facts in _window_facts(engine, since=since, notice_types=spec.notice_types or DEFAULT_NOTICE_TYPES):
        hits = index.match(facts)
        if not hits:
            continue
        procedure = ("procedure", row.procedure_id) if row.procedure_id is not None else ("notice", row.id)
        kept = best.get(procedure)
        if kept is None or hits[0].score > kept[0].score:
            best[procedure] = (hits[0], row)
    ranked = sorted(best.values(), key=lambda item: (-item[0].score, -item[1].published.toordinal(), item[1].id))
    return Preview(
        count=len(best),
        first=tuple(
            Caught(
                notice_id=row.id,
                source=row.source,
                source_id=row.source_id,
                title=row.title,
                published=row.published,
                deadline=row.deadline,
                score=hit.score,
                reasons=hit.reasons,
            )
            for hit, row in ranked[:first]
        ),
        since=since,
        days=days,
    )

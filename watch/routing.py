"""Routing: every new notice matched against every active profile, once, and the matches stored.

What is new: the notices without a `watch_routed` row. A notice is marked routed in the transaction that
stores its matches, so a notice is routed exactly once, whatever it matched; a later version of it (same
source and id) is not routed again. The routed flag rather than a watermark on `notice.id`, because ids
are not committed in order under concurrent ingestion and a watermark would skip a notice committed late.
With no active profile at all nothing is marked, so the notices stored before the first members import
are routed when members exist. `everything=True` routes all stored notices again (after importing new
members), adding only matches a member does not have yet.

A member receives a procedure once: a notice is not matched to a member who already has a match for
another publication of the same procedure (`notice.procedure_id`, set by crawlers/store/procedures.py;
a notice not linked yet is its own procedure), so a tender published at BOAMP and at TED reaches each firm
once, through the first publication routed. Of a member's profiles, the best-scoring one carries the match.

Notices without any CPV code get codes inferred from their text by the active CPV classifier (watch/cpv:
the version stored in the database, watch/cpv/registry.py), those at least `ROUTING_THRESHOLD` sure; a notice
with codes of its own is never re-coded. The classifier is loaded when the first such notice comes; on a fresh
installation, with no version stored yet, that first notice trains one from the shipped corpus (minutes, with
progress in the log) and stores it for every later run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.store.models import utcnow
from crawlers.store.procedures import Procedure
from crawlers.store.service import notice_table

from .deadlines import current_deadline, days_until, open_condition
from .feedback import Taste, likeness, load_tastes, rescore
from .matching import Hit, ProfileIndex, ProfileSpec, notice_facts
from .models import Match, Member, Profile, RoutedNotice
from .reasons import describe_reasons

if TYPE_CHECKING:
    from .cpv.model import CpvClassifier

log = logging.getLogger(__name__)

BATCH_SIZE = 500

match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
routed_table: sa.Table = RoutedNotice.__table__  # type: ignore[attr-defined]
profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]
member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
procedure_table: sa.Table = Procedure.__table__  # type: ignore[attr-defined]


@dataclass
class RouteSummary:
    notices: int = 0
    """Notices routed in this run."""
    matched: int = 0
    """Of those, how many reached at least one member."""
    matches: int = 0
    members: set[int] = field(default_factory=set)
    duplicates: int = 0
    """Matches not made because the member already has the procedure through another publication."""
    inferred: int = 0
    """Notices that got inferred CPV codes."""
    rescored: int = 0
    profiles: int = 0
    failures: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        if not self.profiles:
            return "no active profile: nothing routed (import members first: `pib members import FILE`)"
        text = (
            f"{self.notices} notices routed against {self.profiles} profiles: {self.matches} matches "
            f"for {len(self.members)} members ({self.matched} notices matched), "
            f"{self.duplicates} skipped as the same procedure, {self.inferred} with inferred CPV"
        )
        if self.rescored:
            text += f", {self.rescored} waiting matches re-ranked by feedback"
        return text + f", {len(self.failures)} failed"


def active_profiles(connection: Connection) -> list[ProfileSpec]:
    """The profiles that route: active, of active members."""
    rows = connection.execute(
        sa.select(profile_table)
        .join(member_table, member_table.c.id == profile_table.c.member_id)
        .where(profile_table.c.active.is_(True), member_table.c.active.is_(True))
        .order_by(profile_table.c.id)
    )
    return [ProfileSpec.of(row) for row in rows]


class _Inference:
    """CPV codes for the notices without any, from the active classifier, at least `ROUTING_THRESHOLD` sure."""

    def __init__(self, engine: Engine, classifier: CpvClassifier | None) -> None:
        self._engine, self._classifier = engine, classifier
        self._unavailable = False
        self._page: dict[str, list[tuple[str, float]]] = {}
        """A page's uncoded notices classified at once (one call classifies hundreds as fast as one)."""

    @staticmethod
    def _text(data: Mapping[str, Any]) -> str | None:
        """What to classify: the notice's text, or None when it has codes (never re-coded) or no text."""
        from .cpv.corpus import notice_example_codes, notice_example_text

        text = notice_example_text(data)
        return None if notice_example_codes(data) or not text.strip() else text

    def _ready(self) -> CpvClassifier | None:
        if self._classifier is None and not self._unavailable:
            from .cpv.registry import ensure_model

            try:
                self._classifier = ensure_model(self._engine).classifier
            except Exception:  # routing goes on without inference (keywords still match); said once
                log.exception("CPV model unavailable: notices without codes are routed on their keywords only")
                self._unavailable = True
        return self._classifier

    def prepare(self, notices: Sequence[Mapping[str, Any]]) -> None:
        """Classify the uncoded notices of a page in one call."""
        texts = list(dict.fromkeys(text for data in notices if (text := self._text(data)) is not None))
        classifier = self._ready() if texts else None
        self._page = {}
        if classifier is not None:
            for text, found in zip(texts, classifier.predict(texts), strict=True):
                self._page[text] = self._sure(found)

    @staticmethod
    def _sure(found: Sequence[Any]) -> list[tuple[str, float]]:
        from .cpv.model import ROUTING_THRESHOLD

        return [(one.code, one.confidence) for one in found if one.confidence >= ROUTING_THRESHOLD]

    def codes(self, data: Mapping[str, Any]) -> list[tuple[str, float]]:
        text = self._text(data)
        if text is None:
            return []
        if text in self._page:
            return self._page[text]
        classifier = self._ready()
        return self._sure(classifier.predict([text])[0]) if classifier is not None else []


def _best_per_member(hits: list[Hit]) -> dict[int, Hit]:
    best: dict[int, Hit] = {}
    for hit in hits:
        kept = best.get(hit.member_id)
        if kept is None or (hit.score, -hit.profile_id) > (kept.score, -kept.profile_id):
            best[hit.member_id] = hit
    return best


def _pending_page(connection: Connection, after: int, limit: int, everything: bool) -> list[Any]:
    query = (
        sa.select(
            notice_table.c.id,
            notice_table.c.source,
            notice_table.c.source_id,
            notice_table.c.procedure_id,
            notice_table.c.data,
            routed_table.c.notice_id.label("routed"),
        )
        .outerjoin(routed_table, routed_table.c.notice_id == notice_table.c.id)
        .where(notice_table.c.id > after)
        .order_by(notice_table.c.id)
        .limit(limit)
    )
    if not everything:
        query = query.where(routed_table.c.notice_id.is_(None))
    return list(connection.execute(query))


def _already(connection: Connection, rows: list[Any]) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(member, procedure) and (member, notice) pairs that have a match already, for this page's notices."""
    procedures = sorted({row.procedure_id for row in rows if row.procedure_id is not None})
    by_procedure: set[tuple[int, int]] = set()
    if procedures:
        found = connection.execute(
            sa.select(match_table.c.member_id, notice_table.c.procedure_id)
            .join(notice_table, notice_table.c.id == match_table.c.notice_id)
            .where(notice_table.c.procedure_id.in_(procedures))
        )
        by_procedure = {(member_id, procedure_id) for member_id, procedure_id in found}
    found = connection.execute(
        sa.select(match_table.c.member_id, match_table.c.notice_id).where(
            match_table.c.notice_id.in_([row.id for row in rows])
        )
    )
    return by_procedure, {(member_id, notice_id) for member_id, notice_id in found}


def _route_page(
    connection: Connection,
    rows: list[Any],
    index: ProfileIndex,
    inference: _Inference,
    tastes: dict[int, Taste],
    summary: RouteSummary,
) -> None:
    by_procedure, by_notice = _already(connection, rows)
    now = utcnow()
    matches: list[tuple[Any, ...]] = []
    routed: list[tuple[Any, ...]] = []
    members = summary.members
    inference.prepare([row.data for row in rows])
    for row in rows:
        error = None
        try:
            inferred = inference.codes(row.data)
            hits = _best_per_member(index.match(notice_facts(row.data, inferred=inferred)))
        except Exception as failure:  # one bad notice must not stop the routing of the others
            log.exception("routing failed notice_id=%s source=%s source_id=%s", row.id, row.source, row.source_id)
            error = f"{type(failure).__name__}: {failure}"[:1000]
            summary.failures.append(f"{row.source}:{row.source_id}: {error}")
            hits, inferred = {}, []
        summary.notices += 1
        summary.inferred += bool(inferred)
        made = 0
        seen_as = None
        notice_id, procedure_id = row.id, row.procedure_id
        for member_id, hit in sorted(hits.items()):
            if by_notice and (member_id, notice_id) in by_notice:
                continue
            if procedure_id is not None:
                if (member_id, procedure_id) in by_procedure:
                    summary.duplicates += 1
                    continue
                by_procedure.add((member_id, procedure_id))
            taste = tastes.get(member_id)
            score = hit.score
            if taste is not None:
                seen_as = seen_as or likeness(row.data)
                score = taste.adjust(hit.score, seen_as)
            matches.append(
                (
                    member_id,
                    hit.profile_id,
                    notice_id,
                    score,
                    hit.score,
                    json.dumps(hit.reasons),
                    json.dumps(hit.lot_ids) if hit.lot_ids else "[]",
                )
            )
            members.add(member_id)
            made += 1
        summary.matches += made
        summary.matched += made > 0
        if row.routed is None:
            routed.append((notice_id, error))
    insert_rows(connection, match_table, MATCH_COLUMNS, matches, created_at=now)
    insert_rows(connection, routed_table, ("notice_id", "error"), routed, routed_at=now)


MATCH_COLUMNS = ("member_id", "profile_id", "notice_id", "score", "base_score", "reasons", "lot_ids")
"""The columns of the match rows `_route_page` writes (JSON columns as JSON text), before the constants."""


def insert_rows(
    connection: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]], **constants: Any
) -> None:
    """Insert rows in bulk, without SQLAlchemy's per-row processing: JSON columns come as JSON text, and each
    constant (the same value on every row) goes through its column's type once. PostgreSQL: one COPY;
    others: one `executemany` of the driver.

    Routing writes tens of matches a notice; processing each row's parameters (JSON, dates) in SQLAlchemy was
    most of its database time.
    """
    if not rows:
        return
    dialect = connection.dialect
    fixed = []
    for name, value in constants.items():
        processor = table.c[name].type._cached_bind_processor(dialect)
        fixed.append(processor(value) if processor is not None else value)
    names = [*columns, *constants]
    if fixed:
        tail = tuple(fixed)
        rows = [row + tail for row in rows]
    if dialect.name == "postgresql":
        with (
            connection.connection.dbapi_connection.cursor() as cursor,  # type: ignore[union-attr]
            cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" if dialect.paramstyle == "qmark" else "%s" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", rows)


def route_new(
    engine: Engine,
    *,
    everything: bool = False,
    cpv_model: CpvClassifier | None = None,
    batch_size: int = BATCH_SIZE,
    on_page: Callable[[int], None] | None = None,
) -> RouteSummary:
    """Match the notices not routed yet against all active profiles and store the matches.

    CPV codes for notices without any come from `cpv_model`, or else from the active stored version.

    Each page of notices is one transaction. `on_page(n)` is told how many notices each page held.
    """
    summary = RouteSummary()
    with engine.begin() as connection:
        specs = active_profiles(connection)
        summary.profiles = len(specs)
        if not specs:
            return summary
        summary.rescored = rescore(connection)
        tastes = load_tastes(connection)
    index = ProfileIndex.of(specs)
    inference = _Inference(engine, cpv_model)
    after = 0
    while True:
        with engine.begin() as connection:
            rows = _pending_page(connection, after, batch_size, everything)
            if not rows:
                break
            _route_page(connection, rows, index, inference, tastes, summary)
        after = rows[-1].id
        if on_page is not None:
            on_page(len(rows))
    return summary


def count_pending(engine: Engine) -> int:
    """How many stored notices are not routed yet."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count())
            .select_from(notice_table.outerjoin(routed_table, routed_table.c.notice_id == notice_table.c.id))
            .where(routed_table.c.notice_id.is_(None))
        ).scalar_one()


def member_matches(
    engine: Engine, member_id: int, *, limit: int | None = None, now: datetime | None = None, language: str = "en"
) -> list[dict[str, Any]]:
    """What a member receives, best first: the notice, its score, reasons (structured, and written out in
    `language` as `reasons_text`) and lots, the profile, and whether it is `closed` (watch/deadlines.py: no
    email carries it) or how many `days_left` it has."""
    now = now or utcnow()
    query = (
        sa.select(
            match_table.c.score,
            match_table.c.reasons,
            match_table.c.lot_ids,
            match_table.c.created_at,
            match_table.c.notified_at,
            profile_table.c.name.label("profile"),
            notice_table.c.source,
            notice_table.c.source_id,
            notice_table.c.title,
            notice_table.c.notice_type,
            notice_table.c.published,
            notice_table.c.deadline,
            notice_table.c.data["url"].as_string().label("url"),
            current_deadline(notice_table, procedure_table).label("deadline_utc"),
            open_condition(notice_table, procedure_table, now=now).label("open"),
        )
        .join(notice_table, notice_table.c.id == match_table.c.notice_id)
        .outerjoin(procedure_table, procedure_table.c.id == notice_table.c.procedure_id)
        .join(profile_table, profile_table.c.id == match_table.c.profile_id)
        .where(match_table.c.member_id == member_id)
        .order_by(match_table.c.score.desc(), notice_table.c.published.desc(), match_table.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    found = []
    with engine.connect() as connection:
        for row in connection.execute(query):
            match = dict(row._mapping)
            deadline = match.pop("deadline_utc")
            match["closed"] = not match.pop("open")
            match["days_left"] = days_until(deadline, now) if deadline is not None and deadline > now else None
            match["reasons_text"] = describe_reasons(match["reasons"], language)
            found.append(match)
    return found

"""A member's feedback moves the ranking of similar notices for that member.

A member marks a notice it received `not-relevant` or `interesting`. Every match of that member is then
ranked by `score = base_score × factor`, where `base_score` comes from the profile alone and

    factor = 1 + 0.5 × (likeness to the nearest notice marked interesting)
               - 0.5 × (likeness to the nearest notice marked not relevant)

so a notice very like one the member rejected drops to half its score, one very like a notice it liked
rises by half, and one like neither keeps its score. Likeness is in [0, 1]:
0.3 × shared CPV divisions + 0.7 × shared title words, each counted as the overlap coefficient
`|A ∩ B| / min(|A|, |B|)` (title words are the stems of the title and lot titles, linking words and
words of one or two letters left out). Only the nearest marked notice counts, so ten rejections of the
same kind weigh no more than one.

Scores are adjusted when a match is made (watch/routing.py) and, for the matches still waiting for a
digest, again when feedback is recorded here or when routing next runs (feedback also arrives through the
links of the emails, which write the table directly).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.store.models import utcnow
from crawlers.store.service import notice_table

from .models import Feedback, Match
from .text import stemmer

Verdict = Literal["not-relevant", "interesting"]
VERDICTS: tuple[Verdict, ...] = ("not-relevant", "interesting")
_DIVISION_WEIGHT = 0.3
_WORDS_WEIGHT = 0.7
_PULL = 0.5

feedback_table: sa.Table = Feedback.__table__  # type: ignore[attr-defined]
match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Likeness:
    """What two notices are compared by."""

    divisions: frozenset[str]
    words: frozenset[str]


def likeness(notice: Mapping[str, Any]) -> Likeness:
    """The CPV divisions and title words of a §2 notice."""
    languages = notice.get("languages") or [""]
    stems = stemmer(languages[0])
    titles = [notice.get("title") or ""] + [lot.get("title") or "" for lot in notice.get("lots") or []]
    words = {stem for title in titles for stem in stems.content_stems(title) if len(stem) > 2}
    codes = [notice.get("cpv_main"), *(notice.get("cpv_additional") or [])]
    for lot in notice.get("lots") or []:
        codes.extend([lot.get("cpv_main"), *(lot.get("cpv_additional") or [])])
    return Likeness(frozenset(str(code)[:2] for code in codes if code), frozenset(words))


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def similarity(a: Likeness, b: Likeness) -> float:
    """How alike two notices are, 0 to 1."""
    return _DIVISION_WEIGHT * _overlap(a.divisions, b.divisions) + _WORDS_WEIGHT * _overlap(a.words, b.words)


@dataclass
class Taste:
    """A member's feedback: the notices it liked and the ones it rejected."""

    liked: list[Likeness] = field(default_factory=list)
    rejected: list[Likeness] = field(default_factory=list)

    def factor(self, notice: Likeness) -> float:
        """What a base score is multiplied by for this member (0.5 to 1.5)."""
        pull = max((similarity(notice, other) for other in self.liked), default=0.0)
        push = max((similarity(notice, other) for other in self.rejected), default=0.0)
        return 1.0 + _PULL * pull - _PULL * push

    def adjust(self, base_score: float, notice: Likeness) -> float:
        return round(base_score * self.factor(notice), 4)


def load_tastes(connection: Connection, member_ids: Iterable[int] | None = None) -> dict[int, Taste]:
    """The taste of every member that gave feedback (or of the members named)."""
    query = sa.select(feedback_table.c.member_id, feedback_table.c.verdict, notice_table.c.data).join(
        notice_table, notice_table.c.id == feedback_table.c.notice_id
    )
    if member_ids is not None:
        query = query.where(feedback_table.c.member_id.in_(list(member_ids)))
    tastes: dict[int, Taste] = defaultdict(Taste)
    for member_id, verdict, data in connection.execute(query):
        taste = tastes[member_id]
        (taste.liked if verdict == "interesting" else taste.rejected).append(likeness(data))
    return dict(tastes)


def rescore(connection: Connection, member_ids: Iterable[int] | None = None, *, pending_only: bool = True) -> int:
    """Re-rank the members' matches by their feedback (those not yet in a digest); how many changed."""
    tastes = load_tastes(connection, member_ids)
    if not tastes:
        return 0
    query = sa.select(
        match_table.c.id, match_table.c.member_id, match_table.c.score, match_table.c.base_score, notice_table.c.data
    ).join(notice_table, notice_table.c.id == match_table.c.notice_id)
    query = query.where(match_table.c.member_id.in_(list(tastes)))
    if pending_only:
        query = query.where(match_table.c.notified_at.is_(None))
    changes = []
    for match_id, member_id, score, base_score, data in connection.execute(query):
        base = score if base_score is None else base_score
        new_score = tastes[member_id].adjust(base, likeness(data))
        if new_score != score or base_score is None:
            changes.append({"match_id": match_id, "new_score": new_score, "new_base": base})
    if changes:
        connection.execute(
            match_table.update()
            .where(match_table.c.id == sa.bindparam("match_id"))
            .values(score=sa.bindparam("new_score"), base_score=sa.bindparam("new_base")),
            changes,
        )
    return len(changes)


def record_feedback(engine: Engine, *, member_id: int, notice_id: int, verdict: Verdict) -> int:
    """Store a member's verdict on a notice (replacing an earlier one) and re-rank its waiting matches.

    Returns how many of the member's matches changed score.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    with engine.begin() as connection:
        updated = connection.execute(
            feedback_table.update()
            .where(feedback_table.c.member_id == member_id, feedback_table.c.notice_id == notice_id)
            .values(verdict=verdict, created_at=utcnow())
        ).rowcount
        if not updated:
            connection.execute(
                feedback_table.insert().values(
                    member_id=member_id, notice_id=notice_id, verdict=verdict, created_at=utcnow()
                )
            )
        return rescore(connection, [member_id])

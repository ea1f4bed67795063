"""Partner search: for a tender and a member, the firms that have what the member lacks, lot by lot.

A member sees the interested firms only, by pseudonym, and only what each wrote on its interest in the
tender (brings, lacks, role, lots): their catalogues rank them, but are never quoted, since in a cluster of
180 firms a few codes, regions and words single one out. Staff see every active firm, by name. A firm is
never proposed for what it said it lacks on the tender, and one that flagged a lot is proposed for it. Firms are
found through an index of competences by CPV prefix and word (`CompetenceIndex`, kept between searches
until a member or a catalogue changes), so a search among thousands of firms touches only the few that
can answer, with the same answer as a plain scan measuring every firm (`Scan`, `competences.coverage`).
Reasons quote only the tender's codes and words and the member's own words: never what else a firm does.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.codelists import cpv_label

from .catalogue import FirmSummary, firm_summaries, load_competences, member_table
from .competences import (
    Competences,
    Coverage,
    Gap,
    Phrase,
    coverage,
    covers,
    cpv_prefix,
    gap,
    in_region,
    phrase_in,
    words,
)
from .errors import ConsortiumError
from .models import catalogue_table
from .pseudonyms import pseudonyms
from .records import InterestRecord, interests, require_member
from .tenders import Lot, Tender, load_tender
from .views import (
    MemberCandidate,
    MemberLotPartners,
    MemberPartnerSearch,
    StaffCandidate,
    StaffLotPartners,
    StaffPartnerSearch,
    TenderInfo,
)

LIMIT = 10


class Matcher(Protocol):
    """Finds the firms that fill a gap, with how; `CompetenceIndex`, or a plain scan to compare with."""

    def matching(self, wanted: Gap) -> dict[int, Coverage]: ...


class MatcherFactory(Protocol):
    def __call__(self, competences: Mapping[int, Competences]) -> Matcher: ...


class Scan:
    """The plain scan: every firm measured against every gap (the baseline the index is checked against)."""

    def __init__(self, competences: Mapping[int, Competences]) -> None:
        self.competences = competences

    def matching(self, wanted: Gap) -> dict[int, Coverage]:
        found = {member: coverage(firm, wanted) for member, firm in self.competences.items()}
        return {member: measured for member, measured in found.items() if measured}


class CompetenceIndex:
    """Firms by the prefixes of their CPV codes and by the words of their keywords.

    A gap is answered from the postings alone: the firms that cover a code are those filed under one of
    its heads, those that do part of it are filed under its prefix; a phrase is checked only against the
    lots that contain its first two words (or lacked phrases that share a word with it). Same answer as
    `Scan`, in the same order.
    """

    def __init__(self, competences: Mapping[int, Competences]) -> None:
        self.competences = competences
        self.by_prefix: dict[str, set[int]] = defaultdict(set)
        """A firm under the significant prefix of each of its codes: the codes it covers start with it."""
        self.by_head: dict[str, set[int]] = defaultdict(set)
        """A firm under every head of each of its codes: a lot code whose prefix is a head covers it."""
        self.by_start: dict[Phrase, list[tuple[int, int, Phrase]]] = defaultdict(list)
        """(firm, rank of the phrase among the firm's, phrase) under the phrase's first two words."""
        self.by_word: dict[str, list[tuple[int, Phrase]]] = defaultdict(list)
        """(firm, phrase) under every word of the phrase."""
        for member, firm in competences.items():
            for code in firm.cpv:
                self.by_prefix[cpv_prefix(code)].add(member)
                for width in range(2, 9):
                    self.by_head[code[:width]].add(member)
            for position, phrase in enumerate(firm.phrases):
                self.by_start[phrase[:2]].append((member, position, phrase))
                for word in set(phrase):
                    self.by_word[word].append((member, phrase))

    def matching(self, wanted: Gap) -> dict[int, Coverage]:
        result: dict[int, Coverage] = defaultdict(Coverage)
        for code in wanted.cpv:
            full: set[int] = set()
            for width in range(2, 9):
                full |= self.by_prefix.get(code[:width], set())
            for member in full:
                result[member].full.append(code)
            for member in self.by_head.get(cpv_prefix(code), set()) - full:
                result[member].partial.append(code)
        if wanted.text:
            text = wanted.need.text
            found: dict[int, set[tuple[int, Phrase]]] = defaultdict(set)
            starts = {text[i : i + width] for width in (1, 2) for i in range(len(text) - width + 1)}
            for start in starts:
                for member, position, phrase in self.by_start.get(start, ()):
                    if len(phrase) <= 2 or phrase_in(phrase, text):
                        found[member].add((position, phrase))
            for member, phrases in found.items():
                result[member].text = [phrase for _, phrase in sorted(phrases)]
        for lacked in wanted.phrases:
            has: set[int] = set()
            for word in set(lacked):
                for member, phrase in self.by_word.get(word, ()):
                    if member not in has and (phrase_in(lacked, phrase) or phrase_in(phrase, lacked)):
                        has.add(member)
                        result[member].lacked.append(lacked)
        return dict(result)


@dataclass(frozen=True)
class Ranked:
    member_id: int
    score: float
    reasons: list[str]


@dataclass(frozen=True)
class LotResult:
    lot: Lot
    gap: Gap
    lacks_keywords: list[str]
    ranked: list[Ranked]


def declared(record: InterestRecord | None) -> Competences:
    """What a firm declared it brings to a tender, as competences."""
    if record is None:
        return Competences()
    return Competences.of(cpv=record.brings_cpv, keywords=record.brings_keywords, regions=())


def _reasons(lot: Lot, wanted: Gap, found: Coverage, lacks_keywords: Sequence[str]) -> list[str]:
    """Why a firm fills the gap, in the tender's words and the member's own: never the firm's."""
    reasons = [f"does CPV {code}{_label(code)}" for code in found.full]
    reasons += [f"does part of CPV {code}{_label(code)}" for code in found.partial]
    reasons += [f"'{wanted.need.quote(phrase)}' in lot {lot.id}" for phrase in found.text]
    by_phrase = {words(keyword): keyword for keyword in lacks_keywords}
    reasons += [f"has '{by_phrase.get(phrase, ' '.join(phrase))}', which you lack" for phrase in found.lacked]
    return reasons


def _label(code: str) -> str:
    label = cpv_label(code, "en")
    return f" ({label})" if label else ""


def lacks_part(record: InterestRecord | None, lot: Lot) -> bool:
    """Whether a firm said it lacks part of a lot: a code related to one of the lot's, or words of its title."""
    if record is None:
        return False
    phrases = (p for p in (words(k) for k in record.lacks_keywords) if p)
    return any(_related(c, lot) for c in record.lacks_cpv) or any(phrase_in(p, lot.need.text) for p in phrases)


def takes_on(record: InterestRecord, lot: Lot) -> bool:
    """A firm takes a lot on when it flagged it (or the whole tender) and did not say it lacks part of it."""
    return record.takes(lot.key) and not lacks_part(record, lot)


def refrained(found: Coverage, record: InterestRecord | None) -> Coverage:
    """What a firm fills of a gap, less what it said it lacks on this tender: its word on the tender wins
    over a catalogue that claims more."""
    if record is None or not (record.lacks_cpv or record.lacks_keywords):
        return found
    lacked = [p for p in (words(k) for k in record.lacks_keywords) if p]

    def lacks_code(code: str) -> bool:
        return any(covers(c, code) or covers(code, c) for c in record.lacks_cpv)

    def lacks_phrase(phrase: Phrase) -> bool:
        return any(phrase_in(p, phrase) or phrase_in(phrase, p) for p in lacked)

    return Coverage(
        full=[c for c in found.full if not lacks_code(c)],
        partial=[c for c in found.partial if not lacks_code(c)],
        text=[p for p in found.text if not lacks_phrase(p)],
        lacked=[p for p in found.lacked if not lacks_phrase(p)],
    )


def _filling(pool: Pool, wanted: Gap, interested: Mapping[int, InterestRecord]) -> dict[int, Coverage]:
    """The firms of `pool` that fill part of a gap with what they do not say they lack, and how."""
    found = {member: refrained(c, interested.get(member)) for member, c in pool.matcher.matching(wanted).items()}
    return {member: c for member, c in found.items() if c}


def rank(
    tender: Tender,
    *,
    own: Competences,
    own_interest: InterestRecord | None,
    pool: Pool,
    told: Pool | None = None,
    interested: Mapping[int, InterestRecord],
    order: Mapping[int, str] | None,
    lots: Sequence[Lot],
    limit: int,
) -> list[LotResult]:
    """For each of `lots` where `own` lacks something, the firms that fill it, best first.

    `told` is what may be said of each firm: for a member, what the firms declared on the tender; for staff
    (None), the pool itself. A firm is proposed when what may be said of it fills part of the gap, or when
    it takes the lot on (`takes_on`); reasons quote only that. The score, from `pool` (catalogues
    included), is the share of lacking codes covered (a part counts half), plus for the lot's words, the
    words the member lacks, an interest in the lot, seeking partners, a complementary role and working in
    the lot's place. Ties go by `order` (pseudonyms for a member, so the order says nothing of who), or for
    staff (None) by member id, the order firms joined.
    """
    lacks_cpv = own_interest.lacks_cpv if own_interest else ()
    lacks_keywords = list(own_interest.lacks_keywords) if own_interest else []
    lacked_phrases = [p for p in (words(k) for k in lacks_keywords) if p]
    own_role = own_interest.role if own_interest else None
    said = told or pool
    results = []
    for lot in lots:
        wanted = gap(own, lot.need, lacks_cpv=placed_lacks(tender, lot, lacks_cpv), lacks=lacked_phrases)
        if not wanted:
            continue
        found = _filling(pool, wanted, interested)
        quoted = found if told is None else _filling(told, wanted, interested)
        proposed = set(quoted) | {member for member, record in interested.items() if takes_on(record, lot)}
        codes, places, nothing = len(wanted.cpv), lot.need.places, Competences()
        scores = {
            member: round(
                (found[member].score(codes) if member in found else 0.0)
                + _extra(lot, own_role, interested.get(member))
                + 0.2 * bool(in_region(pool.competences.get(member, nothing).regions, places)),
                3,
            )
            for member in proposed
        }
        if order is None:
            best = heapq.nsmallest(limit, scores, key=lambda member: (-scores[member], member))
        else:
            best = heapq.nsmallest(limit, scores, key=lambda member: (-scores[member], order[member]))
        ranked = [
            Ranked(
                member,
                scores[member],
                _reasons(lot, wanted, quoted.get(member, Coverage()), lacks_keywords)
                + _context(lot, interested.get(member), own_role, said.competences.get(member, nothing)),
            )
            for member in best
        ]
        results.append(LotResult(lot, wanted, lacks_keywords, ranked))
    return results


def _extra(lot: Lot, own_role: str | None, record: InterestRecord | None) -> float:
    if record is None:
        return 0.0
    return 0.3 * record.takes(lot.key) + 0.2 * record.seeks_partners + 0.2 * _complements(own_role, record)


def _complements(own_role: str | None, record: InterestRecord) -> bool:
    return own_role is not None and (own_role == "lead") != (record.role == "lead")


def _context(lot: Lot, record: InterestRecord | None, own_role: str | None, firm: Competences) -> list[str]:
    """The reasons beyond competences: the firm's interest, role, and place (the lot's own)."""
    reasons = []
    if record is not None:
        if record.takes(lot.key):
            reasons.append("interested in the whole tender" if not record.lots else f"interested in lot {lot.id}")
        if record.seeks_partners:
            reasons.append("seeks partners")
        if _complements(own_role, record):
            reasons.append("would lead" if record.role == "lead" else f"would join as {record.role}")
    place = in_region(firm.regions, lot.need.places)
    if place:
        reasons.append(f"works in {place}")
    return reasons


def uncovered_lots(tender: Tender, interested: Mapping[int, InterestRecord], taken: Collection[str] = ()) -> list[str]:
    """Lots no interested firm has taken on (`takes_on`), nor the searching member (`taken`: the keys of
    the lots it flagged and lacks nothing of). Only what the firms declared counts, which every member reads
    in the entries: the list tells nothing of a catalogue."""
    return [
        lot.id
        for lot in tender.lots
        if lot.key not in taken and not any(takes_on(record, lot) for record in interested.values())
    ]


def _related(code: str, lot: Lot) -> bool:
    return any(covers(code, c) or covers(c, code) for c in lot.cpv)


def placed_lacks(tender: Tender, lot: Lot, lacks_cpv: Sequence[str]) -> list[str]:
    """The codes a member said it lacks that concern this lot: those related to its codes (one covering
    the other), and those related to no lot of the tender at all."""
    return [c for c in lacks_cpv if _related(c, lot) or not any(_related(c, other) for other in tender.lots)]


def _scope(tender: Tender, record: InterestRecord | None) -> list[Lot]:
    """The lots a member looks for partners on: those it flagged (all when it named none), and those
    the codes it said it lacks concern."""
    if record is None or not record.lots:
        return list(tender.lots)
    return [lot for lot in tender.lots if lot.key in record.lots or any(_related(c, lot) for c in record.lacks_cpv)]


class Overlay:
    """The index of every firm's catalogue, with some firms' competences replaced (what they declared on a
    tender merged in) and some left out (the member searching, a group's own firms)."""

    def __init__(self, base: CompetenceIndex, changed: Mapping[int, Competences], left_out: set[int]) -> None:
        self.base = base
        self.changed = CompetenceIndex(changed)
        self.hidden = set(changed) | left_out

    def matching(self, wanted: Gap) -> dict[int, Coverage]:
        found = {member: c for member, c in self.base.matching(wanted).items() if member not in self.hidden}
        found.update(self.changed.matching(wanted))
        return found


_KEPT = 4
_CATALOGUES: dict[str, tuple[tuple[object, ...], dict[int, Competences], CompetenceIndex]] = {}


def _catalogue_version(connection: Connection) -> tuple[object, ...]:
    """What changes whenever a firm is added, removed or changed, or its catalogue is."""
    return tuple(
        connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(column), 0), sa.func.max(table.c.updated_at))
        ).one()
        for table, column in ((member_table, member_table.c.id), (catalogue_table, catalogue_table.c.member_id))
    )


def catalogue_index(connection: Connection) -> tuple[dict[int, Competences], CompetenceIndex]:
    """Every active firm's competences and their index, built once per database and kept until a member or
    a catalogue changes (a search then costs two small queries, not a read of every firm)."""
    key = connection.engine.url.render_as_string(hide_password=True)
    version = _catalogue_version(connection)
    cached = _CATALOGUES.get(key)
    if cached is None or cached[0] != version:
        competences = load_competences(connection)
        cached = (version, competences, CompetenceIndex(competences))
        _CATALOGUES.pop(key, None)
        while len(_CATALOGUES) >= _KEPT:  # the oldest database first (tests open many)
            _CATALOGUES.pop(next(iter(_CATALOGUES)))
        _CATALOGUES[key] = cached
    return cached[1], cached[2]


@dataclass(frozen=True)
class Pool:
    """The firms a search looks among: what each has (declared competences merged in), and how to find them."""

    competences: Mapping[int, Competences]
    matcher: Matcher


def every_firm(
    connection: Connection,
    interested: Mapping[int, InterestRecord],
    left_out: set[int],
    matcher: MatcherFactory | None = None,
) -> Pool:
    """Every active firm but those left out (staff searches), through the kept index unless `matcher` is
    given (a `Scan`, to compare)."""
    base, index = catalogue_index(connection)
    changed = {
        member: base[member].merged(declared(record))
        for member, record in interested.items()
        if member in base and member not in left_out
    }
    competences = {member: firm for member, firm in base.items() if member not in left_out} | changed
    if matcher is not None:
        return Pool(competences, matcher(competences))
    return Pool(competences, Overlay(index, changed, left_out))


def _search_state(
    connection: Connection, tender: Tender, member_id: int | None, *, everyone: bool, matcher: MatcherFactory | None
) -> tuple[Competences, InterestRecord | None, dict[int, InterestRecord], Pool]:
    """The member's competences and interest, the interests of the others, and the firms to search."""
    interested = interests(connection, tender)
    own_interest = interested.pop(member_id, None) if member_id is not None else None
    own = Competences()
    if member_id is not None:
        own = load_competences(connection, [member_id]).get(member_id, Competences()).merged(declared(own_interest))
    if everyone:
        pool = every_firm(connection, interested, {member_id} if member_id is not None else set(), matcher)
    else:
        competences = {
            member: firm.merged(declared(interested[member]))
            for member, firm in load_competences(connection, interested).items()
        }
        pool = Pool(competences, (matcher or CompetenceIndex)(competences))
    return own, own_interest, interested, pool


def partner_search(
    engine: Engine, *, tender: str | int, member_id: int, limit: int = LIMIT, matcher: MatcherFactory | None = None
) -> MemberPartnerSearch:
    """A member's partner search: the interested firms that have what it lacks, by pseudonym."""
    with engine.connect() as connection:
        found = load_tender(connection, tender)
        require_member(connection, member_id)
        own, own_interest, interested, pool = _search_state(
            connection, found, member_id, everyone=False, matcher=matcher
        )
        names = pseudonyms(connection, found, interested)
    said = {member: declared(record) for member, record in interested.items()}
    lots = _scope(found, own_interest)
    results = rank(
        found,
        own=own,
        own_interest=own_interest,
        pool=pool,
        told=Pool(said, (matcher or CompetenceIndex)(said)),
        interested=interested,
        order=names,
        lots=lots,
        limit=limit,
    )
    return MemberPartnerSearch(
        tender=TenderInfo.of(found),
        lots=[
            MemberLotPartners(
                lot_id=result.lot.id,
                title=result.lot.title,
                lacking_cpv=list(result.gap.cpv),
                lacking_keywords=result.lacks_keywords,
                candidates=[
                    MemberCandidate(
                        pseudonym=names[r.member_id],
                        reasons=r.reasons,
                        role=interested[r.member_id].role,  # type: ignore[arg-type]
                        interested_in_lot=interested[r.member_id].takes(result.lot.key),
                        seeks_partners=interested[r.member_id].seeks_partners,
                    )
                    for r in result.ranked
                ],
            )
            for result in results
        ],
        covered_lots=_covered(lots, results),
        uncovered_lots=uncovered_lots(found, interested, _taken(lots, results, own_interest)),
    )


def _covered(lots: Sequence[Lot], results: Sequence[LotResult]) -> list[str]:
    lacking = {result.lot.key for result in results}
    return [lot.id for lot in lots if lot.key not in lacking]


def _taken(lots: Sequence[Lot], results: Sequence[LotResult], own_interest: InterestRecord | None) -> set[str]:
    """The keys of the lots the searching member takes on: flagged, and lacking nothing there."""
    if own_interest is None:
        return set()
    lacking = {result.lot.key for result in results}
    return {lot.key for lot in lots if lot.key not in lacking and takes_on(own_interest, lot)}


def staff_partner_search(
    engine: Engine,
    *,
    tender: str | int,
    member_id: int | None = None,
    limit: int = LIMIT,
    matcher: MatcherFactory | None = None,
) -> StaffPartnerSearch:
    """Partner search as staff see it: every active firm, interested or not, named; without a member,
    the firms for each lot of the tender."""
    with engine.connect() as connection:
        found = load_tender(connection, tender)
        own, own_interest, interested, pool = _search_state(
            connection, found, member_id, everyone=True, matcher=matcher
        )
        names = pseudonyms(connection, found, interested)
        lots = _scope(found, own_interest)
        results = rank(
            found,
            own=own,
            own_interest=own_interest,
            pool=pool,
            interested=interested,
            order=None,
            lots=lots,
            limit=limit,
        )
        shown = {r.member_id for result in results for r in result.ranked}
        details = firm_summaries(connection, shown | ({member_id} if member_id is not None else set()))
    if member_id is not None and member_id not in details:
        raise ConsortiumError(f"no member {member_id}")
    return StaffPartnerSearch(
        tender=TenderInfo.of(found),
        member_id=member_id,
        name=details[member_id].name if member_id is not None else None,
        lots=staff_lots(results, details, interested, names, pool.competences),
        covered_lots=_covered(lots, results),
        uncovered_lots=uncovered_lots(found, interested, _taken(lots, results, own_interest)),
    )


def staff_lots(
    results: Sequence[LotResult],
    details: Mapping[int, FirmSummary],
    interested: Mapping[int, InterestRecord],
    names: Mapping[int, str],
    pool: Mapping[int, Competences],
) -> list[StaffLotPartners]:
    """The staff shape of ranked results: names, catalogue details, interest."""
    return [
        StaffLotPartners(
            lot_id=result.lot.id,
            title=result.lot.title,
            lacking_cpv=list(result.gap.cpv),
            lacking_keywords=result.lacks_keywords,
            candidates=[
                StaffCandidate(
                    member_id=r.member_id,
                    name=details[r.member_id].name,
                    interested=r.member_id in interested,
                    pseudonym=names.get(r.member_id),
                    score=r.score,
                    reasons=r.reasons,
                    role=interested[r.member_id].role if r.member_id in interested else None,
                    regions=list(pool[r.member_id].regions) if r.member_id in pool else [],
                    certifications=details[r.member_id].certifications,
                    size_band=details[r.member_id].size_band,
                )
                for r in result.ranked
            ],
        )
        for result in results
    ]

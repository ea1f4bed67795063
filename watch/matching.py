"""What a profile matches (docs/matching.md), with a score and the reasons, at notice and lot level.

Two ways to the same answer. `ProfileIndex` is what routing uses: inverted indexes over the profiles
(CPV prefix → profiles, first keyword stem → profiles, notice type → profiles) give, for one notice, the
few profiles that can match it, and only those are judged. `profile_matches` judges one profile against
one notice from scratch: the reference the index is tested against, and the naive loop of the benchmark.
Both end in the same `_Compiled.judge`, so they cannot disagree on a rule.

The score orders a member's matches; it is in [0, 1]: each piece of evidence (a CPV code under one of the
profile's codes, a keyword in a field) has a strength, and the score is their noisy-or, `1 - Π(1 - s)`, so
more evidence ranks higher and none alone reaches 1. Strengths: a CPV code 0.55 for a division-wide
profile code, up to 0.85 for an exact 8-digit one (the narrower the firm's code, the surer the fit), times
0.9 when the code is not the main one, 0.85 when only a lot has it, 0.8 × confidence when inferred from
the text; a keyword 0.6 in the title, 0.5 in a lot title, 0.35 in the description, 0.1 more for a phrase.
A notice placed by its buyer's country only (no place of performance) counts 0.9 of its score for a
profile with regions; one placed nowhere (no NUTS, no buyer country: some feed entries) is in none of a
profile's regions (§6), so only profiles without regions receive it. Feedback then moves the score
(watch/feedback.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .reasons import Reason
from .text import Field, contains_phrase, fold, stemmer, words

DEFAULT_NOTICE_TYPES = ("contract-notice", "prior-information")
NUTS_COUNTRY = {"GR": "EL", "GB": "UK"}
"""ISO country → the NUTS code of that country, where they differ."""

_FIELD_STRENGTH = {"title": 0.6, "lot": 0.5, "description": 0.35}


def cpv_prefix(code: str) -> str:
    """The prefix a profile code covers: trailing zeros end it, a division (2 digits) at least.

    >>> cpv_prefix("72000000"), cpv_prefix("45454100"), cpv_prefix("30000000"), cpv_prefix("03000000")
    ('72', '454541', '30', '03')
    """
    return code[: max(2, len(code.rstrip("0")))]


def nuts_code(code: str) -> str:
    """A NUTS code or country as compared: upper case, `GR` → `EL` and `GB` → `UK` (NUTS's own names)."""
    code = code.strip().upper()
    return NUTS_COUNTRY.get(code[:2], code[:2]) + code[2:]


@dataclass(frozen=True)
class ProfileSpec:
    """What a profile watches (the `watch_profile` columns matching needs)."""

    id: int
    member_id: int
    cpv: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    value_min: float | None = None
    value_max: float | None = None
    notice_types: tuple[str, ...] = ()
    procedure_types: tuple[str, ...] = ()

    @classmethod
    def of(cls, profile: Any) -> ProfileSpec:
        """From a `watch.models.Profile` (or anything with the same attributes)."""
        return cls(
            id=profile.id,
            member_id=profile.member_id,
            cpv=tuple(profile.cpv),
            keywords=tuple(profile.keywords),
            exclude=tuple(profile.exclude),
            regions=tuple(profile.regions),
            value_min=profile.value_min,
            value_max=profile.value_max,
            notice_types=tuple(profile.notice_types),
            procedure_types=tuple(profile.procedure_types),
        )


@dataclass(frozen=True)
class Hit:
    """A profile that matches a notice: the score, the reasons (watch/reasons.py), and the lots that matched
    on their own."""

    profile_id: int
    member_id: int
    score: float
    reasons: tuple[Reason, ...]
    lot_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeInfo:
    """Where a CPV code is in a notice."""

    main: bool = False
    procedure: bool = False
    """At procedure level (the main code, or an additional one that no lot repeats)."""
    lots: tuple[str, ...] = ()
    inferred: float | None = None
    """The confidence, when the code was inferred from the text (watch/cpv, by routing)."""


@dataclass(frozen=True)
class LotFacts:
    id: str
    codes: frozenset[str]
    nuts: tuple[str, ...]
    value: float | None
    field: int | None
    """Index in `NoticeFacts.fields` of the lot's title, if it has one of its own."""


@dataclass
class NoticeFacts:
    """A notice prepared once for matching against any number of profiles."""

    notice_type: str
    procedure: str | None
    language: str
    fields: tuple[Field, ...]
    codes: dict[str, CodeInfo]
    nuts: tuple[str, ...]
    """Where the notice is placed: its NUTS codes, or its buyer's country when it has none."""
    procedure_nuts: tuple[str, ...]
    """The codes no lot names (a place for the whole procedure)."""
    placed_by_buyer: bool
    lots: tuple[LotFacts, ...]
    value: float | None
    currency: str | None
    stem_fields: dict[str, list[int]] = field(default_factory=dict)
    """Each stem → the fields it occurs in."""

    @property
    def multi_lot(self) -> bool:
        return len(self.lots) > 1

    @cached_property
    def nuts_prefixes(self) -> frozenset[str]:
        """Every prefix of the notice's places (`BE241` → BE, BE2, BE24, BE241)."""
        return frozenset(prefix for code in self.nuts for prefix in _prefixes(code))

    @cached_property
    def nuts_lots(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = defaultdict(list)
        for lot in self.lots:
            for code in lot.nuts:
                found[code].append(lot.id)
        return {code: tuple(ids) for code, ids in found.items()}


def notice_facts(data: Mapping[str, Any], *, inferred: Sequence[tuple[str, float]] = ()) -> NoticeFacts:
    """Prepare a §2 notice (its JSON dict) for matching; `inferred` CPV codes count when it has none."""
    languages = data.get("languages") or []
    language = languages[0] if languages else ""
    stems = stemmer(language)
    title = data["title"]
    fields = [Field("the title", tuple(stems.content_stems(title)))]
    if data.get("description"):
        fields.append(Field("the description", tuple(stems.content_stems(data["description"]))))
    seen_titles = {fold(title)}
    raw_lots = data.get("lots") or []
    lots = []
    codes: dict[str, CodeInfo] = {}
    lot_codes: dict[str, list[str]] = defaultdict(list)
    for lot in raw_lots:
        lot_title = lot.get("title")
        field_index = None
        if lot_title and fold(lot_title) not in seen_titles:
            seen_titles.add(fold(lot_title))
            field_index = len(fields)
            fields.append(Field(f"the title of lot {lot['id']}", tuple(stems.content_stems(lot_title)), lot["id"]))
        own = [c for c in [lot.get("cpv_main"), *(lot.get("cpv_additional") or [])] if c]
        for code in own:
            lot_codes[code].append(lot["id"])
        lots.append(
            LotFacts(
                id=lot["id"],
                codes=frozenset(own),
                nuts=tuple(nuts_code(n) for n in lot.get("nuts") or []),
                value=lot.get("estimated_value"),
                field=field_index,
            )
        )
    main = data.get("cpv_main")
    for code in [main, *(data.get("cpv_additional") or [])]:
        if code:
            codes[code] = CodeInfo(
                main=code == main,
                procedure=code == main or code not in lot_codes,
                lots=tuple(dict.fromkeys(lot_codes.get(code, ()))),
            )
    for code, ids in lot_codes.items():
        codes.setdefault(code, CodeInfo(lots=tuple(dict.fromkeys(ids))))
    if not codes:
        for code, confidence in inferred:
            codes[code] = CodeInfo(procedure=True, inferred=confidence)
    nuts = tuple(nuts_code(n) for n in data.get("nuts") or [])
    in_lots = {code for lot in lots for code in lot.nuts}
    buyer_country = (data.get("buyer") or {}).get("country")
    placed_by_buyer = not nuts and bool(buyer_country)
    if buyer_country and placed_by_buyer:
        nuts = (nuts_code(buyer_country),)
    facts = NoticeFacts(
        notice_type=data["notice_type"],
        procedure=data.get("procedure"),
        language=language,
        fields=tuple(fields),
        codes=codes,
        nuts=nuts,
        procedure_nuts=nuts if placed_by_buyer else tuple(code for code in nuts if code not in in_lots),
        placed_by_buyer=placed_by_buyer,
        lots=tuple(lots),
        value=data.get("estimated_value"),
        currency=data.get("currency"),
    )
    stem_fields = facts.stem_fields
    for index, text_field in enumerate(facts.fields):
        for stem in dict.fromkeys(text_field.stems):
            places = stem_fields.get(stem)
            if places is None:
                stem_fields[stem] = [index]
            else:
                places.append(index)
    return facts


def _prefixes(code: str) -> Iterable[str]:
    return (code[:k] for k in range(2, len(code) + 1))


def _stemmed(phrases: Sequence[tuple[str, ...]], language: str) -> tuple[tuple[str, ...], ...]:
    """Folded words of keywords → their stems in a language, linking words left out (`Stemmer.content_stems`
    of each keyword, without folding and cutting it again for every language)."""
    stems = stemmer(language)
    stopwords, stem = stems.stopwords, stems.stem
    return tuple(tuple(stem(word) for word in phrase if word not in stopwords) for phrase in phrases)


_KeywordGroup = tuple[tuple[str, ...], list[tuple[int, int]]]
"""All the stems of a keyword, and the (profile, index of the keyword) pairs that have it."""


def _first_descending(item: tuple[float, Reason]) -> float:
    return -item[0]


CpvHit = tuple[int, str]
"""(index of the profile's code, notice code)"""
KeywordHit = tuple[int, int]
"""(index of the profile's keyword, index of the notice field)"""


class _Compiled:
    """A profile made ready to judge notices: prefixes, normalized regions, stems per language."""

    def __init__(self, spec: ProfileSpec) -> None:
        self.spec = spec
        self.prefixes = tuple(cpv_prefix(code) for code in spec.cpv)
        self.strengths = tuple(min(0.85, 0.55 + 0.05 * (len(prefix) - 2)) for prefix in self.prefixes)
        """The strength of a code found under each profile code: the narrower the firm's code, the surer."""
        self.regions = frozenset(nuts_code(r) for r in spec.regions)
        self.region_prefixes = frozenset(p for r in self.regions for p in _prefixes(r))
        self.types = frozenset(spec.notice_types or DEFAULT_NOTICE_TYPES)
        self.procedures = frozenset(spec.procedure_types)
        self.ranged = spec.value_min is not None or spec.value_max is not None
        # Folded words once per profile; per language only the (remembered) stemming is left to do.
        self._keyword_words = tuple(tuple(words(k)) for k in spec.keywords)
        self._exclude_words = tuple(tuple(words(k)) for k in spec.exclude)
        self._keywords: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._exclude: dict[str, tuple[tuple[str, ...], ...]] = {}

    def keywords(self, language: str) -> tuple[tuple[str, ...], ...]:
        found = self._keywords.get(language)
        if found is None:
            found = self._keywords[language] = _stemmed(self._keyword_words, language)
        return found

    def exclusions(self, language: str) -> tuple[tuple[str, ...], ...]:
        found = self._exclude.get(language)
        if found is None:
            found = self._exclude[language] = _stemmed(self._exclude_words, language)
        return found

    def excludes(self, facts: NoticeFacts) -> bool:
        """Whether an excluded word or phrase of the profile is in the notice."""
        for stems in self.exclusions(facts.language):
            if stems and any(
                contains_phrase(facts.fields[index].stems, stems) for index in facts.stem_fields.get(stems[0], ())
            ):
                return True
        return False

    def place(self, codes: Iterable[str]) -> str | None:
        """The first code that is a prefix of a region of the profile, or has one as its prefix."""
        for code in codes:
            if code in self.region_prefixes or any(p in self.regions for p in _prefixes(code)):
                return code
        return None

    def naive_hits(self, facts: NoticeFacts) -> tuple[list[CpvHit], list[KeywordHit]]:
        """The CPV and keyword evidence, looking at every code and keyword of the profile."""
        cpv = [(i, code) for i, prefix in enumerate(self.prefixes) for code in facts.codes if code.startswith(prefix)]
        keywords = [
            (i, index)
            for i, stems in enumerate(self.keywords(facts.language))
            if stems
            for index in facts.stem_fields.get(stems[0], ())
            if contains_phrase(facts.fields[index].stems, stems)
        ]
        return cpv, keywords

    def judge(
        self, facts: NoticeFacts, cpv: list[CpvHit], keywords: list[KeywordHit], *, excluded: bool | None = None
    ) -> Hit | None:
        """The match, if the notice passes every rule of §6 given its CPV and keyword evidence; `excluded` when
        the caller already knows whether an excluded word is in the notice (the index finds them all at once)."""
        if not (cpv or keywords) or facts.notice_type not in self.types:
            return None
        if self.procedures and facts.procedure and facts.procedure not in self.procedures:
            return None
        if self.ranged and not self._value_fits(facts.value):
            return None
        place = None
        # §6: a notice placed nowhere (no NUTS, no buyer country) is in none of the regions
        if self.regions and not (self.regions & facts.nuts_prefixes or self.region_prefixes.intersection(facts.nuts)):
            return None
        if excluded if excluded is not None else self.excludes(facts):
            return None
        if self.regions:
            place = self.place(facts.nuts)
        lot_ids = self._lots(facts, cpv, keywords) if facts.multi_lot else ()
        if self.regions and lot_ids:
            place = self.place(n for lot in facts.lots if lot.id in lot_ids for n in lot.nuts) or place
        return self._hit(facts, cpv, keywords, place, lot_ids)

    def _value_fits(self, value: float | None) -> bool:
        spec = self.spec
        if value is None:
            return True
        return not (
            (spec.value_min is not None and value < spec.value_min)
            or (spec.value_max is not None and value > spec.value_max)
        )

    def _lots(self, facts: NoticeFacts, cpv: list[CpvHit], keywords: list[KeywordHit]) -> tuple[str, ...]:
        """The lots of a notice in lots that match on their own: what, where and how much."""
        if not facts.multi_lot:
            return ()
        codes = {code for _, code in cpv}
        fields = {index for _, index in keywords}
        found = []
        for lot in facts.lots:
            if not (lot.codes & codes or lot.field in fields):
                continue
            lot_places = lot.nuts or facts.procedure_nuts or facts.nuts
            if self.regions and lot_places and self.place(lot_places) is None:
                continue
            if self._value_fits(lot.value):
                found.append(lot.id)
        return tuple(found)

    def _hit(
        self,
        facts: NoticeFacts,
        cpv: list[CpvHit],
        keywords: list[KeywordHit],
        place: str | None,
        lot_ids: tuple[str, ...],
    ) -> Hit:
        strengths: list[float] = []
        reasons: list[Reason] = []
        if len(cpv) == 1:  # the common case, without the sorting below (same result)
            strength, reason = self._cpv_evidence(facts, *cpv[0])
            strengths.append(strength)
            reasons.append(reason)
        elif cpv:
            best_cpv: dict[int, tuple[float, Reason]] = {}
            for i, code in sorted(cpv):
                strength, reason = self._cpv_evidence(facts, i, code)
                if i not in best_cpv or strength > best_cpv[i][0]:
                    best_cpv[i] = (strength, reason)
            for strength, reason in sorted(best_cpv.values(), key=_first_descending):
                strengths.append(strength)
                if len(reasons) < 2:
                    reasons.append(reason)
        if keywords:
            best_keyword: dict[int, tuple[float, Reason]] = {}
            keyword_stems = self.keywords(facts.language)
            for i, index in sorted(keywords) if len(keywords) > 1 else keywords:
                text_field = facts.fields[index]
                kind = "lot" if text_field.lot_id else ("title" if index == 0 else "description")
                strength = _FIELD_STRENGTH[kind] + (0.1 if len(keyword_stems[i]) > 1 else 0.0)
                if i not in best_keyword or strength > best_keyword[i][0]:
                    found: Reason = {"kind": "keyword", "keyword": self.spec.keywords[i], "field": kind}
                    if text_field.lot_id:
                        found["lot"] = text_field.lot_id
                    best_keyword[i] = (strength, found)
            shown = 0
            ranked = (
                best_keyword.values()
                if len(best_keyword) == 1
                else sorted(best_keyword.values(), key=_first_descending)
            )
            for strength, reason in ranked:
                strengths.append(strength)
                if shown < 3:
                    reasons.append(reason)
                    shown += 1
        score = 1.0
        for strength in strengths:
            score *= 1.0 - strength
        score = 1.0 - score
        if place is not None:
            reasons.append(self._place_reason(facts, place, lot_ids))
            if facts.placed_by_buyer:
                score *= 0.9
        if facts.value is not None and self.ranged:
            reasons.append({"kind": "value", "amount": facts.value, "currency": facts.currency})
        return Hit(self.spec.id, self.spec.member_id, round(score, 4), tuple(reasons), lot_ids)

    def _cpv_evidence(self, facts: NoticeFacts, i: int, code: str) -> tuple[float, Reason]:
        info = facts.codes[code]
        strength = self.strengths[i]
        reason: Reason = {"kind": "cpv", "code": code, "under": self.spec.cpv[i]}
        if info.inferred is not None:
            reason["confidence"] = round(info.inferred, 2)
            return strength * 0.8 * info.inferred, reason
        if info.main:
            return strength, reason
        if info.procedure or not facts.multi_lot:
            return strength * 0.9, reason
        reason["lots"] = list(info.lots)
        return strength * 0.85, reason

    @staticmethod
    def _place_reason(facts: NoticeFacts, place: str, lot_ids: tuple[str, ...]) -> Reason:
        if facts.placed_by_buyer:
            return {"kind": "buyer-place", "code": place}
        lots = facts.nuts_lots.get(place, ())
        if facts.multi_lot and lots and place not in facts.procedure_nuts:
            return {"kind": "place", "code": place, "lots": [lot for lot in lots if lot in lot_ids] or list(lots)}
        return {"kind": "place", "code": place}


def profile_matches(spec: ProfileSpec, notice: Mapping[str, Any], **facts_args: Any) -> Hit | None:
    """Judge one profile against one notice from scratch (the reference; slow in a loop)."""
    compiled = _Compiled(spec)
    facts = notice_facts(notice, **facts_args)
    return compiled.judge(facts, *compiled.naive_hits(facts))


_LAST_INDEX: dict[str, tuple[tuple[ProfileSpec, ...], ProfileIndex]] = {}


class ProfileIndex:
    """Every active profile, indexed so that a notice is judged only against the profiles it can match.

    For each notice type, a CPV prefix → the (profile, code) pairs it can be found under, and for each
    language and notice type, the first stem of a keyword → the keywords (stems) starting with it and the
    (profile, keyword) pairs that have it; excluded words likewise. A notice then looks up its own codes'
    prefixes and its own stems: the profiles it meets are those with evidence, and each phrase is looked for
    once for all the profiles that share it. Profiles that do not take the notice's type are never met. The
    indexes of a language or notice type are built on first use.
    """

    def __init__(self, profiles: Iterable[ProfileSpec]) -> None:
        self.profiles = [_Compiled(spec) for spec in profiles]
        self._cpv: dict[str, list[tuple[int, int]]] = defaultdict(list)
        by_type: dict[str, set[int]] = defaultdict(set)
        for p, compiled in enumerate(self.profiles):
            for i, prefix in enumerate(compiled.prefixes):
                self._cpv[prefix].append((p, i))
            for notice_type in compiled.types:
                by_type[notice_type].add(p)
        self._by_type = {notice_type: frozenset(found) for notice_type, found in by_type.items()}
        self._cpv_typed: dict[str, dict[str, tuple[tuple[int, int], ...]]] = {}
        self._keywords: dict[str, dict[str, list[_KeywordGroup]]] = {}
        self._keywords_typed: dict[tuple[str, str], dict[str, list[_KeywordGroup]]] = {}
        self._exclusions: dict[str, dict[str, list[tuple[tuple[str, ...], list[int]]]]] = {}
        self.judged = 0
        """How many (notice, profile) pairs were judged: the candidates the indexes left."""

    def __len__(self) -> int:
        return len(self.profiles)

    @classmethod
    def of(cls, profiles: Sequence[ProfileSpec]) -> ProfileIndex:
        """The index of these profiles: the one made last time when they are the same (routing runs every few
        minutes over profiles that rarely change, and the indexes of each language are then built already)."""
        key = tuple(profiles)
        last = _LAST_INDEX.get("index")
        if last is None or last[0] != key:
            last = _LAST_INDEX["index"] = (key, cls(key))
        return last[1]

    def _cpv_index(self, notice_type: str) -> dict[str, tuple[tuple[int, int], ...]]:
        """CPV prefix → (profile, index of its code), for the profiles taking a notice type."""
        found = self._cpv_typed.get(notice_type)
        if found is None:
            accepted = self._by_type.get(notice_type, frozenset())
            found = {}
            for prefix, pairs in self._cpv.items():
                kept = tuple(pair for pair in pairs if pair[0] in accepted)
                if kept:
                    found[prefix] = kept
            self._cpv_typed[notice_type] = found
        return found

    def _keyword_index(self, language: str) -> dict[str, list[tuple[tuple[str, ...], list[tuple[int, int]]]]]:
        """First stem → [(all the stems of a keyword, the (profile, keyword) pairs that have it)]."""
        found = self._keywords.get(language)
        if found is None:
            grouped: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
            for p, compiled in enumerate(self.profiles):
                for i, stems in enumerate(compiled.keywords(language)):
                    if stems:
                        grouped[stems].append((p, i))
            found = {}
            for stems, pairs in grouped.items():
                found.setdefault(stems[0], []).append((stems, pairs))
            self._keywords[language] = found
        return found

    def _typed_keywords(self, language: str, notice_type: str, stem: str) -> list[_KeywordGroup]:
        """The keyword groups of a first stem, kept to the profiles taking a notice type (`match` remembers them
        per stem: filtering the whole index for each language and type costs more than the notices it serves)."""
        accepted = self._by_type[notice_type]
        found = []
        for stems, pairs in self._keyword_index(language).get(stem, ()):
            kept = [pair for pair in pairs if pair[0] in accepted]
            if kept:
                found.append((stems, kept))
        return found

    def _exclusion_index(self, language: str) -> dict[str, list[tuple[tuple[str, ...], list[int]]]]:
        """First stem → [(all the stems of an excluded word or phrase, the profiles excluding it)]."""
        found = self._exclusions.get(language)
        if found is None:
            grouped: dict[tuple[str, ...], list[int]] = defaultdict(list)
            for p, compiled in enumerate(self.profiles):
                for stems in compiled.exclusions(language):
                    if stems:
                        grouped[stems].append(p)
            found = {}
            for stems, profiles in grouped.items():
                found.setdefault(stems[0], []).append((stems, profiles))
            self._exclusions[language] = found
        return found

    def match(self, facts: NoticeFacts) -> list[Hit]:
        """Every profile the notice matches."""
        if facts.notice_type not in self._by_type:
            return []
        cpv: dict[int, list[CpvHit]] = {}
        cpv_index = self._cpv_index(facts.notice_type)
        for code in facts.codes:
            for size in range(2, len(code) + 1):
                pairs = cpv_index.get(code[:size])
                if pairs:
                    for p, i in pairs:
                        found = cpv.get(p)
                        if found is None:
                            cpv[p] = [(i, code)]
                        else:
                            found.append((i, code))
        keywords: dict[int, list[KeywordHit]] = {}
        fields = facts.fields
        stem_fields = facts.stem_fields
        typed = self._keywords_typed.get((facts.language, facts.notice_type))
        if typed is None:
            typed = self._keywords_typed[(facts.language, facts.notice_type)] = {}
        for stem, places in stem_fields.items():
            groups = typed.get(stem)
            if groups is None:
                groups = typed[stem] = self._typed_keywords(facts.language, facts.notice_type, stem)
            if not groups:
                continue
            for stems, sharing in groups:
                where = places if len(stems) == 1 else [f for f in places if contains_phrase(fields[f].stems, stems)]
                if not where:
                    continue
                for p, i in sharing:
                    found_keywords = keywords.get(p)
                    if found_keywords is None:
                        found_keywords = keywords[p] = []
                    found_keywords.extend((i, place) for place in where)
        if not (cpv or keywords):
            return []
        excluded: set[int] = set()
        exclusion_index = self._exclusion_index(facts.language)
        if exclusion_index:
            for stem, places in stem_fields.items():
                for stems, excluding in exclusion_index.get(stem, ()):
                    if len(stems) == 1 or any(contains_phrase(fields[f].stems, stems) for f in places):
                        excluded.update(excluding)
        hits = []
        profiles = self.profiles
        candidates = sorted(cpv.keys() | keywords.keys())
        self.judged += len(candidates)
        for p in candidates:
            if p in excluded:
                continue
            hit = profiles[p].judge(facts, cpv.get(p, []), keywords.get(p, []), excluded=False)
            if hit is not None:
                hits.append(hit)
        return hits

    def match_naive(self, facts: NoticeFacts) -> list[Hit]:
        """The same answer as `match`, by judging every profile (the benchmark's fair baseline)."""
        hits = []
        for compiled in self.profiles:
            hit = compiled.judge(facts, *compiled.naive_hits(facts))
            if hit is not None:
                hits.append(hit)
        return hits

"""What a firm can do and what a lot needs, in comparable form: CPV prefixes and normalized word stems.

A CPV code covers its sub-codes (docs/matching.md): trailing zeros end the prefix, so `45000000` covers
`45111000`. A firm whose code is under a lot's code does part of it (`partial`). Words are compared
without case or accents, with plural endings cut, and a keyword phrase matches its words in order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from crawlers.parsers.fields import cpv_code

_WORD = re.compile(r"[^\W_]+")
Phrase = tuple[str, ...]
_SHORTEST_WORD = 2


def cpv_prefix(code: str) -> str:
    """The significant part of a CPV code: its trailing zeros cut, but never below the 2-digit division.

    >>> cpv_prefix("45000000"), cpv_prefix("45111000"), cpv_prefix("03000000"), cpv_prefix("45454110")
    ('45', '45111', '03', '4545411')
    """
    return code[:2] + code[2:].rstrip("0")


def covers(firm_code: str, lot_code: str) -> bool:
    """Whether a firm doing `firm_code` does all of `lot_code`.

    >>> covers("45000000", "45111000"), covers("45111000", "45000000"), covers("72000000", "72000000")
    (True, False, True)
    """
    return lot_code.startswith(cpv_prefix(firm_code))


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A word without case, accents and plural ending, so that `Éclairages` and `eclairage` compare equal.

    >>> stem("Éclairages"), stem("eclairage"), stem("Travaux"), stem("bus")
    ('eclairage', 'eclairage', 'travau', 'bus')
    """
    folded = unicodedata.normalize("NFKD", word.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    if len(plain) > 3 and plain[-1] in "sx":
        plain = plain[:-1]
    return plain


def word_pairs(text: str | None) -> tuple[tuple[str, str], ...]:
    """A text's words as written, each with its stem, in order (one-letter words left out).

    >>> word_pairs("Aménagements paysagers, lot n° 3")
    (('Aménagements', 'amenagement'), ('paysagers', 'paysager'), ('lot', 'lot'), ('3', '3'))
    """
    if not text:
        return ()
    pairs = ((w, stem(w)) for w in _WORD.findall(text))
    return tuple((w, s) for w, s in pairs if len(s) >= _SHORTEST_WORD or s.isdigit())


def words(text: str | None) -> tuple[str, ...]:
    """The stems of a text's words, in order.

    >>> words("Aménagements paysagers")
    ('amenagement', 'paysager')
    """
    return tuple(s for _, s in word_pairs(text))


def phrase_in(phrase: Sequence[str], text: Sequence[str]) -> bool:
    """Whether the words of `phrase` occur in `text` one after the other.

    >>> phrase_in(("basse", "tension"), words("Eclairage et Basse Tension"))
    True
    >>> phrase_in(("tension", "basse"), words("Eclairage et Basse Tension"))
    False
    """
    if not phrase:
        return False
    width = len(phrase)
    return any(tuple(text[i : i + width]) == tuple(phrase) for i in range(len(text) - width + 1))


def split_codes_and_words(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """CPV codes (check digit allowed) apart from keywords, both without repeats, as a member types them.

    >>> split_codes_and_words(["45111000-8", "éclairage public", "45111000", " "])
    (['45111000'], ['éclairage public'])
    """
    codes: list[str] = []
    keywords: list[str] = []
    for value in values:
        value = " ".join(value.split())
        code = cpv_code(value)
        if code:
            if code not in codes:
                codes.append(code)
        elif value and value not in keywords:
            keywords.append(value)
    return codes, keywords


@dataclass(frozen=True)
class Competences:
    """What one firm does: CPV codes, keyword phrases (as stems), regions (NUTS prefixes or countries)."""

    cpv: tuple[str, ...] = ()
    phrases: tuple[Phrase, ...] = ()
    regions: tuple[str, ...] = ()

    @classmethod
    def of(cls, *, cpv: Iterable[str], keywords: Iterable[str], regions: Iterable[str]) -> Competences:
        codes = tuple(dict.fromkeys(c for c in (cpv_code(str(v)) for v in cpv) if c))
        phrases = tuple(dict.fromkeys(p for p in (words(str(k)) for k in keywords) if p))
        places = tuple(dict.fromkeys(str(r).strip().upper() for r in regions if str(r).strip()))
        return cls(codes, phrases, places)

    def merged(self, other: Competences) -> Competences:
        return Competences(
            tuple(dict.fromkeys(self.cpv + other.cpv)),
            tuple(dict.fromkeys(self.phrases + other.phrases)),
            tuple(dict.fromkeys(self.regions + other.regions)),
        )

    def stems(self) -> frozenset[str]:
        return frozenset(w for phrase in self.phrases for w in phrase)


@lru_cache(maxsize=4096)
def in_region(regions: tuple[str, ...], places: tuple[str, ...]) -> str | None:
    """The first place of a lot that is in one of the firm's regions (one a prefix of the other), if any.

    >>> in_region(("BE3",), ("BE32", "FR")), in_region(("FR",), ("BE1",))
    ('BE32', None)
    """
    for place in places:
        for region in regions:
            if place.startswith(region) or region.startswith(place):
                return place
    return None


@dataclass(frozen=True)
class Need:
    """What one lot asks for: its CPV codes, its text (as stems) and places, as a firm is measured against."""

    lot: str
    """The lot key."""
    cpv: tuple[str, ...]
    text: tuple[str, ...]
    """The stems of its words (its title; the notice's title when it has none, or is the only lot)."""
    written: tuple[str, ...]
    """The same words as written, to quote them."""
    places: tuple[str, ...]

    def quote(self, phrase: Phrase) -> str:
        """The lot's own words where `phrase` occurs in its text."""
        width = len(phrase)
        for i in range(len(self.text) - width + 1):
            if self.text[i : i + width] == phrase:
                return " ".join(self.written[i : i + width])
        return " ".join(phrase)


@dataclass
class Coverage:
    """How a firm answers what a member lacks on one lot."""

    full: list[str] = field(default_factory=list)
    """Lacking codes the firm covers entirely."""
    partial: list[str] = field(default_factory=list)
    """Lacking codes the firm covers in part (its own code is a sub-code)."""
    text: list[Phrase] = field(default_factory=list)
    """Phrases of the firm found in the lot's text (the lot's own words)."""
    lacked: list[Phrase] = field(default_factory=list)
    """Phrases the member said it lacks that the firm has (one inside a phrase of the firm, or around it)."""

    def __bool__(self) -> bool:
        return bool(self.full or self.partial or self.text or self.lacked)

    def score(self, lacking_codes: int) -> float:
        codes = (len(self.full) + 0.5 * len(self.partial)) / lacking_codes if lacking_codes else 0.0
        return codes + 0.3 * min(len(self.text), 2) + 0.3 * min(len(self.lacked), 2)


@dataclass(frozen=True)
class Gap:
    """What a member lacks on one lot."""

    need: Need
    cpv: tuple[str, ...]
    """The lot's codes (and the codes the member said it lacks) that the member does not cover."""
    text: bool
    """Whether the lot's words are to be matched: the member's own words miss them and codes are lacking
    or the lot has none."""
    phrases: tuple[Phrase, ...]
    """Phrases the member said it lacks."""

    def __bool__(self) -> bool:
        return bool(self.cpv or self.text or self.phrases)


def gap(member: Competences, need: Need, *, lacks_cpv: Sequence[str] = (), lacks: Sequence[Phrase] = ()) -> Gap:
    """What `member` lacks on the lot `need`: what it does not cover, and what it said it lacks."""
    codes = [c for c in need.cpv if not any(covers(m, c) for m in member.cpv)]
    codes += [c for c in lacks_cpv if c not in codes]
    says_it = any(phrase_in(p, need.text) for p in member.phrases)
    text = bool(need.text) and not says_it and bool(codes or not need.cpv)
    return Gap(need, tuple(codes), text, tuple(lacks))


def coverage(firm: Competences, wanted: Gap) -> Coverage:
    """How `firm` fills a gap: the reference implementation (a plain scan) that the index agrees with."""
    result = Coverage()
    for lot_code in wanted.cpv:
        if any(covers(code, lot_code) for code in firm.cpv):
            result.full.append(lot_code)
        elif any(covers(lot_code, code) for code in firm.cpv):
            result.partial.append(lot_code)
    if wanted.text:
        result.text = [phrase for phrase in firm.phrases if phrase_in(phrase, wanted.need.text)]
    result.lacked = [
        lacked for lacked in wanted.phrases if any(phrase_in(lacked, p) or phrase_in(p, lacked) for p in firm.phrases)
    ]
    return result


def serves(firm: Competences, need: Need) -> bool:
    """Whether a firm has any competence for a lot (a lot that says nothing of itself is served by all)."""
    if not need.cpv and not need.text:
        return True
    return any(covers(c, code) or covers(code, c) for c in firm.cpv for code in need.cpv) or any(
        phrase_in(p, need.text) for p in firm.phrases
    )

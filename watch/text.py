"""Words as the watch compares them: case and accents folded, stemmed in the notice's language.

Keywords must find `Cybersécurité`, `CYBERSECURITE` and `cybersécurités` alike, and must not find `art` in
`cartographie`. So text is folded first (case and accents: notices in capitals often drop them), cut into
whole words, then each word is reduced to its stem by the Snowball stemmer of the notice's language, and a
keyword is stemmed by the same stemmer before the two are compared. Stemming is slow in pure Python, so
stems are remembered per language.

A phrase matches its words in order, next to each other once the small linking words of the language are
left out: `gestion des déchets` finds `gestion de déchets` and `Gestion déchets`, not `déchets ... gestion`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import snowballstemmer

SNOWBALL = {
    "fr": "french",
    "nl": "dutch",
    "en": "english",
    "de": "german",
    "it": "italian",
    "es": "spanish",
    "pt": "portuguese",
    "da": "danish",
    "sv": "swedish",
    "fi": "finnish",
    "no": "norwegian",
    "ro": "romanian",
    "hu": "hungarian",
    "lt": "lithuanian",
    "et": "estonian",
    "el": "greek",
    "ga": "irish",
    "ca": "catalan",
    "cs": "czech",
    "pl": "polish",
}
"""Notice language (ISO 639-1) → Snowball algorithm; a language not listed is compared unstemmed."""


def _linking(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "fr": _linking("a au aux d de des du en et l la le les par pour sur un une dans avec c j m n s t qu"),
    "nl": _linking("de het een van en voor in op met te aan bij door of uit"),
    "en": _linking("the a an of and for in on to with by at or from"),
}
"""Small linking words left out inside phrases (folded forms); content words only, kept short on purpose."""


def _fold_table() -> dict[int, str]:
    """Latin letters with accents → without, punctuation → space, computed once: folding char by char is slow,
    and French text is rarely ASCII only for its apostrophes (’) and spaces before colons."""
    table = {ord(k): v for k, v in {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}.items()}
    table[ord("ı")] = "i"
    for point in [*range(0x80, 0x250), *range(0x2000, 0x2070), *range(0x20A0, 0x20C1)]:
        char = chr(point).casefold()
        bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if point in table:
            continue
        if not char.isalnum():
            table[point] = " "  # quotes, dashes, no-break spaces, currency: they only separate words
        elif bare != char and bare.isascii():
            table[point] = bare
    return table


_FOLD = _fold_table()
_WORD = re.compile(r"[^\W_]+")
_MAX_REMEMBERED = 500_000


def fold(text: str) -> str:
    """Lower case without accents: `Cybersécurité` → `cybersecurite`.

    >>> fold("Œuvre d'ART, Straße, Ørsted")
    "oeuvre d'art, strasse, orsted"
    """
    folded = text.casefold().translate(_FOLD)
    if folded.isascii():
        return folded
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of a text, in order; punctuation and apostrophes split words.

    >>> words("L'entretien des espaces verts (lot n°2)")
    ['l', 'entretien', 'des', 'espaces', 'verts', 'lot', 'n', '2']
    """
    return _WORD.findall(fold(text))


class Stemmer:
    """The stems of one language, remembered: each word is stemmed once per process."""

    def __init__(self, language: str) -> None:
        algorithm = SNOWBALL.get(language)
        self._stemmer = snowballstemmer.stemmer(algorithm) if algorithm else None
        self._known: dict[str, str] = {}
        self.stopwords = STOPWORDS.get(language, frozenset())

    def stem(self, word: str) -> str:
        known = self._known.get(word)
        if known is not None:
            return known
        stem = word if self._stemmer is None or not word.isalpha() else (self._stemmer.stemWord(word) or word)
        if len(self._known) >= _MAX_REMEMBERED:
            self._known.clear()
        self._known[word] = stem
        return stem

    def content_stems(self, text: str) -> list[str]:
        """The stems of the text's words, linking words left out, in order."""
        stopwords, known, stem = self.stopwords, self._known, self.stem
        return [known.get(word) or stem(word) for word in words(text) if word not in stopwords]


_STEMMERS: dict[str, Stemmer] = {}


def stemmer(language: str | None) -> Stemmer:
    """The shared stemmer of a language (`fr`, `nl`, ...); unknown or missing language: no stemming."""
    key = language if language in SNOWBALL else ""
    found = _STEMMERS.get(key)
    if found is None:
        found = _STEMMERS[key] = Stemmer(key)
    return found


@dataclass(frozen=True)
class Field:
    """A piece of a notice that keywords are looked for in, with its stems in order."""

    label: str
    """How a reason names it: `the title`, `the description`, `the title of lot 2`."""
    stems: tuple[str, ...]
    lot_id: str | None = None


def contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether `phrase` occurs in `haystack` as consecutive items.

    >>> contains_phrase(("gestion", "dechet", "menag"), ("gestion", "dechet"))
    True
    >>> contains_phrase(("dechet", "gestion"), ("gestion", "dechet"))
    False
    """
    if not phrase:
        return False
    first, size, wanted = phrase[0], len(phrase), tuple(phrase)
    if size == 1:
        return first in haystack
    start = 0
    while True:
        try:
            start = haystack.index(first, start)
        except ValueError:
            return False
        if tuple(haystack[start : start + size]) == wanted:
            return True
        start += 1


def has_content_word(text: str) -> bool:
    """Whether a keyword keeps a word in FR, NL and EN once linking words are left out (else it finds nothing).

    >>> has_content_word("gestion des déchets"), has_content_word("IT"), has_content_word("de la")
    (True, True, False)
    """
    found = words(text)
    return bool(found) and all(any(w not in STOPWORDS[lang] for w in found) for lang in ("fr", "nl", "en"))

"""Words as the watch compares them (CPV inference is tested in test_cpv_service.py and with its model)."""

from __future__ import annotations

import doctest

import pytest

import watch.matching
import watch.text
from watch.text import contains_phrase, fold, stemmer, words


@pytest.mark.parametrize("module", [watch.text, watch.matching])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


def test_folding_makes_capitals_without_accents_meet_the_accented_word() -> None:
    french = stemmer("fr")
    assert french.content_stems("CYBERSECURITE") == french.content_stems("cybersécurités")
    assert fold("ÉCOLE") == fold("école") == "ecole"


def test_dutch_word_forms_meet() -> None:
    dutch = stemmer("nl")
    assert dutch.content_stems("beveiligingen") == dutch.content_stems("beveiliging")
    assert dutch.content_stems("van de gebouwen") == dutch.content_stems("gebouw")


def test_an_unknown_language_compares_folded_words() -> None:
    assert stemmer("xx").content_stems("Straße") == ["strasse"]
    assert stemmer(None).content_stems("a b") == ["a", "b"]


def test_phrase_positions() -> None:
    stems = stemmer("fr").content_stems("Gestion des déchets ménagers")
    assert contains_phrase(stems, stemmer("fr").content_stems("gestion de déchets"))
    assert not contains_phrase(stems, stemmer("fr").content_stems("déchets gestion"))
    assert words("lot n°2, l'été") == ["lot", "n", "2", "l", "ete"]

"""The doctests of the consortium's small functions (CPV prefixes, word stems, lot ids) are their specification."""

import doctest
import importlib
import re

import pytest

from consortium.pseudonyms import PATTERN, WORDS


@pytest.mark.parametrize("name", ["consortium.competences", "consortium.tenders"])
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0


def test_every_pseudonym_word_reads_as_a_pseudonym() -> None:
    assert len(set(WORDS)) == len(WORDS) == 64
    assert all(
        re.fullmatch(PATTERN, f"Firme {word}-1") and re.fullmatch(PATTERN, f"Firme {word}-999") for word in WORDS
    )
    assert not re.fullmatch(PATTERN, "Firme Ambre-0") and not re.fullmatch(PATTERN, "Alpha SRL")

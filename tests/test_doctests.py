"""The doctests of the small field parsers are their specification: run them."""

import doctest
import importlib

import pytest

MODULES = ["crawlers.parsers.fields", "crawlers.codelists", "crawlers.identifiers"]
MODULES += ["watch.organisations", "watch.awards", "consortium.track_record", "pib.web.network"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0

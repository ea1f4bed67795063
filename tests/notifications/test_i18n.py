"""The message catalogue and the small formatters (their doctests are their specification)."""

from __future__ import annotations

import doctest
import importlib
import string

import pytest

from notifications.i18n import LANGUAGES, MESSAGES, translator

MODULES = ["notifications.i18n", "notifications.mime", "notifications.outbox", "notifications.reminders",
           "notifications.render"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted and not result.failed


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_exists_in_every_language_with_the_same_placeholders(key: str) -> None:
    texts = MESSAGES[key]
    assert len(texts) == len(LANGUAGES) and all(text.strip() for text in texts)
    assert placeholders(texts[0]) == placeholders(texts[1]) == placeholders(texts[2])


def test_an_unknown_language_reads_english() -> None:
    assert translator("de")("greeting") == "Hello,"
    assert translator("NL")("greeting") == "Hallo,"

"""The portal's catalogues: every message of the code and templates is in the FR/NL/EN .po files, translated,
and the committed .mo files are the compiled .po files (so a forgotten `pybabel compile` fails here)."""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from pib.web.i18n import LANGUAGES, TRANSLATIONS

WEB = Path(__file__).resolve().parents[2] / "pib" / "web"
METHODS = [
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
    ("**.py", "python"),
]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "translate": (2,)}


def extracted() -> set[str]:
    found = extract_from_dir(str(WEB), method_map=METHODS, keywords=KEYWORDS, options_map={"**.html": {}, "**.txt": {}})
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_compiled(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as file:
        catalogue = read_po(file, locale=language)
    translated = {message.id: message.string for message in catalogue if message.id}
    messages = extracted()
    assert {"Sign out everywhere", "Tenders", "Your PIB sign-in link"} <= messages  # templates, N_, translate
    missing = messages - set(translated)
    assert not missing, f"not in {language}/messages.po (pybabel extract and update): {sorted(missing)}"
    untranslated = [msgid for msgid, text in translated.items() if not text]
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert not fuzzy, f"fuzzy in {language}: {fuzzy}"

    with (folder / "messages.mo").open("rb") as file:
        compiled = {message.id: message.string for message in read_mo(file) if message.id}
    assert compiled == translated, f"{language}/messages.mo is stale: pybabel compile -d pib/web/translations"
    fresh = io.BytesIO()
    write_mo(fresh, catalogue)  # and it compiles


def test_the_catalogues_read_differently() -> None:
    from pib.web.i18n import translate

    signs_in = {language: translate(language, "Sign in") for language in LANGUAGES}
    assert signs_in == {"fr": "Se connecter", "nl": "Aanmelden", "en": "Sign in"}


@pytest.mark.parametrize("name", ["pib.web.i18n", "pib.web.auth", "pib.web.app", "pib.web.routers.auth"])
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0

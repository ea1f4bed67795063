"""The portal's languages: Babel gettext catalogues (FR, NL, EN), the language of a request, and formats.

The catalogues are `translations/{fr,nl,en}/LC_MESSAGES/messages.po`, compiled to the `.mo` files next to
them (both committed; `tests/web/test_i18n.py` checks they agree and that every msgid is translated). After
editing a template or a `_()` call, extract and update (`pybabel extract -F pib/web/babel.cfg -o
/tmp/messages.pot pib/web && pybabel update -i /tmp/messages.pot -d pib/web/translations`), translate, then
`pybabel compile -d pib/web/translations`. msgids are the English text.

A signed-in user reads the portal in the language of their account; before sign-in, the language chosen with
the switch (a cookie), else the browser's `Accept-Language`, else French (the cluster's first language).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.support import Translations

LANGUAGES = ("fr", "nl", "en")
DEFAULT_LANGUAGE = "fr"
NAMES = {"fr": "Français", "nl": "Nederlands", "en": "English"}
"""Each language named in itself, as the switch shows it."""
TRANSLATIONS = Path(__file__).parent / "translations"
BRUSSELS = ZoneInfo("Europe/Brussels")


def known(value: str | None) -> str | None:
    """The language if the portal has it, else None.

    >>> known("NL"), known("de"), known(None)
    ('nl', None, None)
    """
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first of our languages in an `Accept-Language` header, by quality then order.

    >>> from_accept_language("de-DE,de;q=0.9,nl-BE;q=0.8,en;q=0.5")
    'nl'
    >>> from_accept_language("en;q=0.2, fr-BE"), from_accept_language("de, *;q=0.1"), from_accept_language("")
    ('fr', None, None)
    """
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = known(tag.split("-")[0])
        if language and quality > 0:
            ranked.append((-quality, index, language))
    return min(ranked)[2] if ranked else None


@cache
def translations(language: str) -> Translations:
    """The compiled catalogue of a language (a missing .mo is an error of the install, not a silent English)."""
    catalogue = Translations.load(str(TRANSLATIONS), [language], domain="messages")
    if not isinstance(catalogue, Translations):
        raise FileNotFoundError(f"{TRANSLATIONS}/{language}/LC_MESSAGES/messages.mo is missing: run pybabel compile")
    return catalogue


def translate(language: str, message: str, **values: Any) -> str:
    """A message in a language, with `%(name)s` values filled in (for the Python side: emails, flashes)."""
    text = translations(language).gettext(message)
    return text % values if values else text


def format_date(value: date | datetime | None, language: str, form: str = "long") -> str:
    """A date for the reader; a moment is shown in Brussels time.

    >>> format_date(date(2026, 2, 16), "fr"), format_date(date(2026, 2, 16), "nl")
    ('16 février 2026', '16 februari 2026')
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(BRUSSELS)
        return dates.format_datetime(value, format="medium" if form == "long" else form, locale=language)
    return dates.format_date(value, format=form, locale=language)


def format_number(value: float | int | None, language: str) -> str:
    """
    >>> format_number(1234567.5, "fr"), format_number(1234567.5, "nl"), format_number(1234567.5, "en")
    ('1\\u202f234\\u202f567,5', '1.234.567,5', '1,234,567.5')
    """
    return "" if value is None else numbers.format_decimal(value, locale=language)


def format_money(value: float | int | None, currency: str | None, language: str) -> str:
    """An amount without cents, in the reader's format.

    >>> format_money(250000, "EUR", "nl")
    '€\\xa0250.000'
    """
    if value is None:
        return ""
    if not currency:
        return format_number(round(value), language)
    pattern = Locale.parse(language).currency_formats["standard"].pattern.replace(".00", "")
    return numbers.format_currency(value, currency, locale=language, format=pattern, currency_digits=False)

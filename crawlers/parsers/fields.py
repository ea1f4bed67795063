"""Small field parsers shared by every source format: CPV, countries, languages, dates, amounts, text.

Each is a pure function; the doctests are their specification.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cache
from zoneinfo import ZoneInfo

import pycountry


class NoticeError(ValueError):
    """A record that cannot become a normalized notice; the message says what is wrong and where."""


_WHITESPACE = re.compile(r"\s+")
_CPV_CODE = re.compile(r"(\d{8})(?:-\d)?")

BRUSSELS = ZoneInfo("Europe/Brussels")
PARIS = ZoneInfo("Europe/Paris")


def collapse(text: str | None) -> str | None:
    """Whitespace collapsed to single spaces; blank text is None.

    >>> collapse("  Travaux\\n  de   voirie ")
    'Travaux de voirie'
    >>> collapse("   ") is None
    True
    """
    if text is None:
        return None
    collapsed = _WHITESPACE.sub(" ", text).strip()
    return collapsed or None


def cpv_code(raw: str | None) -> str | None:
    """The 8-digit CPV code without its check digit, or None when the value is not a CPV code.

    >>> cpv_code("72000000-5")
    '72000000'
    >>> cpv_code(" 45233140 ")
    '45233140'
    >>> cpv_code("7200") is None
    True
    """
    if raw is None:
        return None
    match = _CPV_CODE.fullmatch(raw.strip())
    return match.group(1) if match else None


def distinct_cpv(main: str | None, codes: Iterable[str | None]) -> list[str]:
    """Codes in document order without repeats and without the main code.

    >>> distinct_cpv("72000000", ["72000000-5", "48000000-8", None, "48000000", "72212000"])
    ['48000000', '72212000']
    """
    seen = {main} if main else set()
    result = []
    for raw in codes:
        code = cpv_code(raw)
        if code and code not in seen:
            seen.add(code)
            result.append(code)
    return result


def distinct(values: Iterable[str | None]) -> list[str]:
    """Non-empty values in first-seen order without repeats.

    >>> distinct(["BE3", None, "BE3", "", "FR"])
    ['BE3', 'FR']
    """
    return list(dict.fromkeys(v for v in values if v))


@cache
def country_alpha2(code: str | None) -> str | None:
    """ISO 3166 alpha-2 for an alpha-2 or alpha-3 code; TED's `UK` and Greece's `EL` are mapped.

    >>> country_alpha2("FRA"), country_alpha2("bel"), country_alpha2("UK"), country_alpha2("EL")
    ('FR', 'BE', 'GB', 'GR')
    >>> country_alpha2("XYZ") is None
    True
    """
    if not code:
        return None
    code = code.strip().upper()
    if code == "UK":
        return "GB"
    if code == "EL":
        return "GR"
    if len(code) == 2:
        return code if pycountry.countries.get(alpha_2=code) else None
    country = pycountry.countries.get(alpha_3=code)
    return country.alpha_2 if country else None


@cache
def language_alpha2(code: str | None) -> str | None:
    """ISO 639-1 lowercase for a two- or three-letter language code (eForms writes `FRA`, `NLD`).

    >>> language_alpha2("FRA"), language_alpha2("nld"), language_alpha2("EN"), language_alpha2("GER")
    ('fr', 'nl', 'en', 'de')
    """
    if not code:
        return None
    code = code.strip().lower()
    if len(code) == 2:
        return code if pycountry.languages.get(alpha_2=code) else None
    language = pycountry.languages.get(alpha_3=code) or pycountry.languages.get(bibliographic=code)
    return getattr(language, "alpha_2", None) if language else None


def amount(raw: str | float | int | None) -> float | None:
    """A positive amount from a number or a French/English formatted string; 0 means not given.

    >>> amount("878 000,00"), amount("1,234,567.50"), amount("12000"), amount(0), amount("abc")
    (878000.0, 1234567.5, 12000.0, None, None)
    >>> amount("1.234.567,5")
    1234567.5
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "").strip()
        if "," in text and "." in text:
            decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
            thousands = "." if decimal_mark == "," else ","
            text = text.replace(thousands, "").replace(decimal_mark, ".")
        elif text.count(",") == 1 and len(text.split(",")[1]) != 3:
            text = text.replace(",", ".")
        else:
            text = text.replace(",", "")
        try:
            value = float(Decimal(text))
        except InvalidOperation:
            return None
    return value if value > 0 else None


def iso_date(raw: str | None) -> date | None:
    """A date from `YYYY-MM-DD`, `YYYYMMDD`, `DD/MM/YYYY` or an ISO date-time (its date part kept).

    >>> iso_date("20210713"), iso_date("2026-01-21+01:00"), iso_date("28/01/2026")
    (datetime.date(2021, 7, 13), datetime.date(2026, 1, 21), datetime.date(2026, 1, 28))
    """
    if not raw:
        return None
    raw = raw.strip()
    try:
        if re.fullmatch(r"\d{8}", raw):
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
        if re.fullmatch(r"\d{2}/\d{2}/\d{4}", raw):
            return date(int(raw[6:]), int(raw[3:5]), int(raw[:2]))
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def deadline(day: str | date | None, at: str | None = None, *, zone: ZoneInfo | None = None) -> str | None:
    """The §2 deadline: `YYYY-MM-DD` alone when no time is given; with a time, its own offset when the
    source writes one, else the buyer's local time (`zone`) with the offset of that day.

    >>> deadline("2026-02-16", "12:00", zone=PARIS)
    '2026-02-16T12:00:00+01:00'
    >>> deadline("2019-07-20+02:00", "9:00", zone=PARIS)
    '2019-07-20T09:00:00+02:00'
    >>> deadline("2021-03-30Z", "12:00:00Z")
    '2021-03-30T12:00:00+00:00'
    >>> deadline("2021-08-16")
    '2021-08-16'
    """
    if day is None:
        return None
    day_text = day.isoformat() if isinstance(day, date) else day.strip()
    day_part, day_offset = day_text[:10], day_text[10:]
    parsed_day = iso_date(day_part)
    if parsed_day is None:
        return None
    if not at or not at.strip():
        return parsed_day.isoformat()
    match = re.fullmatch(r"(\d{1,2})[:h.](\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?", at.strip())
    if not match:
        return parsed_day.isoformat()
    hour, minute, second, offset = match.groups()
    try:
        clock = time(int(hour), int(minute), int(second or 0))
    except ValueError:
        return parsed_day.isoformat()
    moment = datetime.combine(parsed_day, clock)
    offset = offset or day_offset or None
    if offset:
        offset = "+00:00" if offset == "Z" else offset
        return moment.isoformat() + offset
    if zone is None:
        return moment.isoformat()
    return moment.replace(tzinfo=zone).isoformat()


def zoned_datetime(raw: str | None, *, zone: ZoneInfo) -> str | None:
    """An ISO date-time as §2 wants it: its own offset kept, a naive one placed in `zone`.

    >>> zoned_datetime("2026-02-16T12:00:00+01:00", zone=PARIS)
    '2026-02-16T12:00:00+01:00'
    >>> zoned_datetime("2026-03-02T10:00:00", zone=BRUSSELS)
    '2026-03-02T10:00:00+01:00'
    >>> zoned_datetime("2026-03-02T10:00:00.123Z", zone=BRUSSELS)
    '2026-03-02T10:00:00+00:00'
    """
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment.replace(microsecond=0)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


_COUNTRY_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CH": "Europe/Zurich",
    "CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DE": "Europe/Berlin", "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn", "ES": "Europe/Madrid", "FI": "Europe/Helsinki", "FR": "Europe/Paris",
    "GB": "Europe/London", "GR": "Europe/Athens", "HR": "Europe/Zagreb", "HU": "Europe/Budapest",
    "IE": "Europe/Dublin", "IS": "Atlantic/Reykjavik", "IT": "Europe/Rome", "LI": "Europe/Vaduz",
    "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg", "LV": "Europe/Riga", "MK": "Europe/Skopje",
    "MT": "Europe/Malta", "NL": "Europe/Amsterdam", "NO": "Europe/Oslo", "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "SE": "Europe/Stockholm", "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava",
}  # fmt: skip


def buyer_zone(country: str | None) -> ZoneInfo | None:
    """The time zone in which a buyer of that country writes a deadline without offset; None when unknown
    (the deadline then stays without offset rather than getting a wrong one).

    >>> buyer_zone("BE").key, buyer_zone("ZM") is None
    ('Europe/Brussels', True)
    """
    name = _COUNTRY_ZONES.get(country or "")
    return ZoneInfo(name) if name else None


_OJS_REFERENCE = re.compile(r"((?:19|20)\d{2})\s*/\s*S\s*\d{1,3}\s*-\s*(\d{1,8})", re.IGNORECASE)
_TED_NUMBER = re.compile(r"(\d{1,8})-((?:19|20)\d{2})")


TED_NOTICE_URL = "https://ted.europa.eu/en/notice/-/detail/{}"


def ted_notice_url(number: str) -> str:
    """The page of a TED publication, under its number as TED's site and search API write it: without the
    leading zeros of eForms (`00522031-2023`) or legacy `DOC_ID` (`005302-2011`) numbers.

    >>> ted_notice_url("00522031-2023"), ted_notice_url("005302-2011")[-9:]
    ('https://ted.europa.eu/en/notice/-/detail/522031-2023', '5302-2011')
    """
    match = _TED_NUMBER.fullmatch(number.strip())
    return TED_NOTICE_URL.format(f"{int(match.group(1))}-{match.group(2)}" if match else number.strip())


def ted_publication_number(raw: str | None) -> str | None:
    """The TED publication number (`214462-2019`, number zero-padded to 6 digits as TED writes it) from an
    Official Journal reference (`2019/S 090-214462`, possibly inside a sentence) or from a number already in
    that form; None when the text is neither.

    >>> ted_publication_number("2019/S 090-214462"), ted_publication_number("2011/S 4-5302")
    ('214462-2019', '005302-2011')
    >>> ted_publication_number("JOUE 2021/S 123-456789 du 28/06/2021"), ted_publication_number(" 5302-2011 ")
    ('456789-2021', '005302-2011')
    >>> ted_publication_number("avis n° 21-12345") is None, ted_publication_number("lot 3-1234") is None
    (True, True)
    """
    if not raw:
        return None
    match = _OJS_REFERENCE.search(raw)
    if match is None:
        match = _TED_NUMBER.fullmatch(raw.strip())
        if match is None:
            return None
        number, year = match.groups()
    else:
        year, number = match.groups()
    return f"{int(number):06d}-{year}"


def award_lot_ids(written: Iterable[str | None], lot_ids: list[str]) -> list[str]:
    """The lots an award names, as the notice's lots have them: an id the notice's lots do not have (or none at
    all) means the notice's only lot when it has one (TED writes `N/A`, `1`, or nothing for an undivided
    procedure); otherwise an unknown id is kept as written.

    >>> award_lot_ids(["LOT-0002"], ["LOT-0001", "LOT-0002"]), award_lot_ids(["N/A"], ["LOT-0000"])
    (['LOT-0002'], ['LOT-0000'])
    >>> award_lot_ids([None], ["1"]), award_lot_ids(["3A"], ["1", "2"]), award_lot_ids([], ["1", "2"])
    (['1'], ['3A'], [])
    """
    found = distinct(collapse(value) for value in written)
    single = lot_ids[0] if len(lot_ids) == 1 else None
    if not found:
        return [single] if single else []
    return distinct(value if value in lot_ids or single is None else single for value in found)

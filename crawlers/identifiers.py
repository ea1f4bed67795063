"""Firms' national identifiers: one normalized form, whoever wrote them and however.

A firm is named by its national number where PIB knows one, else by its VAT number:

- Belgium: the enterprise number (numéro d'entreprise, ondernemingsnummer), ten digits `0123456789`, written
  `0123.456.789`, `BE 0123 456 789`, `BE0123456789` (its VAT number is the same number with the prefix) or in
  the old nine-digit form `123.456.789`; the last two digits are a mod-97 check of the first eight;
- France: the SIREN (nine digits, the firm) or the SIRET (fourteen, one of its establishments: SIREN + NIC),
  both with a Luhn check; the French VAT number `FR` + two key characters + SIREN names the SIREN;
- elsewhere: the VAT number with its country prefix (`NL123456789B01`, `LU12345678`, `DE123456789`).

`normalize_identifier` gives the form stored in `Winner.identifier` and in the members' `identifier`
(docs/notice.md, docs/members-file.md); `valid_identifier` checks the check digits of a normalized one;
`firm_key` folds a SIRET to its SIREN, so that two establishments of one firm are one firm. Pure functions,
no imports from the rest of PIB: parsers, members and organisations all use them.
"""

from __future__ import annotations

import re

__all__ = [
    "firm_key",
    "french_vat_key",
    "identifier_problem",
    "normalize_identifier",
    "read_identifier",
    "valid_identifier",
]

_SEPARATORS = re.compile(r"[\s.\-/_,]+")
_LABEL = re.compile(
    r"^\s*(?:n°\s*)?(?:tva|btw|vat|siret|siren|nif|kbo|bce|ondernemingsnummer|numéro d'entreprise)\b"
    r"\s*(?:n°|nr\.?|no\.?)?\s*:?\s*",
    re.IGNORECASE,
)
# VAT number formats of the VIES (EU) and the neighbours PIB meets in notices, without their prefix.
_VAT = {
    "AT": r"U\d{8}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "GB": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "CHE": r"\d{9}",
    "NO": r"\d{9}",
}
_VAT_NUMBER = re.compile("|".join(f"(?P<{prefix}>{prefix}(?:{pattern}))" for prefix, pattern in _VAT.items()))
_SWISS_SUFFIX = re.compile(r"(MWST|TVA|IVA)$")
_NORWAY_SUFFIX = re.compile(r"MVA$")
_FRENCH_VAT = re.compile(r"FR([A-HJ-NP-Z0-9]{2})(\d{9})")
_BELGIAN = re.compile(r"BE([01]?\d{9})")
# Greece writes EL in VAT numbers and GR as its ISO country code.
_VAT_PREFIX = {"GR": "EL", "CH": "CHE"}


def normalize_identifier(text: str | None, country: str | None = None) -> str | None:
    """The normalized identifier of a firm, or None when the text is not one PIB can read.

    `country` (ISO 3166 alpha-2, as in `Winner.country`) settles a bare number: nine digits are a French SIREN
    unless the country is Belgium (the old nine-digit enterprise number), and a foreign bare VAT number gets
    its prefix. Check digits are not checked here (see `valid_identifier`): a typo still names what was written.

    >>> normalize_identifier("0202.239.951")
    '0202239951'
    >>> normalize_identifier("BE 0202 239 951")
    '0202239951'
    >>> normalize_identifier("be0202239951")
    '0202239951'
    >>> normalize_identifier("202.239.951", "BE")
    '0202239951'
    >>> normalize_identifier("380 129 866")
    '380129866'
    >>> normalize_identifier("380 129 866 00022", "FR")
    '38012986600022'
    >>> normalize_identifier("FR 89 380 129 866")
    '380129866'
    >>> normalize_identifier("NL 8035.04.107.B01")
    'NL803504107B01'
    >>> normalize_identifier("803504107B01", "NL")
    'NL803504107B01'
    >>> normalize_identifier("CHE-116.281.710 MWST")
    'CHE116281710'
    >>> normalize_identifier("GR094014201")
    'EL094014201'
    >>> normalize_identifier("LU 15027442", "FR")
    'LU15027442'
    >>> normalize_identifier("n/a") is None
    True
    >>> normalize_identifier("HRB 12345", "DE") is None
    True
    """
    if text is None:
        return None
    compact = _SEPARATORS.sub("", _LABEL.sub("", text)).upper()
    if not compact:
        return None
    country = (country or "").strip().upper() or None
    if compact.startswith("GR"):
        compact = "EL" + compact[2:]
    if compact.startswith("CHE"):
        compact = _SWISS_SUFFIX.sub("", compact)
    elif compact.startswith("NO"):
        compact = _NORWAY_SUFFIX.sub("", compact)
    if compact.isdigit():
        return _national(compact, country)
    if belgian := _BELGIAN.fullmatch(compact):
        return belgian.group(1).zfill(10)
    if french := _FRENCH_VAT.fullmatch(compact):
        return french.group(2)
    if _VAT_NUMBER.fullmatch(compact):
        return compact
    if country and country not in {"BE", "FR"}:
        prefixed = _VAT_PREFIX.get(country, country) + compact
        if _VAT_NUMBER.fullmatch(prefixed):
            return prefixed
    return None


def _national(digits: str, country: str | None) -> str | None:
    size = len(digits)
    if country == "BE" or (country is None and size == 10):
        if size == 9:
            return "0" + digits
        return digits if size == 10 and digits[0] in "01" else None
    if country in (None, "FR"):
        return digits if size in (9, 14) else None
    assert country is not None
    prefixed = _VAT_PREFIX.get(country, country) + digits
    return prefixed if _VAT_NUMBER.fullmatch(prefixed) else None


def read_identifier(text: str, country: str | None = None) -> tuple[str | None, str | None]:
    """The normalized identifier of what a person wrote and what is wrong with it (None when nothing is).

    Stricter than `normalize_identifier`: the check digits are checked, and so is the key of a French VAT
    number, which the normalized SIREN no longer carries.

    >>> read_identifier("BE 0202.239.951")
    ('0202239951', None)
    >>> read_identifier("FR 12 380 129 866")
    ('380129866', 'French VAT number with a wrong key (89 for this SIREN)')
    >>> read_identifier("0202.239.952")
    ('0202239952', 'Belgian enterprise number with a wrong check (mod 97)')
    >>> read_identifier("12-34")
    (None, 'not an enterprise number, SIREN, SIRET or VAT number')
    """
    normalized = normalize_identifier(text, country)
    if normalized is None:
        return None, "not an enterprise number, SIREN, SIRET or VAT number"
    problem = identifier_problem(normalized)
    if problem is None and (french := _FRENCH_VAT.fullmatch(_SEPARATORS.sub("", _LABEL.sub("", text)).upper())):
        key, siren = french.groups()
        if key.isdigit() and key != french_vat_key(siren):
            problem = f"French VAT number with a wrong key ({french_vat_key(siren)} for this SIREN)"
    return normalized, problem


def valid_identifier(identifier: str) -> bool:
    """Whether a normalized identifier passes its check digits (format only where there are none PIB knows).

    >>> valid_identifier("0202239951"), valid_identifier("0202239952")
    (True, False)
    >>> valid_identifier("380129866"), valid_identifier("380129867")
    (True, False)
    >>> valid_identifier("38012986600022"), valid_identifier("38012986600023")
    (True, False)
    >>> valid_identifier("NL803504107B01"), valid_identifier("NL80350410")
    (True, False)
    """
    return identifier_problem(identifier) is None


def identifier_problem(identifier: str) -> str | None:
    """What is wrong with a normalized identifier, in a few words, or None when it is valid.

    >>> identifier_problem("0202239952")
    'Belgian enterprise number with a wrong check (mod 97)'
    >>> identifier_problem("2202239951")
    'Belgian enterprise number must start with 0 or 1'
    >>> identifier_problem("12345")
    'not an enterprise number, SIREN, SIRET or VAT number'
    """
    if identifier.isdigit():
        if len(identifier) == 10:
            if identifier[0] not in "01":
                return "Belgian enterprise number must start with 0 or 1"
            if 97 - int(identifier[:8]) % 97 != int(identifier[8:]):
                return "Belgian enterprise number with a wrong check (mod 97)"
            return None
        if len(identifier) == 9:
            return None if _luhn(identifier) else "SIREN with a wrong check (Luhn)"
        if len(identifier) == 14:
            if not _luhn(identifier[:9]):
                return "SIRET whose SIREN has a wrong check (Luhn)"
            if _luhn(identifier):
                return None
            # La Poste's many establishments share one SIREN; some SIRETs use a sum of digits modulo 5 instead.
            if identifier.startswith("356000000") and sum(map(int, identifier)) % 5 == 0:
                return None
            return "SIRET with a wrong check (Luhn)"
        return "not an enterprise number, SIREN, SIRET or VAT number"
    if not _VAT_NUMBER.fullmatch(identifier):
        return "not an enterprise number, SIREN, SIRET or VAT number"
    return None


def firm_key(identifier: str) -> str:
    """The identifier of the firm itself: a SIRET (an establishment) folds to its SIREN, others are unchanged.

    >>> firm_key("38012986600022"), firm_key("380129866"), firm_key("0202239951")
    ('380129866', '380129866', '0202239951')
    """
    if len(identifier) == 14 and identifier.isdigit():
        return identifier[:9]
    return identifier


def french_vat_key(siren: str) -> str:
    """The two-digit key of the French VAT number of a SIREN (`FR` + key + SIREN).

    >>> french_vat_key("380129866")
    '89'
    """
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def _luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0

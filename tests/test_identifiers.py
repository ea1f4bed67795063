"""Firms' identifiers as people and notices write them, in one normalized form (crawlers/identifiers.py)."""

import pytest

from crawlers.identifiers import firm_key, normalize_identifier, read_identifier, valid_identifier

# Real-looking numbers: Proximus' enterprise number (0202.239.951), Orange's SIREN (380 129 866) and VAT key (89).
WRITTEN = [
    ("0202.239.951", None, "0202239951"),
    ("0202 239 951", "BE", "0202239951"),
    ("BE0202239951", None, "0202239951"),
    ("BE 0202.239.951", "FR", "0202239951"),
    ("TVA BE 0202.239.951", None, "0202239951"),
    ("BTW: BE0202.239.951", None, "0202239951"),
    ("202.239.951", "BE", "0202239951"),
    ("BE202239951", None, "0202239951"),
    ("380 129 866", None, "380129866"),
    ("380129866", "FR", "380129866"),
    ("SIRET : 380 129 866 00022", None, "38012986600022"),
    ("FR89380129866", None, "380129866"),
    ("fr 89 380 129 866", "FR", "380129866"),
    ("NL803504107B01", None, "NL803504107B01"),
    ("803504107B01", "NL", "NL803504107B01"),
    ("LU 150 274 42", None, "LU15027442"),
    ("DE 129 273 398", "DE", "DE129273398"),
    ("129273398", "DE", "DE129273398"),
    ("ESA28015865", "ES", "ESA28015865"),
]


@pytest.mark.parametrize(("text", "country", "expected"), WRITTEN)
def test_written_forms_normalize_to_one(text: str, country: str | None, expected: str) -> None:
    assert normalize_identifier(text, country) == expected


@pytest.mark.parametrize(
    ("text", "country"),
    [("", None), ("n/a", None), ("HRB 12345", "DE"), ("12345", None), ("0202.239.951", "FR"), ("2202239951", None)],
)
def test_what_is_not_an_identifier_is_none(text: str, country: str | None) -> None:
    assert normalize_identifier(text, country) is None


def test_check_digits() -> None:
    assert valid_identifier("0202239951")
    assert not valid_identifier("0202239915")  # two digits swapped
    assert valid_identifier("380129866")
    assert not valid_identifier("380129868")
    assert valid_identifier("38012986600022")
    assert not valid_identifier("38012986600021")
    assert not valid_identifier("38012986700022")  # a valid NIC cannot save a wrong SIREN
    assert valid_identifier("35600000000048")  # La Poste, Luhn
    assert valid_identifier("35600000051145")  # La Poste: sum of digits modulo 5, not Luhn
    assert not valid_identifier("35600000051146")
    assert valid_identifier("NL803504107B01")
    assert not valid_identifier("NL803504107")


def test_read_identifier_says_what_is_wrong() -> None:
    assert read_identifier("BE 0202.239.951") == ("0202239951", None)
    assert read_identifier("FR 89 380 129 866") == ("380129866", None)
    normalized, problem = read_identifier("FR 12 380 129 866")
    assert normalized == "380129866"
    assert problem == "French VAT number with a wrong key (89 for this SIREN)"
    assert read_identifier("0202.239.952")[1] == "Belgian enterprise number with a wrong check (mod 97)"
    assert read_identifier("Société Générale")[0] is None


def test_a_siret_is_its_firm() -> None:
    assert firm_key("38012986600022") == firm_key("38012986600030") == "380129866"
    assert firm_key("0202239951") == "0202239951"
    assert firm_key("NL803504107B01") == "NL803504107B01"

"""`/staff/members/{id}`: a firm's enterprise or VAT number, normalized when saved, refused next to its field."""

from __future__ import annotations

import re

import httpx

from tests.web.conftest import Portal
from tests.web.test_auth import TOKEN_FIELD
from tests.web.test_staff_members import firm_id, staff  # noqa: F401 (the signed-in staff fixture)
from tests.web.test_tender import text_of
from watch.members import member_identifiers


def test_a_firms_identifier_is_normalized_or_refused_next_to_its_field(portal: Portal, staff: httpx.Client) -> None:  # noqa: F811
    ecole = firm_id(portal.engine, "École Numérique SA")
    page = staff.get(f"/staff/members/{ecole}")
    assert "Enterprise or VAT number" in text_of(page.text)
    form = {
        "csrf_token": TOKEN_FIELD.findall(page.text)[-1],
        "name": "École Numérique SA",
        "active": "on",
        "identifier": "BE 0202.239.952",
        "user-0-email": "direction@ecole-numerique.example",
        "user-0-language": "fr",
        "profile-0-name": "Logiciels",
        "profile-0-cpv": "72000000",
        "profile-0-frequency": "daily",
        "profile-1-name": "Formation",
        "profile-1-keywords": "formation",
    }
    refused = staff.post(f"/staff/members/{ecole}", data=form)
    assert refused.status_code == 400
    errors = dict(re.findall(r'<p class="field-error" id="([\w-]+)-error">([^<]*)</p>', refused.text))
    assert "Belgian enterprise number with a wrong check (mod 97)" in errors["identifier"]
    assert member_identifiers(portal.engine) == {}

    saved = staff.post(f"/staff/members/{ecole}", data=form | {"identifier": "BE 0202.239.951"})
    assert saved.status_code == 200, saved.text
    assert "Firm École Numérique SA: updated (identifier)" in text_of(saved.text)
    assert member_identifiers(portal.engine) == {ecole: "0202239951"}
    assert 'name="identifier" value="0202239951"' in staff.get(f"/staff/members/{ecole}").text

"""Every recorded file of tests/fixtures goes through `parse_bytes` and every notice keeps the §2 invariants.

The per-format test modules check each format's notices field by field; this one makes sure no recorded
file is left out and that the conventions hold across formats.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from crawlers.parsers import parse_bytes
from tests.conftest import FIXTURES

NOT_NOTICES = (FIXTURES / "ocds", FIXTURES / "digests")
"""The OCDS schemas the export is validated against (tests/test_ocds_export.py) and the digests' golden
subjects and bodies (tests/notifications/test_digest_batches.py): not notices."""
NOTICE_FILES = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.suffix in {".xml", ".json"} and not any(p.is_relative_to(folder) for folder in NOT_NOTICES)
)

# The files that must fail, and why: SDK examples left deliberately incomplete, and business registration
# notices (X01, X02), which announce no procurement.
EXPECTED_FAILURES = {
    "INVALID_can_24_empty.xml",
    "INVALID_can_24_stage-1.xml",
    "INVALID_can_24_stage-2.xml",
    "INVALID_cn_24_empty.xml",
    "INVALID_cn_24_stage-1.xml",
    "INVALID_cn_24_stage-2.xml",
    "INVALID_pin-buyer_24_stage-1.xml",
    "INVALID_pin-only_24_empty.xml",
    "INVALID_pin-only_24_minimal.xml",
    "INVALID_pin-only_24_stage-1.xml",
    "X01_EEIG.xml",
    "X02_registration.xml",
}


def test_every_format_is_recorded() -> None:
    formats = {parsed.format for path in NOTICE_FILES for parsed in parse_bytes(path.read_bytes()).notices}
    assert formats == {"eforms", "ted-legacy", "boamp-xml", "boamp-json", "be-json", "decp-json"}
    assert len(NOTICE_FILES) > 240


@pytest.mark.parametrize("path", NOTICE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_recorded_file(path: Path) -> None:
    outcome = parse_bytes(path.read_bytes())
    if path.name in EXPECTED_FAILURES:
        assert outcome.notices == []
        assert [f.reason for f in outcome.failures if f.reason.strip()] != []
        return
    assert outcome.failures == [], outcome.failures
    assert outcome.notices
    for parsed in outcome.notices:
        notice = parsed.notice.to_json_dict()
        codes = [notice["cpv_main"], *notice["cpv_additional"]] if notice["cpv_main"] else notice["cpv_additional"]
        assert all(re.fullmatch(r"\d{8}", code) for code in codes)
        assert len(codes) == len(set(codes))
        for lot in notice["lots"]:
            lot_codes = [c for c in [lot["cpv_main"], *lot["cpv_additional"]] if c]
            assert set(lot_codes) <= set(codes), "every lot code is among the notice's codes"
        assert notice["buyer"]["country"] is None or re.fullmatch(r"[A-Z]{2}", notice["buyer"]["country"])
        assert notice["buyer"]["country"] != "UK"
        date.fromisoformat(notice["published"])
        if notice["deadline"]:
            datetime.fromisoformat(notice["deadline"])
        if notice["notice_type"] == "award":
            assert notice["deadline"] is None
        assert notice["lots"] and notice["languages"]
        assert all(re.fullmatch(r"[a-z]{2}", lang) for lang in notice["languages"])
        assert "00" not in notice["nuts"]
        assert notice["title"] == " ".join(notice["title"].split())
        assert (notice["estimated_value"] is None) == (notice["currency"] is None)

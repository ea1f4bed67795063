"""`pib export --format ocds`: one OCDS 1.1 release package of the store, valid against the official schema.

The schema (OCDS 1.1.5, tests/fixtures/ocds with its SOURCES.md) is read from disk: the package schema's `$ref` to
the release schema's URL is resolved through a registry that maps it to the local file, so nothing is fetched.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from crawlers.ocds import release, write_package
from crawlers.store.service import store_notices
from pib.cli import app
from tests.factories import incoming, make_notice

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMAS = FIXTURES / "ocds"
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"

# Real recorded notices of each source: award notices (eForms, legacy with a group, BOAMP attribution) and
# contract notices (eForms, legacy, BOAMP JSON, Belgian e-Procurement).
RECORDED = [
    FIXTURES / "ted_eforms" / "published" / "eforms_ubl_2025.xml",
    FIXTURES / "ted_eforms" / "converted-from-ted-xml" / "20-213571-001-EXP.xml",
    FIXTURES / "ted_eforms" / "converted-from-ted-xml" / "22-086633-001-EXP.xml",
    FIXTURES / "ted_legacy" / "ted-xml-data-converter" / "development-notices" / "22-073124-001-EXP.xml",
    FIXTURES / "ted_legacy" / "ted-xml-data-converter" / "development-notices" / "21-298854-001-EXP.xml",
    FIXTURES / "ted_legacy" / "scraper-tedawards" / "ted_v2_r2_0_7_2011.xml",
    FIXTURES / "boamp" / "boamp-xml" / "test-attribution-2.xml",
    FIXTURES / "boamp" / "opendatasoft-json" / "boamp-where-date.json",
    FIXTURES / "be_eprocurement" / "publicprocurement_2026-01-28T20-49-47-147Z.json",
]


def _validator() -> Draft4Validator:
    package_schema = json.loads((SCHEMAS / "release-package-schema.json").read_text(encoding="utf-8"))
    release_schema = json.loads((SCHEMAS / "release-schema.json").read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        RELEASE_SCHEMA_URL, Resource.from_contents(release_schema, default_specification=DRAFT4)
    )
    return Draft4Validator(package_schema, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def _errors(package: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(package)]


def _export(settings_env: None) -> dict[str, Any]:
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", *map(str, RECORDED)])
    assert ingested.exit_code == 0, ingested.output
    result = runner.invoke(app, ["export", "--format", "ocds"])
    assert result.exit_code == 0, result.output
    package: dict[str, Any] = json.loads(result.stdout)
    return package


def test_export_of_recorded_notices_is_valid_and_carries_awards(settings_env: None) -> None:
    package = _export(settings_env)
    assert _errors(package) == []
    assert package["version"] == "1.1"
    releases = {r["id"]: r for r in package["releases"]}
    assert {r["id"].split("-")[0] for r in package["releases"]} == {"ted", "boamp", "be"}
    assert len(releases) == len(package["releases"])  # one release per stored notice

    # eForms award: the Estonian winner as supplier, its value, date and lot, the tenders received
    estonian = releases["ted-00000372-2025"]
    assert estonian["ocid"] == "ocds-pib-ted-00000372-2025"
    assert estonian["tag"] == ["award"]
    assert estonian["tender"]["status"] == "complete"
    assert estonian["tender"]["numberOfTenderers"] == 1
    assert estonian["awards"] == [
        {
            "id": "ted-00000372-2025-1",
            "status": "active",
            "date": "2024-12-30T00:00:00Z",
            "value": {"amount": 23185.0, "currency": "EUR"},
            "suppliers": [{"id": "EE-medivar-ou", "name": "Medivar OÜ"}],
            "relatedLots": ["LOT-0000"],
        }
    ]
    roles = {p["name"]: p["roles"] for p in estonian["parties"]}
    assert roles == {"Sihtasutus Viljandi Haigla": ["buyer"], "Medivar OÜ": ["supplier"]}
    assert estonian["buyer"]["name"] == "Sihtasutus Viljandi Haigla"
    assert estonian["tender"]["items"][0]["classification"] == {"scheme": "CPV", "id": "33195000"}

    # legacy VEAT awarded to a group of four French firms: one award, four suppliers, each a party
    group = releases["ted-078165-2022"]
    (award,) = group["awards"]
    assert [s["name"] for s in award["suppliers"]] == [
        "SAS Stéphane BESSIERES",
        "BET INSE SARL",
        "SARL Pierre BRUNEL",
        "SIGMA ACOUSTIQUE",
    ]
    assert award["value"] == {"amount": 120000.0, "currency": "EUR"}
    assert award["date"] == "2022-01-21T00:00:00Z"
    suppliers = [p for p in group["parties"] if "supplier" in p["roles"]]
    assert {p["id"] for p in suppliers} == {s["id"] for s in award["suppliers"]}
    assert suppliers[0]["address"] == {"locality": "SAINT CHELY D'APCHER", "countryName": "France"}

    # eForms award of seven lots: one award per awarded lot, Polish VAT numbers as identifiers
    polish = releases["ted-088158-2022"]
    assert [a["relatedLots"] for a in polish["awards"]] == [[f"LOT-000{n}"] for n in range(1, 8)]
    zarys = next(p for p in polish["parties"] if p.get("identifier", {}).get("id") == "PL6481997718")
    assert zarys["id"] == "PL-PL6481997718" and zarys["roles"] == ["supplier"]
    assert zarys["name"].startswith("Zarys International Group Sp. z ograniczoną")

    # contract notices: lots with their estimated values, the deadline as a UTC instant, no awards
    english = releases["ted-209416-2020"]
    assert english["tag"] == ["tender"]
    assert english["tender"]["procurementMethod"] == "selective"  # restricted
    assert english["tender"]["mainProcurementCategory"] == "services"
    assert english["tender"]["value"] == {"amount": 1530376.0, "currency": "GBP"}
    assert [lot["value"]["amount"] for lot in english["tender"]["lots"]] == [1295520.0, 234856.0]
    assert english["tender"]["tenderPeriod"] == {"endDate": "2020-06-05T11:00:00Z"}  # 12:00+01:00
    assert "awards" not in english


def test_identifiers_schemes_and_non_ascii_names() -> None:
    notice = make_notice(
        source="be",
        source_id="ÉCOLE-1",
        notice_type="award",
        deadline=None,
        buyer={"name": "Commune d'Écaussinnes", "country": "BE", "id": "0207.370.253", "town": "Écaussinnes"},
        awards=[
            {
                "lot_ids": ["1"],
                "winners": [
                    {"name": "École Numérique SA", "country": "BE", "identifier": "0202239951", "sme": True},
                    {"name": "Société Générale d'Ingénierie", "country": "FR", "identifier": "38012986600022"},
                ],
                "value": 98000.5,
                "currency": "EUR",
                "tenders_received": 3,
                "date": "2026-01-10",
            }
        ],
    )
    out = io.StringIO()
    assert write_package(out, [notice.to_json_dict()], prefix="abc123") == 1
    package = json.loads(out.getvalue())
    assert _errors(package) == []
    (single,) = package["releases"]
    assert single["ocid"] == "ocds-abc123-be-ÉCOLE-1"
    parties = {p["name"]: p for p in single["parties"]}
    assert parties["École Numérique SA"]["identifier"] == {
        "id": "0202239951",
        "legalName": "École Numérique SA",
        "scheme": "BE-BCE_KBO",
    }
    assert parties["Société Générale d'Ingénierie"]["identifier"]["scheme"] == "FR-RCS"
    assert parties["Commune d'Écaussinnes"]["additionalIdentifiers"] == [{"id": "0207.370.253"}]
    assert single["awards"][0]["suppliers"] == [
        {"id": "BE-0202239951", "name": "École Numérique SA"},
        {"id": "FR-38012986600022", "name": "Société Générale d'Ingénierie"},
    ]
    assert single["tender"]["numberOfTenderers"] == 3
    assert "École Numérique SA" in out.getvalue()  # written as UTF-8 text, not \\u escapes


def test_a_broken_release_is_refused_by_the_schema() -> None:
    """The validation is not vacuous: a release without its required fields fails."""
    data = release(make_notice().to_json_dict())
    del data["initiationType"]
    data["tag"] = "tender"  # not an array
    package = {"uri": "x", "version": "1.1", "publishedDate": "2026-01-01T00:00:00Z", "releases": [data]}
    errors = _errors(package)
    assert any("initiationType" in e for e in errors) and any("'tender' is not of type 'array'" in e for e in errors)


def test_package_is_streamed_release_by_release() -> None:
    """The writer consumes the notices one at a time and writes each release before reading the next."""
    out = io.StringIO()
    seen: list[int] = []

    def notices() -> Any:
        for number in range(3):
            seen.append(len(out.getvalue()))
            yield make_notice(source_id=f"26-000{number}").to_json_dict()

    assert write_package(out, notices()) == 3
    assert seen[0] < seen[1] < seen[2]  # something was written between two reads
    assert len(json.loads(out.getvalue())["releases"]) == 3


@pytest.mark.parametrize("fmt", ["xml"])
def test_unknown_format_is_refused(settings_env: None, fmt: str) -> None:
    result = CliRunner().invoke(app, ["export", "--format", fmt])
    assert result.exit_code == 2
    assert "jsonl or ocds" in result.output


def test_awards_survive_the_store(engine: Engine) -> None:
    """Awards survive the store: what `export` reads back is what was parsed."""
    notice = make_notice(
        notice_type="award",
        deadline=None,
        awards=[{"lot_ids": ["1"], "winners": [{"name": "École Numérique SA", "country": "BE"}]}],
    )
    store_notices(engine, [incoming(notice)])
    from crawlers.store.service import export_notices

    (data,) = list(export_notices(engine))
    assert data["awards"][0]["winners"][0]["name"] == "École Numérique SA"
    assert release(data)["awards"][0]["suppliers"] == [{"id": "BE-ecole-numerique-sa", "name": "École Numérique SA"}]


def test_contract_and_award_notices_of_one_procedure_share_the_ocid(engine: Engine) -> None:
    """The award notice refers to the contract notice: linked into one procedure, one contracting process."""
    from crawlers.ocds import stored_notices
    from crawlers.store.procedures import link_procedures

    call = make_notice(source="ted", source_id="123456-2026", title="Plateforme numérique — École Numérique")
    award = make_notice(
        source="ted",
        source_id="234567-2026",
        notice_type="award",
        deadline=None,
        published="2026-04-02",
        title="Plateforme numérique — École Numérique",
        related=["123456-2026"],
        awards=[{"lot_ids": ["1"], "winners": [{"name": "École Numérique SA", "country": "BE"}], "value": 99.5}],
    )
    other = make_notice(
        source="boamp",
        source_id="26-9999",
        title="Nettoyage des locaux",
        published="2026-05-01",
        buyer={"name": "Département des Ardennes", "country": "FR", "town": "Charleville-Mézières"},
        deadline="2026-06-01T12:00:00+02:00",
        url="https://www.boamp.fr/pages/avis/?q=idweb:26-9999",
        nuts=["FRF21"],
        cpv_main="90910000",
        cpv_additional=[],
        lots=[{"id": "1", "cpv_main": "90910000", "nuts": ["FRF21"]}],
    )
    store_notices(engine, [incoming(call), incoming(award), incoming(other)])
    link_procedures(engine)
    out = io.StringIO()
    assert write_package(out, stored_notices(engine, batch_size=2), prefix="xyz") == 3
    package = json.loads(out.getvalue())
    assert _errors(package) == []
    ocids = {r["id"]: r["ocid"] for r in package["releases"]}
    assert ocids == {
        "ted-123456-2026": "ocds-xyz-ted-123456-2026",
        "ted-234567-2026": "ocds-xyz-ted-123456-2026",  # the award release joins the call's process
        "boamp-26-9999": "ocds-xyz-boamp-26-9999",
    }
    assert [r["tag"] for r in package["releases"]] == [["tender"], ["award"], ["tender"]]

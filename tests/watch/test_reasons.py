"""Match reasons: one wording per language with the code labels, and the migration of the English sentences."""

from __future__ import annotations

import doctest
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import Engine

import watch.deadlines
import watch.reasons
from tests.notifications.helpers import add_firm, add_match, add_notice
from watch.matching import profile_matches
from watch.models import Match
from watch.reasons import describe_reason, describe_reasons

from .helpers import notice, recorded_notice, spec

MIGRATION = Path(__file__).parents[2] / "pib" / "migrations" / "versions" / "0013_match_reasons.py"
ENGLISH = ("under your", "one of your", "keyword", "inferred", "confidence", "in the title", "the description",
           "place of performance", "buyer in", "estimated value", "in your range", "lots 1")  # fmt: skip


@pytest.mark.parametrize("module", [watch.reasons, watch.deadlines])
def test_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted and not result.failed


def _every_kind() -> list[dict[str, Any]]:
    """One reason of every kind and variant, as matching makes them (not written by hand)."""
    reasons: list[dict[str, Any]] = []
    for found in (
        profile_matches(
            spec(cpv=["48000000"], keywords=["logiciel", "cloud"], regions=["BE3"], value_max=1e6),
            notice(
                cpv_main="48900000",
                cpv_additional=[],
                description="Hébergement cloud",
                nuts=["BE32"],
                buyer={"name": "Ville de Mons", "country": "BE", "town": "Mons"},
            ),
        ),
        profile_matches(spec(cpv=["72000000"]), notice(cpv_main=None, cpv_additional=[]), inferred=[("72200000", 0.6)]),
        profile_matches(
            spec(cpv=["45261000"], keywords=["toiture"], regions=["FR"]), recorded_notice("boamp", "26-7113")
        ),
        profile_matches(spec(cpv=["72212000"]), notice(cpv_main="72212000", cpv_additional=[])),
    ):
        assert found is not None
        reasons.extend(found.reasons)
    assert {reason["kind"] for reason in reasons} == {"cpv", "keyword", "place", "buyer-place", "value"}
    assert {reason.get("field") for reason in reasons} >= {"title", "description", "lot"}
    return reasons


@pytest.mark.parametrize("language", ["fr", "nl"])
def test_every_reason_reads_in_french_and_dutch_without_english(language: str) -> None:
    written = describe_reasons(_every_kind(), language)
    assert not [(text, word) for text in written for word in ENGLISH if word in text]
    assert len(set(written)) == len(written)


def test_french_and_dutch_reasons_carry_the_code_labels() -> None:
    reason = {"kind": "cpv", "code": "48900000", "under": "48000000"}
    assert describe_reason(reason, "fr") == (
        "CPV 48900000 (Logiciels et systèmes informatiques divers) relève de votre 48000000 "
        "(Logiciels et systèmes d'information)"
    )
    assert describe_reason(reason, "nl") == (
        "CPV 48900000 (Diverse software en computersystemen) valt onder uw 48000000 (Software en informatiesystemen)"
    )
    assert describe_reason({"kind": "buyer-place", "code": "FR"}, "nl") == (
        "aanbestedende dienst in France (FR) (plaats van uitvoering niet vermeld)"
    )
    inferred = {"kind": "cpv", "code": "72200000", "under": "72000000", "confidence": 0.6}
    assert describe_reason(inferred, "fr") == (
        "CPV 72200000 (Services de programmation et de conseil en logiciels) déduit, 0,60\u00a0; relève de votre "
        "72000000 (Services de technologies de l'information, conseil…)"
    )
    assert describe_reason(inferred, "en").startswith("CPV 72200000 (Software programming and consultancy services)")
    assert "inferred, 0.60; under your 72000000" in describe_reason(inferred, "en")
    assert "afgeleid, 0,60; valt onder uw 72000000" in describe_reason(inferred, "nl")
    same = {"kind": "cpv", "code": "72000000", "under": "72000000", "confidence": 0.8249}
    assert describe_reason(same, "fr").endswith("déduit, 0,82\u00a0; l'un de vos codes")
    long_label = describe_reason({"kind": "cpv", "code": "72212000", "under": "72000000"}, "fr")
    assert long_label.endswith("relève de votre 72000000 (Services de technologies de l'information, conseil…)")


def test_an_unknown_code_is_shown_bare_and_an_unknown_kind_is_refused() -> None:
    assert describe_reason({"kind": "place", "code": "ZZ9"}, "fr") == "lieu d'exécution\u00a0: ZZ9"
    with pytest.raises(ValueError, match="unknown kind of match reason 'colour'"):
        describe_reason({"kind": "colour"}, "fr")


def _migration() -> ModuleType:
    loaded = importlib.util.spec_from_file_location("migration_0013", MIGRATION)
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


OLD_SENTENCES = [
    "CPV 72212000 under your 72000000",
    "CPV 45261900 under your 45261000 (lot 2)",
    "CPV 90510000 under your 90000000 (lots 1, 3)",
    "CPV 72200000 inferred from the text (confidence 0.60) under your 72000000",
    "keyword 'cybersécurité' in the title",
    "keyword 'cloud' in the description",
    "keyword 'toiture' in the title of lot 2",
    "buyer in FR (no place of performance given)",
    "lot 2 in BE32",
    "lots 1, 3 in BE32",
    "in BE241",
    "estimated value 250,000 EUR in your range",
    "estimated value 1,200 in your range",
]


@pytest.mark.parametrize("sentence", OLD_SENTENCES)
def test_the_migration_reads_every_old_sentence_and_writes_it_back(sentence: str) -> None:
    migration = _migration()
    reason = migration.structured(sentence)
    assert isinstance(reason, dict)
    describe_reason(reason, "fr")  # a reason the one wording knows
    assert migration.sentence(reason) == sentence


def test_the_migration_rewrites_stored_reasons_and_keeps_what_it_cannot_read(engine: Engine) -> None:
    firm = add_firm(engine, name="École Numérique SA")
    odd: list[dict[str, Any] | str] = ["CPV 72212000 sous votre 72000000"]  # no known form: kept, shown as it is
    made = {
        add_match(engine, firm, add_notice(engine, source_id="26-0001"), reasons=[OLD_SENTENCES[0], "in BE241"]): 0,
        add_match(engine, firm, add_notice(engine, source_id="26-0002"), reasons=odd): 1,
        add_match(engine, firm, add_notice(engine, source_id="26-0003"), reasons=["lot 2 in BE32"]): 2,
    }
    migration = _migration()
    table: sa.Table = Match.__table__  # type: ignore[attr-defined]

    def stored() -> list[Any]:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(table.c.id, table.c.reasons)).all()
        return [reasons for _, reasons in sorted(rows, key=lambda row: made[row.id])]

    def run(step: str) -> None:
        with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
            getattr(migration, step)()

    run("upgrade")
    assert stored() == [
        [{"kind": "cpv", "code": "72212000", "under": "72000000"}, {"kind": "place", "code": "BE241"}],
        odd,
        [{"kind": "place", "code": "BE32", "lots": ["2"]}],
    ]
    assert describe_reasons(stored()[2], "fr") == ["lieu d'exécution du lot 2\u00a0: Prov. Hainaut (BE32)"]
    assert describe_reasons(stored()[1], "fr") == odd
    run("downgrade")
    assert stored() == [[OLD_SENTENCES[0], "in BE241"], odd, ["lot 2 in BE32"]]

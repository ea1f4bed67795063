"""The CPV classifier in service: versions in the database, the retrain, and routing with inferred codes."""

from __future__ import annotations

import json
import pickle
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import watch.cpv.registry as registry
from config.settings import Settings
from tests.factories import make_notice
from tests.watch.helpers import add_member, store
from watch.cpv.model import ROUTING_THRESHOLD, CpvClassifier
from watch.models import Match
from watch.routing import member_matches, route_new

match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]

SOFTWARE_FR: dict[str, Any] = dict(
    title="Développement et maintenance d'une application web de gestion des inscriptions scolaires",
    description=(
        "Prestations de services informatiques : conception, développement, hébergement et maintenance "
        "évolutive d'un logiciel de gestion, support aux utilisateurs de l'École Numérique."
    ),
    cpv_main=None,
    cpv_additional=[],
    lots=[{"id": "1"}],
)
"""An uncoded French notice about software, as a feed entry or a listing page gives them."""


def _save(engine: Engine, classifier: CpvClassifier, store_notices: int = 0) -> registry.ModelVersion:
    return registry.save_model(engine, classifier, trained_on=classifier.trained_on, store_notices=store_notices)


def test_a_saved_version_becomes_active_and_old_ones_are_pruned(engine: Engine, cpv_classifier: Any) -> None:
    assert registry.active_version(engine) is None
    assert registry.active_model(engine) is None
    first = _save(engine, cpv_classifier)
    assert (first.version, first.active, first.trained_on) == (1, True, cpv_classifier.trained_on)
    assert first.size > 10_000 and len(first.sha256) == 64
    for _ in range(4):
        _save(engine, cpv_classifier)
    assert [(v.version, v.active) for v in registry.versions(engine)] == [
        (5, True),
        (4, False),
        (3, False),
    ]
    registry.activate(engine, 4)
    assert registry.active_version(engine).version == 4  # type: ignore[union-attr]
    with pytest.raises(LookupError, match="no CPV model version 1"):
        registry.activate(engine, 1)


def test_a_save_that_fails_halfway_leaves_the_previous_version_active(
    engine: Engine, cpv_classifier: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _save(engine, cpv_classifier)
    loaded = registry.active_model(engine)
    assert loaded is not None and loaded.version == 1

    def fail(*_args: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(registry, "_prune", fail)  # after the insert and the activation, in the same transaction
    with pytest.raises(RuntimeError, match="disk full"):
        _save(engine, cpv_classifier)
    assert [(v.version, v.active) for v in registry.versions(engine)] == [(1, True)]
    assert registry.active_model(engine) is loaded  # still loaded once, still version 1


def test_the_active_model_is_loaded_once_and_again_when_the_version_changes(
    engine: Engine, cpv_classifier: Any
) -> None:
    _save(engine, cpv_classifier)
    first = registry.active_model(engine)
    assert first is not None and registry.active_model(engine) is first
    [inferred] = first.classifier.predict([SOFTWARE_FR["description"]])
    assert inferred[0].code == "72000000"
    _save(engine, cpv_classifier)
    second = registry.active_model(engine)
    assert second is not None and second is not first and second.version == 2


def _coded(count: int, start: int = 0) -> list[Any]:
    return [
        make_notice(source_id=f"26-{start + i}", title=f"Réfection de toiture n°{start + i}", cpv_main="45261000")
        for i in range(count)
    ]


def test_the_job_retrains_only_when_the_store_gained_enough(engine: Engine) -> None:
    first = registry.retrain(engine, min_new=3)
    assert (first.trained, first.reason, first.version, first.previous) == (True, "no model yet", 1, None)
    assert "version 1 trained" in first.describe() and "the first one" in first.describe()
    store(engine, *_coded(2))
    skipped = registry.retrain(engine, min_new=3)
    assert (skipped.trained, skipped.gained, skipped.version) == (False, 2, 1)
    assert skipped.describe() == (
        "CPV model: not retrained (2 new coded notices in the store since version 1, 3 needed); version 1 stays active"
    )
    store(engine, *_coded(1, start=10))
    again = registry.retrain(engine, min_new=3)
    assert (again.trained, again.reason, again.version, again.previous) == (
        True,
        "3 new coded notices in the store",
        2,
        1,
    )
    assert again.store == 3 and again.store_notices == 3
    assert registry.active_version(engine).store_notices == 3  # type: ignore[union-attr]
    assert registry.retrain(engine, min_new=3).trained is False  # counted from version 2 now
    forced = registry.retrain(engine, min_new=3, force=True)
    assert (forced.trained, forced.reason, forced.version) == (True, "forced", 3)


def test_an_uncoded_french_notice_about_software_reaches_a_firm_watching_72000000(
    engine: Engine, cpv_classifier: Any
) -> None:
    _save(engine, cpv_classifier)
    member_id, _ = add_member(engine, "École Numérique SA", {"cpv": ["72000000"]})
    roofer, _ = add_member(engine, "Toitures Wallonnes", {"cpv": ["45261000"]})
    narrow, _ = add_member(engine, "Données Précises", {"cpv": ["72212000"]})
    store(engine, make_notice(source_id="feed-1", **SOFTWARE_FR))
    summary = route_new(engine)
    assert (summary.inferred, summary.matches, summary.failures) == (1, 1, [])
    [match] = member_matches(engine, member_id, language="fr")
    [reason] = match["reasons"]
    assert (reason["kind"], reason["code"], reason["under"]) == ("cpv", "72000000", "72000000")
    assert ROUTING_THRESHOLD <= reason["confidence"] <= 1
    confidence = f"{reason['confidence']:.2f}".replace(".", ",")
    assert match["reasons_text"] == [
        f"CPV 72000000 (Services de technologies de l'information, conseil…) déduit, {confidence}\u00a0; "
        "l'un de vos codes"
    ]
    with engine.connect() as connection:
        stored = connection.execute(sa.select(match_table.c.reasons)).scalar_one()
    assert stored == [reason]
    assert member_matches(engine, roofer) == [] and member_matches(engine, narrow) == []


def test_a_notice_with_codes_of_its_own_is_not_recoded(engine: Engine, cpv_classifier: Any) -> None:
    _save(engine, cpv_classifier)
    member_id, _ = add_member(engine, "École Numérique SA", {"cpv": ["72000000"]})
    store(engine, make_notice(source_id="26-1", **{**SOFTWARE_FR, "cpv_main": "45261000"}))
    summary = route_new(engine)
    assert (summary.notices, summary.inferred, summary.matches) == (1, 0, 0)
    assert member_matches(engine, member_id) == []


def test_a_fresh_installation_trains_and_stores_its_first_model_on_first_need(engine: Engine) -> None:
    member_id, _ = add_member(engine, "École Numérique SA", {"cpv": ["72000000"]})
    store(engine, make_notice(source_id="26-1", cpv_main="72000000", cpv_additional=[]))
    route_new(engine)
    assert registry.versions(engine) == []  # nothing to infer: no model needed
    store(engine, make_notice(source_id="feed-1", **SOFTWARE_FR))
    summary = route_new(engine)
    [version] = registry.versions(engine)
    assert (version.version, version.active, version.store_notices) == (1, True, 1)
    assert summary.inferred == 1
    assert [m["source_id"] for m in member_matches(engine, member_id)] == ["26-1", "feed-1"]


def test_a_fresh_service_trains_its_first_model_at_start(engine: Engine, cpv_classifier: Any) -> None:
    from pib.scheduler import build_scheduler, job_specs, schedule_first_retrain

    scheduler = build_scheduler(engine, job_specs(Settings()))
    try:
        now = datetime.now(UTC)
        when = schedule_first_retrain(scheduler, engine, now=now)
        assert when is not None and timedelta(0) < when - now <= timedelta(seconds=30)
        assert scheduler.get_job("cpv-retrain").next_run_time == when
        _save(engine, cpv_classifier)
        assert schedule_first_retrain(scheduler, engine, now=now) is None
    finally:
        scheduler.shutdown()


def test_the_retrain_process_prints_one_summary_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m pib.cli_cpv_admin --json`, what the service's job runs, here in-process."""
    from config.settings import get_settings
    from pib.cli_cpv_admin import main

    monkeypatch.setenv("PIB_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert main(["--json"]) == 0
        first = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert main([]) == 0
        second = capsys.readouterr().out.splitlines()[-1]
    finally:
        get_settings.cache_clear()
    assert (first["trained"], first["version"], first["reason"]) == (True, 1, "no model yet")
    assert second.startswith("CPV model: not retrained (0 new coded notices in the store since version 1, 2,000")


def test_pib_cpv_retrain_models_and_activate(settings_env: None, engine: Engine) -> None:
    from typer.testing import CliRunner

    from pib.cli import app

    runner = CliRunner()
    assert "no CPV model yet" in runner.invoke(app, ["cpv", "models"]).stdout
    first = runner.invoke(app, ["cpv", "retrain", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.splitlines()[-1])["version"] == 1
    forced = runner.invoke(app, ["cpv", "retrain", "--force"])
    assert "CPV model: version 2 trained" in forced.stdout and "replaces version 1 (forced)" in forced.stdout
    listed = runner.invoke(app, ["cpv", "models"]).stdout.splitlines()
    assert [line[:11] for line in listed] == ["* version 2", "  version 1"]
    assert runner.invoke(app, ["cpv", "activate", "1"]).stdout.strip() == "CPV model version 1 is active"
    assert registry.active_version(engine).version == 1  # type: ignore[union-attr]
    refused = runner.invoke(app, ["cpv", "activate", "7"])
    assert refused.exit_code == 1 and "no CPV model version 7" in refused.stderr


def test_pib_match_on_a_fresh_installation_trains_the_first_model_and_says_so(
    settings_env: None, engine: Engine
) -> None:
    from typer.testing import CliRunner

    from pib.cli import app

    member_id, _ = add_member(engine, "École Numérique SA", {"cpv": ["72000000"]})
    store(engine, make_notice(source_id="feed-1", **SOFTWARE_FR))
    result = CliRunner().invoke(app, ["match"])
    assert result.exit_code == 0, result.output
    assert "no CPV model yet: training the first one on the shipped corpus" in result.stderr
    assert "CPV model: version 1 trained" in result.stderr and "(no model yet)" in result.stderr
    assert "1 with inferred CPV" in result.stderr
    assert [m["source_id"] for m in member_matches(engine, member_id)] == ["feed-1"]
    again = CliRunner().invoke(app, ["match"])
    assert "no CPV model yet" not in again.stderr


def test_a_page_of_uncoded_notices_is_classified_in_one_call(engine: Engine, cpv_classifier: Any) -> None:
    calls: list[list[str]] = []

    class Counting:
        def predict(self, texts: list[str]) -> Any:
            calls.append(list(texts))
            return cpv_classifier.predict(texts)

    add_member(engine, "École Numérique SA", {"cpv": ["72000000"]})
    store(
        engine,
        make_notice(source_id="feed-1", **SOFTWARE_FR),
        make_notice(source_id="feed-2", **{**SOFTWARE_FR, "title": "Hébergement et maintenance du logiciel"}),
        make_notice(source_id="26-1", **{**SOFTWARE_FR, "cpv_main": "72000000"}),
    )
    summary = route_new(engine, cpv_model=Counting())  # type: ignore[arg-type]
    assert (summary.inferred, summary.matches) == (2, 3)
    assert len(calls) == 1 and len(calls[0]) == 2


def test_a_model_saved_by_an_older_pib_is_replaced_on_first_need(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """A version stored in a format this PIB cannot read is not used: routing trains a new one and goes on."""
    older = zlib.compress(pickle.dumps({"format": 1, "model": None}))
    registry.save_model(engine, older, trained_on=10, store_notices=0)
    member_id, _ = add_member(engine, "École Numérique SA", {"cpv": ["72000000"]})
    store(engine, make_notice(source_id="feed-1", **SOFTWARE_FR))

    with caplog.at_level("WARNING", logger=registry.log.name):
        summary = route_new(engine)

    assert "CPV model version 1 cannot be used (a CPV model of format 1" in caplog.text
    assert [(v.version, v.active) for v in registry.versions(engine)] == [(2, True), (1, False)]
    assert summary.inferred == 1
    assert [m["source_id"] for m in member_matches(engine, member_id)] == ["feed-1"]


def test_the_retrain_job_replaces_a_model_it_cannot_read(engine: Engine) -> None:
    registry.save_model(
        engine, zlib.compress(pickle.dumps({"format": 1, "model": None})), trained_on=10, store_notices=0
    )

    summary = registry.retrain(engine, min_new=1_000)

    assert summary.trained and summary.reason == "version 1 cannot be read by this version of PIB"
    assert registry.active_model(engine) is not None

"""A digest run over many members says, to each reader, exactly what that reader's digest said before the run
was made fast (batched reads, links and records), and what rendering each reader alone says.

`tests/fixtures/digests/golden.json` holds the subject and both bodies of each digest of the scene below, as
the code before the speed work wrote them (see tests/fixtures/digests/SOURCES.md); set PIB_WRITE_GOLDEN=1 to
write it again after a change of wording made on purpose.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from notifications import digests
from notifications.digests import send_digests
from notifications.models import content_table, item_table, outbox_table
from notifications.senders import OutboxSender
from tests.conftest import FIXTURES
from tests.notifications.helpers import NOW, add_firm, add_match, add_notice, emls, parts, read_eml, settings_for
from watch.models import Match

GOLDEN = FIXTURES / "digests" / "golden.json"
FIRMS = [
    ("École Numérique SA", [("lea@ecole-numerique.example", "fr"), ("joost@ecole-numerique.example", "nl")]),
    ("Brasserie Ørsted & Fils SPRL", [("zoe@orsted.example", "fr")]),
    ("Vlaamse Coöperatie Één NV", [("jan@coop-een.example", "nl"), ("ann@coop-een.example", "en")]),
    ("Société Générale d'Études <Nord>", [("info@sge.example", "fr")]),
    ("Zürich Ingénierie GmbH", [("hans@zurich-ing.example", "nl")]),
]
REASONS: list[list[dict[str, Any] | str]] = [
    [
        {"kind": "cpv", "code": "72212000", "under": "72000000"},
        {"kind": "keyword", "word": "logiciel", "field": "title"},
    ],
    [{"kind": "region", "code": "BE32"}],
    [{"kind": "value", "value": 250000.0, "currency": "EUR"}, {"kind": "cpv", "code": "48900000", "under": "48000000"}],
    ["CPV 72212000 sous votre 72000000"],
]


def _scene(engine: Engine) -> None:
    """Five firms, seven readers in FR/NL/EN, eight tenders (lots, places, values, odd characters) matched in
    overlapping sets with reasons of every kind."""
    notices = []
    for n in range(8):
        lots: list[dict[str, Any]] = [
            {"id": str(lot), "title": f"Lot n°{lot} : éclairage « LED » & réseaux", "cpv_main": "72000000",
             "cpv_additional": [], "nuts": ["BE32" if lot % 2 else "FRE11"]}
            for lot in range(1, 1 + n % 4)
        ] or [{"id": "1", "title": None, "cpv_main": "72000000", "cpv_additional": [], "nuts": []}]  # fmt: skip
        notices.append(
            add_notice(
                engine,
                source_id=f"26-{n:04d}",
                title=f"Maintenance des écoles n°{n} — Ville d'Éghezée <b>pilote</b>",
                buyer={"name": f"Commune d'Œudeghien {n}", "country": "BE" if n % 2 else "FR", "town": "Œudeghien"},
                nuts=[["BE32"], ["FRE11", "BE10"], [], ["BE3", "ZZ9"]][n % 4],
                deadline=["2026-02-16T12:00:00+01:00", "2026-01-23", "2026-03-02T11:00:00Z"][n % 3],
                estimated_value=None if n % 5 == 0 else 12_345.67 * (n + 1),
                currency=None if n % 5 == 0 else "EUR",
                lots=lots,
                documents_url=f"https://marchés.example/dce/{n}" if n % 2 else None,
            )
        )
    for index, (name, users) in enumerate(FIRMS):
        firm = add_firm(engine, name=name, users=users)
        for k in range(3 + index):
            notice = notices[(index * 3 + k) % len(notices)]
            add_match(
                engine,
                firm,
                notice,
                score=1.0 - k / 10,
                reasons=REASONS[(index + k) % len(REASONS)],
                lot_ids=["1", "3"] if k % 2 else ["2"],
            )


def _send(engine: Engine, folder: Path) -> dict[str, dict[str, str]]:
    settings = settings_for(folder)
    summary = send_digests(
        engine, frequency="daily", sender=OutboxSender(settings.outbox_dir), now=NOW, settings=settings
    )
    assert summary.delivery.sent == sum(len(users) for _, users in FIRMS), summary.describe()
    received = {}
    for path in emls(settings.outbox_dir):
        message = read_eml(path)
        text, html = parts(message)
        received[str(message["To"])] = {"subject": str(message["Subject"]), "text": text, "html": html}
    return received


def _forget_the_run(engine: Engine) -> None:
    match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        for table in (item_table, content_table, outbox_table):
            connection.execute(sa.delete(table))
        connection.execute(sa.update(match_table).values(notified_at=None))


def test_a_run_over_many_members_says_what_each_digest_said_alone(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scene(engine)
    together = _send(engine, tmp_path / "together")

    assert len(together) == 7
    lea = together["lea@ecole-numerique.example"]
    assert lea["subject"] == "3 nouveaux marchés pour École Numérique SA"
    assert "Maintenance des écoles n°0 — Ville d'Éghezée <b>pilote</b>" in lea["text"]
    assert "Maintenance des écoles n°0 — Ville d&#39;Éghezée &lt;b&gt;pilote&lt;/b&gt;" in lea["html"]
    assert "Opdrachten" not in lea["text"]
    assert "nieuwe opdrachten voor École Numérique SA" in together["joost@ecole-numerique.example"]["subject"]
    assert "Société Générale d&#39;Études &lt;Nord&gt;" in together["info@sge.example"]["html"]

    if os.environ.get("PIB_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(together, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(together) == sorted(golden)
    for reader, digest in together.items():
        assert digest == golden[reader], reader

    # The same run, one reader at a time: the batch a reader is composed in changes nothing.
    _forget_the_run(engine)
    monkeypatch.setattr(digests, "USERS_PER_BATCH", 1)
    alone = _send(engine, tmp_path / "alone")
    assert alone == together


def test_the_next_run_finds_nothing_left(engine: Engine, tmp_path: Path) -> None:
    _scene(engine)
    _send(engine, tmp_path / "first")
    settings = settings_for(tmp_path / "second")
    summary = send_digests(
        engine,
        frequency="daily",
        sender=OutboxSender(settings.outbox_dir),
        now=NOW + timedelta(days=1),
        settings=settings,
    )
    assert (summary.composed, summary.delivery.sent) == (0, 0)
    with engine.connect() as connection:
        match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]
        assert connection.execute(sa.select(sa.func.count()).where(match_table.c.notified_at.is_(None))).scalar() == 0

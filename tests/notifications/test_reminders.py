"""Follow-ups of flagged tenders: reminders 7, 3 and 1 days before the deadline, change alerts; each once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from notifications.reminders import send_followups
from notifications.senders import OutboxSender
from tests.notifications.helpers import (
    NOW,
    add_change,
    add_firm,
    add_notice,
    add_procedure,
    emls,
    flag,
    parts,
    read_eml,
    settings_for,
)

DEADLINE = "2026-02-16T12:00:00+01:00"


def brussels_morning(day: int, month: int = 2) -> datetime:
    return datetime(2026, month, day, 6, 15, tzinfo=UTC)  # 07:15 in Brussels


def subjects(folder: Path) -> list[str]:
    return [str(read_eml(path)["Subject"]) for path in sorted(emls(folder), key=lambda p: p.stat().st_mtime_ns)]


def test_reminders_at_7_3_and_1_days_each_once(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    sender = OutboxSender(settings.outbox_dir)
    firm = add_firm(engine)
    notice = add_notice(engine, title="Hébergement cloud", deadline=DEADLINE)
    flag(engine, firm, notice)
    ignored = add_notice(engine, source_id="26-0002", deadline=DEADLINE)
    flag(engine, firm, ignored, verdict="not-relevant")

    sent = {}
    for day in (8, 9, 10, 12, 13, 14, 15, 16, 17):
        summary = send_followups(engine, sender=sender, now=brussels_morning(day), settings=settings)
        sent[f"Feb {day}"] = summary.delivery.sent
    after_deadline = datetime(2026, 2, 16, 11, 1, tzinfo=UTC)
    sent["after the deadline"] = send_followups(
        engine, sender=sender, now=after_deadline, settings=settings
    ).delivery.sent

    assert [day for day, count in sent.items() if count] == ["Feb 9", "Feb 13", "Feb 15"]
    assert subjects(settings.outbox_dir) == [
        "Date limite dans 7 jours : Hébergement cloud",
        "Date limite dans 3 jours : Hébergement cloud",
        "Date limite demain : Hébergement cloud",
    ]
    text, html = parts(read_eml(emls(settings.outbox_dir)[0]))
    assert "16 février 2026, 12:00 (dans 7 jours)" in text
    assert "Hébergement cloud" in html


def test_a_late_run_sends_only_the_most_urgent_reminder(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    firm = add_firm(engine, users=[("info@alpha.example", "en")])
    flag(engine, firm, add_notice(engine, title="Cloud hosting", deadline=DEADLINE))

    summary = send_followups(
        engine, sender=OutboxSender(settings.outbox_dir), now=brussels_morning(14), settings=settings
    )

    assert (summary.reminders, summary.delivery.sent) == (1, 1)
    assert subjects(settings.outbox_dir) == ["Deadline in 2 days: Cloud hosting"]


def test_the_procedure_deadline_wins_and_a_closed_procedure_is_not_reminded(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    sender = OutboxSender(settings.outbox_dir)
    firm = add_firm(engine, users=[("info@alpha.example", "en")])
    moved = add_notice(engine, source_id="26-0001", title="Moved", deadline=DEADLINE)
    cancelled = add_notice(engine, source_id="26-0002", title="Cancelled", deadline=DEADLINE)
    add_procedure(
        engine, [moved], deadline="2026-03-02T12:00:00+01:00", deadline_utc=datetime(2026, 3, 2, 11, tzinfo=UTC)
    )
    add_procedure(
        engine, [cancelled], deadline=DEADLINE, deadline_utc=datetime(2026, 2, 16, 11, tzinfo=UTC), status="cancelled"
    )
    for notice in (moved, cancelled):
        flag(engine, firm, notice)

    assert send_followups(engine, sender=sender, now=brussels_morning(15), settings=settings).delivery.sent == 0
    assert send_followups(engine, sender=sender, now=brussels_morning(1, 3), settings=settings).delivery.sent == 1
    assert subjects(settings.outbox_dir) == ["Deadline tomorrow: Moved"]
    assert "2 March 2026, 12:00 (tomorrow)" in parts(read_eml(emls(settings.outbox_dir)[0]))[0]


def test_change_alerts_say_what_changed_once(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    sender = OutboxSender(settings.outbox_dir)
    firm = add_firm(engine)
    notice = add_notice(engine, title="Hébergement cloud", deadline=DEADLINE)
    change_notice = add_notice(
        engine,
        source_id="26-0009",
        notice_type="change",
        title="Rectificatif",
        url="https://www.boamp.fr/pages/avis/?q=idweb:26-0009",
    )
    procedure = add_procedure(
        engine,
        [notice, change_notice],
        deadline="2026-03-02T12:00:00+01:00",
        deadline_utc=datetime(2026, 3, 2, 11, tzinfo=UTC),
    )
    add_change(engine, procedure, change_notice, "modified", {}, at=NOW - timedelta(days=1))  # before the flag
    flag(engine, firm, notice, at=NOW)
    add_change(
        engine,
        procedure,
        change_notice,
        "deadline-moved",
        {"old": DEADLINE, "new": "2026-03-02T12:00:00+01:00"},
        at=NOW + timedelta(hours=1),
    )
    add_change(
        engine,
        procedure,
        change_notice,
        "lot-added",
        {"lot": {"id": "3", "title": "Sauvegarde"}},
        at=NOW + timedelta(hours=1),
    )

    first = send_followups(engine, sender=sender, now=NOW + timedelta(hours=2), settings=settings)
    second = send_followups(engine, sender=sender, now=NOW + timedelta(hours=3), settings=settings)

    assert (first.changes, first.delivery.sent, second.changes, second.delivery.sent) == (1, 1, 0, 0)
    message = read_eml(emls(settings.outbox_dir)[0])
    assert message["Subject"] == "Modification : Hébergement cloud"
    text, html = parts(message)
    assert "La date limite a changé : 16 février 2026, 12:00 → 2 mars 2026, 12:00." in text
    assert "Un lot a été ajouté : 3 – Sauvegarde." in text
    assert "L'avis a été modifié" not in text
    assert "https://www.boamp.fr/pages/avis/?q=idweb:26-0009" in text
    assert "La date limite a changé" in html

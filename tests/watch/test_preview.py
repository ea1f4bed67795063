"""The preview of a profile before it is saved: the tenders of the last 30 days it would have caught, counted as
routing counts them (one per procedure), by the real matching."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.notice import Notice
from crawlers.store.procedures import link_procedures
from crawlers.store.service import notice_table
from tests.factories import make_notice
from tests.watch.helpers import add_member, recorded, same_procedure, spec, store
from watch.matching import ProfileSpec, profile_matches
from watch.models import Match
from watch.preview import preview_profile
from watch.routing import route_new

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RECENT = "2026-02-20"
match_table: sa.Table = Match.__table__  # type: ignore[attr-defined]

PROFILE = {
    "cpv": ["72000000"],
    "keywords": ["hébergement cloud"],
    "exclude": ["nettoyage"],
    "regions": ["BE"],
    "value_min": 20000.0,
    "value_max": 500000.0,
}


def _notices() -> list[Notice]:
    """Notices around the profile: caught, twins of one procedure, and each rule failing once between them."""
    lot = {"id": "1", "title": None, "cpv_main": None, "cpv_additional": [], "nuts": ["BE352"]}
    common = {
        "buyer": {"name": "Ville de Namur", "country": "BE", "town": "Namur"},
        "nuts": ["BE352"],
        "lots": [lot],
    }
    return [
        make_notice(source_id="B-1", title="Développement d'un portail", published=RECENT, **common),
        make_notice(source_id="B-2", title="Nettoyage des serveurs", published=RECENT, **common),  # excluded
        make_notice(  # keyword only, accents and case aside, across word forms
            source_id="B-3",
            title="HEBERGEMENT CLOUDS souverain",
            cpv_main="48000000",
            cpv_additional=[],
            published=RECENT,
            **common,
        ),
        make_notice(source_id="B-4", title="Logiciel RH", published="2026-01-10", **common),  # before the window
        make_notice(source_id="B-5", title="Logiciel comptable", published=RECENT),  # elsewhere
        make_notice(source_id="B-6", title="Logiciel ERP", estimated_value=9e6, published=RECENT, **common),  # value
        make_notice(
            source_id="B-7", title="Logiciel ERP", notice_type="award", deadline=None, published=RECENT, **common
        ),  # type
        make_notice(source_id="B-8", title="Plateforme de données", published="2026-02-28", **common),
        make_notice(source="ted", source_id="123-2026", title="Plateforme de données", published=RECENT, **common),
    ]


def test_the_preview_counts_what_routing_then_routes(engine: Engine) -> None:
    notices = _notices()
    ids = store(engine, *notices)
    same_procedure(engine, ids[7], ids[8])  # a BOAMP notice and its TED twin: one tender
    member_id, _ = add_member(engine, "École Numérique SA", PROFILE)

    preview = preview_profile(engine, spec=spec(id=0, member_id=member_id, **PROFILE), now=NOW)

    route_new(engine)
    since = NOW.date() - timedelta(days=30)
    with engine.connect() as connection:
        routed = connection.execute(
            sa.select(notice_table.c.source_id)
            .join(match_table, match_table.c.notice_id == notice_table.c.id)
            .where(match_table.c.member_id == member_id, notice_table.c.published >= since)
        ).scalars()
        routed_ids = sorted(routed)
    assert routed_ids == ["B-1", "B-3", "B-8"]  # the twin reached the member once, through B-8
    assert preview.count == 3
    assert sorted(caught.source_id for caught in preview.first) == routed_ids
    assert preview.since == date(2026, 1, 31) and preview.days == 30
    scores = [caught.score for caught in preview.first]
    assert scores == sorted(scores, reverse=True)
    keyword = next(caught for caught in preview.first if caught.source_id == "B-3")
    assert keyword.reasons[0] == {"kind": "keyword", "keyword": "hébergement cloud", "field": "title"}


def test_an_edited_notice_is_judged_again(engine: Engine) -> None:
    """The prepared notices are kept in memory; a newer version of a notice replaces its prepared form."""
    member_id, _ = add_member(engine, "Alpha Logiciels SRL", {"keywords": ["archivage"]})
    profile = ProfileSpec(id=0, member_id=member_id, keywords=("archivage",))
    store(engine, make_notice(source_id="V-1", title="Maintenance du parc", published=RECENT))
    assert preview_profile(engine, spec=profile, now=NOW).count == 0
    store(engine, make_notice(source_id="V-1", title="Archivage électronique", published="2026-02-21"))
    after = preview_profile(engine, spec=profile, now=NOW)
    assert after.count == 1 and after.first[0].title == "Archivage électronique"


def test_on_the_recorded_notices_the_count_is_the_reference_matching(engine: Engine) -> None:
    """Over every recorded notice, linked into procedures: the count is what the naive reference matcher finds,
    one per procedure, in the window."""
    notices = list(recorded().values())
    store(engine, *notices)
    link_procedures(engine)
    latest = max(notice.published for notice in notices)
    now = datetime(latest.year, latest.month, latest.day, 12, tzinfo=UTC) + timedelta(days=1)
    profiles = [
        spec(cpv=["72000000", "48000000"]),
        spec(keywords=["travaux", "werken", "works"], regions=["BE", "FR"]),
        spec(cpv=["45000000"], exclude=["toiture"], notice_types=["contract-notice", "award"]),
    ]
    with engine.connect() as connection:
        rows = list(
            connection.execute(
                sa.select(notice_table.c.id, notice_table.c.procedure_id, notice_table.c.published, notice_table.c.data)
            )
        )
    for days in (30, 365):
        since = now.date() - timedelta(days=days)
        for profile in profiles:
            expected = {
                row.procedure_id or -row.id
                for row in rows
                if row.published >= since and profile_matches(profile, row.data) is not None
            }
            found = preview_profile(engine, spec=profile, now=now, days=days)
            assert found.count == len(expected), (profile, days)
    assert any(
        preview_profile(engine, spec=profile, now=now, days=365).count > 0 for profile in profiles
    )  # the comparison is not between two zeros

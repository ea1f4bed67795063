"""Searching the store (crawlers/store/search.py), on SQLite (FTS5) and PostgreSQL (tsvector): accents and case
ignored, lot titles and buyers found, CPV and region covering their sub-codes, open by the procedure's
deadline, one line per procedure, the index kept in step with ingest and built by the migration."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import crawlers.store.search as search_module
from crawlers.notice import Notice
from crawlers.store.db import get_engine
from crawlers.store.procedures import link_procedures
from crawlers.store.search import SearchError, SearchQuery, notice_detail, query_from_params, search_notices
from crawlers.store.service import notice_table, store_notices
from pib.db import upgrade
from tests.factories import incoming, make_notice

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


def store(engine: Engine, *notices: Notice) -> None:
    store_notices(engine, [incoming(n) for n in notices])


def found(engine: Engine, **params: Any) -> list[str]:
    """The source_ids of the lines a search shows, as a URL would ask it (every deadline, unless asked)."""
    query = query_from_params({key: str(value) for key, value in params.items()}, default_open=False)
    return [item.source_id for item in search_notices(engine, query=query, now=NOW).items]


def notice(source_id: str, **overrides: Any) -> Notice:
    url = f"https://www.boamp.fr/pages/avis/?q=idweb:{source_id}"
    return make_notice(source_id=source_id, url=url, **overrides)


def test_the_module_examples_hold() -> None:
    result = doctest.testmod(search_module)
    assert result.attempted > 0
    assert result.failed == 0


def test_accents_and_case_are_ignored_in_both_directions(engine: Engine) -> None:
    store(
        engine,
        notice("26-0001", title="Équipement de l'École Numérique"),
        notice("26-0002", title="Nettoyage des bureaux"),
        notice("26-0003", title="ECOLE NUMERIQUE : tableaux interactifs"),
    )
    assert sorted(found(engine, q="ecole numerique")) == ["26-0001", "26-0003"]
    assert sorted(found(engine, q="ÉCOLE numérique")) == ["26-0001", "26-0003"]
    assert found(engine, q="nettoyage") == ["26-0002"]
    assert found(engine, q="ecole nettoyage") == []
    assert sorted(found(engine, q="écoles numériques")) == ["26-0001", "26-0003"]  # a plural finds the singular


def test_lot_titles_description_and_buyer_are_searched_and_words_find_their_longer_forms(engine: Engine) -> None:
    lots = [
        {"id": "1", "title": "Voirie", "cpv_main": "45000000"},
        {"id": "2", "title": "Maintenance des logiciels métier", "cpv_main": "72000000"},
    ]
    store(
        engine,
        notice("26-0001", title="Marché de travaux", lots=lots),
        notice("26-0002", title="Marché de fournitures", description="Des ordinateurs portables pour les agents"),
        notice("26-0003", title="Marché de services", buyer={"name": "Commune d'Écaussinnes", "country": "BE"}),
    )
    assert found(engine, q="logiciel") == ["26-0001"]
    assert found(engine, q="ordinateur portable") == ["26-0002"]
    assert found(engine, q="ecaussinnes") == ["26-0003"]
    assert found(engine, q='"ordinateurs portables"') == ["26-0002"]
    assert found(engine, q='"portables ordinateurs"') == []
    assert found(engine, q="cpv72") == []  # the codes are not text


def test_a_title_match_ranks_above_a_description_match(engine: Engine) -> None:
    store(
        engine,
        notice("26-0001", title="Travaux de voirie", description="Y compris la signalisation du chantier"),
        notice("26-0002", title="Signalisation routière", description="Panneaux"),
    )
    assert found(engine, q="signalisation") == ["26-0002", "26-0001"]


def test_a_cpv_code_covers_its_sub_codes_wherever_the_notice_has_them(engine: Engine) -> None:
    lot = [{"id": "1", "title": None, "cpv_main": "45000000", "cpv_additional": ["72212000"], "nuts": []}]
    store(
        engine,
        notice("26-0001", cpv_main="72212000", cpv_additional=[], lots=[{"id": "1", "cpv_main": "72212000"}]),
        notice("26-0002", cpv_main="45000000", cpv_additional=[], lots=lot),
        notice("26-0003", cpv_main="48000000", cpv_additional=[], lots=[{"id": "1", "cpv_main": "48000000"}]),
        notice("26-0004", cpv_main="72000000", cpv_additional=[]),
    )
    assert sorted(found(engine, cpv="72000000")) == ["26-0001", "26-0002", "26-0004"]
    assert sorted(found(engine, cpv="72212000-5")) == ["26-0001", "26-0002"]
    assert sorted(found(engine, cpv="48000000,72212000")) == ["26-0001", "26-0002", "26-0003"]
    # found by its label, in any of the three languages
    assert sorted(found(engine, cpv="programmation de logiciels d'application")) == ["26-0001", "26-0002"]
    assert sorted(found(engine, cpv="toepassingssoftware")) == ["26-0001", "26-0002"]


def test_a_region_covers_its_sub_regions_and_the_larger_places_it_is_in(engine: Engine) -> None:
    store(
        engine,
        notice("26-0001", nuts=["BE310"], lots=[{"id": "1", "nuts": ["BE310"]}]),
        notice("26-0002", nuts=["FRE11"], lots=[{"id": "1", "nuts": ["FRE11"]}]),
        notice("26-0003", nuts=[], lots=[{"id": "1", "nuts": []}], buyer={"name": "SPW", "country": "BE"}),
        notice("26-0004", nuts=["FR"], lots=[{"id": "1", "nuts": []}]),
        notice("26-0005", nuts=["BE10"], lots=[{"id": "1", "nuts": ["BE10"]}]),
    )
    assert sorted(found(engine, region="BE3")) == ["26-0001", "26-0003"]  # a notice placed in BE concerns BE3
    assert sorted(found(engine, region="BE")) == ["26-0001", "26-0003", "26-0005"]  # 0003 placed by its buyer
    assert sorted(found(engine, region="FR")) == ["26-0002", "26-0004"]
    assert sorted(found(engine, region="FRE1")) == ["26-0002", "26-0004"]  # a notice placed in FR concerns FRE1
    assert sorted(found(engine, region="BE3,FR")) == ["26-0001", "26-0002", "26-0003", "26-0004"]
    assert sorted(found(engine, region="Région wallonne")) == ["26-0001", "26-0003"]


def test_open_by_the_procedures_current_deadline_not_cancelled_nor_awarded(engine: Engine) -> None:
    ted: dict[str, Any] = {"source": "ted", "buyer": {"name": "Commune de La Madeleine", "country": "FR"}, "url": None}
    store(
        engine,
        notice("26-0001", title="Travaux ouverts", deadline="2026-02-16T12:00:00+01:00"),
        notice("26-0002", title="Travaux clos", deadline="2026-01-20T12:00:00+01:00"),
        make_notice(**ted, source_id="00001000-2026", title="Travaux prolongés", deadline="2026-01-25T12:00:00+01:00"),
        make_notice(
            **ted,
            source_id="00001001-2026",
            notice_type="change",
            title="Travaux prolongés",
            deadline="2026-03-01T12:00:00+01:00",
            related=["1000-2026"],
            published="2026-01-24",
        ),
    )
    link_procedures(engine)
    assert sorted(found(engine, q="travaux", open="true")) == ["00001000-2026", "26-0001"]
    assert sorted(found(engine, q="travaux")) == ["00001000-2026", "26-0001", "26-0002"]
    defaults = query_from_params({"q": "travaux"}, default_open=True)
    assert defaults.open_only and not query_from_params({"q": "travaux"}, default_open=False).open_only
    (moved,) = [i for i in search_notices(engine, query=defaults, now=NOW).items if i.source_id == "00001000-2026"]
    assert (moved.deadline, moved.current_deadline) == ("2026-01-25T12:00:00+01:00", "2026-03-01T12:00:00+01:00")


def test_twins_show_once_with_both_publications_and_count_once(engine: Engine) -> None:
    boamp = notice("26-7298", title="Rénovation de la salle des fêtes", related=["45678-2026"])
    ted = make_notice(
        source="ted",
        source_id="00045678-2026",
        title="Renovation of the town hall",
        published="2026-01-23",
        url="https://ted.europa.eu/en/notice/-/detail/45678-2026",
    )
    store(engine, boamp, ted, notice("26-0500", title="Rénovation de voirie"))
    link_procedures(engine)
    result = search_notices(engine, query=SearchQuery(q="renovation"), now=NOW)
    assert result.total == 2
    lines = {item.source_id: item for item in result.items}
    assert set(lines) in ({"26-7298", "26-0500"}, {"00045678-2026", "26-0500"})
    twin = lines.get("26-7298") or lines["00045678-2026"]
    assert [(p.source, p.source_id) for p in twin.publications] == [("boamp", "26-7298"), ("ted", "00045678-2026")]
    assert twin.publications[1].url == "https://ted.europa.eu/en/notice/-/detail/45678-2026"
    assert result.facets["source"] == {"boamp": 2, "ted": 1}
    assert result.facets["country"] == {"FR": 2}
    assert result.facets["cpv_division"] == {"72": 2}
    # asked for one source, the twin is shown by that source's publication
    only_ted = search_notices(engine, query=SearchQuery(q="renovation", sources=("ted",)), now=NOW)
    assert [item.source_id for item in only_ted.items] == ["00045678-2026"]


def test_filters_sorts_and_pages(engine: Engine) -> None:
    store(
        engine,
        notice("26-0001", title="Audit A", published="2026-01-10", deadline="2026-03-01", estimated_value=50000.0),
        notice("26-0002", title="Audit B", published="2026-01-20", deadline="2026-02-10", estimated_value=900000.0),
        notice("26-0003", title="Audit C", published="2026-01-15", deadline=None, estimated_value=None, currency=None),
        notice("26-0004", title="Audit D", published="2026-01-05", notice_type="prior-information"),
    )
    assert found(engine, q="audit", sort="published") == ["26-0002", "26-0003", "26-0001", "26-0004"]
    assert found(engine, q="audit", sort="deadline") == ["26-0002", "26-0004", "26-0001", "26-0003"]
    assert found(engine, q="audit", sort="published", published_since="2026-01-12") == ["26-0002", "26-0003"]
    # §6: an unknown estimate is kept, a known one outside the range is not
    assert found(engine, q="audit", sort="published", value_min="100000") == ["26-0002", "26-0003", "26-0004"]
    assert found(engine, q="audit", sort="published", value_max="100000") == ["26-0003", "26-0001"]
    assert found(engine, q="audit", notice_type="prior-information") == ["26-0004"]
    assert found(engine, q="audit", sort="published", per_page="2", page="2") == ["26-0001", "26-0004"]
    assert found(engine, q="audit", sort="published", per_page="2", page="3") == []
    result = search_notices(engine, query=query_from_params({"per_page": "5000"}, default_open=False), now=NOW)
    assert (result.total, result.per_page) == (4, 100)


def test_the_index_follows_a_newer_version_of_a_notice(engine: Engine) -> None:
    store(engine, notice("26-0001", title="Fourniture de mobilier scolaire"), notice("26-0002", title="Autre"))
    assert found(engine, q="mobilier") == ["26-0001"]
    store(engine, notice("26-0001", title="Fourniture de matériel informatique", published="2026-01-25"))
    assert found(engine, q="mobilier") == []
    assert found(engine, q="informatique") == ["26-0001"]
    assert found(engine, q="autre") == ["26-0002"]


def test_bad_parameters_say_which_and_why() -> None:
    cases = {
        "cpv": ("99999999", "is not a CPV code"),
        "region": ("Atlantis", "is not a NUTS code"),
        "notice_type": ("tender", "must be one of"),
        "source": ("<script>", "must be ted, boamp, be"),
        "value_max": ("beaucoup", "is not a number"),
        "published_since": ("2026-13-01", "is not a date"),
        "sort": ("price", "must be one of"),
        "page": ("0", "between 1 and"),
        "open": ("maybe", "true or false"),
    }
    for name, (value, reason) in cases.items():
        with pytest.raises(SearchError, match=reason) as error:
            query_from_params({name: value}, default_open=True)
        assert error.value.parameter == name
    with pytest.raises(SearchError, match="above value_max"):
        query_from_params({"value_min": "10", "value_max": "5"}, default_open=True)
    with pytest.raises(SearchError, match="at most 20 words"):
        query_from_params({"q": " ".join(f"mot{n}" for n in range(30))}, default_open=True)


def test_a_query_round_trips_through_its_url_parameters() -> None:
    params = {
        "q": "école",
        "cpv": "72000000",
        "region": "BE3",
        "notice_type": "contract-notice",
        "open": "false",
        "value_min": "20000",
        "sort": "deadline",
        "page": "3",
    }
    query = query_from_params(params, default_open=True)
    assert query_from_params(dict(query.to_params()), default_open=True) == query
    assert dict(query.to_params(page=1)).get("page") is None


def test_strange_text_is_searched_as_words_never_as_syntax(engine: Engine) -> None:
    store(engine, notice("26-0001", title="Câblage NEAR bâtiment AND réseau"))
    for q in ['" OR *', "NOT", "a:*|b", "(", "cpv72*", "' ; DROP TABLE notice; --", "-", "🙂", '""']:
        query = query_from_params({"q": q}, default_open=False)
        search_notices(engine, query=query, now=NOW)
    assert found(engine, q="near and") == ["26-0001"]


def test_one_notice_with_its_publications_and_changes(engine: Engine) -> None:
    ted: dict[str, Any] = {"source": "ted", "buyer": {"name": "Ville de Lille", "country": "FR"}, "url": None}
    store(
        engine,
        make_notice(**ted, source_id="00001000-2026", deadline="2026-02-10T12:00:00+01:00"),
        make_notice(
            **ted,
            source_id="00001001-2026",
            notice_type="change",
            deadline="2026-03-01T12:00:00+01:00",
            related=["1000-2026"],
            published="2026-01-24",
        ),
    )
    link_procedures(engine)
    detail = notice_detail(engine, source="ted", source_id="00001000-2026")
    assert detail is not None
    assert [p.source_id for p in detail.publications] == ["00001000-2026", "00001001-2026"]
    assert [(c.kind, c.source_id) for c in detail.changes] == [("deadline-moved", "00001001-2026")]
    assert notice_detail(engine, source="ted", source_id="nope") is None


def test_the_migration_indexes_the_notices_stored_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0014")
    engine = get_engine(url)
    data = notice("26-0042", title="Restauration scolaire à Namur").to_json_dict()
    with engine.begin() as connection:
        connection.execute(
            notice_table.insert().values(
                source="boamp",
                source_id="26-0042",
                notice_type="contract-notice",
                title=data["title"],
                buyer_name="Ville de Namur",
                published=datetime(2026, 1, 21).date(),
                data=data,
                content_hash="x" * 64,
                version=1,
                first_seen=NOW,
                updated_at=NOW,
            )
        )
    upgrade(url)
    assert found(engine, q="namur restauration") == ["26-0042"]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM notice_fts")).scalar_one() == 1
    engine.dispose()

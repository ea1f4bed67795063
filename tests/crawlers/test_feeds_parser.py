"""Feed entries and listing links into notices (crawlers/parsers/feeds.py): pure functions, no network."""

from __future__ import annotations

from datetime import date

from crawlers.parsers.feeds import parse_feed, parse_listing

TODAY = date(2026, 3, 20)

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Marches publics de la Ville de Namur</title><language>fr-BE</language>
<item><title>Travaux de voirie &lt;b&gt;rue Haute&lt;/b&gt;</title><link>https://namur.example/avis/12</link>
<guid isPermaLink="false">namur-12</guid><pubDate>Mon, 02 Mar 2026 00:30:00 +0100</pubDate>
<description>&lt;p&gt;Renouvellement   du rev\xc3\xaatement&lt;/p&gt;</description>
<dc:creator>Ville de Namur - Service travaux</dc:creator></item>
<item><title>Fourniture de mobilier scolaire</title><link>https://namur.example/avis/13</link></item>
<item><link>https://namur.example/avis/14</link><guid>namur-14</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Aankondigingen Stad Gent</title><id>urn:gent</id>
<updated>2026-03-02T09:00:00+01:00</updated>
<entry><title>Levering van het meubilair voor de bibliotheek</title><link href="https://gent.example/a/1"/>
<id>urn:gent:1</id><updated>2026-03-02T09:00:00+01:00</updated><summary>Raamovereenkomst</summary></entry>
</feed>"""

LISTING = """<!doctype html><html lang="fr"><head><title>Avis de marchés - Province de Liège</title></head>
<body><nav><a href="/">Accueil du portail des marchés publics de la province</a></nav>
<ul>
<li><a href="/marches/1">Entretien des espaces verts du domaine provincial</a> publié le 12/03/2026</li>
<li><a href="/marches/2">Marché de services de nettoyage des bâtiments</a>
 <time datetime="2026-03-10">10 mars</time></li>
<li><a href="/marches/3">Assurance des véhicules de la flotte provinciale</a> (sans date)</li>
<li><a href="/marches/1">Entretien des espaces verts du domaine provincial</a> doublon</li>
<li><a href="/contact">Contact</a></li>
</ul><footer><a href="/mentions">Mentions légales et conditions du portail</a></footer></body></html>
""".encode()


def test_rss_entries_become_feed_notices_with_their_own_date_and_author() -> None:
    outcome = parse_feed(RSS, feed_name="namur", today=TODAY, country="BE")

    first, second = (parsed.notice for parsed in outcome.notices)
    assert first.source == "feed:namur"
    assert first.source_id == "namur-12"
    assert first.title == "Travaux de voirie rue Haute"
    assert first.description == "Renouvellement du revêtement"
    assert first.published == date(2026, 3, 2)  # the date as written, not shifted to UTC (1 March)
    assert first.buyer.name == "Ville de Namur - Service travaux"
    assert first.buyer.country == "BE"
    assert first.languages == ["fr"]
    assert first.notice_type == "contract-notice"
    assert first.cpv_main is None and [lot.id for lot in first.lots] == ["1"]
    assert first.url == "https://namur.example/avis/12"
    assert second.source_id == "https://namur.example/avis/13"  # no guid: the link
    assert second.buyer.name == "Marches publics de la Ville de Namur"  # no author: the feed's title
    assert second.published == TODAY
    assert outcome.undated == {"https://namur.example/avis/13"}
    assert [(f.record, f.reason) for f in outcome.failures] == [("entries[2]", "feed entry without title")]


def test_atom_entries_and_a_language_guessed_from_the_words() -> None:
    outcome = parse_feed(ATOM, feed_name="gent", today=TODAY, notice_type="other")

    [parsed] = outcome.notices
    assert parsed.notice.source_id == "urn:gent:1"
    assert parsed.notice.languages == ["nl"]
    assert parsed.notice.notice_type == "other"
    assert parsed.notice.published == date(2026, 3, 2)
    assert parsed.format == "feed-entry"
    assert b"Levering" in parsed.raw


def test_an_unreadable_feed_is_one_failure_and_entities_are_refused() -> None:
    garbage = parse_feed(b"this is not a feed", feed_name="x", today=TODAY)
    bomb = parse_feed(
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><rss><channel>'
        b"<item><title>&b;</title><link>https://x.example/</link></item></channel></rss>",
        feed_name="x",
        today=TODAY,
    )

    assert not garbage.notices and garbage.failures[0].record == ""
    assert not bomb.notices and "entities" in bomb.failures[0].reason


def test_listing_links_outside_menus_with_the_date_of_their_row() -> None:
    outcome = parse_listing(LISTING, feed_name="liege", page_url="https://liege.example/marches", today=TODAY)

    notices = [parsed.notice for parsed in outcome.notices]
    assert [n.url for n in notices] == [
        "https://liege.example/marches/1",
        "https://liege.example/marches/2",
        "https://liege.example/marches/3",
    ]
    assert [n.published for n in notices] == [date(2026, 3, 12), date(2026, 3, 10), TODAY]
    assert outcome.undated == {"https://liege.example/marches/3"}
    assert notices[0].buyer.name == "Avis de marchés - Province de Liège"
    assert notices[0].languages == ["fr"]
    assert notices[0].description and "publié le 12/03/2026" in notices[0].description


def test_listing_with_a_selector_takes_exactly_the_links_it_names() -> None:
    outcome = parse_listing(
        LISTING, feed_name="liege", page_url="https://liege.example/marches", today=TODAY, selector="footer a"
    )

    assert [parsed.notice.title for parsed in outcome.notices] == ["Mentions légales et conditions du portail"]

"""What a profile matches (docs/matching.md), on recorded notices and factory notices, with the classic traps."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from tests.watch.helpers import notice, recorded, recorded_notice, spec
from watch.matching import ProfileIndex, cpv_prefix, notice_facts, profile_matches
from watch.text import words

AFVAL = ("be", "84320e98-96d9-49fe-8397-774ddec51568")
"""Dutch, BE241, main CPV 90000000 and 90510000, six lots: 'Ophalen en verwerken afval technische dienst'."""
CASERNE = ("boamp", "26-7113")
"""French, no NUTS (buyer FR), main 45443000, lot 2 'TOITURE' 45261900, lot 3 45421000, lot 4 45442100."""
NETTOYAGE = ("ted", "da4d46e9-490b-41ff-a2ae-8166d356a619-01")
"""French, FRD22, 77310000: 'Service d'entretien de remise en état et de nettoyage ...'."""
ROUTE = ("boamp", "BWP06181060191B")
"""French, placed in 'FR' only, 45232150."""


def test_cpv_prefix_ends_at_trailing_zeros_but_keeps_the_division() -> None:
    assert cpv_prefix("72000000") == "72"
    assert cpv_prefix("45454100") == "454541"
    assert cpv_prefix("30000000") == "30"  # not "3": division 30 does not cover 31, 32, 33
    assert cpv_prefix("72212000") == "72212"


@pytest.mark.parametrize(
    ("profile_code", "notice_code", "matches"),
    [
        ("72000000", "72212000", True),
        ("45454100", "45454110", True),
        ("72212000", "72212000", True),
        ("72212000", "72000000", False),  # the firm's narrow code does not cover the whole division
        ("30000000", "31000000", False),
        ("45454100", "45454200", False),
    ],
)
def test_a_code_covers_its_sub_codes(profile_code: str, notice_code: str, matches: bool) -> None:
    found = profile_matches(
        spec(cpv=[profile_code]), notice(cpv_main=notice_code, cpv_additional=[], lots=[{"id": "1"}])
    )
    assert (found is not None) is matches
    if matches:
        assert found is not None
        assert {"kind": "cpv", "code": notice_code, "under": profile_code} in found.reasons


def test_the_reason_names_both_codes() -> None:
    found = profile_matches(spec(cpv=["72000000"]), notice(cpv_main="72212000", cpv_additional=[]))
    assert found is not None
    assert found.reasons[0] == {"kind": "cpv", "code": "72212000", "under": "72000000"}


def test_additional_codes_count() -> None:
    found = profile_matches(spec(cpv=["48000000"]), notice(cpv_main="72000000", cpv_additional=["48900000"]))
    assert found is not None and {"kind": "cpv", "code": "48900000", "under": "48000000"} in found.reasons


def test_cpv_in_a_lot_only_matches_at_lot_level() -> None:
    """Trap: the roofing code is only in lot 2 of a French renovation notice."""
    found = profile_matches(spec(cpv=["45261000"], regions=["FR"]), recorded_notice(*CASERNE))
    assert found is not None
    assert found.lot_ids == ("2",)
    assert {"kind": "cpv", "code": "45261900", "under": "45261000", "lots": ["2"]} in found.reasons


def test_a_profile_with_neither_cpv_nor_keywords_matches_nothing() -> None:
    assert profile_matches(spec(regions=["FR"]), notice()) is None


def test_keywords_match_whole_words_ignoring_case_and_accents() -> None:
    found = profile_matches(spec(keywords=["cybersécurité"]), notice(title="AUDIT DE CYBERSECURITE DES SERVEURS"))
    assert found is not None
    assert {"kind": "keyword", "keyword": "cybersécurité", "field": "title"} in found.reasons


def test_keyword_inside_another_word_does_not_match() -> None:
    """Trap: 'eau' is inside 'réseau' and 'bureaux', 'art' inside 'cartographie'."""
    title = "Cartographie du réseau et mobilier de bureaux"
    assert profile_matches(spec(keywords=["eau", "art"]), notice(title=title, cpv_main=None, cpv_additional=[])) is None
    found = profile_matches(spec(keywords=["eau"]), notice(title="Traitement des eaux usées"))
    assert found is not None  # 'eaux' is a form of 'eau'


def test_keywords_match_across_word_forms() -> None:
    found = profile_matches(spec(keywords=["manifestation"]), notice(title="Organisation de manifestations"))
    assert found is not None
    found = profile_matches(spec(keywords=["logiciels"]), notice(title="Achat d'un logiciel"))
    assert found is not None


def test_a_phrase_matches_its_words_in_order() -> None:
    profile = spec(keywords=["gestion des déchets"])
    assert profile_matches(profile, notice(title="Gestion de déchets ménagers")) is not None
    assert profile_matches(profile, notice(title="Déchets: gestion du parc", cpv_main=None, cpv_additional=[])) is None
    assert profile_matches(profile, notice(title="Gestion du parc et déchets verts")) is None


def test_keywords_are_looked_for_in_description_and_lot_titles() -> None:
    found = profile_matches(
        spec(keywords=["cloud", "toiture"]),
        notice(
            description="Hébergement cloud souverain",
            lots=[{"id": "1", "title": "Logiciel"}, {"id": "2", "title": "Réfection de toiture"}],
        ),
    )
    assert found is not None
    assert {"kind": "keyword", "keyword": "cloud", "field": "description"} in found.reasons
    assert {"kind": "keyword", "keyword": "toiture", "field": "lot", "lot": "2"} in found.reasons
    assert found.lot_ids == ("2",)


def test_an_excluded_word_rules_the_notice_out() -> None:
    """Trap: the CPV fits, but the notice is about cleaning, which the firm excluded."""
    data = recorded_notice(*NETTOYAGE)
    assert profile_matches(spec(cpv=["77000000"]), data) is not None
    assert profile_matches(spec(cpv=["77000000"], exclude=["nettoyage"]), data) is None
    assert profile_matches(spec(cpv=["77000000"], exclude=["NETTOYAGES"]), data) is None


def test_an_exclusion_in_a_lot_title_rules_the_notice_out() -> None:
    data = notice(lots=[{"id": "1", "title": "Logiciel"}, {"id": "2", "title": "Nettoyage des locaux"}])
    assert profile_matches(spec(cpv=["72000000"], exclude=["nettoyage"]), data) is None


def test_dutch_notice_found_by_the_dutch_equivalent_of_a_french_keyword() -> None:
    """Trap: a Dutch notice; the profile says 'déchets' and, for Dutch notices, 'afval'."""
    data = recorded_notice(*AFVAL)
    assert profile_matches(spec(keywords=["déchets"]), data) is None
    found = profile_matches(spec(keywords=["déchets", "afval"]), data)
    assert found is not None
    assert {"kind": "keyword", "keyword": "afval", "field": "title"} in found.reasons


@pytest.mark.parametrize(
    ("regions", "matches"),
    [(["BE2"], True), (["BE24"], True), (["BE241"], True), (["BE"], True), (["BE25"], False), (["BE3", "FR"], False)],
)
def test_nuts_prefix_either_way(regions: list[str], matches: bool) -> None:
    """Trap: the notice is placed at NUTS 3 (BE241), the firm watches provinces, regions or countries."""
    found = profile_matches(spec(cpv=["90000000"], regions=regions), recorded_notice(*AFVAL))
    assert (found is not None) is matches
    if found is not None:
        assert {"kind": "place", "code": "BE241"} in found.reasons


def test_a_notice_placed_at_country_level_concerns_a_firm_watching_a_region_of_it() -> None:
    """Trap: the notice says only 'FR'; the firm watches Nord-Pas-de-Calais (FRE1)."""
    assert profile_matches(spec(cpv=["45000000"], regions=["FRE1"]), recorded_notice(*ROUTE)) is not None
    assert profile_matches(spec(cpv=["45000000"], regions=["BE"]), recorded_notice(*ROUTE)) is None


def test_a_notice_without_nuts_is_placed_in_its_buyer_country() -> None:
    data = recorded_notice(*CASERNE)
    assert data["nuts"] == []
    found = profile_matches(spec(cpv=["45000000"], regions=["FRE1"]), data)
    assert found is not None
    assert {"kind": "buyer-place", "code": "FR"} in found.reasons
    assert profile_matches(spec(cpv=["45000000"], regions=["BE3"]), data) is None


def test_a_notice_placed_nowhere_reaches_only_profiles_without_regions() -> None:
    # §6: a notice without NUTS is placed in its buyer's country; without a buyer country it is in no
    # region at all, so a profile watching regions does not receive it.
    placed = notice(nuts=[], lots=[{"id": "1", "cpv_main": "72000000"}])
    nowhere = notice(nuts=[], buyer={"name": "Flux régional", "country": None}, lots=[{"id": "1"}])
    assert profile_matches(spec(cpv=["72000000"], regions=["BE3"]), nowhere) is None
    assert profile_matches(spec(cpv=["72000000"], regions=["BE3"]), placed) is None  # placed in France by its buyer
    assert profile_matches(spec(cpv=["72000000"], regions=["FR"]), placed) is not None
    assert profile_matches(spec(cpv=["72000000"]), nowhere) is not None


def test_greece_and_the_united_kingdom_by_their_country_codes() -> None:
    data = notice(nuts=["EL30"], buyer={"name": "Dimos", "country": "GR"}, lots=[{"id": "1"}])
    assert profile_matches(spec(cpv=["72000000"], regions=["GR"]), data) is not None


def test_the_region_of_a_lot_is_its_reason() -> None:
    data = notice(
        nuts=["FR10", "BE32"],
        lots=[
            {"id": "1", "title": "Paris", "cpv_main": "72000000", "nuts": ["FR10"]},
            {"id": "2", "title": "Hainaut", "cpv_main": "72000000", "nuts": ["BE32"]},
        ],
    )
    found = profile_matches(spec(cpv=["72000000"], regions=["BE3"]), data)
    assert found is not None
    assert found.lot_ids == ("2",)
    assert {"kind": "place", "code": "BE32", "lots": ["2"]} in found.reasons


@pytest.mark.parametrize(
    ("value", "matches"), [(250_000.0, True), (10_000.0, False), (9_000_000.0, False), (None, True)]
)
def test_value_range_leaves_out_only_known_values_outside(value: float | None, matches: bool) -> None:
    data = notice(estimated_value=value, currency="EUR" if value else None)
    found = profile_matches(spec(cpv=["72000000"], value_min=20_000, value_max=5_000_000), data)
    assert (found is not None) is matches


def test_lots_outside_the_value_range_are_not_the_firms_lots() -> None:
    data = notice(
        estimated_value=None,
        currency=None,
        lots=[
            {"id": "1", "cpv_main": "72000000", "estimated_value": 1_000.0},
            {"id": "2", "cpv_main": "72000000", "estimated_value": 100_000.0},
        ],
    )
    found = profile_matches(spec(cpv=["72000000"], value_min=20_000), data)
    assert found is not None and found.lot_ids == ("2",)


def test_notice_types_default_to_contract_notices_and_prior_information() -> None:
    profile = spec(cpv=["72000000"])
    assert profile_matches(profile, notice(notice_type="prior-information")) is not None
    award = notice(notice_type="award", deadline=None)
    assert profile_matches(profile, award) is None
    assert profile_matches(spec(cpv=["72000000"], notice_types=["award"]), award) is not None


def test_procedure_types_when_given() -> None:
    assert profile_matches(spec(cpv=["72000000"], procedure_types=["restricted"]), notice()) is None
    assert profile_matches(spec(cpv=["72000000"], procedure_types=["open"]), notice()) is not None
    assert profile_matches(spec(cpv=["72000000"], procedure_types=["restricted"]), notice(procedure=None)) is not None


def test_inferred_codes_match_and_say_so() -> None:
    data = notice(cpv_main=None, cpv_additional=[], lots=[{"id": "1"}])
    found = profile_matches(spec(cpv=["72000000"]), data, inferred=[("72200000", 0.6)])
    assert found is not None
    assert found.reasons[0] == {"kind": "cpv", "code": "72200000", "under": "72000000", "confidence": 0.6}
    explicit = profile_matches(spec(cpv=["72000000"]), notice(cpv_main="72200000", cpv_additional=[]))
    assert explicit is not None and explicit.score > found.score


def test_more_evidence_scores_higher() -> None:
    code_only = profile_matches(spec(cpv=["72000000"]), notice(title="Marché de prestations"))
    code_and_word = profile_matches(spec(cpv=["72000000"], keywords=["logiciel"]), notice())
    narrow_code = profile_matches(
        spec(cpv=["72200000"]), notice(cpv_main="72212000", cpv_additional=[], title="Marché")
    )
    assert code_only is not None and code_and_word is not None and narrow_code is not None
    assert code_and_word.score > code_only.score
    assert narrow_code.score > code_only.score
    assert 0 < code_only.score < code_and_word.score <= 1


def _random_profiles(count: int) -> list[Any]:
    """Profiles from the codes, words and places of the recorded notices."""
    rng = random.Random(20260123)
    notices: list[dict[str, Any]] = [n.to_json_dict() for n in recorded().values()]
    codes = sorted({c for n in notices for c in [n["cpv_main"], *n["cpv_additional"]] if c})
    vocabulary = sorted({w for n in notices for w in words(n["title"]) if len(w) > 4 and w.isalpha()})
    places = sorted({p[: rng.randint(2, len(p))] for n in notices for p in n["nuts"]})
    profiles = []
    for i in range(count):
        profiles.append(
            spec(
                id=i + 1,
                member_id=i // 2 + 1,
                cpv=[c[: rng.randint(2, 8)].ljust(8, "0") for c in rng.sample(codes, rng.randint(0, 3))],
                keywords=rng.sample(vocabulary, rng.randint(0, 3))
                + [" ".join(rng.sample(vocabulary, 2))] * rng.randint(0, 1),
                exclude=rng.sample(vocabulary, rng.randint(0, 1)),
                regions=rng.sample(places, rng.randint(0, 2)),
                value_min=rng.choice([None, 50_000.0]),
                notice_types=rng.choice([[], ["award"], ["contract-notice", "change"]]),
            )
        )
    return profiles


def test_the_index_finds_exactly_what_judging_every_profile_finds() -> None:
    profiles = _random_profiles(300)
    index = ProfileIndex(profiles)
    total = 0
    for data in recorded().values():
        facts = notice_facts(data.to_json_dict())
        indexed = index.match(facts)
        assert indexed == index.match_naive(facts)
        total += len(indexed)
    assert total > 100  # the comparison is about real matches, not two empty lists


_WORDS = [
    "École", "écoles", "Données", "données personnelles", "base de données", "ÉCOLE NUMÉRIQUE", "numérique",
    "logiciel", "logiciels", "cybersécurité", "réseau", "Gemeente", "gegevens", "school", "software", "hébergement",
    "maintenance", "formation", "toiture", "voirie",
]  # fmt: skip
_CODES = ["72000000", "72212000", "72267100", "48000000", "80420000", "45261210", "45233000", "79341000"]
_PLACES = ["BE", "BE3", "BE32", "BE323", "FR", "FRE", "FRE11", "FRE12", "LU", "NL"]


def _generated_notice(rng: random.Random, number: int) -> dict[str, Any]:
    """A notice of French, Dutch or English words with accents, its codes, places, lots and value drawn."""

    def text(size: int) -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(size))

    codes = rng.sample(_CODES, rng.randint(0, 3))
    lots = [
        {
            "id": str(i + 1),
            "title": text(3) if rng.random() < 0.6 else None,
            "cpv_main": rng.choice(codes) if codes and rng.random() < 0.7 else None,
            "cpv_additional": [],
            "nuts": rng.sample(_PLACES, rng.randint(0, 1)),
            "estimated_value": rng.choice([None, 20_000.0, 2_000_000.0]),
        }
        for i in range(rng.choice([1, 1, 2, 3]))
    ]
    notice_type = rng.choice(["contract-notice", "contract-notice", "prior-information", "award", "change"])
    return notice(
        source_id=f"26-{number}",
        notice_type=notice_type,
        title=f"{text(rng.randint(2, 5))} de l'École Numérique SA",
        description=text(8) if rng.random() < 0.5 else None,
        cpv_main=codes[0] if codes else None,
        cpv_additional=codes[1:],
        nuts=rng.sample(_PLACES, rng.randint(0, 2)),
        buyer={"name": "Ville de Liège", "country": rng.choice(["BE", "FR"])},
        procedure=rng.choice(["open", "restricted", None]),
        deadline=None if notice_type == "award" else "2026-02-16T12:00:00+01:00",
        estimated_value=(value := rng.choice([None, 30_000.0, 400_000.0, 9_000_000.0])),
        currency=None if value is None else "EUR",
        lots=lots,
        languages=[rng.choice(["fr", "fr", "nl", "en"])],
    )


def _generated_profile(rng: random.Random, number: int) -> Any:
    ranged = rng.random() < 0.3
    return spec(
        id=number,
        member_id=number // 3 + 1,
        cpv=[code[: rng.randint(2, 8)].ljust(8, "0") for code in rng.sample(_CODES, rng.randint(0, 2))],
        keywords=rng.sample(_WORDS, rng.randint(0, 3)),
        exclude=rng.sample(_WORDS, 1) if rng.random() < 0.25 else [],
        regions=rng.sample(_PLACES, rng.randint(0, 2)),
        value_min=50_000.0 if ranged else None,
        value_max=rng.choice([None, 1_000_000.0]) if ranged else None,
        notice_types=rng.choice([[], [], ["award"], ["contract-notice", "change"], ["prior-information"]]),
        procedure_types=rng.choice([[], [], ["open"]]),
    )


def test_the_narrowed_index_loses_nothing_that_judging_every_profile_finds() -> None:
    """Generated notices and profiles (accented French, Dutch and English words, phrases, exclusions, regions,
    types, values, lots): the index finds exactly the (member, profile, score, reasons, lots) that judging every
    profile finds (each its own exclusions, no index), in the same order."""
    rng = random.Random(13)
    profiles = [_generated_profile(rng, number) for number in range(1, 401)]
    index = ProfileIndex(profiles)
    without_exclusions = ProfileIndex([replace(profile, exclude=()) for profile in profiles])
    found = ruled_out = 0
    for number in range(400):
        facts = notice_facts(_generated_notice(rng, number))
        every = index.match_naive(facts)
        indexed = index.match(facts)
        assert [(h.member_id, h.profile_id, h.score, h.reasons, h.lot_ids) for h in indexed] == [
            (h.member_id, h.profile_id, h.score, h.reasons, h.lot_ids) for h in every
        ]
        found += len(indexed)
        ruled_out += len(without_exclusions.match(facts)) - len(indexed)
    assert found > 1500 and ruled_out > 50  # real matches, and profiles that an excluded word ruled out
    assert index.judged < 400 * len(profiles) * 0.35  # fewer pairs judged than all of them

"""Words as the watch compares them, and CPV codes inferred from text."""

from __future__ import annotations

import doctest

import pytest

import watch.infer
import watch.matching
import watch.text
from tests.watch.helpers import recorded
from watch.infer import infer_cpv, notice_codes, notice_text, train_cpv_model
from watch.text import contains_phrase, fold, stemmer, words


@pytest.mark.parametrize("module", [watch.text, watch.matching, watch.infer])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


def test_folding_makes_capitals_without_accents_meet_the_accented_word() -> None:
    french = stemmer("fr")
    assert french.content_stems("CYBERSECURITE") == french.content_stems("cybersécurités")
    assert fold("ÉCOLE") == fold("école") == "ecole"


def test_dutch_word_forms_meet() -> None:
    dutch = stemmer("nl")
    assert dutch.content_stems("beveiligingen") == dutch.content_stems("beveiliging")
    assert dutch.content_stems("van de gebouwen") == dutch.content_stems("gebouw")


def test_an_unknown_language_compares_folded_words() -> None:
    assert stemmer("xx").content_stems("Straße") == ["strasse"]
    assert stemmer(None).content_stems("a b") == ["a", "b"]


def test_phrase_positions() -> None:
    stems = stemmer("fr").content_stems("Gestion des déchets ménagers")
    assert contains_phrase(stems, stemmer("fr").content_stems("gestion de déchets"))
    assert not contains_phrase(stems, stemmer("fr").content_stems("déchets gestion"))
    assert words("lot n°2, l'été") == ["lot", "n", "2", "l", "ete"]


LABELS = {
    "72000000": ["Services de technologies de l'information", "IT-diensten", "IT services"],
    "72200000": ["Services de programmation de logiciels", "Programmering van software", "Software programming"],
    "90910000": ["Services de nettoyage", "Schoonmaakdiensten", "Cleaning services"],
    "90911200": ["Services de nettoyage de bâtiments", "Schoonmaken van gebouwen", "Building-cleaning services"],
    "45000000": ["Travaux de construction", "Bouwwerkzaamheden", "Construction work"],
    "45261000": ["Travaux de charpente et de couverture", "Dakwerken", "Roof works"],
}


def test_an_obvious_text_gets_the_obvious_division() -> None:
    model = train_cpv_model(labels=LABELS)
    assert model.labels == len(LABELS)
    for text, division in [
        ("Nettoyage des bâtiments communaux", "90"),
        ("Schoonmaak van kantoorgebouwen", "90"),
        ("Programmation d'un logiciel de gestion", "72"),
        ("Réfection de la couverture et de la charpente de l'église", "45"),
    ]:
        found = infer_cpv(text, model=model)
        assert found[0][0][:2] == division, (text, found)
        assert 0.5 < found[0][1] <= 1
        assert found == sorted(found, key=lambda item: -item[1])


def test_recorded_notices_teach_what_buyers_write() -> None:
    """No labels: the recorded notices with codes alone."""
    examples = [(notice_text(n.to_json_dict()), notice_codes(n.to_json_dict())) for n in recorded().values()]
    model = train_cpv_model(examples=[e for e in examples if e[1]])
    assert model.examples > 100 and model.labels == 0
    assert infer_cpv("Travaux de rénovation de la toiture de l'école", model=model)[0][0] == "45000000"
    assert infer_cpv("Mission de maîtrise d'oeuvre", model=model)[0][0] == "71000000"


def test_inference_gives_a_group_within_the_best_division() -> None:
    model = train_cpv_model(labels=LABELS)
    codes = [code for code, _ in infer_cpv("Couverture et charpente, travaux de toiture", model=model)]
    assert codes[:2] == ["45000000", "45200000"]


def test_nothing_to_infer_from() -> None:
    model = train_cpv_model(labels=LABELS)
    assert infer_cpv("", model=model) == []
    assert infer_cpv("zzzz qqqq", model=model) == []
    assert infer_cpv("logiciel", model=train_cpv_model()) == []

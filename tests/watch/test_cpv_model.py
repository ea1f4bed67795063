"""The CPV classifier (watch/cpv): the split by notice, predictions, calibration bounds, saving, the measures.

The model is trained once on a small stable sample of the shipped corpus (seconds), so these tests check
the behaviour, not the figures: those are measured by `pib cpv evaluate` (docs/cpv.md).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from watch.cpv import CpvClassifier, Example, Inferred, shipped_examples
from watch.cpv.corpus import group_of
from watch.cpv.evaluate import measure, split_by_group
from watch.cpv.model import code_at


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return shipped_examples()


@pytest.fixture(scope="module")
def model(corpus: list[Example]) -> CpvClassifier:
    sample = [e for e in corpus if e.lang in ("fr", "nl", "en", "de") and zlib.crc32(e.group.encode()) % 100 < 20]
    return CpvClassifier.train(sample)


def test_shipped_corpus_is_read_with_codes_and_groups(corpus: list[Example]) -> None:
    assert len(corpus) > 22_000
    assert all(len(code) == 8 and code.isdigit() for e in corpus for code in e.codes)
    ted = [e for e in corpus if e.group.startswith("TED:")]
    assert ted and all(e.group.count(":") == 1 for e in ted)
    assert {e.lang for e in corpus} >= {"fr", "nl", "en", "de"}
    assert group_of("TED:074208-2017:DE:translation:lot:3") == group_of("TED:074208-2017:FR") == "TED:074208-2017"


def test_split_keeps_each_notice_on_one_side(corpus: list[Example]) -> None:
    train, test = split_by_group(corpus, test_share=0.2, seed=12)
    assert sorted(train + test) == list(range(len(corpus)))
    train_groups = {corpus[i].group for i in train}
    test_groups = {corpus[i].group for i in test}
    assert not train_groups & test_groups
    # notices with many rows (translations, lots) exist on both sides, whole
    sizes: dict[str, int] = {}
    for e in corpus:
        sizes[e.group] = sizes.get(e.group, 0) + 1
    assert any(sizes[g] > 10 for g in test_groups) and any(sizes[g] > 10 for g in train_groups)
    assert 0.1 < len(test) / len(corpus) < 0.3
    assert split_by_group(corpus, test_share=0.2, seed=12) == (train, test)


@pytest.mark.parametrize(
    ("text", "division"),
    [
        ("École Numérique SA : développement et maintenance d'un logiciel de gestion, licences logicielles", "72"),
        ("Travaux de rénovation de la toiture et de la façade de l'école communale", "45"),
        ("Onderhoud van de software en ontwikkeling van een nieuwe applicatie voor de gemeente", "72"),
        ("Bouwwerken: renovatie van het dak en de gevel van de sporthal", "45"),
        ("Supply of diesel fuel, petrol and heating oil", "09"),
        ("Collecte et traitement des déchets ménagers de la commune", "90"),
    ],
)
def test_predicts_the_division_of_clear_unseen_texts(model: CpvClassifier, text: str, division: str) -> None:
    [found] = model.predict([text], min_confidence=0.0)
    best = next(i for i in found if i.level == "division")
    assert best.code == division.ljust(8, "0"), found[:5]


def test_confidences_are_probabilities_best_first_and_nested(model: CpvClassifier) -> None:
    texts = [
        "Fourniture de carburant pour les véhicules de la Ville de Liège",
        "Schoonmaak van kantoren",
        "",
        "zzzz qqqq",
    ]
    results = model.predict(texts, min_confidence=0.0)
    assert len(results) == len(texts)
    for found in results:
        assert found, "every division has some probability"
        confidences = [i.confidence for i in found]
        assert all(0.0 <= c <= 1.0 for c in confidences)
        assert confidences == sorted(confidences, reverse=True)
        by_code = {i.code: i for i in found}
        for item in found:
            assert item.level in ("division", "group", "class")
            assert code_at(item.code, item.level) == item.code
            if item.level != "division":
                parent = item.code[: {"group": 2, "class": 3}[item.level]].ljust(8, "0")
                assert by_code[parent].confidence >= item.confidence
    sure = model.predict(texts, min_confidence=0.3)
    assert all(i.confidence >= 0.3 for found in sure for i in found)
    # fuel for vehicles: the small model also finds the vehicles (34) sure enough; fuel (09) must pass
    assert all(isinstance(i, Inferred) for i in sure[0]) and "09000000" in {i.code for i in sure[0]}


def test_round_trip_predicts_the_same(model: CpvClassifier) -> None:
    data = model.to_bytes()
    again = CpvClassifier.from_bytes(data)
    texts = ["Entretien des espaces verts de la commune d'Écaussinnes", "Levering van kantoormeubilair"]
    assert again.predict(texts, min_confidence=0.0) == model.predict(texts, min_confidence=0.0)
    assert again.trained_on == model.trained_on > 1_000
    with pytest.raises(ValueError):
        CpvClassifier.from_bytes(zlib.compress(b"\x80\x05N."))


def test_measures_on_a_hand_made_case() -> None:
    examples = [
        Example("a", ("72212100",), "fr", "n1"),  # right division, right group
        Example("b", ("45000000", "72000000"), "nl", "n2"),  # two divisions, one found
        Example("c", ("09130000",), "en", "n3"),  # wrong: 72 inferred
        Example("d", ("90910000",), "pl", "n4"),  # right but not sure enough
    ]
    divisions = ["09000000", "45000000", "72000000", "90000000"]
    groups = ["72200000", "45200000", "90900000"]
    p_division = np.array(
        [
            [0.0, 0.1, 0.9, 0.0],
            [0.1, 0.2, 0.8, 0.0],
            [0.3, 0.0, 0.6, 0.1],
            [0.0, 0.0, 0.1, 0.4],
        ]
    )
    p_group = np.array([[0.7, 0.0, 0.0], [0.1, 0.1, 0.0], [0.2, 0.0, 0.0], [0.0, 0.0, 0.3]])
    report, calibration, by_threshold = measure(examples, [p_division, p_group], [divisions, groups], threshold=0.5)
    everything = report["all"]
    assert everything.examples == 4 and everything.notices == 4
    assert everything.accuracy_at_1 == pytest.approx(3 / 4)  # a, b (72 is one of its), d
    assert everything.accuracy_at_3 == pytest.approx(4 / 4)
    # sure divisions: a 72 (right), b 72 (right), c 72 (wrong); relevant: 72, 45, 72, 09, 90
    assert everything.routing_precision == pytest.approx(2 / 3)
    assert everything.routing_recall == pytest.approx(2 / 5)
    assert everything.division_f1 == pytest.approx(2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5))
    # groups: a 722 inferred and right; relevant groups: 722 (a), 913 (c), 909 (d)
    assert everything.group_f1 == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))
    assert report["fr"].accuracy_at_1 == 1.0 and report["en"].accuracy_at_1 == 0.0
    assert report["others"].examples == 1 and report["others"].routing_recall == 0.0
    high = next(row for row in calibration if row.low == 0.8)
    assert high.count == 1 and high.right == 1.0  # b's 0.8 (a's 0.9 is in the next bin)
    middle = next(row for row in calibration if row.low == 0.6)
    assert middle.count == 1 and middle.right == 0.0  # c's 0.6
    at_03 = next(row for row in by_threshold if row["threshold"] == 0.3)
    # a 72, b 72, c 09 and 72, d 90: four of five right, four of five found
    assert at_03["precision"] == pytest.approx(4 / 5) and at_03["recall"] == pytest.approx(4 / 5)

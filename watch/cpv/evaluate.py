"""An honest measurement of the CPV classifier: trained on some notices, tested on others.

Examples are split **by notice** (their group): the translations and lots of one notice are all on the same
side, or the test would see texts the model learned almost word for word. Figures per language (fr, nl, en,
de, the other languages together, and all):

- division accuracy at 1 and at 3: the best division (the best three) is among the example's divisions;
- micro-F1 at division and at group level, of the codes inferred at least `ROUTING_THRESHOLD` sure;
- calibration: the inferred division confidences in bins, and how often the division was right in each;
- routing: a firm watching division D receives a notice when D is inferred at least `ROUTING_THRESHOLD`
  sure; it is relevant when D is among the notice's divisions. Precision and recall over every (notice,
  division) pair.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .corpus import Example
from .model import LEVELS, ROUTING_THRESHOLD, CpvClassifier, code_at

LANGUAGES = ("fr", "nl", "en", "de")
"""Languages reported on their own; the others are reported together as `others`."""
BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""Thresholds the routing measure is also given at, to choose ROUTING_THRESHOLD from."""


@dataclass
class Figures:
    """The measures of one slice of the test set."""

    examples: int = 0
    notices: int = 0
    accuracy_at_1: float = 0.0
    accuracy_at_3: float = 0.0
    division_f1: float = 0.0
    group_f1: float = 0.0
    routing_precision: float = 0.0
    routing_recall: float = 0.0
    routing_f1: float = 0.0


@dataclass
class CalibrationBin:
    low: float
    high: float
    count: int
    right: float
    """Share of the division codes in this bin that were among the example's divisions."""
    mean_confidence: float


@dataclass
class Evaluation:
    """The whole report."""

    train_examples: int
    test_examples: int
    threshold: float
    by_language: dict[str, Figures]
    calibration: list[CalibrationBin]
    routing_by_threshold: list[dict[str, float]] = field(default_factory=list)
    """Routing precision, recall and F1 of all languages at other thresholds."""
    training_seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def split_by_group(examples: Sequence[Example], *, test_share: float, seed: int) -> tuple[list[int], list[int]]:
    """Indexes of training and test examples; all examples of a group on the same side.

    The side is drawn from a hash of the group and the seed, so a split is the same on every machine.
    """
    train: list[int] = []
    test: list[int] = []
    for index, example in enumerate(examples):
        key = f"{seed}:{example.group or example.text}".encode()
        (test if (zlib.crc32(key) % 10_000) < test_share * 10_000 else train).append(index)
    return train, test


def language_of(example: Example) -> str:
    return example.lang if example.lang in LANGUAGES else "others"


def _f1(true_positives: int, predicted: int, relevant: int) -> tuple[float, float, float]:
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / relevant if relevant else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def measure(
    examples: Sequence[Example],
    probabilities: Sequence[np.ndarray],
    labels: Sequence[Sequence[str]],
    *,
    threshold: float = ROUTING_THRESHOLD,
) -> tuple[dict[str, Figures], list[CalibrationBin], list[dict[str, float]]]:
    """The figures of test examples given, per level, their probabilities (examples × labels)."""
    division_p, group_p = probabilities[0], probabilities[1]
    division_labels, group_labels = list(labels[0]), list(labels[1])
    slices: dict[str, list[int]] = {name: [] for name in (*LANGUAGES, "others", "all")}
    for index, example in enumerate(examples):
        slices[language_of(example)].append(index)
        slices["all"].append(index)
    truth_div = [{code_at(c, "division") for c in e.codes} for e in examples]
    truth_group = [{g for g in (code_at(c, "group") for c in e.codes) if g} for e in examples]
    order = np.argsort(-division_p, axis=1) if division_p.size else np.zeros((len(examples), 0), dtype=int)

    def counts(rows: list[int], p: np.ndarray, names: list[str], truth: list[set[str | None]], cut: float):
        hit = predicted = relevant = 0
        for row in rows:
            chosen = {names[j] for j in np.flatnonzero(p[row] >= cut)} if p.size else set()
            hit += len(chosen & truth[row])
            predicted += len(chosen)
            relevant += len(truth[row])
        return hit, predicted, relevant

    report: dict[str, Figures] = {}
    for name, rows in slices.items():
        figures = Figures(examples=len(rows), notices=len({examples[r].group or examples[r].text for r in rows}))
        if rows:
            top1 = sum(division_labels[order[r, 0]] in truth_div[r] for r in rows if order.shape[1])
            top3 = sum(any(division_labels[j] in truth_div[r] for j in order[r, :3]) for r in rows)
            figures.accuracy_at_1 = top1 / len(rows)
            figures.accuracy_at_3 = top3 / len(rows)
            hit, predicted, relevant = counts(rows, division_p, division_labels, truth_div, threshold)  # type: ignore[arg-type]
            precision, recall, f1 = _f1(hit, predicted, relevant)
            figures.division_f1 = f1
            figures.routing_precision, figures.routing_recall, figures.routing_f1 = precision, recall, f1
            figures.group_f1 = _f1(*counts(rows, group_p, group_labels, truth_group, threshold))[2]  # type: ignore[arg-type]
        report[name] = figures
    calibration = []
    flat_p = division_p.ravel()
    flat_right = np.array(
        [[label in truth_div[r] for label in division_labels] for r in range(len(examples))], dtype=bool
    ).ravel()
    for low, high in itertools.pairwise(BINS):
        inside = (flat_p >= low) & (flat_p < high)
        count = int(inside.sum())
        calibration.append(
            CalibrationBin(
                low=low,
                high=min(high, 1.0),
                count=count,
                right=float(flat_right[inside].mean()) if count else 0.0,
                mean_confidence=float(flat_p[inside].mean()) if count else 0.0,
            )
        )
    by_threshold = []
    for cut in THRESHOLDS:
        precision, recall, f1 = _f1(*counts(slices["all"], division_p, division_labels, truth_div, cut))  # type: ignore[arg-type]
        by_threshold.append({"threshold": cut, "precision": precision, "recall": recall, "f1": f1})
    return report, calibration, by_threshold


def evaluate(
    examples: Sequence[Example],
    *,
    test_share: float = 0.2,
    seed: int = 12,
    progress: Callable[[str], None] | None = None,
    threshold: float = ROUTING_THRESHOLD,
) -> Evaluation:
    """Train on a share of the notices, measure on the others (see the module's description)."""
    import time

    train_rows, test_rows = split_by_group(examples, test_share=test_share, seed=seed)
    train = [examples[i] for i in train_rows]
    test = [examples[i] for i in test_rows]
    started = time.monotonic()
    model = CpvClassifier.train(train, progress=progress)
    seconds = time.monotonic() - started
    probabilities = model.probabilities([e.text for e in test])
    labels = [level.labels for level in model.levels]
    report, calibration, by_threshold = measure(test, probabilities, labels, threshold=threshold)
    return Evaluation(
        train_examples=len(train),
        test_examples=len(test),
        threshold=threshold,
        by_language=report,
        calibration=calibration,
        routing_by_threshold=by_threshold,
        training_seconds=seconds,
    )


__all__ = ["LEVELS", "Evaluation", "Figures", "evaluate", "measure", "split_by_group"]

"""The CPV classifier: its held-out figures, training time, and predictions per second against a floor.

Trained on 80% of the notices of the shipped corpus (split by notice), measured on the rest (the same
report as `pib cpv evaluate`, headline figures only). Speed: classifying 2,000 held-out texts, against the
floor of the TF-IDF transform alone of the same texts (the part no linear model can skip), measured in the
same run.
"""

from __future__ import annotations

import time

from bench.common import best_of
from watch.cpv.corpus import shipped_examples
from watch.cpv.evaluate import measure, split_by_group
from watch.cpv.model import ROUTING_THRESHOLD, CpvClassifier

SPEED_TEXTS = 2_000


def main() -> None:
    examples = shipped_examples()
    train_rows, test_rows = split_by_group(examples, test_share=0.2, seed=12)
    train = [examples[i] for i in train_rows]
    test = [examples[i] for i in test_rows]
    started = time.perf_counter()
    model = CpvClassifier.train(train)
    training = time.perf_counter() - started
    probabilities = model.probabilities([e.text for e in test])
    report, _calibration, _by_threshold = measure(
        test, probabilities, [level.labels for level in model.levels], threshold=ROUTING_THRESHOLD
    )
    print(f"trained on {len(train):,} examples in {training:.0f} s; tested on {len(test):,} of other notices")
    print(f"{'':8} {'div@1':>6} {'div@3':>6} {'div F1':>7} {'grp F1':>7} {'route P':>8} {'route R':>8}")
    for name, figures in report.items():
        print(
            f"{name:<8} {figures.accuracy_at_1:6.3f} {figures.accuracy_at_3:6.3f} {figures.division_f1:7.3f} "
            f"{figures.group_f1:7.3f} {figures.routing_precision:8.3f} {figures.routing_recall:8.3f}"
        )
    texts = [e.text for e in test[:SPEED_TEXTS]]
    floor = best_of(3, lambda: model.vectorizer.transform(texts))
    full = best_of(3, lambda: model.predict(texts))
    print(
        f"classify {len(texts):,} texts: {full * 1000:.0f} ms = {len(texts) / full:,.0f} texts/s "
        f"({full / floor:.2f}x the TF-IDF transform alone, {floor * 1000:.0f} ms)"
    )
    print(f"model size: {len(model.to_bytes()) / 1e6:.1f} MB")

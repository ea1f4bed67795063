"""The CPV classifier: TF-IDF over words and character n-grams, linear models down the CPV tree, calibrated.

A notice's text is read as words (unigrams and bigrams) and as character n-grams within words (3 to 5
letters), folded (case, accents): character n-grams serve French, Dutch, English, German and the other EU
languages without a stemmer per language (`logiciels` and `logiciel`, `beveiliging` and `beveiligingen`
share most of their n-grams).

Three levels, each a set of one-vs-rest linear SVMs (a notice often has codes in several divisions):

- divisions (`72000000`), trained on every example;
- groups within a division (`72200000` in `72`), trained on the examples of that division;
- classes within a group (`72210000` in `722`), where the group has enough examples.

Besides the notices, every model learns the CPV vocabulary itself: each code's label in French, Dutch and
English (`crawlers/codelists/cpv.tsv.gz`) is one more example of that code. The corpus has few Dutch and
English notices; the labels name the things bought in those languages, and they lift division F1 in English
and Dutch (measured in docs/cpv.md).

Calibration: an SVM's score is no probability. Each level's scores are mapped to probabilities by an
increasing step curve (isotonic regression) fitted on out-of-fold scores: the notices are split into folds,
the whole tree is trained on the other folds (and the vocabulary) and scores the held-out one, so that the
curve learns how far a score can be trusted on text the model has not seen. A logistic curve (Platt
scaling) was too sure between 0.5 and 0.9: the scores' shape is not logistic. A group's confidence is its
division's times the group's within the division, a class's its group's times the class's within the group.
"""

from __future__ import annotations

import io
import pickle
import re
import time
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from crawlers.codelists import cpv_codes

from .corpus import Example

LEVELS = ("division", "group", "class")
DIGITS = {"division": 2, "group": 3, "class": 4}
"""How many leading digits name a code at each level (the rest are zeros)."""

ROUTING_THRESHOLD = 0.3
"""The confidence above which routing uses an inferred code.

Chosen from `pib cpv evaluate` (80/20 split by notice of the shipped corpus, 2026-12-05, docs/cpv.md): a
firm watching a division receives a notice when the division is inferred this sure. Over all languages the
routing F1 is flat from 0.3 to 0.4 (0.568 and 0.567; on a validation split of the training notices 0.568
and 0.565) and falls on either side (0.54 at 0.2, 0.55 at 0.5, 0.43 at 0.8); 0.3 is its best (precision
0.62, recall 0.53). Precision 0.8 would need 0.6 and lose a quarter of the recall (0.39): for a firm that
watches only CPV codes, a notice it never sees costs more than one it discards."""
MIN_CONFIDENCE = 0.1
"""Codes less sure than this are not returned by `predict`."""
MAX_TEXT = 3_000
"""Longest text read (characters): the subject comes first, the conditions after."""
FOLDS = 3
"""Folds of the out-of-fold scores the calibration is fitted on."""
MIN_POSITIVES = 3
"""A label with fewer examples than this is not learned (at group and class level: its parent stands)."""
SVM_C = 0.5
PRUNE = 0.02
"""Weights smaller than this are dropped: the model is several times smaller, and no less right."""
FORMAT = 2
"""Version of `to_bytes`' format."""

_DIGITS = re.compile(r"\d+")


def fold(text: str) -> str:
    """Lowercase, accents off, numbers as one mark, at most MAX_TEXT characters.

    >>> fold("Développement LOGICIEL 2024")
    'developpement logiciel 0'
    """
    text = unicodedata.normalize("NFKD", text[:MAX_TEXT].lower())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _DIGITS.sub("0", text)


def _vectorizer() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    preprocessor=fold,
                    ngram_range=(1, 2),
                    min_df=2,
                    max_features=150_000,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    preprocessor=fold,
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    min_df=3,
                    max_features=150_000,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
        ]
    )


def code_at(code: str, level: str) -> str | None:
    """The code's ancestor at a level as 8 digits, or None when the code is not that deep.

    >>> code_at("72212100", "group"), code_at("72000000", "group"), code_at("72212100", "class")
    ('72200000', None, '72210000')
    """
    digits = DIGITS[level]
    if level != "division" and code[digits - 1] == "0":
        return None
    return code[:digits].ljust(8, "0")


def parent_of(code: str, level: str) -> str:
    """The code one level up (a group's division, a class's group)."""
    return code[: DIGITS[level] - 1].ljust(8, "0")


@dataclass(frozen=True)
class Inferred:
    """A CPV code inferred from a text."""

    code: str
    """8 digits: a division (72000000), group (72200000) or class (72210000)."""
    level: str
    """"division", "group" or "class"."""
    confidence: float
    """Calibrated probability in [0, 1]: of the codes given 0.8, about 80% are among the notice's."""


@dataclass
class _Level:
    """One level's one-vs-rest linear models, one column per label."""

    labels: list[str] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    """The column of each label's parent at the level above (unused for divisions)."""
    weights: Any = None
    """features × labels, sparse."""
    bias: Any = None
    calibration: tuple[np.ndarray, np.ndarray] = (np.array([0.0]), np.array([0.0]))
    """Calibration: probability = the curve through these (score, probability) points."""

    def scores(self, features: Any) -> np.ndarray:
        if not self.labels:
            return np.zeros((features.shape[0], 0), dtype=np.float32)
        product = features @ self.weights
        if sparse.issparse(product):
            product = product.toarray()
        return np.asarray(product, dtype=np.float32) + self.bias

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        knots, values = self.calibration
        return np.interp(scores, knots, values).astype(np.float32)


def _label_sets(examples: Sequence[Example], level: str) -> list[set[str]]:
    found = []
    for example in examples:
        found.append({c for c in (code_at(code, level) for code in example.codes) if c is not None})
    return found


def _fit_binary(features: Any, targets: np.ndarray) -> tuple[np.ndarray, float]:
    model = LinearSVC(C=SVM_C, dual=True, tol=1e-3, max_iter=1_000)
    model.fit(features, targets)
    weights = model.coef_[0].astype(np.float32)
    weights[np.abs(weights) < PRUNE] = 0.0
    return weights, float(model.intercept_[0])


def _fit_tree(
    features: Any, examples: Sequence[Example], notices: int, progress: Callable[[str], None]
) -> list[_Level]:
    """The three levels' linear models (uncalibrated) trained on these examples.

    The first `notices` examples are notices, the others the vocabulary: a code is learned when it has
    MIN_POSITIVES notices, however many labels name it.
    """
    levels: list[_Level] = []
    divisions = _label_sets(examples, "division")
    levels.append(_fit_level(features, divisions, None, None, notices=notices))
    progress(f"division level: {len(levels[0].labels)} codes")
    for level_name, parent_name in (("group", "division"), ("class", "group")):
        parent = levels[-1]
        labels = _label_sets(examples, level_name)
        parent_sets = _label_sets(examples, parent_name)
        levels.append(_fit_level(features, labels, parent_sets, parent, notices=notices, level=level_name))
        progress(f"{level_name} level: {len(levels[-1].labels)} codes")
    return levels


def _fit_level(
    features: Any,
    label_sets: list[set[str]],
    parent_sets: list[set[str]] | None,
    parent: _Level | None,
    *,
    notices: int,
    level: str = "division",
) -> _Level:
    """One-vs-rest models for a level; below divisions, each trained among its parent's examples only."""
    columns: list[np.ndarray] = []
    biases: list[float] = []
    result = _Level()
    counts: dict[str, int] = defaultdict(int)
    for labels in label_sets[:notices]:
        for label in labels:
            counts[label] += 1
    if parent is None or parent_sets is None:
        rows = np.arange(len(label_sets))
        for label in sorted(counts):
            if counts[label] < MIN_POSITIVES:
                continue
            targets = np.array([label in labels for labels in label_sets], dtype=np.int8)
            weights, bias = _fit_binary(features, targets)
            result.labels.append(label)
            columns.append(weights)
            biases.append(bias)
    else:
        parent_column = {label: index for index, label in enumerate(parent.labels)}
        by_parent: dict[str, list[str]] = defaultdict(list)
        for label in sorted(counts):
            if counts[label] >= MIN_POSITIVES and parent_of(label, level) in parent_column:
                by_parent[parent_of(label, level)].append(label)
        for parent_label, children in sorted(by_parent.items()):
            rows = np.array([i for i, labels in enumerate(parent_sets) if parent_label in labels])
            subset = features[rows]
            for label in children:
                targets = np.array([label in label_sets[i] for i in rows], dtype=np.int8)
                if targets.all():
                    weights, bias = np.zeros(features.shape[1], dtype=np.float32), 5.0
                else:
                    weights, bias = _fit_binary(subset, targets)
                result.labels.append(label)
                result.parents.append(parent_column[parent_label])
                columns.append(weights)
                biases.append(bias)
    if columns:
        matrix = np.vstack(columns).T
        result.weights = sparse.csc_matrix(matrix)
    else:
        result.weights = np.zeros((features.shape[1], 0), dtype=np.float32)
    result.bias = np.array(biases, dtype=np.float32)
    return result


def _calibration_pairs(
    levels: list[_Level], features: Any, examples: Sequence[Example]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per level, the (scores, right) pairs the calibration learns from.

    Divisions: every division of every example. Groups and classes: only within the example's true parent,
    as their probability is conditional on it.
    """
    pairs = []
    parent_truth: list[set[str]] | None = None
    for level_name, level in zip(LEVELS, levels, strict=True):
        scores = level.scores(features)
        truth = _label_sets(examples, level_name)
        if level_name == "division":
            mask = np.ones_like(scores, dtype=bool)
        else:
            assert parent_truth is not None
            parent_labels = levels[LEVELS.index(level_name) - 1].labels
            mask = np.array(
                [[parent_labels[p] in parent_truth[i] for p in level.parents] for i in range(len(examples))],
                dtype=bool,
            ).reshape(scores.shape)
        right = np.array(
            [[label in truth[i] for label in level.labels] for i in range(len(examples))], dtype=bool
        ).reshape(scores.shape)
        pairs.append((scores[mask], right[mask]))
        parent_truth = truth
    return pairs


def _isotonic(scores: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(scores) == 0:
        return (np.array([0.0]), np.array([0.0]))
    curve = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, right.astype(np.float64))
    return curve.X_thresholds_.astype(np.float32), curve.y_thresholds_.astype(np.float32)


def vocabulary_examples() -> list[Example]:
    """Each CPV code's French, Dutch and English label as an example of that code."""
    return [
        Example(text=label, codes=(code,), lang=lang, group=f"CPV:{code}")
        for code, labels in sorted(cpv_codes().items())
        for lang, label in zip(("fr", "nl", "en"), labels, strict=True)
        if label
    ]


class CpvClassifier:
    """Infers CPV codes from a notice's text (see the module's description)."""

    def __init__(self, vectorizer: FeatureUnion, levels: list[_Level], trained_on: int) -> None:
        self.vectorizer = vectorizer
        self.levels = levels
        self.trained_on = trained_on
        """How many examples it was trained on."""

    @classmethod
    def train(cls, examples: Sequence[Example], *, progress: Callable[[str], None] | None = None) -> CpvClassifier:
        """Train on examples (text and codes); `progress` is told what is being done."""
        say = progress or (lambda _message: None)
        notices = [e for e in examples if e.text.strip() and e.codes]
        examples = notices + vocabulary_examples()
        started = time.monotonic()
        vectorizer = _vectorizer()
        say(f"reading {len(notices):,} examples and {len(examples) - len(notices):,} CPV labels")
        features = vectorizer.fit_transform([e.text for e in examples]).tocsr()
        say(f"{features.shape[1]:,} features ({time.monotonic() - started:.0f}s)")
        folds = np.concatenate([_folds(notices, FOLDS), np.full(len(examples) - len(notices), -1)])
        collected: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for number in range(FOLDS):
            train = np.flatnonzero(folds != number)
            test = np.flatnonzero(folds == number)
            say(f"calibration fold {number + 1}/{FOLDS}")
            train_notices = int(np.count_nonzero(train < len(notices)))
            levels = _fit_tree(features[train], [examples[i] for i in train], train_notices, say)
            collected.append(_calibration_pairs(levels, features[test], [examples[i] for i in test]))
        say("the whole corpus")
        levels = _fit_tree(features, examples, len(notices), say)
        for index, level in enumerate(levels):
            scores = np.concatenate([fold_pairs[index][0] for fold_pairs in collected])
            right = np.concatenate([fold_pairs[index][1] for fold_pairs in collected])
            level.calibration = _isotonic(scores, right)
        say(f"trained in {time.monotonic() - started:.0f}s")
        return cls(vectorizer, levels, len(notices))

    def probabilities(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per level, texts × labels: the calibrated probability of each code (its ancestors' included)."""
        features = self.vectorizer.transform([text or "" for text in texts])
        result: list[np.ndarray] = []
        for index, level in enumerate(self.levels):
            probability = level.probabilities(level.scores(features))
            if index:
                probability = probability * result[-1][:, level.parents]
            result.append(probability)
        return result

    def predict(self, texts: Sequence[str], *, min_confidence: float = MIN_CONFIDENCE) -> list[list[Inferred]]:
        """Per text, the codes at least `min_confidence` sure, best first.

        A group is listed with its division (at least as sure), a class with its group: a profile watching
        the division and one watching the group both find the code they watch with its own confidence.
        """
        probabilities = self.probabilities(texts)
        found: list[list[Inferred]] = [[] for _ in texts]
        for level_name, level, probability in zip(LEVELS, self.levels, probabilities, strict=True):
            rows, columns = np.nonzero(probability >= min_confidence)
            for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
                found[row].append(Inferred(level.labels[column], level_name, round(float(probability[row, column]), 4)))
        for inferred in found:
            inferred.sort(key=lambda item: (-item.confidence, LEVELS.index(item.level), item.code))
        return found

    def to_bytes(self) -> bytes:
        """The trained model, compressed (a few MB), for the database."""
        buffer = io.BytesIO()
        pickle.dump({"format": FORMAT, "model": self}, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return zlib.compress(buffer.getvalue(), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> CpvClassifier:
        """A model saved by `to_bytes` (only ever from PIB's own database: it is a pickle)."""
        try:
            loaded = pickle.loads(zlib.decompress(data))  # our own database's model
        except (AttributeError, ImportError) as error:  # a class this PIB no longer has
            raise OutdatedModel(f"a CPV model saved by another version of PIB ({error})") from None
        if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
            found = loaded.get("format") if isinstance(loaded, dict) else None
            raise OutdatedModel(f"a CPV model of format {found}, this version of PIB reads format {FORMAT}")
        model = loaded["model"]
        if not isinstance(model, cls):
            raise ValueError("not a CPV model")
        return model


class OutdatedModel(ValueError):
    """A stored model this version of PIB cannot read (saved by an older one): a new version is trained."""


def _folds(examples: Sequence[Example], count: int) -> np.ndarray:
    """A fold number per example, the same for all examples of a group (a notice)."""
    return np.array(
        [zlib.crc32((e.group or e.text).encode()) % count for e in examples],
        dtype=np.int32,
    )

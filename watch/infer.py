"""CPV codes inferred from a notice's text, for the notices that have none (feed entries, some BOAMP records).

A light classifier, trained in seconds, no dependency: multinomial naive Bayes over word features, in two
steps down the CPV tree, the division (`72000000`) and then the group within it (`72200000`). Its training
documents are the CPV labels (FR, NL, EN: every code's label counts for its division and group) and the
stored notices that have codes (title, description and lot titles count for the divisions and groups of
their codes, the main code fully, the others a third). Labels teach the vocabulary of the whole tree,
notices the vocabulary buyers really write.

Words are compared across languages without knowing the language: folded (case, accents), linking words
left out, cut to their first 6 letters (a crude stem that serves FR, NL and EN at once: `logiciels` and
`logiciel`, `beveiliging` and `beveiligingen` meet).

Confidence: naive Bayes posteriors are far too sure of themselves, so the log-likelihoods are divided by
the square root of the number of words before the softmax; the benchmark reports how well that ranks.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .text import STOPWORDS, words

_LINKING = STOPWORDS["fr"] | STOPWORDS["nl"] | STOPWORDS["en"]
_SMOOTHING = 1.0
_PRIOR = 1000.0
"""Pseudo-count per class in the prior: nearly uniform, as the recorded notices are no fair sample of what
buyers buy (a division with many labels or many recorded notices must not win on that alone)."""
_EXAMPLE_WEIGHT = 1.0
"""A notice weighs as much as a label: more made the held-out accuracy worse (notices are few and mixed)."""
_OTHER_CODE_WEIGHT = 1 / 3
MAX_TEXT = 5_000
"""Longest text classified (characters)."""
DESCRIPTION_CHARS = 500


def features(text: str) -> list[str]:
    """The words a text is classified by.

    >>> features("Développement de logiciels et maintenance")
    ['develo', 'logici', 'mainte']
    """
    return [w[:6] for w in words(text[:MAX_TEXT]) if len(w) > 2 and w not in _LINKING and not w.isdigit()]


def notice_text(notice: Mapping[str, object]) -> str:
    """The text of a §2 notice the classifier reads: title, lot titles, the start of the description.

    The subject comes first in a description, the conditions after; reading more made it worse.
    """
    parts = [str(notice.get("title") or "")]
    for lot in notice.get("lots") or []:  # type: ignore[attr-defined]
        if lot.get("title"):
            parts.append(lot["title"])
    if notice.get("description"):
        parts.append(str(notice["description"])[:DESCRIPTION_CHARS])
    return "\n".join(parts)


def notice_codes(notice: Mapping[str, object]) -> list[str]:
    """The CPV codes of a §2 notice, main first (empty when it has none: a notice to infer for)."""
    codes = [notice.get("cpv_main"), *(notice.get("cpv_additional") or [])]  # type: ignore[misc]
    for lot in notice.get("lots") or []:  # type: ignore[attr-defined]
        codes.extend([lot.get("cpv_main"), *(lot.get("cpv_additional") or [])])
    return list(dict.fromkeys(str(c) for c in codes if c))


class _Bayes:
    """Multinomial naive Bayes over weighted bags of features."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.documents: Counter[str] = Counter()

    def add(self, label: str, feats: Iterable[str], weight: float, *, counts_in_prior: bool) -> None:
        counter = self.counts[label]
        for feat in feats:
            counter[feat] += weight  # type: ignore[assignment]
        if counts_in_prior:
            self.documents[label] += weight  # type: ignore[assignment]

    def freeze(self, size: int) -> None:
        size = size or 1
        total_documents = sum(self.documents.values())
        labels = len(self.counts) or 1
        self.log_prior = {
            label: math.log((self.documents[label] + _PRIOR) / (total_documents + _PRIOR * labels))
            for label in self.counts
        }
        self.log_unseen: dict[str, float] = {}
        self.log_seen: dict[str, dict[str, float]] = {}
        for label, counter in self.counts.items():
            denominator = math.log(sum(counter.values()) + _SMOOTHING * size)
            self.log_unseen[label] = math.log(_SMOOTHING) - denominator
            self.log_seen[label] = {f: math.log(n + _SMOOTHING) - denominator for f, n in counter.items()}
        del self.counts

    def rank(self, feats: Sequence[str]) -> list[tuple[str, float]]:
        """Labels with their probability, best first."""
        if not feats or not self.log_prior:
            return []
        scale = 1 / math.sqrt(len(feats))
        scores = {}
        for label, prior in self.log_prior.items():
            seen, unseen = self.log_seen[label], self.log_unseen[label]
            scores[label] = prior + scale * sum(seen.get(f, unseen) for f in feats)
        top = max(scores.values())
        weights = {label: math.exp(score - top) for label, score in scores.items()}
        total = sum(weights.values())
        return sorted(((label, w / total) for label, w in weights.items()), key=lambda item: -item[1])


@dataclass
class CpvModel:
    """A trained classifier: divisions, then groups within each division."""

    divisions: _Bayes
    groups: dict[str, _Bayes]
    vocabulary: frozenset[str]
    examples: int
    labels: int


def train_cpv_model(
    *, labels: Mapping[str, Iterable[str]] | None = None, examples: Iterable[tuple[str, Sequence[str]]] = ()
) -> CpvModel:
    """Train on CPV labels (code → its labels in any languages) and texts with their codes (main first)."""
    divisions = _Bayes()
    groups: dict[str, _Bayes] = defaultdict(_Bayes)
    vocabulary: set[str] = set()
    label_count = example_count = 0
    for code, texts in (labels or {}).items():
        if len(code) < 3 or not code[:2].isdigit():
            continue
        feats = [f for text in texts for f in features(text)]
        if not feats:
            continue
        label_count += 1
        vocabulary.update(feats)
        divisions.add(code[:2], feats, 1.0, counts_in_prior=False)
        if code[2] != "0":
            groups[code[:2]].add(code[:3], feats, 1.0, counts_in_prior=False)
    for text, codes in examples:
        feats = features(text)
        if not feats or not codes:
            continue
        example_count += 1
        vocabulary.update(feats)
        seen_divisions: set[str] = set()
        seen_groups: set[str] = set()
        for position, code in enumerate(codes):
            weight = _EXAMPLE_WEIGHT * (1.0 if position == 0 else _OTHER_CODE_WEIGHT)
            if code[:2] not in seen_divisions:
                seen_divisions.add(code[:2])
                divisions.add(code[:2], feats, weight, counts_in_prior=True)
            if code[2] != "0" and code[:3] not in seen_groups:
                seen_groups.add(code[:3])
                groups[code[:2]].add(code[:3], feats, weight, counts_in_prior=True)
    divisions.freeze(len(vocabulary))
    for model in groups.values():
        model.freeze(len(vocabulary))
    return CpvModel(divisions, dict(groups), frozenset(vocabulary), example_count, label_count)


def infer_cpv(text: str, *, model: CpvModel, limit: int = 3) -> list[tuple[str, float]]:
    """The likeliest CPV codes of a text with their confidence (0-1), best first.

    The best division comes with its best group (`72000000` 0.8, then `72200000` 0.8 × 0.6), then the next
    divisions; codes are 8 digits, zeros after the level they name.
    """
    feats = [f for f in features(text) if f in model.vocabulary]
    ranked = model.divisions.rank(feats)
    found: list[tuple[str, float]] = []
    for rank, (division, confidence) in enumerate(ranked[:limit]):
        found.append((division.ljust(8, "0"), round(confidence, 4)))
        group_model = model.groups.get(division)
        if rank == 0 and group_model is not None:
            best_groups = group_model.rank(feats)
            if best_groups:
                group, within = best_groups[0]
                found.append((group.ljust(8, "0"), round(confidence * within, 4)))
    found.sort(key=lambda item: -item[1])
    return found[:limit]

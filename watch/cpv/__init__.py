"""CPV codes inferred from a notice's text: the corpus, the classifier and its honest measurement."""

from .corpus import Example, shipped_examples, store_examples
from .model import ROUTING_THRESHOLD, CpvClassifier, Inferred

__all__ = ["ROUTING_THRESHOLD", "CpvClassifier", "Example", "Inferred", "shipped_examples", "store_examples"]

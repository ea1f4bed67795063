"""Belgian e-Procurement search API publications. Being written."""

from collections.abc import Mapping
from typing import Any

from ..notice import Notice


def parse_be_publication(publication: Mapping[str, Any]) -> Notice:
    raise NotImplementedError

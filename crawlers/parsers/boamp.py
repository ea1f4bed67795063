"""BOAMP: opendatasoft API records and BOAMP XML notices. Being written."""

from collections.abc import Mapping
from typing import Any

from lxml import etree

from ..notice import Notice


def parse_boamp_xml(root: etree._Element) -> Notice:
    raise NotImplementedError


def parse_boamp_record(record: Mapping[str, Any]) -> Notice:
    raise NotImplementedError

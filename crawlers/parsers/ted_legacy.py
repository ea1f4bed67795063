"""TED legacy XML (TED_EXPORT R2.0.7 to R2.0.9). Being written."""

from lxml import etree

from ..notice import Notice


def parse_ted_export(root: etree._Element) -> Notice:
    raise NotImplementedError

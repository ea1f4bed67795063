"""TED eForms XML (UBL 2.3 + eForms extensions). Being written."""

from lxml import etree

from ..notice import Notice

EFORMS_ROOTS = frozenset({"ContractNotice", "PriorInformationNotice", "ContractAwardNotice",
                          "BusinessRegistrationInformationNotice"})


def parse_eforms(root: etree._Element) -> Notice:
    raise NotImplementedError

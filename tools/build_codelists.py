"""Build the compact CPV and NUTS label tables (FR, NL, EN) shipped as package data.

Input: the eForms SDK translation files `code_{fr,nl,en}.xml` (OP-TED/eForms-SDK, CC BY 4.0).
Usage: python tools/build_codelists.py PATH/TO/translations
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

from lxml import etree

LANGUAGES = ("fr", "nl", "en")
LISTS = {"cpv": "code|name|cpv.", "nuts": "code|name|nuts."}
OUT = Path(__file__).resolve().parent.parent / "crawlers" / "codelists"


def read_labels(path: Path) -> dict[str, dict[str, str]]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(path), parser).getroot()
    labels: dict[str, dict[str, str]] = {name: {} for name in LISTS}
    for entry in root.iter("entry"):
        key = entry.get("key", "")
        for name, prefix in LISTS.items():
            if key.startswith(prefix):
                labels[name][key.removeprefix(prefix)] = " ".join((entry.text or "").split())
    return labels


def main(folder: Path) -> None:
    per_language = {lang: read_labels(folder / f"code_{lang}.xml") for lang in LANGUAGES}
    for name in LISTS:
        codes = sorted(set().union(*(per_language[lang][name] for lang in LANGUAGES)))
        lines = ["code\t" + "\t".join(LANGUAGES)]
        lines += [
            code + "\t" + "\t".join(per_language[lang][name].get(code, "") for lang in LANGUAGES) for code in codes
        ]
        data = ("\n".join(lines) + "\n").encode()
        (OUT / f"{name}.tsv.gz").write_bytes(gzip.compress(data, 9, mtime=0))
        print(f"{name}: {len(codes)} codes, {len(data):,} bytes before compression")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

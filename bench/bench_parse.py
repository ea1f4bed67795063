"""Parse speed per format, as a ratio to the floor: a bare `lxml.etree.fromstring` of the same bytes.

Goal (issue 2): our parse within 3x of the floor.
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

from bench.common import FIXTURES, best_of
from crawlers.parsers import parse_bytes


def _xml_files() -> dict[str, list[bytes]]:
    by_format: dict[str, list[bytes]] = defaultdict(list)
    for path in sorted(FIXTURES.rglob("*.xml")):
        data = path.read_bytes()
        outcome = parse_bytes(data)
        if outcome.notices:
            by_format[outcome.notices[0].format].append(data)
    return by_format


def main() -> None:
    by_format = _xml_files()
    print(f"{'format':<12} {'files':>5} {'MB':>6} {'notices/s':>10} {'floor/s':>10} {'ratio':>6}")
    total_ours = total_floor = 0.0
    for fmt, documents in sorted(by_format.items()):
        repeat = max(3, 400 // len(documents))
        floor = best_of(5, lambda docs=documents, n=repeat: [etree.fromstring(d) for d in docs for _ in range(n)])
        ours = best_of(5, lambda docs=documents, n=repeat: [parse_bytes(d) for d in docs for _ in range(n)])
        count = len(documents) * repeat
        total_ours += ours / count * len(documents)
        total_floor += floor / count * len(documents)
        size = sum(map(len, documents)) / 1e6
        print(
            f"{fmt:<12} {len(documents):>5} {size:>6.1f} {count / ours:>10.0f} {count / floor:>10.0f}"
            f" {ours / floor:>5.2f}x"
        )
    print(
        f"{'all XML':<12} {'':>5} {'':>6} {'':>10} {'':>10} {total_ours / total_floor:>5.2f}x"
        "  (our parse time / bare lxml.etree.fromstring time; goal <= 3x)"
    )
    json_pages = [p.read_bytes() for p in sorted(FIXTURES.rglob("*.json"))]
    records = sum(len(parse_bytes(page).notices) for page in json_pages)
    seconds = best_of(5, lambda: [parse_bytes(page) for page in json_pages])
    print(f"JSON pages (BOAMP, BE): {records / seconds:,.0f} records/s ({records} records in {len(json_pages)} pages)")


if __name__ == "__main__":
    main()

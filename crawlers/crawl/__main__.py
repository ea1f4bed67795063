"""`python -m crawlers.crawl SOURCE [--since DATE] [--until DATE] [--json]`: one crawl, in this process.

The scheduler runs crawls this way (through `crawl_in_subprocess`), since Scrapy's reactor cannot be
restarted inside a long-running process. The report goes to stdout as one JSON line with `--json`,
else as text on stderr. Exit code 0 when the run is `ok`, 1 otherwise, 2 when it could not start.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from .context import SOURCES
from .runner import CrawlError, run_crawl


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.crawl", description=__doc__.splitlines()[0])
    parser.add_argument("source", choices=SOURCES)
    parser.add_argument("--since", type=_date, help="first publication date (a backfill)")
    parser.add_argument("--until", type=_date, help="last publication date (default: today)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON line on stdout")
    args = parser.parse_args(argv)
    try:
        report = run_crawl(source=args.source, since=args.since, until=args.until)
    except CrawlError as error:
        print(f"crawl {args.source}: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
    else:
        print(report.describe(), file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

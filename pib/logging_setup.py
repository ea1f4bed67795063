"""One way to write log lines, for the service and the crawl processes it starts.

Every time a person reads in the logs is the machine's local time with its UTC offset, the stamp at the
start of a line and the times inside messages alike (`2026-03-09 14:10:00+0100`): without the offset, a
line of APScheduler (Brussels time), one of Scrapy (local time) and a health record (UTC) cannot be told
apart. The crawl processes write the same stamp (`LOG_DATEFORMAT` in `crawlers/scrapy_settings.py`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

DATE_FORMAT = "%Y-%m-%d %H:%M:%S%z"
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("alembic", "apscheduler")
"""Loggers that speak in their own terms (job reprs, cron triggers, their own time zone): warnings only; the
service says what happens in plain words instead."""


def configure_logging(*, level: int = logging.INFO) -> None:
    """Log to stderr in the one format; called once, at the start of `pib serve`."""
    logging.basicConfig(level=level, format=LINE_FORMAT, datefmt=DATE_FORMAT, force=True)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def local_time(moment: datetime | None) -> str:
    """A moment as the log stamps write it: local time with offset (a naive moment is taken as UTC, as the
    store keeps them)."""
    if moment is None:
        return "never"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime(DATE_FORMAT)

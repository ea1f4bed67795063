"""iCalendar text (RFC 5545) for the private calendar feed: what Outlook, Google Calendar or Thunderbird subscribe to.

Only what the feed needs, written by hand so that every rule is visible: lines end with CRLF and are folded
at 75 octets (never inside a UTF-8 character), TEXT values escape backslash, semicolon, comma and newlines,
times are UTC (`...Z`), each event has a stable `UID` and a `DTSTAMP`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

CRLF = "\r\n"
LINE_OCTETS = 75


def escape(value: str) -> str:
    r"""A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped, other controls dropped.

    >>> escape("Lot 1; voirie, éclairage\nrue \\ place")
    'Lot 1\\; voirie\\, éclairage\\nrue \\\\ place'
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(char for char in value if char == "\n" or char == "\t" or (ord(char) >= 0x20 and char != "\x7f"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line folded so that no physical line exceeds 75 octets; continuation lines start with a space.

    >>> folded = fold("SUMMARY:" + "é" * 60)
    >>> [len(part.encode()) for part in folded.split("\\r\\n")]
    [74, 55]
    """
    data = line.encode()
    if len(data) <= LINE_OCTETS:
        return line
    parts: list[str] = []
    start = 0
    limit = LINE_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never cut a UTF-8 character
            end -= 1
        parts.append(data[start:end].decode())
        start = end
        limit = LINE_OCTETS - 1  # the leading space of a continuation line counts
    return (CRLF + " ").join(parts)


def utc_stamp(moment: datetime) -> str:
    """A DATE-TIME in UTC form; a naive moment is UTC, as the store keeps it.

    >>> from datetime import timezone, timedelta
    >>> utc_stamp(datetime(2026, 3, 3, 12, 0, tzinfo=timezone(timedelta(hours=1))))
    '20260303T110000Z'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Event:
    """One VEVENT: a moment (no end: a deadline has no duration), with text and a link."""

    uid: str
    start: datetime
    summary: str
    description: str = ""
    url: str | None = None
    cancelled: bool = False
    modified: datetime | None = None


def calendar(*, events: Iterable[Event], name: str, now: datetime, product: str = "-//PIB//Member portal//EN") -> str:
    """A whole VCALENDAR, published (`METHOD:PUBLISH`), to refresh hourly; `now` is every event's DTSTAMP."""
    stamp = utc_stamp(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{product}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape(name)}",
        f"X-WR-CALNAME:{escape(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape(event.uid)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{utc_stamp(event.start)}",
            f"SUMMARY:{escape(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        if event.modified:
            lines.append(f"LAST-MODIFIED:{utc_stamp(event.modified)}")
        lines += ["STATUS:CANCELLED" if event.cancelled else "STATUS:CONFIRMED", "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)

"""A crawl's second process: it parses the answers the crawl fetches and stores their notices, while the
crawl's own process goes on fetching.

Scrapy's handling of a request costs about as much as parsing the notice it brings (TED gives one notice a
request), so a crawl in one process took twice the time of parsing and storing the same documents from disk.
The crawl's process sends each answer's bytes over a queue (never parsed notices: pickling those cost more
than the parse saves) and gets back what was stored, the warnings, and which answers to fetch again because
they were not even well-formed. The two processes share no connection: the worker opens its own.

The worker is forked before Scrapy starts (`run_crawl`), so it starts at once with everything imported; it
reads the answers in the order they were sent, so the crawl knows which are done by counting. It ends when
told, or when the crawl's process is gone; a worker that dies is noticed by the crawl, which then fails the
run rather than moving its checkpoint over answers never stored.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import queue
from dataclasses import dataclass, field

from lxml import etree

from ..parsers import parse_bytes
from ..store.db import get_engine
from .batches import Batches, Tally
from .items import FailureItem, NoticeItem

MAX_IN_FLIGHT = 1_000
"""Answers sent and not yet read by the worker; beyond it the crawl waits (about 50 MB of TED notices)."""

QUIET_SECONDS = 0.5
"""A worker holding notices stores them when no answer came for this long, so the counters stay current."""


class WorkerLost(Exception):
    """The parsing process ended without being told to."""


@dataclass(frozen=True)
class Answer:
    url: str
    body: bytes
    retryable: bool
    """Whether the answer may be fetched again (its retries are not spent) if it is not even well-formed."""


@dataclass(frozen=True)
class Settle:
    """Store everything held and report, answering with this token."""

    token: int


@dataclass
class Report:
    tally: Tally
    answers: int
    """Answers read since the last report, in the order they were sent."""
    again: list[int] = field(default_factory=list)
    """Which of those answers (0 = the first of them) to fetch again."""
    settled: int | None = None


def well_formed(body: bytes) -> bool:
    """Whether a body is complete XML or JSON (a failure on it is then the document's, not the wire's)."""
    start = body.lstrip()[:1]
    if start in (b"{", b"["):
        try:
            json.loads(body)
        except ValueError:
            return False
        return True
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return False
    return True


def read_answer(answer: Answer, batches: Batches) -> bool:
    """Hold the answer's notices and failures; False when the answer is to be fetched again instead."""
    outcome = parse_bytes(answer.body)
    whole_failure = not outcome.notices and any(failure.record == "" for failure in outcome.failures)
    if whole_failure and answer.retryable and not well_formed(answer.body):
        return False
    for parsed in outcome.notices:
        batches.tally.fetched += 1
        batches.add(NoticeItem(parsed, answer.url))
    for failure in outcome.failures:
        if failure.record:
            # One bad record of a page: its neighbours are stored, and the run's health names it.
            batches.tally.warnings.append(f"record set aside: {answer.url} {failure.record}: {failure.reason}"[:500])
        batches.add(FailureItem(answer.url, failure.record, failure.reason, answer.body))
    return True


def _serve(inbox: multiprocessing.Queue, outbox: multiprocessing.Queue, database_url: str, parent: int) -> None:
    engine = get_engine(database_url)
    engine.dispose(close=False)  # the connections forked from the crawl's process stay the crawl's
    batches = Batches(engine)
    read, again = 0, list[int]()

    def report(settled: int | None = None) -> None:
        nonlocal read, again
        outbox.put(Report(batches.store(), read, again, settled))
        read, again = 0, []

    while True:
        try:
            message = inbox.get(timeout=QUIET_SECONDS if read else 1.0)
        except queue.Empty:
            if read:
                report()
            elif os.getppid() != parent:
                return
            continue
        if message is None:
            return
        if isinstance(message, Settle):
            report(message.token)
            continue
        if not read_answer(message, batches):
            again.append(read)
        read += 1
        if batches.full:
            report()


class ParseWorker:
    """The crawl's end of its parsing process: answers go in; reports, with what to fetch again, come out."""

    def __init__(self, database_url: str) -> None:
        context = multiprocessing.get_context("fork")
        self.inbox: multiprocessing.Queue = context.Queue()
        self.outbox: multiprocessing.Queue = context.Queue()
        self.process = context.Process(
            target=_serve, args=(self.inbox, self.outbox, database_url, os.getpid()), name="pib-parse", daemon=True
        )
        self.process.start()
        self.in_flight = 0
        self.tokens = itertools.count(1)

    def send(self, answer: Answer) -> list[Report]:
        """Send an answer; return the reports that came meanwhile (waiting when too many are in flight)."""
        self.inbox.put(answer)
        self.in_flight += 1
        reports = self.poll()
        while self.in_flight > MAX_IN_FLIGHT:
            reports.append(self._next())
        return reports

    def poll(self) -> list[Report]:
        reports: list[Report] = []
        while True:
            try:
                report = self.outbox.get_nowait()
            except queue.Empty:
                return reports
            reports.append(self._counted(report))

    def settle(self) -> list[Report]:
        """Every answer sent so far parsed and stored: the reports up to that point."""
        token = next(self.tokens)
        self.inbox.put(Settle(token))
        reports: list[Report] = []
        while not reports or reports[-1].settled != token:
            reports.append(self._next())
        return reports

    def stop(self) -> None:
        if self.process.is_alive():
            self.inbox.put(None)
            self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        # Answers a dead worker never read must not hold this process at its exit.
        self.inbox.cancel_join_thread()

    def _next(self) -> Report:
        while True:
            try:
                return self._counted(self.outbox.get(timeout=1.0))
            except queue.Empty:
                if not self.process.is_alive():
                    raise WorkerLost(
                        f"the parsing process ended unexpectedly (exit code {self.process.exitcode}); "
                        f"{self.in_flight} answers were not stored"
                    ) from None

    def _counted(self, report: Report) -> Report:
        self.in_flight -= report.answers
        return report

"""The crawl's parsing process (crawlers/crawl/worker.py): killed in the middle of a crawl, with answers it
had read and not stored, the run fails and its checkpoint stays; the next run gets it all."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from crawlers.crawl import CrawlReport
from crawlers.crawl.context import read_checkpoint
from crawlers.replay import Fault, ReplayServer

from .conftest import UNTIL, Crawler, expected_ted, stored


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _kill_the_parsing_process_after(server: ReplayServer, answers: int, killed: list[int]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = [worker for crawl in _children(os.getpid()) for worker in _children(crawl)]
        if workers and len(server.state.applied) >= answers:
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])
            return
        time.sleep(0.05)


def test_a_parsing_process_killed_mid_crawl_fails_the_run_keeps_the_checkpoint_and_the_next_run_gets_all(
    crawl_sqlite: Crawler, replay
) -> None:
    slow = replay(faults=[Fault("slow", path="/en/notice/", after=3, times=1000, seconds=0.3)])
    killed: list[int] = []
    killer = threading.Thread(target=_kill_the_parsing_process_after, args=(slow, 5, killed))
    killer.start()

    failed: CrawlReport = crawl_sqlite("ted", slow)
    killer.join()

    assert killed, "no parsing process was found to kill"
    assert failed.status == "failed", failed.describe()
    lost = "the parsing process ended unexpectedly (exit code -9)"
    assert any(lost in error for error in failed.errors), failed.errors
    assert read_checkpoint(crawl_sqlite.engine, "ted") is None
    assert len(stored(crawl_sqlite.engine)) < len(expected_ted(slow))

    repaired = replay()
    again = crawl_sqlite("ted", repaired)

    assert again.status == "ok", again.describe()
    assert stored(crawl_sqlite.engine) == expected_ted(repaired)
    assert read_checkpoint(crawl_sqlite.engine, "ted") == UNTIL

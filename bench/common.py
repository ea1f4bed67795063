"""Helpers shared by the benchmarks: fixture files, temporary databases, timing."""

from __future__ import annotations

import os
import resource
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from pib.db import upgrade

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
POSTGRES_URL = os.environ.get("PIB_BENCH_POSTGRES_URL")


def best_of(repeat: int, action: Callable[[], object]) -> float:
    """The fastest of `repeat` runs, in seconds (the least disturbed by the rest of the machine)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def peak_memory_mb() -> float:
    """This process's peak resident set since it started (or exec'd), in MB.

    Linux's `VmHWM` rather than `getrusage`'s `ru_maxrss`, which a process started by multiprocessing's spawn
    inherits from its parent: after `bench cpv` trained a model, every later child reported the trainer's 1.8 GB.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_kinds() -> list[str]:
    return ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@contextmanager
def scratch_databases() -> Iterator[Callable[[str], str]]:
    """A factory of fresh migrated databases (`new("sqlite")`, `new("postgresql")`), all removed at the end."""
    created: list[str] = []
    folder = tempfile.TemporaryDirectory()

    def new(kind: str) -> str:
        if kind == "sqlite":
            url = f"sqlite:///{folder.name}/{uuid.uuid4().hex}.sqlite"
        else:
            if POSTGRES_URL is None:
                raise RuntimeError("a PostgreSQL benchmark needs PIB_BENCH_POSTGRES_URL (make bench sets it)")
            name = f"pib_bench_{uuid.uuid4().hex[:10]}"
            with _admin().connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            created.append(name)
            url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return url

    try:
        yield new
    finally:
        for name in created:
            with _admin().connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        folder.cleanup()


def _admin() -> sa.Engine:
    assert POSTGRES_URL
    return sa.create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")

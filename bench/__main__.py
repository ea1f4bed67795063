"""Run every benchmark module `bench/bench_*.py` (each has `main()`), or the ones named: `python -m bench parse`."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(names: list[str]) -> None:
    modules = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    chosen = [m for m in modules if not names or m.removeprefix("bench_") in names]
    for name in chosen:
        print(f"\n=== {name.removeprefix('bench_')} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.{name}").main()
        print(f"({time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

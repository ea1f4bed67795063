"""Two `pib ingest` at once on the same files (issue 9 item 11): both finish, the store holds each notice once.

The processes are real (the installed `pib`), started together on a migrated database, one reading the files
in order and the other backwards, so that they meet on the same raw documents and notices mid-way.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crawlers.ingest import iter_files, parse_file
from crawlers.store.db import get_engine
from crawlers.store.service import error_table, notice_table, raw_table, version_table

FIXTURES = Path(__file__).parent.parent / "fixtures"
PIB = Path(sys.executable).with_name("pib")


def _good_files(folder: Path) -> list[Path]:
    """Copies of the recorded files that parse without any failure."""
    folder.mkdir()
    files = []
    for number, path in enumerate(iter_files([FIXTURES])):
        if parse_file(path).outcome.failures:
            continue
        copy = folder / f"{number:03d}-{path.name}"
        shutil.copy(path, copy)
        files.append(copy)
    return files


def _expected(files: list[Path]) -> tuple[set[tuple[str, str]], set[str], int]:
    """Notice keys, raw document digests and past versions a single ingest of the files leaves."""
    keys: set[tuple[str, str]] = set()
    raws: set[str] = set()
    contents: dict[tuple[str, str], set[str]] = {}
    for path in files:
        for parsed in parse_file(path).outcome.notices:
            key = (parsed.notice.source, parsed.notice.source_id)
            keys.add(key)
            raws.add(hashlib.sha256(parsed.raw).hexdigest())
            contents.setdefault(key, set()).add(parsed.notice.model_dump_json())
    return keys, raws, sum(len(versions) - 1 for versions in contents.values())


def _at_once(database_url: str, tmp_path: Path, *argument_lists: list[str]) -> list[tuple[int, str]]:
    """Run `pib ingest` once per argument list, all started together; each exit code and stderr."""
    env = {**os.environ, "PIB_DATABASE_URL": database_url}
    running = []
    for number, arguments in enumerate(argument_lists):
        err = tmp_path / f"ingest-{number}.err"
        with err.open("w") as stderr:
            process = subprocess.Popen(
                [str(PIB), "ingest", *arguments], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr
            )
        running.append((process, err))
    return [(process.wait(timeout=300), err.read_text()) for process, err in running]


def _count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_two_ingests_at_once_both_finish_and_store_each_notice_once(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    files = _good_files(tmp_path / "notices")
    keys, raws, versions = _expected(files)
    names = [str(path) for path in files]

    outcomes = _at_once(database_url, tmp_path, names, names[::-1])

    stored = 0
    for code, stderr in outcomes:
        assert "Traceback" not in stderr, stderr
        assert code == 0, stderr
        summary = re.search(rf"ingested {len(files)} files: (\d+) stored, \d+ updated, \d+ unchanged, 0 failed", stderr)
        assert summary, stderr
        stored += int(summary.group(1))
    assert stored == len(keys)  # each notice was stored by exactly one of the two
    assert _count(engine, notice_table) == len(keys)
    assert _count(engine, raw_table) == len(raws)
    assert _count(engine, version_table) == versions
    [(code, stderr)] = _at_once(database_url, tmp_path, [str(tmp_path / "notices")])
    assert code == 0 and re.search(r"0 stored, 0 updated, \d+ unchanged, 0 failed", stderr), stderr


def test_two_ingests_at_once_on_a_new_database_migrate_it_once(fresh_url: str, tmp_path: Path) -> None:
    files = _good_files(tmp_path / "notices")[:30]
    keys, _, _ = _expected(files)
    names = [str(path) for path in files]

    outcomes = _at_once(fresh_url, tmp_path, names, names[::-1])

    for code, stderr in outcomes:
        assert "Traceback" not in stderr, stderr
        assert code == 0, stderr
    assert _count(get_engine(fresh_url), notice_table) == len(keys)


def test_bad_files_ingested_at_once_are_set_aside_once(engine: Engine, database_url: str, tmp_path: Path) -> None:
    good = _good_files(tmp_path / "notices")[:2]
    bad = [tmp_path / "notices" / f"broken-{number}.xml" for number in range(3)]
    for number, path in enumerate(bad):
        path.write_bytes(b"<TED_EXPORT><CODED_DATA_SECTION>cut off in the middle %d" % number)
    names = [str(path) for path in [good[0], *bad, good[1]]]

    outcomes = _at_once(database_url, tmp_path, names, names[::-1], names)

    for code, stderr in outcomes:
        assert "Traceback" not in stderr, stderr
        assert code == 1, stderr
        assert re.search(r"ingested 5 files: \d+ stored, 0 updated, \d+ unchanged, 3 failed", stderr), stderr
        for path in bad:
            assert f"{path}" in stderr, stderr
    with engine.connect() as connection:
        set_aside = connection.execute(sa.select(error_table.c.origin)).scalars().all()
    assert sorted(set_aside) == sorted(map(str, bad))

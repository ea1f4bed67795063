"""Untrusted input: every bad file gets a one-line reason, nothing is fetched or expanded, memory stays
bounded, and the good files of the same run are still parsed and stored."""

from __future__ import annotations

import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crawlers.parsers import parse_bytes
from crawlers.store.db import get_engine
from crawlers.store.service import error_table, notice_table
from pib.cli import app
from tests.conftest import FIXTURES

GOOD_EFORMS = FIXTURES / "ted_eforms" / "sdk-examples" / "cn_24_minimal.xml"
GOOD_BOAMP_PAGE = FIXTURES / "boamp" / "opendatasoft-json" / "boamp-where-date.json"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ContractNotice><cbc:ID xmlns:cbc="urn:x">&lol9;</cbc:ID></ContractNotice>"""


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY secret "leaked">')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    """A server on loopback that records any request: an external entity must never reach it."""
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def only_failure(data: bytes) -> str:
    outcome = parse_bytes(data)
    assert outcome.notices == []
    assert len(outcome.failures) == 1
    reason = outcome.failures[0].reason
    assert "\n" not in reason
    return reason


def test_empty_file() -> None:
    assert only_failure(b"") == "empty file"
    assert only_failure(b"  \n\t") == "empty file"


def test_not_xml_nor_json() -> None:
    assert "neither XML nor JSON" in only_failure(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    assert "neither XML nor JSON" in only_failure(b"Bonjour, ceci est un texte.")


def test_truncated_xml() -> None:
    data = GOOD_EFORMS.read_bytes()
    assert "malformed XML" in only_failure(data[: len(data) // 2])


def test_malformed_json() -> None:
    assert "malformed JSON" in only_failure(b'{"results": [{"idweb": "26-1"')
    assert "malformed JSON" in only_failure(b"[" * 100_000 + b"]" * 100_000)


def test_unknown_documents_are_named() -> None:
    assert "unknown XML document <html>" in only_failure(b"<html><body>Maintenance</body></html>")
    assert "not a BOAMP, BE or DECP record" in only_failure(b'{"hello": "world"}')


def test_billion_laughs_is_refused_without_expansion() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    reason = only_failure(BILLION_LAUGHS)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "entities" in reason
    assert peak < 5_000_000 and elapsed < 5  # behaviour, not speed: expansion would take gigabytes


ENTITY_NOTICE = '<!DOCTYPE x [<!ENTITY e "École Numérique SA">]><ContractNotice>&e;</ContractNotice>'


@pytest.mark.parametrize(
    ("before", "line"),
    [
        ("<!-- notice exported by École Numérique SA -->\n", 2),
        ('<?xml-stylesheet type="text/xsl" href="notice.xsl"?>\n', 2),
        (" " * 5 * 1024 + "\n" * 3, 4),
        ("<!--" + " " * 5 * 1024 + "-->\n<?pi x?>\n", 3),
    ],
    ids=["comment", "processing-instruction", "5-KB-whitespace", "all-three"],
)
def test_a_doctype_anywhere_is_refused_with_its_line(before: str, line: int) -> None:
    data = ('<?xml version="1.0" encoding="UTF-8"?>' + before + ENTITY_NOTICE).encode()

    reason = only_failure(data)

    assert reason == (
        f"XML declares a DOCTYPE at line {line}: refused (notices never need a DTD; entities are never expanded)"
    )
    assert "École" not in reason


def test_a_doctype_without_entities_and_a_stray_entity_are_refused() -> None:
    assert "declares a DOCTYPE at line 1" in only_failure(b"<!DOCTYPE ContractNotice><ContractNotice/>")
    assert "declares an ENTITY at line 2" in only_failure(b'<ContractNotice>\n<!ENTITY e "x"></ContractNotice>')


def test_a_doctype_the_bytes_hide_is_refused_from_the_parsed_tree() -> None:
    """UTF-16 without a byte-order mark: no `<!DOCTYPE` in the bytes, but lxml reads one."""
    data = ('<?xml version="1.0" encoding="UTF-16"?>' + ENTITY_NOTICE).encode("utf-16-le")
    assert b"<!DOCTYPE" not in data

    assert "XML declares a DOCTYPE: refused" in only_failure(data)


def test_external_entities_are_never_fetched(local_server: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    entity = "<ContractNotice>&e;</ContractNotice>"
    documents = [
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>{entity}',
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "{local_server}/e">]>{entity}',
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "{local_server}/p"> %p;]><ContractNotice/>',
        f'<?xml version="1.0"?><!DOCTYPE x SYSTEM "{local_server}/x.dtd"><ContractNotice>&secret;</ContractNotice>',
    ]
    for document in documents:
        outcome = parse_bytes(document.encode())
        assert outcome.notices == [], document
        assert "TOP SECRET" not in repr(outcome)
    assert _Recorder.requests == []


def test_oversized_document_is_refused_before_parsing() -> None:
    data = b"<ContractNotice>" + b" " * (21 * 1024 * 1024) + b"</ContractNotice>"
    assert "too large" in only_failure(data)


def test_a_bad_record_in_a_page_keeps_the_others() -> None:
    page = json.loads(GOOD_BOAMP_PAGE.read_bytes())
    records = page["data"]["results"]
    records.insert(1, {"idweb": "26-9999", "objet": None, "dateparution": "not a date"})
    outcome = parse_bytes(json.dumps(page).encode())
    assert [f.record for f in outcome.failures] == ["data.results[1]"]
    assert len(outcome.notices) == len(records) - 1


GOOD_BE_PAGE = FIXTURES / "be_eprocurement" / "search_20260206_175253.json"
BAD_RECORDS = [None, 7, {}, {"objet": "École Numérique SA", "dateparution": "2026-01-21"}, "26-7113", [1]]


def _page_with(path: Path, bad: object) -> tuple[bytes, int, str]:
    """A recorded page with `bad` inserted between its first two records: (bytes, records, list path)."""
    page = json.loads(path.read_bytes())
    holder, key = (page["data"], "results") if "data" in page else (page["json"], "publications")
    records = holder[key]
    assert len(records) >= 3
    records.insert(1, bad)
    return (
        json.dumps(page, ensure_ascii=False).encode(),
        len(records),
        "data.results" if key == "results" else "json.publications",
    )


@pytest.mark.parametrize("page", [GOOD_BOAMP_PAGE, GOOD_BE_PAGE], ids=["boamp", "be"])
@pytest.mark.parametrize("bad", BAD_RECORDS, ids=["null", "number", "empty", "no-id", "string", "list"])
def test_a_record_that_is_not_one_is_set_aside_at_its_index_and_the_others_kept(page: Path, bad: object) -> None:
    data, count, where = _page_with(page, bad)

    outcome = parse_bytes(data)

    assert [(f.record, "\n" in f.reason) for f in outcome.failures] == [(f"{where}[1]", False)]
    assert [p.record for p in outcome.notices] == [f"{where}[{i}]" for i in range(count) if i != 1]


def test_ingest_sets_bad_files_aside_and_stores_the_good(tmp_path: Path, settings_env: None, database_url: str) -> None:
    bad = {
        "empty.xml": b"",
        "truncated.xml": GOOD_EFORMS.read_bytes()[:500],
        "laughs.xml": BILLION_LAUGHS,
        "picture.xml": b"\x89PNG\r\n",
    }
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as handle:  # 50 MB, sparse: the size alone must refuse it, unread
        handle.write(b"<ContractNotice>")
        handle.truncate(50 * 1024 * 1024)
    good = [GOOD_EFORMS, GOOD_BOAMP_PAGE]
    paths = [str(tmp_path / n) for n in bad] + [str(huge)] + [str(p) for p in good]

    result = CliRunner().invoke(app, ["ingest", *paths])

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    for name in [*bad, "huge.xml"]:
        assert any(line.strip().startswith(f"failed: {tmp_path / name}:") for line in lines), name
    assert "too large" in result.stderr
    with get_engine(database_url).connect() as connection:
        stored = connection.execute(sa.select(sa.func.count()).select_from(notice_table)).scalar_one()
        set_aside = connection.execute(sa.select(error_table.c.origin)).scalars().all()
    assert stored == 1 + 3
    assert sorted(set_aside) == sorted(str(tmp_path / n) for n in [*bad, "huge.xml"])


def test_ingest_and_errors_name_each_bad_record_of_a_page(
    tmp_path: Path, settings_env: None, database_url: str
) -> None:
    boamp, boamp_count, boamp_list = _page_with(GOOD_BOAMP_PAGE, None)
    be, be_count, be_list = _page_with(GOOD_BE_PAGE, {})
    (tmp_path / "boamp.json").write_bytes(boamp)
    (tmp_path / "be.json").write_bytes(be)

    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "boamp.json"), str(tmp_path / "be.json")])
    listed = CliRunner().invoke(app, ["errors"])

    assert result.exit_code == 1
    assert f"failed: {tmp_path / 'boamp.json'} [{boamp_list}[1]]: null where a notice record was expected" in (
        result.stderr
    )
    assert f"failed: {tmp_path / 'be.json'} [{be_list}[1]]: BE publication: no publicationWorkspaceId" in result.stderr
    assert f"{tmp_path / 'boamp.json'} [{boamp_list}[1]]: null where" in listed.stdout
    assert f"{tmp_path / 'be.json'} [{be_list}[1]]: BE publication" in listed.stdout
    with get_engine(database_url).connect() as connection:
        stored = connection.execute(sa.select(sa.func.count()).select_from(notice_table)).scalar_one()
    assert stored == (boamp_count - 1) + (be_count - 1)

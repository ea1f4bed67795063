"""Searching every stored notice: full text (title, description, lot titles, buyer), CPV and region filters
through the same index, facets, one line per procedure.

One interface over two engines. The text is folded in Python (case, accents, ligatures) and cut into words
before it is indexed, and a query is folded the same way, so SQLite and PostgreSQL see the same words:

- SQLite: `notice_fts`, an FTS5 table over `notice_search` (external content, kept in step by triggers);
- PostgreSQL: `notice_search.tsv`, a stored tsvector ('simple' configuration) with a GIN index.

`notice_search` holds, per notice, the folded text in three columns: `title`, `body` (description, lot titles,
buyer) and `codes` (`cpv72212000` for each CPV code, `nutsbe310` for each place, or the buyer's country when
the notice names none, §6), so that a CPV code covers its sub-codes and a region its sub-regions through a
prefix query on the index. The store keeps it in step (`write_index`, in each stored batch's transaction, from
the data it has just written); `index_notices` indexes what is missing or stale (migration 0015 filled it so).

`search_notices` answers a `SearchQuery`: the matching notices are read once (ids, facet columns, rank), grouped
into procedures in Python (a TED notice and its BOAMP or BE twin are one line, shown by its best publication,
with every publication listed), counted per facet and sorted; only the page's notices are read whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from operator import itemgetter
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from ..codelists import cpv_codes, nuts_codes
from ..notice import Notice
from .db import among, insert_rows
from .models import NoticeRecord

_notice: sa.Table = NoticeRecord.__table__  # type: ignore[attr-defined]


class NoticeSearch(SQLModel, table=True):
    """The folded words of a notice, as indexed (the FTS5 table or the tsvector is built from these)."""

    __tablename__ = "notice_search"

    notice_id: int = Field(primary_key=True, foreign_key="notice.id", ondelete="CASCADE")
    content_hash: str = Field(max_length=64)
    """The notice version indexed: a newer version is indexed again."""
    title: str
    body: str
    codes: str


search_table: sa.Table = NoticeSearch.__table__  # type: ignore[attr-defined]

FTS_TABLE = "notice_fts"
TSV_COLUMN = "tsv"
TSV_INDEX = "ix_notice_search_tsv"


def include_name(name: str | None, type_: str, parent_names: Mapping[Any, Any]) -> bool:
    """For Alembic's comparison of models and database: the index's engine-specific parts are not models (the
    FTS5 table and its shadow tables on SQLite, the tsvector column and its GIN index on PostgreSQL)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "column":
        return not (parent_names.get("table_name") == "notice_search" and name == TSV_COLUMN)
    return not (type_ == "index" and name == TSV_INDEX)


# --- folding and the indexed document ------------------------------------------------------------------

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})
_WORD = re.compile(r"[^\W_]+")
NUTS_COUNTRY = {"GR": "EL", "GB": "UK"}
"""ISO country → its NUTS code, where they differ (§6 compares places in NUTS's own names)."""


_LIGATURE = re.compile("[" + "".join(map(chr, _LIGATURES)) + "]")
_COMMON_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")
"""The combining diacritical marks block, but U+034F (the grapheme joiner, which `unicodedata.combining` says is
not one): what NFKD leaves of the accents of Latin, Greek and Cyrillic letters."""
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _strip_marks(match: re.Match[str]) -> str:
    return "".join(c for c in match.group() if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case, without accents or ligatures (every combining mark removed after NFKD).

    >>> fold("École Numérique, Œuvre, Straße")
    'ecole numerique, oeuvre, strasse'

    The common marks go with one regular expression, the rest (rare) character by character: it is most of an
    ingest's indexing time.
    """
    folded = text.casefold()
    if folded.isascii():
        return folded
    if _LIGATURE.search(folded):
        folded = folded.translate(_LIGATURES)
    folded = _COMMON_MARKS.sub("", unicodedata.normalize("NFKD", folded))
    return folded if folded.isascii() else _NON_ASCII.sub(_strip_marks, folded)


def words(text: str | None) -> list[str]:
    """The folded words of a text; punctuation and apostrophes separate words.

    >>> words("L'École numérique (lot n°2)")
    ['l', 'ecole', 'numerique', 'lot', 'n', '2']
    """
    return _WORD.findall(fold(text)) if text else []


def nuts_form(code: str) -> str:
    """A NUTS code or a country as the index writes it: upper case, `GR` → `EL`, `GB` → `UK`.

    >>> nuts_form("gr"), nuts_form("BE310")
    ('EL', 'BE310')
    """
    code = code.strip().upper()
    return NUTS_COUNTRY.get(code[:2], code[:2]) + code[2:]


def document(data: Mapping[str, Any]) -> dict[str, str]:
    """The `notice_search` columns of a §2 notice."""
    lots = data.get("lots") or []
    buyer = data.get("buyer") or {}
    body = [data.get("description"), *(lot.get("title") for lot in lots), buyer.get("name"), buyer.get("town")]
    codes = [data.get("cpv_main"), *(data.get("cpv_additional") or [])]
    for lot in lots:
        codes.extend([lot.get("cpv_main"), *(lot.get("cpv_additional") or [])])
    places = list(data.get("nuts") or []) + [code for lot in lots for code in lot.get("nuts") or []]
    if not places and buyer.get("country"):
        places = [buyer["country"]]
    tokens = [f"cpv{code}" for code in dict.fromkeys(codes) if code]
    tokens += [f"nuts{nuts_form(code).lower()}" for code in dict.fromkeys(places) if code]
    return {
        "title": " ".join(words(data.get("title"))),
        "body": " ".join(words(" ".join(text for text in body if text))),  # folded at once: the same words, faster
        "codes": " ".join(tokens),
    }


def write_index(connection: Connection, notices: Sequence[tuple[int, str, Mapping[str, Any]]]) -> None:
    """Index notices just written, `(id, content_hash, §2 data)`, replacing what was indexed of them: how the
    store keeps the index in step, in the same transaction, from the data it holds (nothing read back)."""
    if not notices:
        return
    s = search_table
    ids = sorted(notice_id for notice_id, _, _ in notices)
    for start in range(0, len(ids), 900):
        connection.execute(s.delete().where(among(connection, s.c.notice_id, ids[start : start + 900])))
    rows = [{"notice_id": notice_id, "content_hash": digest, **document(data)} for notice_id, digest, data in notices]
    rows.sort(key=itemgetter("notice_id"))  # one order for all processes: no deadlock
    insert_rows(connection, s, rows)


def index_notices(connection: Connection, *, keys: Iterable[tuple[str, str]] | None = None) -> int:
    """Index the notices not indexed yet or indexed in an older version (only those of `keys`, the
    `(source, source_id)` of some stored notices, when given); the number indexed. Migration 0015 indexed the
    notices stored before it with this; the store writes the index of what it stores itself (`write_index`)."""
    n, s = _notice, search_table
    stale = (
        sa.select(n.c.id, n.c.content_hash, n.c.data)
        .select_from(n.outerjoin(s, s.c.notice_id == n.c.id))
        .where(sa.or_(s.c.notice_id.is_(None), s.c.content_hash != n.c.content_hash))
        .order_by(n.c.id)
    )
    chunks: Iterable[Sequence[tuple[str, str]] | None] = [None]
    if keys is not None:
        wanted = sorted(set(keys))
        chunks = [wanted[start : start + 400] for start in range(0, len(wanted), 400)]
    indexed = 0
    for chunk in chunks:
        query = stale if chunk is None else stale.where(sa.tuple_(n.c.source, n.c.source_id).in_(chunk))
        while rows := connection.execute(query.limit(1000)).all():
            ids = [row.id for row in rows]
            connection.execute(s.delete().where(s.c.notice_id.in_(ids)))
            connection.execute(
                s.insert(),
                [{"notice_id": row.id, "content_hash": row.content_hash, **document(row.data)} for row in rows],
            )
            indexed += len(rows)
    return indexed


# --- the query -------------------------------------------------------------------------------------------

NOTICE_TYPES = ("contract-notice", "prior-information", "award", "change", "other")
SORTS = ("relevance", "deadline", "published")
Sort = Literal["relevance", "deadline", "published"]
_SOURCE = re.compile(r"^(ted|boamp|be|decp|feed:[a-z0-9][a-z0-9_-]{0,50})$")
MAX_TERMS = 20
MAX_CODES = 60
MAX_PAGE = 1000
PER_PAGE = 20
MAX_PER_PAGE = 100
RECENT_DAYS = 60
"""A notice without any deadline counts as open while it was published in the last `RECENT_DAYS` days."""
ENDED = ("cancelled", "awarded")


class SearchError(ValueError):
    """A search parameter that cannot be read: which one, the value, and why (English; `kind` for translation)."""

    def __init__(self, parameter: str, value: str, reason: str, *, kind: str) -> None:
        super().__init__(f"{parameter}={value!r}: {reason}")
        self.parameter = parameter
        self.value = value
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class SearchQuery:
    """What a search asks, read from the URL by `query_from_params` (and written back by `to_params`)."""

    q: str = ""
    cpv: tuple[str, ...] = ()
    """CPV codes as given (8 digits, or a shorter prefix); each covers its sub-codes (§6)."""
    cpv_text: str = ""
    """A label typed instead of codes; `cpv` then holds the codes it found."""
    region: tuple[str, ...] = ()
    """NUTS codes or countries (NUTS form: `BE3`, `FR`, `EL`)."""
    notice_types: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    open_only: bool = False
    value_min: float | None = None
    value_max: float | None = None
    published_since: date | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = PER_PAGE

    def to_params(self, **changes: Any) -> list[tuple[str, str]]:
        """The URL parameters of this query (with changes), defaults left out except `open`, so a shared link
        means the same search wherever it is opened."""
        query = replace(self, **changes)
        params: list[tuple[str, str]] = []
        if query.q:
            params.append(("q", query.q))
        params += [("cpv", query.cpv_text)] if query.cpv_text else [("cpv", code) for code in query.cpv]
        params += [("region", code) for code in query.region]
        params += [("notice_type", value) for value in query.notice_types]
        params += [("source", value) for value in query.sources]
        params.append(("open", "true" if query.open_only else "false"))
        for name, number in (("value_min", query.value_min), ("value_max", query.value_max)):
            if number is not None:
                params.append((name, f"{number:g}" if number < 1e15 else str(int(number))))
        if query.published_since:
            params.append(("published_since", query.published_since.isoformat()))
        if query.sort != "relevance":
            params.append(("sort", query.sort))
        if query.page != 1:
            params.append(("page", str(query.page)))
        if query.per_page != PER_PAGE:
            params.append(("per_page", str(query.per_page)))
        return params


def _values(params: Mapping[str, str | Sequence[str]], name: str) -> list[str]:
    """Every value of a parameter, repeated or comma-separated, blanks left out."""
    raw = params.get(name)
    if raw is None:
        return []
    values = [raw] if isinstance(raw, str) else list(raw)
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _one(params: Mapping[str, str | Sequence[str]], name: str) -> str:
    raw = params.get(name)
    if raw is None:
        return ""
    values = [raw] if isinstance(raw, str) else list(raw)
    given = [value.strip() for value in values if value.strip()]
    if len(set(given)) > 1:
        raise SearchError(name, ", ".join(given), "given more than once", kind="repeated")
    return given[0] if given else ""


def _number(params: Mapping[str, str | Sequence[str]], name: str, *, integer: bool = False) -> float | None:
    text = _one(params, name).replace(" ", "").replace("\u202f", "").replace("\xa0", "")
    if not text:
        return None
    try:
        number = float(int(text)) if integer else float(text)
    except ValueError:
        raise SearchError(name, text, "is not a number", kind="number") from None
    if not 0 <= number < 1e15 or number != number:
        raise SearchError(name, text, "must be zero or more", kind="number")
    return number


def _boolean(params: Mapping[str, str | Sequence[str]], name: str, default: bool) -> bool:
    text = _one(params, name).lower()
    if not text:
        return default
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise SearchError(name, text, "must be true or false", kind="boolean")


def query_from_params(
    params: Mapping[str, str | Sequence[str]], *, default_open: bool, max_per_page: int = MAX_PER_PAGE
) -> SearchQuery:
    """A query from URL parameters (`q, cpv, region, notice_type, source, open, value_min, value_max,
    published_since, sort, page, per_page`); SearchError names the first bad one. `per_page` is capped."""
    q = _one(params, "q")
    if len(q) > 500 or len(words(q)) > MAX_TERMS:
        raise SearchError("q", q[:60], f"at most {MAX_TERMS} words", kind="too-long")
    cpv_values = _values(params, "cpv")
    cpv_text = ""
    if cpv_values and not all(re.fullmatch(r"\d{2,8}(-\d)?", value) for value in cpv_values):
        cpv_text = _one(params, "cpv")
        cpv = cpv_for_label(cpv_text)
    else:
        cpv = tuple(dict.fromkeys(_cpv_code(value) for value in cpv_values))
    region = tuple(dict.fromkeys(_region(value) for value in _values(params, "region")))
    notice_types = tuple(dict.fromkeys(_values(params, "notice_type")))
    for value in notice_types:
        if value not in NOTICE_TYPES:
            raise SearchError("notice_type", value, f"must be one of {', '.join(NOTICE_TYPES)}", kind="choice")
    sources = tuple(dict.fromkeys(value.lower() for value in _values(params, "source")))
    for value in sources:
        if not _SOURCE.match(value):
            raise SearchError("source", value, "must be ted, boamp, be, decp or feed:<name>", kind="choice")
    value_min, value_max = _number(params, "value_min"), _number(params, "value_max")
    if value_min is not None and value_max is not None and value_min > value_max:
        raise SearchError("value_min", f"{value_min:g}", "is above value_max", kind="range")
    since_text = _one(params, "published_since")
    try:
        since = date.fromisoformat(since_text) if since_text else None
    except ValueError:
        raise SearchError("published_since", since_text, "is not a date (YYYY-MM-DD)", kind="date") from None
    sort = _one(params, "sort") or "relevance"
    if sort not in SORTS:
        raise SearchError("sort", sort, f"must be one of {', '.join(SORTS)}", kind="choice")
    page = _number(params, "page", integer=True)
    page = 1 if page is None else page
    if not 1 <= page <= MAX_PAGE:
        raise SearchError("page", f"{page:g}", f"must be between 1 and {MAX_PAGE}", kind="range")
    per_page = _number(params, "per_page", integer=True) or PER_PAGE
    return SearchQuery(
        q=q,
        cpv=cpv,
        cpv_text=cpv_text,
        region=region,
        notice_types=notice_types,
        sources=sources,
        open_only=_boolean(params, "open", default_open),
        value_min=value_min,
        value_max=value_max,
        published_since=since,
        sort=sort,  # type: ignore[arg-type]
        page=int(page),
        per_page=int(min(max(per_page, 1), max_per_page)),
    )


def _cpv_code(value: str) -> str:
    """A CPV code or prefix as typed (`72000000-5`, `72`) → its digits, if some CPV code starts with them."""
    digits = value.partition("-")[0]
    prefix = cpv_prefix(digits)
    if not any(code.startswith(prefix) for code in cpv_codes()):
        raise SearchError("cpv", value, "is not a CPV code", kind="cpv")
    return digits


def cpv_prefix(code: str) -> str:
    """What a code covers: trailing zeros end it, a division (2 digits) at least (§6).

    >>> cpv_prefix("72000000"), cpv_prefix("45454100"), cpv_prefix("03000000")
    ('72', '454541', '03')
    """
    return code[: max(2, len(code.rstrip("0")))]


@cache
def _folded_labels(table: str) -> list[tuple[str, frozenset[str]]]:
    labels = cpv_codes() if table == "cpv" else nuts_codes()
    return [(code, frozenset(w for label in names for w in words(label))) for code, names in labels.items()]


def _by_label(table: str, text: str) -> list[str]:
    """The codes whose label (FR, NL or EN) holds every word of the text, a word's start matching too."""
    wanted = words(text)
    if not wanted:
        return []
    found = []
    for code, label_words in _folded_labels(table):
        if all(any(w.startswith(term) for w in label_words) for term in wanted):
            found.append(code)
    return found


def cpv_for_label(text: str) -> tuple[str, ...]:
    """The CPV codes found by a label, sub-codes of a found code left out (the code covers them)."""
    found = sorted(_by_label("cpv", text), key=lambda code: (len(cpv_prefix(code)), code))
    roots: list[str] = []
    for code in found:
        if not any(code.startswith(cpv_prefix(root)) for root in roots):
            roots.append(code)
    if not roots:
        raise SearchError("cpv", text, "no CPV code has this label", kind="cpv")
    if len(roots) > MAX_CODES:
        raise SearchError("cpv", text, "matches too many CPV codes: say more", kind="cpv-vague")
    return tuple(roots)


def _region(value: str) -> str:
    """A NUTS code or a country (ISO or NUTS form), or a place's label when it names exactly one place."""
    code = nuts_form(value)
    if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{0,3}", code) and code in nuts_codes():
        return code
    found = _by_label("nuts", value)
    exact = [c for c, label_words in _folded_labels("nuts") if c in found and label_words == frozenset(words(value))]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    raise SearchError("region", value, "is not a NUTS code, a country or a place's name", kind="region")


# --- full-text expressions --------------------------------------------------------------------------------

_PHRASE = re.compile(r'"([^"]*)"')


def _terms(q: str) -> list[list[str]]:
    """The query as phrases (quoted) and single words, each a list of folded words."""
    phrases = [words(text) for text in _PHRASE.findall(q)]
    rest = _PHRASE.sub(" ", q)
    return [phrase for phrase in phrases if phrase] + [[word] for word in words(rest)]


def _prefixed(word: str) -> bool:
    """A word of 3 letters or more also finds the words it starts (`logiciel` finds `logiciels`)."""
    return len(word) >= 3


def _stem(word: str) -> str:
    """A plural's final `s` or `x` dropped, so that `ecoles` finds `école` as `ecole` finds `écoles`.

    >>> _stem("ecoles"), _stem("travaux"), _stem("bus")
    ('ecole', 'travau', 'bus')
    """
    return word[:-1] if len(word) >= 5 and word[-1] in "sx" else word


def _region_tokens(code: str) -> list[tuple[str, bool]]:
    """(token, prefix?) for a region: its sub-regions, and the larger regions it is in (§6: one a prefix of
    the other; a notice placed in `FR` concerns a search for `FRE1`)."""
    lower = code.lower()
    return [(f"nuts{lower}", True)] + [(f"nuts{lower[:k]}", False) for k in range(2, len(lower))]


def fts5_expression(query: SearchQuery) -> str | None:
    """The FTS5 MATCH expression of a query (None: no text, CPV or region condition)."""
    parts = []
    text = []
    for phrase in _terms(query.q):
        if len(phrase) == 1 and _prefixed(phrase[0]):
            text.append(f'"{_stem(phrase[0])}"*')
        else:
            text.append(f'"{" ".join(phrase)}"')
    if text:
        parts.append("{title body} : (" + " AND ".join(text) + ")")
    if query.cpv:
        parts.append("codes : (" + " OR ".join(f'"cpv{cpv_prefix(code)}"*' for code in query.cpv) + ")")
    if query.region:
        tokens = [token for code in query.region for token in _region_tokens(code)]
        parts.append("codes : (" + " OR ".join(f'"{token}"' + ("*" if star else "") for token, star in tokens) + ")")
    return " AND ".join(parts) if parts else None


def tsquery_expression(query: SearchQuery) -> str | None:
    """The same for PostgreSQL's `to_tsquery('simple', ...)`: text on weights A and B, codes on C."""
    parts = []
    text = []
    for phrase in _terms(query.q):
        if len(phrase) == 1:
            text.append(f"{_stem(phrase[0])}:*AB" if _prefixed(phrase[0]) else f"{phrase[0]}:AB")
        else:
            text.append("(" + " <-> ".join(f"{word}:AB" for word in phrase) + ")")
    if text:
        parts.append(" & ".join(text))
    if query.cpv:
        parts.append("(" + " | ".join(f"cpv{cpv_prefix(code)}:*C" for code in query.cpv) + ")")
    if query.region:
        tokens = [token for code in query.region for token in _region_tokens(code)]
        parts.append("(" + " | ".join(f"{token}:{'*' if star else ''}C" for token, star in tokens) + ")")
    return " & ".join(parts) if parts else None


def bare_fulltext(connection: Connection, query: SearchQuery) -> list[tuple[int, float]]:
    """The bare full-text query a search wraps: every matching notice id with its rank, nothing else (the
    benchmark's baseline)."""
    if connection.dialect.name == "postgresql":
        statement = sa.text(
            "SELECT notice_id, ts_rank(tsv, q) FROM notice_search, to_tsquery('simple', :match) q WHERE tsv @@ q"
        )
        return [(row[0], row[1]) for row in connection.execute(statement, {"match": tsquery_expression(query)})]
    statement = sa.text("SELECT rowid, bm25(notice_fts, 10.0, 3.0, 0.0) FROM notice_fts WHERE notice_fts MATCH :match")
    return [(row[0], -row[1]) for row in connection.execute(statement, {"match": fts5_expression(query)})]


# --- the answer ------------------------------------------------------------------------------------------


class PublicationRef(BaseModel):
    """A publication of the same procedure, as a search line lists its sources."""

    source: str
    source_id: str
    notice_type: str
    published: date
    url: str | None = None


class NoticeItem(Notice):
    """A search line: the §2 notice that shows the procedure, every publication of it, and its current state
    (the deadline after change notices, cancelled or awarded)."""

    publications: list[PublicationRef]
    current_deadline: str | None = None
    current_deadline_utc: datetime | None = None
    status: str = "open"
    """open | cancelled | awarded (of the procedure)"""


class SearchResult(BaseModel):
    """The answer of `GET /api/v1/notices` and of the `/tenders` page."""

    total: int
    """Lines (procedures) matching."""
    page: int
    per_page: int
    items: list[NoticeItem]
    facets: dict[str, dict[str, int]]
    """Per `notice_type`, `source`, `country` and `cpv_division`: matching lines per value, most first."""


FACETS = ("notice_type", "source", "country", "cpv_division")
_TYPE_RANK = {"contract-notice": 0, "prior-information": 1, "other": 2, "award": 3, "change": 4}
_ID, _PROCEDURE, _TYPE, _SOURCE_COLUMN, _COUNTRY, _CPV, _PUBLISHED, _DEADLINE, _SCORE = range(9)
"""The columns of a candidate row (`_candidates`), read by position: a search may read tens of thousands."""


def _count_facets(singles: list[Any], groups: Iterable[list[Any]]) -> dict[str, dict[str, int]]:
    """Lines per facet value: a procedure counts once for each value one of its matching notices has."""
    columns = (_TYPE, _SOURCE_COLUMN, _COUNTRY)
    counts = [Counter(map(itemgetter(column), singles)) for column in columns]
    divisions: Counter[str | None] = Counter()
    for code, count in Counter(map(itemgetter(_CPV), singles)).items():
        divisions[code[:2] if code else None] += count
    counts.append(divisions)
    for rows in groups:
        for index, column in enumerate(columns):
            counts[index].update({row[column] for row in rows})
        divisions.update({row[_CPV][:2] if row[_CPV] else None for row in rows})
    return {
        name: dict(sorted(((k, v) for k, v in found.items() if k), key=lambda pair: (-pair[1], pair[0])))
        for name, found in zip(FACETS, counts, strict=True)
    }


Line = tuple[int, float, str, str | None]
"""A procedure among the results: the notice id that shows it, its best rank, latest publication, deadline."""


def _line(rows: list[Any]) -> Line:
    """A procedure's line from its matching notices: shown by a call before news, then the latest, then the first
    stored."""
    best = min(rows, key=lambda r: (_TYPE_RANK.get(r[_TYPE], 5), _negated(r[_PUBLISHED]), r[_ID]))
    deadline = next((r[_DEADLINE] for r in rows if r[_DEADLINE] is not None), None)
    return best[_ID], max(r[_SCORE] or 0.0 for r in rows), max(r[_PUBLISHED] for r in rows), deadline


def _negated(day: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in day)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _order(lines: list[Line], query: SearchQuery) -> list[Line]:
    """The lines in the query's order (stable sorts, most significant last): relevance (best rank, then newest),
    deadline (soonest first, none last, then newest) or publication (newest first); ties by notice id."""
    lines.sort(key=itemgetter(0))
    lines.sort(key=itemgetter(2), reverse=True)
    if query.sort == "deadline":
        lines.sort(key=lambda line: (line[3] is None, line[3] or ""))
    elif query.sort == "relevance" and (query.q or query.cpv_text):
        lines.sort(key=itemgetter(1), reverse=True)
    return lines


def _candidates(connection: Connection, query: SearchQuery, *, now: datetime) -> sa.Select[Any]:
    """Every matching notice: id, procedure, facet columns, rank (no whole notice read here)."""
    from .procedures import procedure_table

    n, p = _notice, procedure_table
    deadline = sa.func.coalesce(p.c.deadline_utc, n.c.deadline_utc)
    columns: list[Any] = [
        n.c.id,
        n.c.procedure_id,
        n.c.notice_type,
        n.c.source,
        n.c.buyer_country,
        n.c.cpv_main,
        sa.cast(n.c.published, sa.String).label("published"),  # compared as text: no date object per row
        sa.cast(deadline, sa.String).label("deadline_utc"),
    ]
    joined: Any = n.outerjoin(p, p.c.id == n.c.procedure_id)
    if connection.dialect.name == "postgresql":
        expression = tsquery_expression(query)
        if expression is not None:
            tsq = sa.func.to_tsquery(sa.literal_column("'simple'"), expression)
            fts = sa.select(
                search_table.c.notice_id, sa.func.ts_rank(sa.literal_column(TSV_COLUMN), tsq).label("score")
            ).where(sa.literal_column(TSV_COLUMN).op("@@")(tsq))
    else:
        expression = fts5_expression(query)
        if expression is not None:
            fts_table = sa.table(FTS_TABLE, sa.column("rowid"))
            fts = sa.select(
                fts_table.c.rowid.label("notice_id"),
                (-sa.func.bm25(sa.literal_column(FTS_TABLE), 10.0, 3.0, 0.0)).label("score"),
            ).where(sa.literal_column(FTS_TABLE).op("MATCH")(expression))
    if expression is not None:
        matched = fts.subquery("matched")
        joined = matched.join(joined, n.c.id == matched.c.notice_id)
        columns.append(matched.c.score)
    else:
        columns.append(sa.literal(0.0).label("score"))
    statement = sa.select(*columns).select_from(joined)
    if query.notice_types:
        statement = statement.where(n.c.notice_type.in_(query.notice_types))
    if query.sources:
        statement = statement.where(n.c.source.in_(query.sources))
    if query.published_since:
        statement = statement.where(n.c.published >= query.published_since)
    # §6: only a notice whose estimate is known and outside the range is left out.
    if query.value_min is not None:
        statement = statement.where(sa.or_(n.c.estimated_value.is_(None), n.c.estimated_value >= query.value_min))
    if query.value_max is not None:
        statement = statement.where(sa.or_(n.c.estimated_value.is_(None), n.c.estimated_value <= query.value_max))
    if query.open_only:
        statement = statement.where(open_condition(n, p, deadline, now=now))
    return statement


def open_condition(n: sa.Table, p: sa.Table, deadline: Any, *, now: datetime) -> sa.ColumnElement[bool]:
    """Open: its procedure neither cancelled nor awarded, not an award, and its current deadline ahead; a call
    without any deadline while it was published in the last `RECENT_DAYS` days."""
    recent = n.c.published >= now.astimezone(UTC).date() - timedelta(days=RECENT_DAYS)
    return sa.and_(
        sa.or_(p.c.status.is_(None), p.c.status.not_in(ENDED)),
        n.c.notice_type != "award",
        sa.or_(deadline > now.astimezone(UTC), sa.and_(deadline.is_(None), n.c.notice_type != "change", recent)),
    )


def search_notices(engine: Engine, *, query: SearchQuery, now: datetime) -> SearchResult:
    """The lines of a search (one per procedure), its total and facets; `now` decides what is open."""
    if now.tzinfo is None:
        raise ValueError(f"the clock must be timezone-aware, got {now!r}")
    with engine.connect() as connection:
        rows = connection.execute(_candidates(connection, query, now=now)).all()
        singles = [row for row in rows if row[_PROCEDURE] is None]  # not linked yet: a line of its own
        groups: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            if row[_PROCEDURE] is not None:
                groups[row[_PROCEDURE]].append(row)
        several = [found for found in groups.values() if len(found) > 1]  # twins, a notice and its changes
        singles += [found[0] for found in groups.values() if len(found) == 1]
        facets = _count_facets(singles, several)
        lines = [(row[_ID], row[_SCORE] or 0.0, row[_PUBLISHED], row[_DEADLINE]) for row in singles]
        ordered = _order(lines + [_line(found) for found in several], query)
        start = (query.page - 1) * query.per_page
        items = _items(connection, [line[0] for line in ordered[start : start + query.per_page]])
    return SearchResult(
        total=len(singles) + len(several), page=query.page, per_page=query.per_page, items=items, facets=facets
    )


def _items(connection: Connection, notice_ids: Sequence[int]) -> list[NoticeItem]:
    """The page's notices whole, with their procedures' publications and state, in the order given."""
    from .procedures import procedure_table

    if not notice_ids:
        return []
    n, p = _notice, procedure_table
    rows = {
        row.id: row
        for row in connection.execute(
            sa.select(n.c.id, n.c.data, n.c.procedure_id, p.c.deadline, p.c.deadline_utc, p.c.status)
            .select_from(n.outerjoin(p, p.c.id == n.c.procedure_id))
            .where(n.c.id.in_(notice_ids))
        )
    }
    procedure_ids = {row.procedure_id for row in rows.values() if row.procedure_id is not None}
    publications: dict[int, list[PublicationRef]] = defaultdict(list)
    if procedure_ids:
        for pub in connection.execute(
            sa.select(n.c.procedure_id, n.c.source, n.c.source_id, n.c.notice_type, n.c.published, n.c.data)
            .where(n.c.procedure_id.in_(procedure_ids))
            .order_by(n.c.published, n.c.id)
        ):
            publications[pub.procedure_id].append(
                _publication(pub.source, pub.source_id, pub.notice_type, pub.published, pub.data.get("url"))
            )
    items = []
    for notice_id in notice_ids:
        row = rows[notice_id]
        data = row.data
        own = [_publication(data["source"], data["source_id"], data["notice_type"], data["published"], data.get("url"))]
        deadline_utc = _aware(row.deadline_utc) if row.deadline_utc else None
        items.append(
            NoticeItem.model_validate(
                {
                    **data,
                    "publications": publications.get(row.procedure_id, own) if row.procedure_id else own,
                    "current_deadline": row.deadline or data.get("deadline"),
                    "current_deadline_utc": deadline_utc,
                    "status": row.status if row.status in ENDED else "open",
                }
            )
        )
    return items


def _publication(source: str, source_id: str, notice_type: str, published: Any, url: Any) -> PublicationRef:
    return PublicationRef(
        source=source,
        source_id=source_id,
        notice_type=notice_type,
        published=published,
        url=url if isinstance(url, str) else None,
    )


# --- one notice ------------------------------------------------------------------------------------------


class ChangeRef(BaseModel):
    """A change of the procedure (deadline moved, lot added, cancelled, awarded...) and the notice that said it."""

    kind: str
    published: date
    source: str
    source_id: str
    detail: dict[str, Any]


class NoticeDetail(NoticeItem):
    """`GET /api/v1/notices/{source}/{source_id}`: one notice, its procedure's publications and changes."""

    changes: list[ChangeRef]


def notice_detail(engine: Engine, *, source: str, source_id: str) -> NoticeDetail | None:
    """One stored notice by its source and id, or None."""
    from .procedures import procedure_history

    with engine.connect() as connection:
        notice_id = connection.execute(
            sa.select(_notice.c.id, _notice.c.procedure_id).where(
                _notice.c.source == source, _notice.c.source_id == source_id
            )
        ).first()
        if notice_id is None:
            return None
        (item,) = _items(connection, [notice_id.id])
    changes = []
    if notice_id.procedure_id is not None:
        for event in procedure_history(engine, procedure_id=notice_id.procedure_id):
            if event.kind not in ("published", "republished"):
                changes.append(
                    ChangeRef(
                        kind=event.kind,
                        published=event.published,
                        source=event.source,
                        source_id=event.source_id,
                        detail=event.detail,
                    )
                )
    return NoticeDetail(**item.model_dump(), changes=changes)

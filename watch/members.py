"""Members, their users and watch profiles, loaded from a file and written back (docs/members-file.md).

A cluster loads its 200 members at once, so the file is judged member by member: a bad member is
reported with its line and the reason and left out, the others are loaded. Unknown keys are errors
(a misspelt `keywordz` would otherwise silently watch nothing). Loading is idempotent: members are found
by name, users by email, profiles by name within their member; the same file twice changes nothing.

What a file says replaces what the member had: its profiles become the file's profiles (a profile the
file no longer lists is deactivated, its past matches kept; listing it again brings it back), its users
the file's users (one no longer listed is deactivated, so an unsubscription is never lost). Members the
file does not name are left alone: a file may hold part of the cluster.

The CSV form is flattened, one row per profile (a member without profile has one row without a
profile name); member columns may be repeated on every row of the member or given once. Columns:
`member, active, users, identifier, country, competence_cpv, competence_keywords, competence_regions,
competence_description, profile, cpv, keywords, exclude, regions, value_min, value_max, notice_types,
procedure_types, frequency`.
Lists are separated by `;`; `users` is `email:language; email:language` (language fr, nl or en).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pycountry
import sqlalchemy as sa
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from crawlers.identifiers import read_identifier
from crawlers.notice import NoticeType, Procedure
from crawlers.store.db import insert_rows
from crawlers.store.models import utcnow

from .models import Member, Profile, User, name_key
from .text import has_content_word

MAX_FILE_BYTES = 5 * 1024 * 1024
Frequency = Literal["instant", "daily", "weekly"]
Language = Literal["fr", "nl", "en"]
CSV_COLUMNS = (
    "member",
    "active",
    "users",
    "identifier",
    "country",
    "competence_cpv",
    "competence_keywords",
    "competence_regions",
    "competence_description",
    "profile",
    "cpv",
    "keywords",
    "exclude",
    "regions",
    "value_min",
    "value_max",
    "notice_types",
    "procedure_types",
    "frequency",
)
_PROFILE_COLUMNS = CSV_COLUMNS[CSV_COLUMNS.index("profile") :]
_CPV = re.compile(r"(\d{8})(?:-\d)?")
_REGION = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_EMAIL = re.compile(r"[^@\s<>,;:\"']+@[^@\s<>,;:\"']+\.[^@\s<>,;:\"']+")
_NUTS_ONLY_COUNTRIES = {"EL", "UK"}
_SPREADSHEET_FORMULA = ("=", "+", "-", "@")
MAX_ID = 2**31 - 1
"""The largest member id (an INTEGER column: 32 bits on PostgreSQL); a bigger number is no member, not an error."""


class MembersFileError(Exception):
    """The file as a whole cannot be read (not a members file); nothing was loaded."""


# --- What a member looks like in the file ---------------------------------------------------------------


def _as_list(value: Any) -> Any:
    """A single value where a list is expected is a list of one (`cpv: "72000000"`)."""
    return [value] if isinstance(value, str) else value


def _cpv(code: str) -> str:
    found = _CPV.fullmatch(code.strip())
    if not found:
        raise ValueError(f"not a CPV code (8 digits, check digit optional): {code!r}")
    return found.group(1)


def _region(code: str) -> str:
    region = code.strip().upper()
    if not _REGION.fullmatch(region):
        raise ValueError(f"not a NUTS code or country: {code!r}")
    if region[:2] not in _NUTS_ONLY_COUNTRIES and pycountry.countries.get(alpha_2=region[:2]) is None:
        raise ValueError(f"not a NUTS code or country: {code!r} ({region[:2]} is no country)")
    return region


def _control_character(text: str) -> str | None:
    """The first control character in the text other than tab and line breaks, as U+XXXX."""
    for char in text:
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            return f"U+{ord(char):04X}"
    return None


def _printable(text: str) -> str:
    """A NUL or other control character is a copy-paste accident, and PostgreSQL cannot store a NUL: refused."""
    found = _control_character(text)
    if found:
        raise ValueError(f"contains a control character ({found}); remove it")
    return text


def _words(text: str) -> str:
    return " ".join(_printable(text).split())


def _member_name(text: str) -> str:
    text = _words(text)
    if not name_key(text):
        raise ValueError(f"name {text!r} has no letter or digit to find the member by")
    return text


def _keyword(text: str) -> str:
    text = _words(text)
    if not has_content_word(text):
        raise ValueError(f"keyword {text!r} has no word to look for (only linking words such as 'de', 'the')")
    return text


def _distinct(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


CpvList = Annotated[list[Annotated[str, AfterValidator(_cpv)]], BeforeValidator(_as_list), AfterValidator(_distinct)]
RegionList = Annotated[
    list[Annotated[str, AfterValidator(_region)]], BeforeValidator(_as_list), AfterValidator(_distinct)
]
KeywordList = Annotated[
    list[Annotated[str, Field(max_length=200), AfterValidator(_keyword)]],
    BeforeValidator(_as_list),
    AfterValidator(_distinct),
]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_words)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _email(address: str) -> str:
    if not _EMAIL.fullmatch(_printable(address)):
        raise ValueError(f"not an email address: {address!r}")
    return address


class UserIn(_Strict):
    email: Annotated[str, Field(max_length=320), AfterValidator(_email)]
    language: Language = "fr"

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("email"), str):
                data["email"] = data["email"].strip().lower()
            if isinstance(data.get("language"), str):
                data["language"] = data["language"].strip().lower()
        return data


class ValueRange(_Strict):
    min: Annotated[float, Field(ge=0)] | None = None
    max: Annotated[float, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ValueRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"value min {self.min:,.0f} is above max {self.max:,.0f}")
        return self


class CompetencesIn(_Strict):
    cpv: CpvList = []
    keywords: KeywordList = []
    regions: RegionList = []
    description: Annotated[str, Field(max_length=5000), AfterValidator(_printable)] | None = None


class ProfileIn(_Strict):
    name: Name
    cpv: CpvList = []
    keywords: KeywordList = []
    exclude: KeywordList = []
    regions: RegionList = []
    value: ValueRange | None = None
    notice_types: Annotated[list[NoticeType], BeforeValidator(_as_list), AfterValidator(_distinct)] = []
    procedure_types: Annotated[list[Procedure], BeforeValidator(_as_list), AfterValidator(_distinct)] = []
    frequency: Frequency = "daily"

    @model_validator(mode="after")
    def _watches_something(self) -> ProfileIn:
        if not self.cpv and not self.keywords:
            raise ValueError(f"profile {self.name!r} has neither cpv nor keywords: it would match nothing")
        return self


def _country(code: str) -> str:
    country = code.strip().upper()
    if pycountry.countries.get(alpha_2=country) is None:
        raise ValueError(f"not a country code (ISO 3166, two letters such as BE, FR, NL): {code!r}")
    return country


class MemberIn(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_member_name)]
    active: bool = True
    country: Annotated[str, AfterValidator(_country)] | None = None
    """Only read to understand a bare `identifier` (nine digits: an old Belgian number or a SIREN); not stored."""
    identifier: Annotated[str, Field(max_length=60)] | None = None
    """Enterprise, SIREN/SIRET or VAT number as written; normalized here (crawlers/identifiers.py)."""
    users: list[UserIn] = []
    competences: CompetencesIn = CompetencesIn()
    profiles: list[ProfileIn] = []

    @field_validator("identifier")
    @classmethod
    def _identifier(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        normalized, problem = read_identifier(_printable(value), info.data.get("country"))
        if problem or normalized is None:
            raise ValueError(f"{value!r} {problem or 'is not an identifier'}")
        return normalized

    @model_validator(mode="after")
    def _distinct_names(self) -> MemberIn:
        for label, values in (("email", [u.email for u in self.users]), ("profile", [p.name for p in self.profiles])):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{label} repeated within the member: {', '.join(repeated)}")
        return self


# --- Reading files, with lines ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why a member (or the file) was not loaded, and where."""

    line: int
    member: str | None
    reason: str

    def __str__(self) -> str:
        who = f"member {self.member!r}: " if self.member else ""
        return f"line {self.line}: {who}{self.reason}"


@dataclass
class MembersFile:
    members: list[tuple[int, MemberIn]] = field(default_factory=list)
    """Each valid member with the line where it starts."""
    problems: list[Problem] = field(default_factory=list)


Where = tuple[str | int, ...]


class _Lines:
    """The line of each place in the file (a key, a list item), to say where a problem is."""

    def __init__(self) -> None:
        self.lines: dict[Where, int] = {}

    def of(self, path: Where) -> int:
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


class _YamlProblem(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _plain(node: yaml.Node, path: Where, lines: _Lines, seen: set[int]) -> Any:
    """A YAML node as plain data; scalars stay the text written (so `03000000` stays a CPV code)."""
    line = node.start_mark.line + 1
    if id(node) in seen:
        raise _YamlProblem(line, f"an alias (*name) repeats the part at line {line}: aliases are not allowed here")
    seen.add(id(node))
    lines.lines.setdefault(path, line)
    if isinstance(node, yaml.ScalarNode):
        return None if node.tag == "tag:yaml.org,2002:null" else node.value
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines, seen) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise _YamlProblem(key_line, "a key must be a plain word")
            key = key_node.value
            if key in result:
                raise _YamlProblem(key_line, f"key {key!r} given twice")
            lines.lines[(*path, key)] = key_line
            result[key] = _plain(value_node, (*path, key), lines, seen)
        return result
    raise _YamlProblem(line, f"unexpected YAML node {type(node).__name__}")


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in error["loc"])
    where = where.replace(".[", "[")
    if error["type"] == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}" + (f" in {where.rsplit('.', 1)[0]}" if "." in where else "")
    if error["type"] == "missing":
        return f"missing {where}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _validate_members(
    raw_members: list[Any], lines: _Lines, result: MembersFile, *, skip: frozenset[int] = frozenset()
) -> None:
    first_line: dict[str, int] = {}
    for i, raw in enumerate(raw_members):
        if i in skip:
            continue
        path: Where = ("members", i)
        line = lines.of(path)
        name = raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else None
        if not isinstance(raw, dict):
            result.problems.append(Problem(line, None, "a member must be a mapping (name, users, profiles)"))
            continue
        try:
            member = MemberIn.model_validate(raw)
        except ValidationError as error:
            for detail in error.errors():
                result.problems.append(Problem(lines.of((*path, *detail["loc"])), name, _describe(dict(detail))))
            continue
        key = name_key(member.name)
        if key in first_line:
            result.problems.append(Problem(line, name, f"member repeated (first at line {first_line[key]})"))
            continue
        first_line[key] = line
        result.members.append((line, member))


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (its wheels are): five times faster on a big file."""


def read_yaml(text: str) -> MembersFile:
    """Members of a YAML members file; each problem with its line. A member whose YAML is bad (a key
    given twice, an alias) is reported and left out like any other bad member."""
    result = MembersFile()
    lines = _Lines()
    try:
        root = yaml.compose(text, Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        result.problems.append(Problem(mark.line + 1 if mark else 1, None, f"not valid YAML: {error.problem}"))
        return result
    except yaml.YAMLError as error:
        raise MembersFileError(f"not valid YAML: {error}") from None
    except RecursionError:
        raise MembersFileError("YAML nested too deeply") from None
    if not isinstance(root, yaml.MappingNode):
        raise MembersFileError("a members file is a mapping with a `members:` list (docs/members-file.md)")
    members_node = None
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key == "members" and members_node is None:
            members_node = value_node
            lines.lines[("members",)] = key_node.start_mark.line + 1
        else:
            line = key_node.start_mark.line + 1
            result.problems.append(Problem(line, None, f"unknown key {key!r} (only `members`, once)"))
    if not isinstance(members_node, yaml.SequenceNode):
        raise MembersFileError("a members file is a mapping with a `members:` list (docs/members-file.md)")
    members: list[Any] = []
    bad: set[int] = set()
    seen: set[int] = set()  # shared: an alias to another member's part is refused too
    for i, node in enumerate(members_node.value):
        try:
            members.append(_plain(node, ("members", i), lines, seen))
        except _YamlProblem as problem:
            result.problems.append(Problem(problem.line, None, problem.reason))
            members.append(None)
            bad.add(i)
        except RecursionError:
            result.problems.append(Problem(node.start_mark.line + 1, None, "YAML nested too deeply"))
            members.append(None)
            bad.add(i)
    _validate_members(members, lines, result, skip=frozenset(bad))
    return result


def _cells(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _unescape(value: str) -> str:
    """Undo the quote `export_csv` puts before a cell a spreadsheet would take for a formula."""
    if value.startswith("'") and value[1:2] in _SPREADSHEET_FORMULA:
        return value[1:]
    return value


def _csv_users(value: str) -> list[dict[str, str]]:
    users = []
    for part in _cells(value):
        email, _, language = part.partition(":")
        users.append({"email": email.strip(), **({"language": language.strip()} if language.strip() else {})})
    return users


def read_csv(text: str) -> MembersFile:
    """Members of a flattened CSV members file (one row per profile); each problem with its line."""
    result = MembersFile()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if "member" not in header or unknown:
        reason = f"unknown columns {', '.join(map(repr, unknown))}" if unknown else "no `member` column"
        raise MembersFileError(f"line 1: {reason}; columns are: {', '.join(CSV_COLUMNS)}")
    reader.fieldnames = header
    grouped: dict[str, dict[str, Any]] = {}
    lines = _Lines()
    order: list[str] = []
    bad: set[int] = set()
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                result.problems.append(Problem(line, None, "more cells than columns"))
                continue
            cells = {k: _unescape((v or "").strip()) for k, v in row.items()}
            if not any(cells.values()):
                continue
            name = cells["member"]
            if not name:
                result.problems.append(Problem(line, None, "no member name"))
                continue
            key = name_key(name) or name
            if key not in grouped:
                grouped[key] = {"raw": {"name": name, "profiles": []}, "first": {}, "index": len(order)}
                order.append(key)
                lines.lines[("members", grouped[key]["index"])] = line
            conflict = _csv_row(grouped[key], cells, line, lines)
            if conflict:
                result.problems.append(Problem(line, name, conflict))
                bad.add(grouped[key]["index"])
    except csv.Error as error:
        raise MembersFileError(f"line {reader.line_num}: not valid CSV: {error}") from None
    _validate_members([grouped[key]["raw"] for key in order], lines, result, skip=frozenset(bad))
    result.problems.sort(key=lambda problem: problem.line)
    return result


def _csv_row(member: dict[str, Any], cells: dict[str, str], line: int, lines: _Lines) -> str | None:
    """Fold one CSV row into its member; a member cell that contradicts an earlier row is the error said."""
    raw, first, index = member["raw"], member["first"], member["index"]
    values: dict[str, Any] = {
        "active": cells.get("active") or None,
        "country": cells.get("country") or None,
        "identifier": cells.get("identifier") or None,
        "users": _csv_users(cells["users"]) if cells.get("users") else None,
    }
    competences = {key: _cells(cells.get(f"competence_{key}", "")) for key in ("cpv", "keywords", "regions")} | {
        "description": cells.get("competence_description") or None
    }
    competences = {k: v for k, v in competences.items() if v}
    values["competences"] = competences or None
    for key, value in values.items():
        if value is None:
            continue
        if key in raw and raw[key] != value:
            return f"column {key} differs from line {first[key]} (a member's columns must agree)"
        raw[key] = value
        first[key] = line
        lines.lines[("members", index, key)] = line
    if not any(cells.get(column) for column in _PROFILE_COLUMNS):
        return None
    profile: dict[str, Any] = {"name": cells.get("profile", "")}
    for key in ("cpv", "keywords", "exclude", "regions", "notice_types", "procedure_types"):
        if cells.get(key):
            profile[key] = _cells(cells[key])
    if cells.get("value_min") or cells.get("value_max"):
        profile["value"] = {k: cells[f"value_{k}"] for k in ("min", "max") if cells.get(f"value_{k}")}
    if cells.get("frequency"):
        profile["frequency"] = cells["frequency"]
    lines.lines[("members", index, "profiles", len(raw["profiles"]))] = line
    raw["profiles"].append(profile)
    return None


def read_members_file(path: Path) -> MembersFile:
    """A members file, YAML or CSV by its suffix (`.csv`; anything else is read as YAML)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MembersFileError(f"{path}: too large ({size:,} bytes, limit {MAX_FILE_BYTES:,})")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise MembersFileError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise MembersFileError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return read_csv(text) if path.suffix.lower() == ".csv" else read_yaml(text)


# --- Storing -----------------------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    profiles_added: int = 0
    profiles_changed: int = 0
    profiles_removed: int = 0
    problems: list[Problem] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{self.created} members created, {self.updated} updated, {self.unchanged} unchanged; "
            f"profiles: {self.profiles_added} added, {self.profiles_changed} changed, "
            f"{self.profiles_removed} removed; {len(self.problems)} problems"
        )

    def add(self, counts: ImportSummary) -> None:
        """Add the counts of one member stored."""
        self.created += counts.created
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.profiles_added += counts.profiles_added
        self.profiles_changed += counts.profiles_changed
        self.profiles_removed += counts.profiles_removed


def _profile_values(profile: ProfileIn) -> dict[str, Any]:
    return {
        "cpv": profile.cpv,
        "keywords": profile.keywords,
        "exclude": profile.exclude,
        "regions": profile.regions,
        "value_min": profile.value.min if profile.value else None,
        "value_max": profile.value.max if profile.value else None,
        "notice_types": list(profile.notice_types),
        "procedure_types": list(profile.procedure_types),
        "frequency": profile.frequency,
        "active": True,
    }


def _set(row: Any, values: dict[str, Any]) -> bool:
    """Set the values that differ; whether any did."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


_IN_LIST = 500
"""Values per `IN (...)` list when reading the directory: far below SQLite's limit on bound parameters."""


def _slices(values: Sequence[str] | Sequence[int]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _IN_LIST):
        yield list(values[start : start + _IN_LIST])


@dataclass
class Directory:
    """The stored members a file's members are checked against and merged into, read once for the whole file
    (a few queries, not five per member) and kept in step as each member is staged."""

    members: dict[str, Member] = field(default_factory=dict)
    """The file's members already stored, by `name_key`."""
    identifiers: dict[str, list[Member]] = field(default_factory=dict)
    """The members holding each identifier the file names."""
    emails: dict[str, Member] = field(default_factory=dict)
    """The member holding each email the file names (a user no longer listed still holds it)."""
    users: dict[int, list[User]] = field(default_factory=dict)
    """The users of the file's members already stored, by member id."""
    profiles: dict[int, list[Profile]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, members: Sequence[MemberIn]) -> Directory:
        directory = cls()
        keys = sorted({name_key(member.name) for member in members})
        identifiers = sorted({member.identifier for member in members if member.identifier is not None})
        emails = sorted({user.email for member in members for user in member.users})
        for part in _slices(keys):
            for row in session.exec(select(Member).where(col(Member.name_key).in_(part))):
                assert row.name_key is not None
                directory.members[row.name_key] = row
        for part in _slices(identifiers):
            for row in session.exec(select(Member).where(col(Member.identifier).in_(part))):
                assert row.identifier is not None
                directory.identifiers.setdefault(row.identifier, []).append(row)
        for part in _slices(emails):
            query = select(User.email, Member).join(Member, col(Member.id) == col(User.member_id))
            for email, holder in session.exec(query.where(col(User.email).in_(part))):
                directory.emails[email] = holder
        ids = sorted(row.id for row in directory.members.values() if row.id is not None)
        for part in _slices(ids):
            for user in session.exec(select(User).where(col(User.member_id).in_(part)).order_by(col(User.id))):
                directory.users.setdefault(user.member_id, []).append(user)
            for profile in session.exec(
                select(Profile).where(col(Profile.member_id).in_(part)).order_by(col(Profile.id))
            ):
                directory.profiles.setdefault(profile.member_id, []).append(profile)
        return directory

    def clash(self, member: MemberIn, row: Member | None) -> str | None:
        """Why another member keeps the member from being stored: its identifier or one of its emails."""
        if member.identifier is not None:
            holder = next((m for m in self.identifiers.get(member.identifier, []) if m is not row), None)
            if holder is not None:
                return f"identifier {member.identifier} is already the one of member {holder.name!r}"
        for user in member.users:
            holder = self.emails.get(user.email)
            if holder is not None and holder is not row:
                return f"email {user.email} is already a user of member {holder.name!r}"
        return None

    def staged(self, row: Member, identifier_before: str | None, emails: list[str]) -> None:
        """Keep in step with a member staged (and written, one by one), so the members after it are checked
        against it."""
        self.members[name_key(row.name)] = row
        if identifier_before != row.identifier:
            if identifier_before in self.identifiers:  # else no member of the file names it
                self.identifiers[identifier_before] = [m for m in self.identifiers[identifier_before] if m is not row]
            if row.identifier is not None:
                self.identifiers.setdefault(row.identifier, []).append(row)
        for email in emails:
            self.emails[email] = row


@dataclass
class StagedMember:
    """One member's rows as the import leaves them, before they are written (what the preview reads)."""

    row: Member
    identifier_before: str | None
    kept: list[User | Profile]
    """Its users and profiles already stored, changed or not."""
    counts: ImportSummary
    added_users: list[dict[str, Any]] = field(default_factory=list)
    """Its new users as the values of their rows (inserted all at once: far cheaper than a row object each),
    given the member's id when written."""
    added_profiles: list[dict[str, Any]] = field(default_factory=list)


def _stage_member(session: Session, member: MemberIn, directory: Directory) -> StagedMember:
    """Set one member's rows as the file says, checked against the directory (ValueError: a clash with another
    member, nothing changed); written by `_write`."""
    row = directory.members.get(name_key(member.name))
    clash = directory.clash(member, row)
    if clash:
        raise ValueError(clash)
    competences = member.competences.model_dump(exclude_defaults=True)
    counts = ImportSummary()
    identifier_before = row.identifier if row is not None else None
    created = row is None
    if row is None:
        row = Member(name=member.name, active=member.active, identifier=member.identifier, competences=competences)
        session.add(row)
        changed = True
    else:
        kept = {"name": member.name, "active": member.active, "identifier": member.identifier}
        changed = _set(row, {**kept, "competences": competences})
    users = {user.email: user for user in directory.users.get(row.id, [])} if row.id is not None else {}
    profiles = {profile.name: profile for profile in directory.profiles.get(row.id, [])} if row.id is not None else {}
    staged = StagedMember(row, identifier_before, [*users.values(), *profiles.values()], counts)
    now = utcnow()
    for wanted in member.users:
        user = users.pop(wanted.email, None)
        if user is None:
            new_user = {"email": wanted.email, "language": wanted.language, "active": True, "created_at": now}
            staged.added_users.append(new_user)
            changed = True
        else:
            changed |= _set(user, {"language": wanted.language, "active": True})
    for user in users.values():
        changed |= _set(user, {"active": False})
    now = utcnow()
    for wanted_profile in member.profiles:
        values = _profile_values(wanted_profile)
        existing = profiles.pop(wanted_profile.name, None)
        if existing is None:
            staged.added_profiles.append({"name": wanted_profile.name, **values, "created_at": now, "updated_at": now})
            counts.profiles_added += 1
            changed = True
        elif _set(existing, values):
            existing.updated_at = now
            counts.profiles_changed += 1
            changed = True
    for gone in profiles.values():
        if gone.active:
            _set(gone, {"active": False})
            gone.updated_at = now
            counts.profiles_removed += 1
            changed = True
    if created:
        counts.created += 1
    elif changed:
        row.updated_at = now
        counts.updated += 1
    else:
        counts.unchanged += 1
    return staged


def _write(session: Session, staged: Sequence[StagedMember]) -> None:
    """Write staged members: the members first (in one statement per table and kind of change), then their new
    users and profiles with the members' ids."""
    session.flush()
    tables: list[tuple[sa.Table, str]] = [
        (User.__table__, "added_users"),  # type: ignore[attr-defined]
        (Profile.__table__, "added_profiles"),  # type: ignore[attr-defined]
    ]
    for table, added in tables:
        rows = [values | {"member_id": member.row.id} for member in staged for values in getattr(member, added)]
        insert_rows(session.connection(), table, rows)  # COPY on PostgreSQL: 5,000 firms in 2 s rather than 5


def store_members(
    session: Session,
    members: Sequence[tuple[int, MemberIn]],
    summary: ImportSummary,
    *,
    one_by_one: bool,
    staged: Callable[[int, StagedMember], None] = lambda _line, _member: None,
) -> None:
    """Store the members in the session's transaction; each clash a problem with its line, the others stored.

    Every clash the directory can see (an email or identifier of another member, in the database or earlier in
    the file) is found before anything is written, so the members are written all at once. `one_by_one` writes
    each in its own savepoint instead, so that one the database refuses (a row written meanwhile by someone else)
    is undone and reported alone. `staged` is told each member before it is written."""
    directory = Directory.read(session, [member for _, member in members])
    pending: list[StagedMember] = []
    for line, member in members:
        try:
            with session.begin_nested() if one_by_one else nullcontext():
                stage = _stage_member(session, member, directory)
                staged(line, stage)
                if one_by_one:
                    _write(session, [stage])
        except (ValueError, sa.exc.IntegrityError) as error:
            reason = str(error.orig) if isinstance(error, sa.exc.IntegrityError) else str(error)
            summary.problems.append(Problem(line, member.name, reason))
            continue
        summary.add(stage.counts)
        directory.staged(stage.row, stage.identifier_before, [user.email for user in member.users])
        pending.append(stage)
    if not one_by_one:
        _write(session, pending)
    summary.problems.sort(key=lambda problem: problem.line)


@contextmanager
def file_transaction(engine: Engine) -> Iterator[tuple[sa.Connection, Session]]:
    """One transaction for a whole file, rolled back unless committed; on SQLite it takes the write lock first
    (a real BEGIN, so that the members' savepoints nest inside it and releasing one never commits)."""
    with engine.connect() as connection:
        outer = connection.begin()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            with Session(bind=connection, autoflush=False) as session:
                yield connection, session
        finally:
            if outer.is_active:
                outer.rollback()


@contextmanager
def stored_file(
    engine: Engine, members: MembersFile, staged: Callable[[int, StagedMember], None] = lambda _line, _member: None
) -> Iterator[tuple[sa.Connection, Session, ImportSummary]]:
    """The file's valid members stored in one transaction, to be committed: all written at once, or, if the
    database refuses that, again member by member (`store_members`)."""
    for one_by_one in (False, True):
        with file_transaction(engine) as (connection, session):
            summary = ImportSummary(problems=list(members.problems))
            try:
                store_members(session, members.members, summary, one_by_one=one_by_one, staged=staged)
            except sa.exc.IntegrityError:
                if one_by_one:
                    raise
                continue
            yield connection, session, summary
            return


def import_members(engine: Engine, members: MembersFile) -> ImportSummary:
    """Store the valid members of a file in one transaction (a member that clashes with another is reported with
    its line and left out, the others kept); the file's problems are kept."""
    with stored_file(engine, members) as (connection, _session, summary):
        connection.commit()
    return summary


# --- Writing ------------------------------------------------------------------------------------------------


def _number(value: float | None) -> float | int | None:
    return int(value) if value is not None and value.is_integer() else value


def _member_data(member: Member, users: Sequence[User], profiles: Sequence[Profile]) -> dict[str, Any]:
    data: dict[str, Any] = {"name": member.name}
    if not member.active:
        data["active"] = False
    if member.identifier:
        data["identifier"] = member.identifier
    data["users"] = [{"email": u.email, "language": u.language} for u in users if u.active]
    if member.competences:
        data["competences"] = member.competences
    data["profiles"] = []
    for profile in profiles:
        if not profile.active:
            continue
        item: dict[str, Any] = {"name": profile.name}
        for key in ("cpv", "keywords", "exclude", "regions"):
            if getattr(profile, key):
                item[key] = list(getattr(profile, key))
        if profile.value_min is not None or profile.value_max is not None:
            item["value"] = {
                k: _number(v) for k, v in (("min", profile.value_min), ("max", profile.value_max)) if v is not None
            }
        for key in ("notice_types", "procedure_types"):
            if getattr(profile, key):
                item[key] = list(getattr(profile, key))
        item["frequency"] = profile.frequency
        data["profiles"].append(item)
    return data


def iter_members(engine: Engine) -> Iterator[dict[str, Any]]:
    """Every member as it would be written in a members file, by name."""
    with Session(engine) as session:
        members = session.exec(select(Member).order_by(Member.name)).all()
        users: dict[int, list[User]] = {}
        for user in session.exec(select(User).order_by(col(User.id))).all():
            users.setdefault(user.member_id, []).append(user)
        profiles: dict[int, list[Profile]] = {}
        for profile in session.exec(select(Profile).order_by(col(Profile.id))).all():
            profiles.setdefault(profile.member_id, []).append(profile)
        for member in members:
            assert member.id is not None
            yield _member_data(member, users.get(member.id, []), profiles.get(member.id, []))


def export_yaml(engine: Engine) -> str:
    """The members file (docs/members-file.md) of every member: importing it changes nothing."""
    return yaml.safe_dump(
        {"members": list(iter_members(engine))}, allow_unicode=True, sort_keys=False, default_flow_style=False
    )


def _escape(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a quote before it (read back by `read_csv`)."""
    return "'" + value if value.startswith(_SPREADSHEET_FORMULA) else value


def export_csv(engine: Engine) -> str:
    """The flattened members file: one row per profile, member columns on every row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for member in iter_members(engine):
        competences = member.get("competences", {})
        member_cells = [
            member["name"],
            "" if member.get("active", True) else "false",
            "; ".join(f"{u['email']}:{u['language']}" for u in member["users"]),
            member.get("identifier", ""),
            "",
            "; ".join(competences.get("cpv", [])),
            "; ".join(competences.get("keywords", [])),
            "; ".join(competences.get("regions", [])),
            competences.get("description") or "",
        ]
        for profile in member["profiles"] or [None]:
            profile_cells = [""] * len(_PROFILE_COLUMNS)
            if profile is not None:
                value = profile.get("value", {})
                profile_cells = [
                    profile["name"],
                    "; ".join(profile.get("cpv", [])),
                    "; ".join(profile.get("keywords", [])),
                    "; ".join(profile.get("exclude", [])),
                    "; ".join(profile.get("regions", [])),
                    "" if value.get("min") is None else str(value["min"]),
                    "" if value.get("max") is None else str(value["max"]),
                    "; ".join(profile.get("notice_types", [])),
                    "; ".join(profile.get("procedure_types", [])),
                    profile["frequency"],
                ]
            writer.writerow([_escape(cell) for cell in member_cells + profile_cells])
    return out.getvalue()


def member_identifiers(engine: Engine) -> dict[int, str]:
    """Each member's normalized identifier (`crawlers.identifiers`), by member id; members without one are
    left out. What links a member to the organisations named in award notices."""
    member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
    query = sa.select(member_table.c.id, member_table.c.identifier).where(member_table.c.identifier.is_not(None))
    with engine.connect() as connection:
        return {member_id: identifier for member_id, identifier in connection.execute(query)}


def find_member(engine: Engine, who: str) -> Member | None:
    """A member by name (case, accents and punctuation aside: `ecole numerique sa`) or by id; None when there is
    none, whatever was typed (a control character, a number beyond any id), so every command answers alike."""
    text = who.strip()
    if _control_character(text):
        return None
    with Session(engine) as session:
        key = name_key(text)
        member = session.exec(select(Member).where(Member.name_key == key)).first() if key else None
        if member is None and re.fullmatch(r"[0-9]+", text) and int(text) <= MAX_ID:
            member = session.get(Member, int(text))
        return member

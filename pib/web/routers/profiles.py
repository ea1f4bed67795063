"""My profiles, `/profiles`: the firm's watch profiles, created, edited and deleted on the web, with a preview of
what a profile would have caught in the last 30 days before it is saved (issue 10, point 5).

One form serves creating and editing; its submit buttons say what to do (`action`): `save`, `preview` (the form
again with the preview: it works without JavaScript), `find` (the CPV picker: codes whose label holds the words
typed, in FR, NL or EN) and `add:CODE` (add a code the picker found). With JavaScript (`static/profiles.js`) the
preview and the picker answer as the member types, through two fragments, `GET /profiles/preview` and
`GET /profiles/cpv`, that render the same templates. Every field is checked here with a message in the reader's
language next to it (an unknown CPV code, a minimum above the maximum...); nothing is saved while one is wrong.

Deleting a profile deactivates it, as a members import does for a profile the file no longer lists: it catches
nothing more and its past matches stay in My matches. Creating a profile under the name of a deleted one brings
that row back with the new settings. A profile of another firm, or a deleted one, is 404.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Any

import pycountry
import sqlalchemy as sa
from babel import numbers
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from crawlers.codelists import cpv_codes, cpv_label, nuts_codes, nuts_label
from crawlers.store.models import utcnow
from watch.matching import ProfileSpec
from watch.models import Profile
from watch.preview import WINDOW_DAYS, preview_profile
from watch.reasons import describe_reasons
from watch.text import fold, has_content_word

from ..deps import CurrentMember, EngineDep, LanguageDep
from ..i18n import translate
from ..pages import N_, render
from .matches import tender_path

router = APIRouter(include_in_schema=False)
profile_table: sa.Table = Profile.__table__  # type: ignore[attr-defined]

NOTICE_TYPES = (
    ("contract-notice", N_("Contract notices")),
    ("prior-information", N_("Prior information notices")),
    ("award", N_("Award notices")),
    ("change", N_("Changes and corrigenda")),
    ("other", N_("Other notices")),
)
DEFAULT_TYPES = ("contract-notice", "prior-information")
FREQUENCIES = (
    ("instant", N_("As soon as found")),
    ("daily", N_("Daily digest")),
    ("weekly", N_("Weekly digest")),
)
FIELDS = ("name", "cpv", "keywords", "exclude", "regions", "value_min", "value_max", "cpv_query")
MAX_FIELD = 5000
MAX_ITEMS = 100
MAX_TEXT = 200
CPV_RESULTS = 20
DONE = {"saved": N_("The profile is saved."), "deleted": N_("The profile is deleted.")}
_CODES = re.compile(r"[\s,;]+")
_ITEMS = re.compile(r"[\n,;]+")
_CPV = re.compile(r"(\d{8})(?:-\d)?")
_REGION = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_NUTS_ONLY = {"EL", "UK"}


# The CPV picker ---------------------------------------------------------------------------------------------


@cache
def _cpv_index() -> tuple[tuple[str, str], ...]:
    """Each CPV code with its three labels folded (case and accents aside), for searching."""
    return tuple((code, " | ".join(fold(label) for label in labels)) for code, labels in sorted(cpv_codes().items()))


def find_cpv(*, query: str, language: str, limit: int = CPV_RESULTS) -> list[tuple[str, str]]:
    """Codes whose number starts with the digits typed, or whose label (FR, NL or EN) holds every word typed;
    broader codes first. Each with its label in the reader's language.

    >>> find_cpv(query="Logiciels d'APPLICATION", language="nl", limit=1)
    [('72212000', 'Programmering van toepassingssoftware')]
    >>> [code for code, _label in find_cpv(query="7221", language="en", limit=3)]
    ['72210000', '72211000', '72212000']
    """
    query = query.strip()[:100]
    digits = query.replace("-", "")
    if digits.isdigit():
        found = [code for code, _labels in _cpv_index() if code.startswith(digits[:8])]
    else:
        words = [word for word in re.split(r"\W+", fold(query)) if len(word) > 1]
        if not words:
            return []
        found = [code for code, labels in _cpv_index() if all(word in labels for word in words)]
    found.sort(key=lambda code: (len(code.rstrip("0")), code))
    return [(code, cpv_label(code, language) or "") for code in found[:limit]]


# The form ---------------------------------------------------------------------------------------------------


@dataclass
class ProfileForm:
    """The form as typed (to show it again), the errors by field, and the profile's values once all are valid."""

    raw: dict[str, str]
    notice_types: list[str]
    frequency: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def refuse(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    @property
    def valid(self) -> bool:
        return not self.errors


def _control(text: str) -> str | None:
    for char in text:
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            return f"U+{ord(char):04X}"
    return None


def _codes(text: str) -> list[str]:
    return list(dict.fromkeys(part for part in _CODES.split(text) if part))


def _amount(form: ProfileForm, name: str, language: str) -> float | None:
    text = form.raw[name]
    cleaned = re.sub(r"[\s\u00a0\u202f€]|EUR", "", text, flags=re.IGNORECASE)
    if not cleaned:
        return None
    try:
        value = numbers.parse_decimal(cleaned, locale=language)
    except numbers.NumberFormatError:
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            form.refuse(name, translate(language, "%(value)s is not an amount in euros.", value=text.strip()[:50]))
            return None
    if not value.is_finite() or value < 0 or value > Decimal("1e13"):
        form.refuse(name, translate(language, "Give an amount between 0 and 10 000 000 000 000 euros."))
        return None
    return float(value)


def _words(form: ProfileForm, name: str, language: str) -> list[str]:
    found: list[str] = []
    for part in _ITEMS.split(form.raw[name]):
        text = " ".join(part.split())
        if not text:
            continue
        if len(text) > MAX_TEXT:
            form.refuse(name, translate(language, "%(text)s… is too long (at most 200 characters).", text=text[:40]))
        elif not has_content_word(text):
            form.refuse(name, translate(language, "“%(text)s” has no word to look for, only linking words.", text=text))
        elif text not in found:
            found.append(text)
    if len(found) > MAX_ITEMS:
        form.refuse(name, translate(language, "At most 100 entries."))
    return found


def _region_known(code: str) -> bool:
    if code in nuts_codes():
        return True
    return len(code) == 2 and (code in _NUTS_ONLY or pycountry.countries.get(alpha_2=code) is not None)


def read_form(
    data: Mapping[str, Any], *, notice_types: Sequence[str], language: str, taken: Mapping[str, bool]
) -> ProfileForm:
    """The profile form checked field by field; `taken` maps the firm's other profile names to whether they are
    active (a deleted profile's name can be reused by a new profile, not by a rename)."""
    raw = {name: str(data.get(name) or "") for name in FIELDS}
    form = ProfileForm(raw=raw, notice_types=list(dict.fromkeys(notice_types)), frequency=str(data.get("frequency")))
    for name, text in raw.items():
        if len(text) > MAX_FIELD:
            form.refuse(name, translate(language, "Too long: at most 5000 characters."))
            raw[name] = text[:MAX_FIELD]
        elif _control(text):
            form.refuse(name, translate(language, "Remove the control character %(char)s.", char=_control(text)))
    if form.errors:
        return form

    name = " ".join(raw["name"].split())
    if not name:
        form.refuse("name", translate(language, "Give the profile a name."))
    elif len(name) > MAX_TEXT:
        form.refuse("name", translate(language, "At most 200 characters."))
    elif name in taken:
        form.refuse("name", translate(language, "Your firm already has a profile named “%(name)s”.", name=name))

    cpv: list[str] = []
    for code in _codes(raw["cpv"]):
        found = _CPV.fullmatch(code)
        if not found:
            form.refuse("cpv", translate(language, "%(code)s is not a CPV code (8 digits, as 72000000).", code=code))
        elif found.group(1) not in cpv_codes():
            form.refuse("cpv", translate(language, "%(code)s is not in the CPV code list.", code=code))
        elif found.group(1) not in cpv:
            cpv.append(found.group(1))
    keywords = _words(form, "keywords", language)
    exclude = _words(form, "exclude", language)
    if not cpv and not keywords and "cpv" not in form.errors and "keywords" not in form.errors:
        form.refuse("cpv", translate(language, "Give at least one CPV code or one keyword: without, nothing matches."))
    if len(cpv) > MAX_ITEMS:
        form.refuse("cpv", translate(language, "At most 100 entries."))

    regions: list[str] = []
    for code in _codes(raw["regions"].upper()):
        if not _REGION.fullmatch(code) or not _region_known(code):
            form.refuse("regions", translate(language, "%(code)s is not a NUTS code or a country.", code=code))
        elif code not in regions:
            regions.append(code)

    value_min = _amount(form, "value_min", language)
    value_max = _amount(form, "value_max", language)
    if value_min is not None and value_max is not None and value_min > value_max:
        form.refuse("value_min", translate(language, "The minimum is above the maximum."))

    known_types = [code for code, _label in NOTICE_TYPES]
    if any(kind not in known_types for kind in form.notice_types):
        form.refuse("notice_types", translate(language, "Choose among the notice types listed."))
    if form.frequency not in [code for code, _label in FREQUENCIES]:
        form.refuse("frequency", translate(language, "Choose how often the alerts come."))
    if form.valid:
        form.values = {
            "name": name,
            "cpv": cpv,
            "keywords": keywords,
            "exclude": exclude,
            "regions": regions,
            "value_min": value_min,
            "value_max": value_max,
            "notice_types": form.notice_types,
            "frequency": form.frequency,
        }
    return form


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}" if value == int(value) else f"{value}"


def form_of(profile: Profile | None) -> ProfileForm:
    """The form filled with a saved profile, or empty for a new one (contract notices and PINs, daily)."""
    if profile is None:
        return ProfileForm(raw=dict.fromkeys(FIELDS, ""), notice_types=list(DEFAULT_TYPES), frequency="daily")
    raw = {
        "name": profile.name,
        "cpv": " ".join(profile.cpv),
        "keywords": "\n".join(profile.keywords),
        "exclude": "\n".join(profile.exclude),
        "regions": " ".join(profile.regions),
        "value_min": _number_text(profile.value_min),
        "value_max": _number_text(profile.value_max),
        "cpv_query": "",
    }
    return ProfileForm(raw=raw, notice_types=list(profile.notice_types or DEFAULT_TYPES), frequency=profile.frequency)


# Reading and writing the firm's profiles -------------------------------------------------------------------


def _profiles(engine: Engine, *, member_id: int) -> list[Profile]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(profile_table).where(profile_table.c.member_id == member_id).order_by(profile_table.c.name)
        )
        return [Profile.model_validate(dict(row._mapping)) for row in rows]


def _own(engine: Engine, *, member_id: int, profile_id: int) -> Profile:
    """The firm's active profile, else 404 (another firm's id tells nothing)."""
    for profile in _profiles(engine, member_id=member_id):
        if profile.id == profile_id and profile.active:
            return profile
    raise HTTPException(status_code=404)


def _taken(engine: Engine, *, member_id: int, profile_id: int | None) -> dict[str, bool]:
    """The names of the firm's other profiles; on creation a deleted profile's name is free (its row comes back)."""
    return {
        profile.name: profile.active
        for profile in _profiles(engine, member_id=member_id)
        if profile.id != profile_id and (profile.active or profile_id is not None)
    }


def save_profile(engine: Engine, *, member_id: int, profile_id: int | None, values: Mapping[str, Any]) -> int:
    """Insert or update the firm's profile (a new one under a deleted profile's name takes its row); its id."""
    now = utcnow()
    columns = {**values, "active": True, "updated_at": now}
    with engine.begin() as connection:
        if profile_id is None:
            profile_id = connection.execute(
                sa.select(profile_table.c.id).where(
                    profile_table.c.member_id == member_id,
                    profile_table.c.name == values["name"],
                    profile_table.c.active.is_(False),
                )
            ).scalar()
        if profile_id is None:
            return int(
                connection.execute(
                    profile_table.insert()
                    .values(member_id=member_id, created_at=now, procedure_types=[], **columns)
                    .returning(profile_table.c.id)
                ).scalar_one()
            )
        connection.execute(
            profile_table.update()
            .where(profile_table.c.id == profile_id, profile_table.c.member_id == member_id)
            .values(**columns)
        )
        return profile_id


def delete_profile(engine: Engine, *, member_id: int, profile_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            profile_table.update()
            .where(profile_table.c.id == profile_id, profile_table.c.member_id == member_id)
            .values(active=False, updated_at=utcnow())
        )


# What pages show ---------------------------------------------------------------------------------------------


def describe_profile(profile: Profile, language: str) -> dict[str, Any]:
    """A profile as the list shows it: codes and regions with their labels in the reader's language."""
    return {
        "id": profile.id,
        "name": profile.name,
        "cpv": [(code, cpv_label(code, language) or "") for code in profile.cpv],
        "keywords": profile.keywords,
        "exclude": profile.exclude,
        "regions": [(code, nuts_label(code, language) or "") for code in profile.regions],
        "value_min": profile.value_min,
        "value_max": profile.value_max,
        "notice_types": profile.notice_types or list(DEFAULT_TYPES),
        "frequency": profile.frequency,
    }


def preview_of(engine: Engine, form: ProfileForm, *, member_id: int, language: str) -> dict[str, Any] | None:
    """The preview of a valid form, ready for the template; None while a field is wrong."""
    if not form.valid:
        return None
    values = form.values
    spec = ProfileSpec(
        id=0,
        member_id=member_id,
        cpv=tuple(values["cpv"]),
        keywords=tuple(values["keywords"]),
        exclude=tuple(values["exclude"]),
        regions=tuple(values["regions"]),
        value_min=values["value_min"],
        value_max=values["value_max"],
        notice_types=tuple(values["notice_types"]),
    )
    preview = preview_profile(engine, spec=spec)
    return {
        "count": preview.count,
        "since": preview.since,
        "first": [
            {
                "title": caught.title,
                "href": tender_path(caught.source, caught.source_id),
                "published": caught.published,
                "reasons": describe_reasons(caught.reasons, language),
            }
            for caught in preview.first
        ],
    }


def _labels() -> dict[str, Any]:
    return {"notice_type_choices": NOTICE_TYPES, "frequency_choices": FREQUENCIES, "window_days": WINDOW_DAYS}


def _form_page(
    request: Request,
    form: ProfileForm,
    *,
    profile_id: int | None,
    preview: dict[str, Any] | None = None,
    picked: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "profiles/form.html",
        {
            "form": form,
            "profile_id": profile_id,
            "action": f"/profiles/{profile_id}" if profile_id else "/profiles/new",
            "preview": preview,
            "picked": picked,
            **_labels(),
        },
        status_code=status_code,
    )


async def _submitted(request: Request) -> tuple[dict[str, Any], list[str], str]:
    data = await request.form()
    types = [value for value in data.getlist("notice_types") if isinstance(value, str)]
    action = data.get("action")
    return dict(data), types, action if isinstance(action, str) else "save"


async def _handle(
    request: Request, engine: Engine, *, member_id: int, profile_id: int | None, language: str
) -> Response:
    data, types, action = await _submitted(request)
    taken = _taken(engine, member_id=member_id, profile_id=profile_id)
    form = read_form(data, notice_types=types, language=language, taken=taken)
    if action == "find":
        picked = find_cpv(query=form.raw["cpv_query"], language=language)
        return _form_page(request, form, profile_id=profile_id, picked=picked)
    if action.startswith("add:"):
        code = action[4:12]
        if code in cpv_codes() and code not in _codes(form.raw["cpv"]):
            data["cpv"] = (form.raw["cpv"].strip() + " " + code).strip()
            form = read_form(data, notice_types=types, language=language, taken=taken)
        return _form_page(
            request,
            form,
            profile_id=profile_id,
            preview=preview_of(engine, form, member_id=member_id, language=language),
        )
    if action == "preview" or not form.valid:
        preview = preview_of(engine, form, member_id=member_id, language=language)
        return _form_page(request, form, profile_id=profile_id, preview=preview, status_code=200 if form.valid else 422)
    try:
        save_profile(engine, member_id=member_id, profile_id=profile_id, values=form.values)
    except IntegrityError:  # the same name saved meanwhile in another browser
        form.refuse(
            "name", translate(language, "Your firm already has a profile named “%(name)s”.", name=form.values["name"])
        )
        return _form_page(request, form, profile_id=profile_id, status_code=422)
    return RedirectResponse("/profiles?done=saved", status_code=303)


# The routes ------------------------------------------------------------------------------------------------


@router.get("/profiles")
def profiles_page(
    request: Request,
    user: CurrentMember,
    engine: EngineDep,
    language: LanguageDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    assert user.member_id is not None
    profiles = [p for p in _profiles(engine, member_id=user.member_id) if p.active]
    return render(
        request,
        "profiles/list.html",
        {"profiles": [describe_profile(p, language) for p in profiles], "done": DONE.get(done), **_labels()},
    )


@router.get("/profiles/new")
def new_profile(request: Request, user: CurrentMember) -> HTMLResponse:
    return _form_page(request, form_of(None), profile_id=None)


@router.post("/profiles/new")
async def create_profile(request: Request, user: CurrentMember, engine: EngineDep, language: LanguageDep) -> Response:
    assert user.member_id is not None
    return await _handle(request, engine, member_id=user.member_id, profile_id=None, language=language)


@router.get("/profiles/preview")
def preview_fragment(request: Request, user: CurrentMember, engine: EngineDep, language: LanguageDep) -> HTMLResponse:
    """The preview part of the form, for the script that updates it as the member types."""
    assert user.member_id is not None
    params = request.query_params
    profile_id = params.get("profile_id", "")
    taken = _taken(engine, member_id=user.member_id, profile_id=int(profile_id) if profile_id.isdigit() else None)
    form = read_form(params, notice_types=params.getlist("notice_types"), language=language, taken=taken)
    preview = preview_of(engine, form, member_id=user.member_id, language=language)
    return render(request, "profiles/_preview.html", {"form": form, "preview": preview, **_labels()})


@router.get("/profiles/cpv")
def cpv_fragment(
    request: Request, user: CurrentMember, language: LanguageDep, q: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    """The CPV picker's results, for the script that searches as the member types."""
    return render(request, "profiles/_cpv.html", {"picked": find_cpv(query=q, language=language)})


@router.get("/profiles/{profile_id}")
def edit_profile(request: Request, profile_id: int, user: CurrentMember, engine: EngineDep) -> HTMLResponse:
    assert user.member_id is not None
    profile = _own(engine, member_id=user.member_id, profile_id=profile_id)
    return _form_page(request, form_of(profile), profile_id=profile_id)


@router.post("/profiles/{profile_id}")
async def update_profile(
    request: Request, profile_id: int, user: CurrentMember, engine: EngineDep, language: LanguageDep
) -> Response:
    assert user.member_id is not None
    _own(engine, member_id=user.member_id, profile_id=profile_id)
    return await _handle(request, engine, member_id=user.member_id, profile_id=profile_id, language=language)


@router.post("/profiles/{profile_id}/delete")
def remove_profile(profile_id: int, user: CurrentMember, engine: EngineDep) -> RedirectResponse:
    assert user.member_id is not None
    _own(engine, member_id=user.member_id, profile_id=profile_id)
    delete_profile(engine, member_id=user.member_id, profile_id=profile_id)
    return RedirectResponse("/profiles?done=deleted", status_code=303)

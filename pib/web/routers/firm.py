"""`/firm`: the member firm of the signed-in user (issue 10, point 6): its competences for the catalogue and
the users who act for it.

The competences of the members file (kept by the cluster staff) are shown as they are; what the firm adds here
is its catalogue (`consortium.catalogue.set_catalogue`): more CPV codes, keywords and regions, which the
partner search reads, and certifications, size and references, which only the staff see. Bad input (a CPV code
that does not exist, a region that is no NUTS code) is refused next to its field and nothing is saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine

from consortium.catalogue import MAX_ITEMS, SIZE_BANDS, catalogue_of, set_catalogue
from consortium.errors import ConsortiumError
from crawlers.codelists import cpv_label, nuts_label
from crawlers.parsers.fields import cpv_code
from watch.models import Member, User

from ..deps import CurrentMember, EngineDep, LanguageDep
from ..pages import N_, render

router = APIRouter(include_in_schema=False)
member_table: sa.Table = Member.__table__  # type: ignore[attr-defined]
user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
_SPLIT = re.compile(r"[,;\n]+")
SIZES = {"micro": N_("Micro (under 10 people)"), "small": N_("Small (10 to 49)"), "medium": N_("Medium (50 to 249)")}
SIZES["large"] = N_("Large (250 or more)")
assert tuple(SIZES) == SIZE_BANDS
FIELDS = ("cpv", "keywords", "regions", "certifications", "references")
LONGEST = {"cpv": 300, "keywords": 100, "regions": 5, "certifications": 300, "references": 300}


def entries(text: str) -> list[str]:
    """What a person typed in a list field: entries separated by commas, semicolons or lines, blanks dropped.

    >>> entries(" 72212000-4, 48000000 ;\\n\\n éclairage  public ")
    ['72212000-4', '48000000', 'éclairage public']
    """
    return [" ".join(part.split()) for part in _SPLIT.split(text) if part.strip()]


@dataclass(frozen=True)
class Coded:
    code: str
    label: str | None


@dataclass(frozen=True)
class UserLine:
    email: str
    language: str
    active: bool
    unsubscribed_at: datetime | None
    disabled_reason: str | None


def firm_users(engine: Engine, *, member_id: int) -> list[UserLine]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                user_table.c.email,
                user_table.c.language,
                user_table.c.active,
                user_table.c.unsubscribed_at,
                user_table.c.email_disabled_reason,
            )
            .where(user_table.c.member_id == member_id)
            .order_by(user_table.c.email)
        )
        return [UserLine(*row) for row in rows]


def own_competences(engine: Engine, *, member_id: int) -> dict[str, list[str]]:
    """The competences of the members file (what the staff keep), as lists."""
    with engine.connect() as connection:
        value = connection.execute(sa.select(member_table.c.competences).where(member_table.c.id == member_id)).scalar()
    own = value or {}
    return {
        key: [str(item) for item in own.get(key) or [] if str(item).strip()] for key in ("cpv", "keywords", "regions")
    }


def check(form: dict[str, str], size_band: str) -> tuple[dict[str, list[str]], dict[str, tuple[str, dict[str, Any]]]]:
    """The form's lists, cleaned, and an error per field (a message and its values, translated where shown)."""
    values = {name: entries(form[name]) for name in FIELDS}
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, items in values.items():
        if len(items) > MAX_ITEMS:
            errors[name] = (N_("At most %(n)s entries."), {"n": MAX_ITEMS})
        elif long := next((item for item in items if len(item) > LONGEST[name]), None):
            errors[name] = (
                N_("“%(entry)s” is too long (at most %(n)s characters)."),
                {"entry": long[:40], "n": LONGEST[name]},
            )
    codes = []
    for item in values["cpv"]:
        code = cpv_code(item)
        if code is None or cpv_label(code) is None:
            errors.setdefault(
                "cpv", (N_("“%(entry)s” is not a known CPV code, such as 72212000."), {"entry": item[:40]})
            )
        else:
            codes.append(code)
    values["cpv"] = list(dict.fromkeys(codes))
    values["regions"] = [item.upper() for item in values["regions"]]
    for item in values["regions"]:
        if nuts_label(item) is None:
            errors.setdefault(
                "regions", (N_("“%(entry)s” is not a NUTS code or a country, such as BE3 or FR."), {"entry": item[:40]})
            )
    if size_band and size_band not in SIZES:
        errors["size_band"] = (N_("Choose one of the sizes listed."), {})
    return values, errors


def _page(
    request: Request,
    engine: Engine,
    member_id: int,
    language: str,
    *,
    form: dict[str, str] | None = None,
    size_band: str | None = None,
    errors: dict[str, tuple[str, dict[str, Any]]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    catalogue = catalogue_of(engine, member_id=member_id)
    own = own_competences(engine, member_id=member_id)
    added = {
        "cpv": [code for code in catalogue.cpv if code not in own["cpv"]],
        "keywords": [word for word in catalogue.keywords if word not in own["keywords"]],
        "regions": [region for region in catalogue.regions if region not in own["regions"]],
        "certifications": catalogue.certifications,
        "references": catalogue.references,
    }
    context = {
        "firm": catalogue.name,
        "done": request.query_params.get("done") == "saved",
        "own_cpv": [Coded(code, cpv_label(code, language)) for code in own["cpv"]],
        "own_keywords": own["keywords"],
        "own_regions": [Coded(region, nuts_label(region, language)) for region in own["regions"]],
        "added_cpv": [Coded(code, cpv_label(code, language)) for code in added["cpv"]],
        "form": form or {name: "\n".join(added[name]) for name in FIELDS},
        "size_band": catalogue.size_band if size_band is None else size_band,
        "sizes": SIZES,
        "errors": errors or {},
        "users": firm_users(engine, member_id=member_id),
    }
    return render(request, "firm/page.html", context, status_code=status_code)


@router.get("/firm")
def firm(request: Request, engine: EngineDep, user: CurrentMember, language: LanguageDep) -> HTMLResponse:
    assert user.member_id is not None
    return _page(request, engine, user.member_id, language)


@router.post("/firm")
def firm_save(
    request: Request,
    engine: EngineDep,
    user: CurrentMember,
    language: LanguageDep,
    cpv: Annotated[str, Form(max_length=20_000)] = "",
    keywords: Annotated[str, Form(max_length=40_000)] = "",
    regions: Annotated[str, Form(max_length=5_000)] = "",
    certifications: Annotated[str, Form(max_length=40_000)] = "",
    references: Annotated[str, Form(max_length=40_000)] = "",
    size_band: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Save the firm's catalogue additions whole, or nothing with the errors next to their fields."""
    assert user.member_id is not None
    form = {"cpv": cpv, "keywords": keywords, "regions": regions, "certifications": certifications}
    form["references"] = references
    values, errors = check(form, size_band)
    if not errors:
        try:
            set_catalogue(engine, member_id=user.member_id, size_band=size_band or None, **values)
        except ConsortiumError:  # checked above; a limit of the catalogue met here is still said, not a 500
            errors["form"] = (N_("These competences could not be saved; check every field."), {})
    if errors:
        return _page(
            request, engine, user.member_id, language, form=form, size_band=size_band, errors=errors, status_code=422
        )
    return RedirectResponse("/firm?done=saved#competences", status_code=303)

"""`/staff/members`: find the firms, create and edit one (its users, profiles and competences), upload a members
file through a preview of what it would change, export the members file.

Everything a form saves goes through the members file's own import (`watch.members_diff`), so the console can
store nothing the file could not say, and an uploaded file is applied only as previewed. The uploaded file is
kept server-side between the preview and the apply, named by its SHA-256 (the token the preview's form carries):
a file changed or gone is refused, and the import is rehearsed again at apply, committed only if it does what
the preview showed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from notifications.addresses import member_addresses, reenable_address
from watch.directory import list_members
from watch.members import (
    MAX_FILE_BYTES,
    MemberIn,
    MembersFile,
    MembersFileError,
    _describe,
    export_csv,
    export_yaml,
    read_csv,
    read_yaml,
)
from watch.members_diff import ImportPlan, MemberNotSaved, MemberPlan, PlanChanged, member_in, plan_import, save_member

from ...audit import record_audit
from ...deps import EngineDep, StaffUser
from ...pages import render

router = APIRouter()

UPLOADS = Path(tempfile.gettempdir()) / f"pib-members-uploads-{os.getuid()}"
"""Uploaded members files between preview and apply (private to the service's user), one per content hash."""
UPLOAD_LIFETIME = 3600
"""Seconds an uploaded file waits for its apply; older ones are removed at the next upload."""
FORMATS = ("yaml", "csv")
_TOKEN = re.compile(r"[0-9a-f]{64}")
_LIST = re.compile(r"[;\n]")
PROFILE_FIELDS = (
    "name",
    "cpv",
    "keywords",
    "exclude",
    "regions",
    "value_min",
    "value_max",
    "notice_types",
    "frequency",
)
USER_FIELDS = ("email", "language")


# --- The list, the export --------------------------------------------------------------------------------


@router.get("/members")
def members(request: Request, user: StaffUser, engine: EngineDep, q: str = "") -> HTMLResponse:
    rows, total = list_members(engine, query=q[:200])
    record_audit(engine, staff=user, action="view", what="members list", subject=f"search {q[:200]!r}: {total}")
    return render(request, "staff/members/list.html", {"rows": rows, "total": total, "q": q, "upload_error": None})


@router.get("/members/export.{fmt}")
def export(user: StaffUser, engine: EngineDep, fmt: str) -> Response:
    if fmt not in FORMATS:
        raise HTTPException(status_code=404, detail=f"no export as {fmt!r}; yaml or csv")
    body = export_yaml(engine) if fmt == "yaml" else export_csv(engine)
    record_audit(engine, staff=user, action="view", what="members export", subject=fmt)
    return Response(
        body.encode(),
        media_type="application/yaml; charset=utf-8" if fmt == "yaml" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="members.{fmt}"'},
    )


# --- Uploading a members file ------------------------------------------------------------------------------


def _format_of(filename: str) -> str | None:
    suffix = Path(filename).suffix.lower()
    return "csv" if suffix == ".csv" else "yaml" if suffix in (".yaml", ".yml") else None


def _parse(data: bytes, fmt: str) -> MembersFile:
    """The members of an uploaded file; `MembersFileError` when it is no members file at all."""
    if len(data) > MAX_FILE_BYTES:
        raise MembersFileError(f"the file is too large (over {MAX_FILE_BYTES:,} bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MembersFileError(f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    return read_csv(text) if fmt == "csv" else read_yaml(text)


def _kept(token: str, fmt: str) -> Path:
    if not _TOKEN.fullmatch(token) or fmt not in FORMATS:
        raise HTTPException(status_code=400, detail="not an uploaded file's token")
    return UPLOADS / f"{token}.{fmt}"


def _keep(data: bytes, fmt: str) -> str:
    """Keep the upload until it is applied (or expires); its token is its SHA-256."""
    UPLOADS.mkdir(mode=0o700, exist_ok=True)
    now = time.time()
    for old in UPLOADS.iterdir():
        if now - old.stat().st_mtime > UPLOAD_LIFETIME:
            old.unlink(missing_ok=True)
    token = hashlib.sha256(data).hexdigest()
    path = _kept(token, fmt)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)
    return token


def _preview(request: Request, plan: ImportPlan, **context: Any) -> HTMLResponse:
    return render(request, "staff/members/preview.html", {"plan": plan, "changed": False, **context})


def _upload_refused(request: Request, engine: EngineDep, reason: str) -> HTMLResponse:
    rows, total = list_members(engine)
    context = {"rows": rows, "total": total, "q": "", "upload_error": reason}
    return render(request, "staff/members/list.html", context, status_code=400)


@router.post("/members/upload")
async def upload(request: Request, user: StaffUser, engine: EngineDep) -> HTMLResponse:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FILE_BYTES + 64 * 1024:
        return _upload_refused(request, engine, f"the file is too large (over {MAX_FILE_BYTES:,} bytes)")
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _upload_refused(request, engine, "choose a members file (.yaml, .yml or .csv)")
    fmt = _format_of(file.filename)
    if fmt is None:
        return _upload_refused(request, engine, f"{file.filename}: a members file ends in .yaml, .yml or .csv")
    data = await file.read(MAX_FILE_BYTES + 1)
    try:
        members = _parse(data, fmt)
    except MembersFileError as error:
        return _upload_refused(request, engine, f"{file.filename}: {error}")
    plan = plan_import(engine, members=members)
    token = _keep(data, fmt)
    record_audit(engine, staff=user, action="view", what="members file preview", subject=_summary(file.filename, plan))
    return _preview(request, plan, token=token, fmt=fmt, filename=file.filename)


def _summary(filename: str, plan: ImportPlan) -> str:
    def names(outcome: str) -> str:
        return ", ".join(member.name for member in plan.members if member.outcome == outcome)

    return (
        f"{filename}: created [{names('created')}]; updated [{names('updated')}]; "
        f"problems at lines {', '.join(str(p.line) for p in plan.problems) or 'none'}"
    )


@router.post("/members/apply")
def apply(
    request: Request,
    user: StaffUser,
    engine: EngineDep,
    token: Annotated[str, Form(max_length=64)],
    fmt: Annotated[str, Form(max_length=4)],
    digest: Annotated[str, Form(max_length=64)],
    filename: Annotated[str, Form(max_length=300)] = "",
) -> HTMLResponse:
    path = _kept(token, fmt)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _upload_refused(
            request, engine, "the uploaded file is no longer kept (applied or expired); upload again"
        )
    if hashlib.sha256(data).hexdigest() != token:
        path.unlink(missing_ok=True)
        return _upload_refused(request, engine, "the uploaded file changed on the server; upload it again")
    try:
        plan = plan_import(engine, members=_parse(data, fmt), apply=True, expected=digest)
    except PlanChanged as changed:
        return _preview(request, changed.plan, token=token, fmt=fmt, filename=filename, changed=True)
    path.unlink(missing_ok=True)
    record_audit(engine, staff=user, action="change", what="members file applied", subject=_summary(filename, plan))
    return _preview(request, plan, token="", fmt=fmt, filename=filename)


# --- One firm ----------------------------------------------------------------------------------------------


def _cells(value: str) -> list[str]:
    return [part.strip() for part in _LIST.split(value) if part.strip()]


def _joined(values: Any) -> str:
    return "; ".join(str(value) for value in values or [])


def _number(value: float | None) -> str:
    return "" if value is None else str(int(value)) if float(value).is_integer() else str(value)


def _form_of(member: MemberIn) -> dict[str, str]:
    """A firm's form fields, as strings."""
    fields: dict[str, str] = {
        "name": member.name,
        "active": "on" if member.active else "",
        "identifier": member.identifier or "",
        "competence_cpv": _joined(member.competences.cpv),
        "competence_keywords": _joined(member.competences.keywords),
        "competence_regions": _joined(member.competences.regions),
        "competence_description": member.competences.description or "",
    }
    for i, user in enumerate(member.users):
        fields |= {f"user-{i}-email": user.email, f"user-{i}-language": user.language}
    for i, profile in enumerate(member.profiles):
        fields |= {
            f"profile-{i}-name": profile.name,
            f"profile-{i}-cpv": _joined(profile.cpv),
            f"profile-{i}-keywords": _joined(profile.keywords),
            f"profile-{i}-exclude": _joined(profile.exclude),
            f"profile-{i}-regions": _joined(profile.regions),
            f"profile-{i}-value_min": _number(profile.value.min if profile.value else None),
            f"profile-{i}-value_max": _number(profile.value.max if profile.value else None),
            f"profile-{i}-notice_types": _joined(profile.notice_types),
            f"profile-{i}-frequency": profile.frequency,
        }
    return fields


def _rows(form: FormData | dict[str, str], prefix: str) -> list[int]:
    """The row numbers of the users (or profiles) the form holds (at most 1,000)."""
    numbers = {int(m.group(1)) for key in form if (m := re.fullmatch(rf"{prefix}-(\d{{1,3}})-\w+", key))}
    return sorted(numbers)


def _shown(fields: dict[str, str], prefix: str) -> list[int]:
    """The rows written in (a language or frequency alone is a blank row), then a blank row for a new one."""
    written = [
        i
        for i in _rows(fields, prefix)
        if any(
            value
            for key, value in fields.items()
            if key.startswith(f"{prefix}-{i}-") and key.split("-")[-1] not in ("language", "frequency", "remove")
        )
    ]
    return [*written, max(_rows(fields, prefix), default=-1) + 1]


def _read_form(form: FormData) -> tuple[dict[str, str], dict[str, Any], list[str], list[str]]:
    """The firm's fields as sent; the members-file shape they say; the field of each user and profile listed."""
    fields = {key: value.strip() for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
    raw: dict[str, Any] = {"name": fields.get("name", ""), "active": bool(fields.get("active"))}
    raw["identifier"] = fields.get("identifier") or None
    competences = {key: _cells(fields.get(f"competence_{key}", "")) for key in ("cpv", "keywords", "regions")}
    raw["competences"] = {k: v for k, v in competences.items() if v}
    if fields.get("competence_description"):
        raw["competences"]["description"] = fields["competence_description"]
    users, user_rows = [], []
    for i in _rows(form, "user"):
        email = fields.get(f"user-{i}-email", "")
        if email and not fields.get(f"user-{i}-remove"):
            users.append({"email": email, "language": fields.get(f"user-{i}-language") or "fr"})
            user_rows.append(f"user-{i}")
    profiles, profile_rows = [], []
    for i in _rows(form, "profile"):
        values = {key: fields.get(f"profile-{i}-{key}", "") for key in PROFILE_FIELDS}
        written = any(values[key] for key in PROFILE_FIELDS if key != "frequency")
        if not written or fields.get(f"profile-{i}-remove"):
            continue
        profile: dict[str, Any] = {"name": values["name"], "frequency": values["frequency"] or "daily"}
        for key in ("cpv", "keywords", "exclude", "regions", "notice_types"):
            profile[key] = _cells(values[key])
        if values["value_min"] or values["value_max"]:
            profile["value"] = {k: values[f"value_{k}"] for k in ("min", "max") if values[f"value_{k}"]}
        profiles.append(profile)
        profile_rows.append(f"profile-{i}")
    raw["users"], raw["profiles"] = users, profiles
    return fields, raw, user_rows, profile_rows


def _field_of(loc: tuple[Any, ...], user_rows: list[str], profile_rows: list[str]) -> str:
    """The form field a validation error's location names (`("profiles", 0, "value")` → `profile-3-value_min`)."""
    if not loc:
        return "form"
    if loc[0] == "competences":
        return f"competence_{loc[1]}" if len(loc) > 1 else "competence_cpv"
    if loc[0] in ("users", "profiles") and len(loc) > 1 and isinstance(loc[1], int):
        row = (user_rows if loc[0] == "users" else profile_rows)[loc[1]]
        key = str(loc[2]) if len(loc) > 2 else "name" if loc[0] == "profiles" else "email"
        return f"{row}-{'value_min' if key == 'value' else key}"
    return str(loc[0])


def _edit_page(
    request: Request,
    engine: EngineDep,
    *,
    member_id: int | None,
    fields: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    saved: MemberPlan | None = None,
) -> HTMLResponse:
    context = {
        "member_id": member_id,
        "fields": fields,
        "errors": errors or {},
        "user_rows": _shown(fields, "user"),
        "profile_rows": _shown(fields, "profile"),
        "addresses": {a.email: a for a in member_addresses(engine, member_id=member_id)} if member_id else {},
        "saved": saved,
        "reenabled": request.query_params.get("reenabled"),
    }
    return render(request, "staff/members/edit.html", context, status_code=400 if errors else 200)


@router.get("/members/new")
def new_member(request: Request, engine: EngineDep) -> HTMLResponse:
    return _edit_page(request, engine, member_id=None, fields={"active": "on"})


@router.get("/members/{member_id}")
def member_page(request: Request, user: StaffUser, engine: EngineDep, member_id: int) -> HTMLResponse:
    member = member_in(engine, member_id=member_id)
    if member is None:
        raise HTTPException(status_code=404, detail="no such member")
    record_audit(engine, staff=user, action="view", what="member", subject=f"{member.name} ({member_id})")
    return _edit_page(request, engine, member_id=member_id, fields=_form_of(member))


async def _save(request: Request, user: StaffUser, engine: EngineDep, member_id: int | None) -> Response:
    fields, raw, user_rows, profile_rows = _read_form(await request.form())
    errors: dict[str, list[str]] = {}
    try:
        member = MemberIn.model_validate(raw)
        saved_id, plan = save_member(engine, member=member, member_id=member_id)
    except ValidationError as error:
        for detail in error.errors():
            field = _field_of(tuple(detail["loc"]), user_rows, profile_rows)
            errors.setdefault(field, []).append(_describe(dict(detail)))
    except MemberNotSaved as refused:
        for problem in refused.problems:
            errors.setdefault(problem.field, []).append(problem.reason)
    if errors:
        return _edit_page(request, engine, member_id=member_id, fields=fields, errors=errors)
    changes = "; ".join(f"{c.kind} {c.subject} {c.action}" for c in plan.changes) or "nothing"
    what = "member created" if member_id is None else "member edit"
    record_audit(engine, staff=user, action="change", what=what, subject=f"{member.name} ({saved_id}): {changes}")
    if member_id is None:
        return RedirectResponse(f"/staff/members/{saved_id}", status_code=303)
    refreshed = member_in(engine, member_id=saved_id)
    assert refreshed is not None
    return _edit_page(request, engine, member_id=saved_id, fields=_form_of(refreshed), saved=plan)


@router.post("/members/new")
async def create_member(request: Request, user: StaffUser, engine: EngineDep) -> Response:
    return await _save(request, user, engine, None)


@router.post("/members/{member_id}")
async def edit_member(request: Request, user: StaffUser, engine: EngineDep, member_id: int) -> Response:
    if member_in(engine, member_id=member_id) is None:
        raise HTTPException(status_code=404, detail="no such member")
    return await _save(request, user, engine, member_id)


@router.post("/members/{member_id}/users/{user_id}/reenable")
def reenable(user: StaffUser, engine: EngineDep, member_id: int, user_id: int) -> RedirectResponse:
    email = reenable_address(engine, member_id=member_id, user_id=user_id)
    if email is None:
        raise HTTPException(status_code=404, detail="no such user of this member")
    record_audit(
        engine, staff=user, action="change", what="address re-enabled", subject=f"{email} (member {member_id})"
    )
    return RedirectResponse(f"/staff/members/{member_id}?reenabled={user_id}#users", status_code=303)

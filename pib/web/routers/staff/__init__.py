"""The staff console, everything under `/staff`: one router that requires a staff session on every route it
includes (a member's session gets 403, no session a redirect to sign in), whatever sub-router is added.

Adding a staff area (say members) is two lines here: import its module and append its `router` to `AREAS`.
A sub-router is `APIRouter()` with paths relative to `/staff` (`@router.get("/members")`); its routes take
`StaffUser` when they need the person, render templates extending `staff/base.html` (the console's nav), and
record what staff see of identities and every change they make with `pib.web.audit.record_audit` (one line).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ...deps import staff_user
from . import activity, audit, dashboard, groups, interests, members, organisations

AREAS = [dashboard.router, activity.router, audit.router]
AREAS += [interests.router, groups.router]
AREAS += [members.router]
AREAS += [organisations.router]

router = APIRouter(dependencies=[Depends(staff_user)], include_in_schema=False)
for area in AREAS:
    router.include_router(area, prefix="/staff")

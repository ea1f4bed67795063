"""The portal's routers, one module per area; `ROUTERS` is what `create_app` includes, in order.

Adding an area is two lines here: import its module, append its `router` (HTML routers are made with
`APIRouter(include_in_schema=False)`; the JSON API's router, with its `/api/v1` prefix, stays in the schema).
"""

from . import (
    account,
    api_cpv,
    api_interests,
    api_matches,
    api_notices,
    auth,
    awards,
    calendar,
    firm,
    home,
    links,
    matches,
    profiles,
    tender,
    tenders,
)
from .staff import router as staff_router

ROUTERS = [links.router, home.router, auth.router]
ROUTERS += [tender.router, api_interests.router]
ROUTERS += [matches.router, profiles.router, api_matches.router]
ROUTERS += [staff_router]
ROUTERS += [tenders.router, api_notices.router, api_cpv.router]
ROUTERS += [account.router, firm.router, calendar.router]
ROUTERS += [awards.router, awards.api]

"""The portal's routers, one module per area; `ROUTERS` is what `create_app` includes, in order.

Adding an area is two lines here: import its module, append its `router` (HTML routers are made with
`APIRouter(include_in_schema=False)`; the JSON API's router, with its `/api/v1` prefix, stays in the schema).
"""

from . import api_interests, api_matches, auth, home, links, matches, profiles, tender
from . import api_notices, tenders
from . import account, calendar, firm

ROUTERS = [links.router, home.router, auth.router]
ROUTERS += [tender.router, api_interests.router]
ROUTERS += [matches.router, profiles.router, api_matches.router]
ROUTERS += [tenders.router, api_notices.router]
ROUTERS += [account.router, firm.router, calendar.router]

"""The local replay server: recorded notices served in each source's real API shapes, with faults.

Used by the crawler tests, the crawl benchmark and `pib demo`: point `PIB_TED_API_URL`,
`PIB_BOAMP_API_URL` and `PIB_BE_API_URL` (and feed URLs) at `server.base_url`.

    with replay_server("tests/fixtures", faults=[Fault("429", path="/v3/")]) as server:
        ...  # crawl server.base_url
"""

from .catalog import Catalog, load_catalog, scaled
from .server import Fault, ReplayServer, replay_server, start_replay_server

__all__ = ["Catalog", "Fault", "ReplayServer", "load_catalog", "replay_server", "scaled", "start_replay_server"]

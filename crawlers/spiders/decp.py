"""DECP, the essential data of the contracts French buyers awarded (données essentielles de la commande publique):
who won each contract, its amount and notification date, consolidated by the Ministry of the Economy.

API: `GET {decp_api_url}/api/explore/v2.1/catalog/datasets/decp-2022-marches-valides/records` (opendatasoft
v2.1, no key, Licence Ouverte 2.0), `where=datepublicationdonnees >= date'YYYY-MM-DD' AND
datepublicationdonnees <= date'YYYY-MM-DD'`, `order_by=datepublicationdonnees,id`, `limit=100`, `offset`.
Docs: https://data.economie.gouv.fr/explore/dataset/decp-2022-marches-valides/api/
Caveats: the same opendatasoft cap as BOAMP (`offset + limit` ≤ 10,000), so a window announcing more records is
split down to one day. Records are flat (`titulaire_id_1`..`_3`, `CDL` for empty); `crawlers/parsers/decp.py`
reads them. Windows run on the publication of the data, not the notification: a contract notified long ago and
published today is still new. Updated daily.
"""

from __future__ import annotations

from .boamp import BoampSpider


class DecpSpider(BoampSpider):
    name = "decp"
    source = "decp"
    dataset = "decp-2022-marches-valides"
    date_field = "datepublicationdonnees"
    key_field = "id"

    def api_url(self) -> str:
        return self.pib.decp_api_url

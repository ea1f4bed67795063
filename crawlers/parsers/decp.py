"""DECP, the French public buyers' essential data of their contracts (données essentielles de la commande publique).

Every French buyer must publish, for each contract above 40,000 EUR, who won it, for how much and when it was
notified. The Ministry of the Economy consolidates them on data.economie.gouv.fr (Opendatasoft, Licence
Ouverte 2.0). A record is one awarded contract, so every DECP notice is an `award` of one lot.

Two shapes of the same record are read:

- the regulatory JSON (arrêtés of 22 March 2019 and 22 December 2022): `id`, `acheteur{id, nom?}`, `objet`,
  `codeCPV`, `procedure`, `nature`, `lieuExecution{code, typeCode}`, `dateNotification`,
  `datePublicationDonnees`, `montant`, `offresRecues`, `typeGroupementOperateurs` and `titulaires`, a list of
  `{typeIdentifiant, id, denominationSociale?}`, each possibly wrapped as `{titulaire: {...}}` (the 2022 XML
  converted to JSON); files hold them under `marches` (a list, or `{marche: [...]}`);
- the flat records of the consolidated dataset's API (`decp-2022-marches-valides`): the same names lower-cased
  and flattened (`acheteur_id`, `acheteur_nom`, `codecpv`, `datenotification`, `lieuexecution_code`), the
  titulaires spread over `titulaire_id_N`, `titulaire_typeidentifiant_N`, `titulaire_denominationsociale_N`,
  and `CDL` written for an empty value.

Decisions where the source is silent (the tests pin each one):

- `source_id`: the buyer's SIRET followed by the contract `id` (the `uid` of the consolidated data), since a
  contract id is unique only within its buyer (`2019-001` is everyone's); a record's own `uid` is kept.
- buyer: `acheteur.nom` when given, else its SIRET stands for its name (the 2022 format carries no names);
  country FR.
- winners: `denominationSociale` when given, else the identifier as written stands for the name. The
  identifier normalized by `crawlers.identifiers` (SIRET, SIREN, VAT number); the country FR for a SIRET or
  SIREN, the VAT number's prefix for a VAT number, else unknown. Several titulaires are one group that won
  together, unless `typeGroupementOperateurs` says `Pas de groupement` (several holders of one framework
  agreement): one award each.
- value: `montant`; 0 (frameworks without a maximum write 0) means not given.
- `published`: `datePublicationDonnees`, else `dateNotification`; the award date is `dateNotification`.
- `nuts`: none (the place of performance is a département or a postal code, not a NUTS code).
- `contract_nature`: DECP's `nature` says marché / accord-cadre, not works, supplies or services; the CCAG
  `Travaux` or a CPV in division 45 is `works`, another CPV below 45 or in 48 `supplies`, any other `services`.
- `procedure`: read by its words (ouvert, restreint, négoci..., dialogue, innovation); adaptée and the rest
  `other`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from ..identifiers import normalize_identifier
from ..notice import MAX_TEXT, Award, Buyer, Lot, Notice, Winner
from .fields import NoticeError, amount, collapse, cpv_code, iso_date

__all__ = ["decp_contracts", "is_decp_record", "parse_decp_record"]

SOURCE = "decp"
EMPTY = frozenset({"", "CDL", "NC", "N/A", "NULL", "NONE"})
"""Values that mean "not given" (`CDL` fills every empty cell of the consolidated dataset)."""
_FLAT_TITULAIRE = re.compile(r"titulaire_(id|typeidentifiant|denominationsociale)_(\d+)$", re.IGNORECASE)
_NUTS = re.compile(r"[A-Z]{2}[0-9A-Z]{1,3}")


def is_decp_record(document: Mapping[str, Any]) -> bool:
    """Whether a JSON object is one DECP contract, in either shape.

    >>> is_decp_record({"id": "1", "acheteur": {"id": "2"}, "titulaires": []})
    True
    >>> is_decp_record({"id": "1", "acheteur_id": "2", "datenotification": "2024-01-02"})
    True
    >>> is_decp_record({"idweb": "26-1"})
    False
    """
    if "id" not in document and "uid" not in document:
        return False
    if isinstance(document.get("acheteur"), Mapping) and ("titulaires" in document or "objet" in document):
        return True
    return "acheteur_id" in document and ("datenotification" in document or "titulaire_id_1" in document)


def decp_contracts(container: Any) -> list[Any] | None:
    """The contracts of a `marches` value: a list, or the `{marche: [...]}` of the 2022 XML converted to JSON."""
    if isinstance(container, list):
        return container
    if isinstance(container, Mapping) and isinstance(container.get("marche"), list):
        return list(container["marche"])
    return None


def _value(raw: Any) -> str | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return str(raw)
    if not isinstance(raw, str):
        return None
    text = collapse(raw)
    return None if not text or text.upper() in EMPTY else text


def _unflatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """A flat API record in the regulatory shape (names as in the 2022 format)."""
    titulaires: dict[int, dict[str, Any]] = {}
    for key, raw in record.items():
        match = _FLAT_TITULAIRE.match(str(key))
        if match and _value(raw) is not None:
            field = {"id": "id", "typeidentifiant": "typeIdentifiant", "denominationsociale": "denominationSociale"}
            titulaires.setdefault(int(match[2]), {})[field[match[1].lower()]] = raw
    return {
        "uid": record.get("uid"),
        "id": record.get("id"),
        "acheteur": {"id": record.get("acheteur_id"), "nom": record.get("acheteur_nom")},
        "objet": record.get("objet"),
        "codeCPV": record.get("codecpv"),
        "procedure": record.get("procedure"),
        "nature": record.get("nature"),
        "ccag": record.get("ccag"),
        "lieuExecution": {"code": record.get("lieuexecution_code"), "typeCode": record.get("lieuexecution_typecode")},
        "dateNotification": record.get("datenotification"),
        "datePublicationDonnees": record.get("datepublicationdonnees"),
        "montant": record.get("montant"),
        "offresRecues": record.get("offresrecues"),
        "typeGroupementOperateurs": record.get("typegroupementoperateurs"),
        "titulaires": [titulaires[n] for n in sorted(titulaires) if "id" in titulaires[n]],
    }


def _titulaires(value: Any) -> Iterator[Mapping[str, Any]]:
    """`[{...}]`, `[{titulaire: {...}}]` and the `{titulaire: [...]}` of some converted files."""
    items = value if isinstance(value, list) else [value] if isinstance(value, Mapping) else []
    for item in items:
        if isinstance(item, Mapping) and "titulaire" in item:
            yield from _titulaires(item["titulaire"])
        elif isinstance(item, list):
            yield from _titulaires(item)
        elif isinstance(item, Mapping):
            yield item


def _winner(titulaire: Mapping[str, Any]) -> Winner | None:
    raw_id = _value(titulaire.get("id"))
    name = _value(titulaire.get("denominationSociale")) or raw_id
    if not name:
        return None
    kind = (_value(titulaire.get("typeIdentifiant")) or "").upper().replace("-", "_")
    country: str | None = None
    identifier: str | None = None
    if kind in ("SIRET", "SIREN"):
        country = "FR"
        identifier = normalize_identifier(raw_id, "FR")
    elif kind == "TVA":
        identifier = normalize_identifier(raw_id)
        prefix = (identifier or "")[:2]
        country = "FR" if identifier and identifier.isdigit() else prefix if prefix.isalpha() else None
        country = "GR" if country == "EL" else country
    return Winner(name=name[:1000], country=country, identifier=identifier)


def _procedure(raw: str | None) -> str | None:
    """The §2 procedure of DECP's wording.

    >>> _procedure("Appel d'offres ouvert"), _procedure("Procédure avec négociation"), _procedure("Procédure adaptée")
    ('open', 'negotiated', 'other')
    """
    if not raw:
        return None
    text = raw.casefold()
    for words, procedure in (
        (("négoci", "negoci"), "negotiated"),
        (("restreint",), "restricted"),
        (("ouvert",), "open"),
        (("dialogue",), "competitive-dialogue"),
        (("innovation",), "innovation-partnership"),
    ):
        if any(word in text for word in words):
            return procedure
    return "other"


def _nature(ccag: str | None, cpv: str | None) -> str | None:
    if ccag and ccag.casefold().startswith("travaux"):
        return "works"
    if not cpv:
        return None
    division = int(cpv[:2])
    if division == 45:
        return "works"
    return "supplies" if division < 45 or division == 48 else "services"


def _groups(record: Mapping[str, Any], winners: list[Winner]) -> list[list[Winner]]:
    grouping = (_value(record.get("typeGroupementOperateurs")) or "").casefold()
    if len(winners) > 1 and grouping.startswith("pas de"):
        return [[winner] for winner in winners]
    return [winners] if winners else []


def parse_decp_record(record: Mapping[str, Any]) -> Notice:
    """One DECP contract (regulatory JSON or flat API record) as an award notice."""
    if not isinstance(record, Mapping):
        raise NoticeError(f"DECP record: expected a JSON object, got {type(record).__name__}")
    data = record if isinstance(record.get("acheteur"), Mapping) else _unflatten(record)
    buyer: Mapping[str, Any] = data["acheteur"] if isinstance(data.get("acheteur"), Mapping) else {}
    buyer_id = _value(buyer.get("id")) or _value(data.get("acheteur.id"))
    contract_id = _value(data.get("id"))
    where = f"DECP contract {contract_id or '?'}"
    if not contract_id:
        raise NoticeError("DECP contract without id")
    if not buyer_id:
        raise NoticeError(f"{where}: no buyer id (acheteur.id / acheteur_id)")
    title = _value(data.get("objet"))
    if not title:
        raise NoticeError(f"{where}: no object (objet)")
    notified = iso_date(_value(data.get("dateNotification")) or "")
    published = iso_date(_value(data.get("datePublicationDonnees")) or "") or notified
    if published is None:
        raise NoticeError(f"{where}: no date (datePublicationDonnees / dateNotification)")
    cpv = cpv_code(_value(data.get("codeCPV")))
    place: Mapping[str, Any] = data["lieuExecution"] if isinstance(data.get("lieuExecution"), Mapping) else {}
    code, kind = _value(place.get("code")), (_value(place.get("typeCode")) or "").upper()
    nuts = [code] if code and "NUTS" in kind and _NUTS.fullmatch(code) else []
    value = amount(_value(data.get("montant")))
    value = value if value is not None and math.isfinite(value) else None
    offers = _value(data.get("offresRecues"))
    winners = [w for w in (_winner(t) for t in _titulaires(data.get("titulaires"))) if w is not None]
    return Notice(
        source=SOURCE,
        source_id=_value(data.get("uid")) or f"{buyer_id}{contract_id}",
        notice_type="award",
        title=title[:MAX_TEXT],
        buyer=Buyer(name=_value(buyer.get("nom")) or buyer_id, country="FR", id=normalize_identifier(buyer_id, "FR")),
        cpv_main=cpv,
        nuts=nuts,
        contract_nature=_nature(_value(data.get("ccag")), cpv),  # type: ignore[arg-type]
        procedure=_procedure(_value(data.get("procedure"))),  # type: ignore[arg-type]
        published=published,
        lots=[Lot(id="1", title=title[:MAX_TEXT], cpv_main=cpv, nuts=nuts)],
        languages=["fr"],
        awards=[
            Award(
                lot_ids=["1"],
                winners=group,
                value=value if value else None,
                currency="EUR" if value else None,
                tenders_received=int(float(offers)) if offers and _is_count(offers) else None,
                date=notified,
            )
            for group in _groups(data, winners)
        ],
    )


def _is_count(text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return number >= 0 and number.is_integer()


def published_of(record: Mapping[str, Any]) -> date | None:
    """The date a record became public (the replay server's and the spider's window), either shape."""
    for key in ("datePublicationDonnees", "datepublicationdonnees", "dateNotification", "datenotification"):
        found = iso_date(_value(record.get(key)) or "")
        if found:
            return found
    return None

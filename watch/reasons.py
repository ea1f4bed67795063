"""Why a notice matched a profile, as a structured value, and how it reads in French, Dutch and English.

A reason is stored as it was found (`watch_match.reasons`, a JSON list), not as a sentence: a kind and its
parameters, so each reader gets it in their own language, with the CPV and NUTS labels of the code lists.
`describe_reason` is the one wording, for the emails (notifications) and the web portal alike:

- `{"kind": "cpv", "code": "48900000", "under": "48000000"}`, with `"lots": ["2"]` when only lots have the
  code, `"confidence": 0.82` when the notice has no code and the CPV classifier inferred this one from its text
  (watch/cpv), read "CPV 72000000 (…) inferred, 0.82; under your 72000000 (…)", "déduit, 0,82", "afgeleid, 0,82";
- `{"kind": "keyword", "keyword": "cloud", "field": "title" | "description" | "lot"}`, `"lot": "2"` for a lot;
- `{"kind": "place", "code": "BE241"}`, `"lots": [...]` when the place is those lots' only;
- `{"kind": "buyer-place", "code": "FR"}`: no place of performance, the buyer's country matched;
- `{"kind": "value", "amount": 250000.0, "currency": "EUR"}`: the estimated value is in the profile's range.

A reason stored as an English sentence, before reasons were structured, that the migration could not read
(0013) is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from babel.numbers import format_decimal

from crawlers.codelists import cpv_label, nuts_label

Reason = dict[str, Any]
LANGUAGES = ("fr", "nl", "en")
LABEL_LIMIT = 60
"""CPV labels run to 120 characters; a reason is one line of an email."""

_WORDS: dict[str, tuple[str, str, str]] = {
    # key: (fr, nl, en)
    "cpv.under": ("{code} relève de votre {under}", "{code} valt onder uw {under}", "{code} under your {under}"),
    "cpv.same": ("{code}, l'un de vos codes", "{code}, een van uw codes", "{code}, one of your codes"),
    "cpv.inferred": (
        "{code} déduit, {confidence}\u00a0; relève de votre {under}",
        "{code} afgeleid, {confidence}; valt onder uw {under}",
        "{code} inferred, {confidence}; under your {under}",
    ),
    "cpv.inferred.same": (
        "{code} déduit, {confidence}\u00a0; l'un de vos codes",
        "{code} afgeleid, {confidence}; een van uw codes",
        "{code} inferred, {confidence}; one of your codes",
    ),
    "lot": ("lot {ids}", "perceel {ids}", "lot {ids}"),
    "lots": ("lots {ids}", "percelen {ids}", "lots {ids}"),
    "keyword.title": (
        "mot-clé « {keyword} » dans le titre",
        "trefwoord '{keyword}' in de titel",
        "keyword '{keyword}' in the title",
    ),
    "keyword.description": (
        "mot-clé « {keyword} » dans la description",
        "trefwoord '{keyword}' in de beschrijving",
        "keyword '{keyword}' in the description",
    ),
    "keyword.lot": (
        "mot-clé « {keyword} » dans le titre du lot {lot}",
        "trefwoord '{keyword}' in de titel van perceel {lot}",
        "keyword '{keyword}' in the title of lot {lot}",
    ),
    "place": ("lieu d'exécution\u00a0: {place}", "plaats van uitvoering: {place}", "place of performance: {place}"),
    "place.lots": (
        "lieu d'exécution des {lots}\u00a0: {place}",
        "plaats van uitvoering van {lots}: {place}",
        "place of performance of {lots}: {place}",
    ),
    "place.lot": (
        "lieu d'exécution du {lots}\u00a0: {place}",
        "plaats van uitvoering van {lots}: {place}",
        "place of performance of {lots}: {place}",
    ),
    "buyer-place": (
        "acheteur situé en {place} (lieu d'exécution non précisé)",
        "aanbestedende dienst in {place} (plaats van uitvoering niet vermeld)",
        "buyer in {place} (no place of performance given)",
    ),
    "value": (
        "valeur estimée {amount}, dans votre fourchette",
        "geraamde waarde {amount}, binnen uw bereik",
        "estimated value {amount}, in your range",
    ),
}


def _index(language: str) -> int:
    language = (language or "").lower()
    return LANGUAGES.index(language) if language in LANGUAGES else 2


def _say(key: str, language: str, **values: Any) -> str:
    return _WORDS[key][_index(language)].format(**values)


def _cut(label: str) -> str:
    """A label cut at a word before `LABEL_LIMIT`.

    >>> _cut("Services de technologies de l'information, conseil, développement de logiciels, internet et appui")
    "Services de technologies de l'information, conseil…"
    """
    if len(label) <= LABEL_LIMIT:
        return label
    return label[:LABEL_LIMIT].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"


def _code(code: str, language: str) -> str:
    label = cpv_label(code, language)
    return f"{code} ({_cut(label)})" if label else code


def _nuts(code: str, language: str) -> str:
    label = nuts_label(code, language)
    return f"{label} ({code})" if label else code


def _lots(ids: Sequence[Any], language: str) -> str:
    return _say("lot" if len(ids) == 1 else "lots", language, ids=", ".join(str(i) for i in ids))


def format_amount(value: float, currency: str | None, language: str) -> str:
    """An amount rounded to the unit, grouped the local way.

    >>> format_amount(250000, "EUR", "fr"), format_amount(250000, "EUR", "nl"), format_amount(1234567.8, "EUR", "en")
    ('250\\u202f000 EUR', '250.000 EUR', '1,234,568 EUR')
    """
    grouped = f"{round(value):,}"
    grouped = {0: grouped.replace(",", "\u202f"), 1: grouped.replace(",", ".")}.get(_index(language), grouped)
    return f"{grouped} {currency}" if currency else grouped


def _decimal(value: float, language: str) -> str:
    """A confidence with two decimals, written the local way (Babel).

    >>> _decimal(0.8249, "fr"), _decimal(0.8249, "nl"), _decimal(0.8249, "en")
    ('0,82', '0,82', '0.82')
    """
    return format_decimal(value, format="0.00", locale=LANGUAGES[_index(language)])


def describe_reason(reason: Mapping[str, Any] | str, language: str) -> str:
    """One reason as a phrase in that language (fr, nl, en; any other reads English).

    >>> describe_reason({"kind": "cpv", "code": "45261900", "under": "45261900", "lots": ["2"]}, "fr")
    "CPV 45261900 (Réparation et entretien de toiture), l'un de vos codes (lot 2)"
    >>> describe_reason({"kind": "keyword", "keyword": "afval", "field": "lot", "lot": "2"}, "nl")
    "trefwoord 'afval' in de titel van perceel 2"
    >>> describe_reason({"kind": "place", "code": "BE32", "lots": ["1", "3"]}, "en")
    'place of performance of lots 1, 3: Prov. Hainaut (BE32)'
    """
    if isinstance(reason, str):
        return reason
    kind = reason.get("kind")
    if kind == "cpv":
        return _describe_cpv(reason, language)
    if kind == "keyword":
        where = reason.get("field")
        if where not in ("title", "description", "lot"):
            raise ValueError(f"keyword reason: field must be title, description or lot, got {where!r}")
        return _say(f"keyword.{where}", language, keyword=reason["keyword"], lot=reason.get("lot"))
    if kind == "place":
        place = _nuts(reason["code"], language)
        lots = reason.get("lots") or []
        if not lots:
            return _say("place", language, place=place)
        return _say("place.lot" if len(lots) == 1 else "place.lots", language, lots=_lots(lots, language), place=place)
    if kind == "buyer-place":
        return _say("buyer-place", language, place=_nuts(reason["code"], language))
    if kind == "value":
        return _say("value", language, amount=format_amount(reason["amount"], reason.get("currency"), language))
    raise ValueError(f"unknown kind of match reason {kind!r} in {dict(reason)!r}")


def _describe_cpv(reason: Mapping[str, Any], language: str) -> str:
    code, under = reason["code"], reason["under"]
    values = {"code": f"CPV {_code(code, language)}", "under": _code(under, language)}
    if reason.get("confidence") is not None:
        key = "cpv.inferred.same" if code == under else "cpv.inferred"
        text = _say(key, language, confidence=_decimal(reason["confidence"], language), **values)
    elif code == under:
        text = _say("cpv.same", language, **values)
    else:
        text = _say("cpv.under", language, **values)
    lots = reason.get("lots") or []
    return f"{text} ({_lots(lots, language)})" if lots else text


def describe_reasons(reasons: Sequence[Mapping[str, Any] | str], language: str) -> list[str]:
    """Every reason of a match, in that language."""
    return [describe_reason(reason, language) for reason in reasons]

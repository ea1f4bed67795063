"""The words of the emails and pages in French, Dutch and English, and how values are written in each.

A small catalogue rather than gettext: three languages, a few dozen messages, all in one place a
translator can read. Templates call `t("key", name=value)`; a missing key is an error, not an English
fallback, so a gap shows in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from crawlers.codelists import nuts_label
from watch.deadlines import BRUSSELS
from watch.reasons import format_amount

LANGUAGES = ("fr", "nl", "en")

MESSAGES: dict[str, tuple[str, str, str]] = {
    # key: (fr, nl, en)
    "greeting": ("Bonjour,", "Hallo,", "Hello,"),
    "digest.subject.one": (
        "1 nouveau marché pour {member}",
        "1 nieuwe opdracht voor {member}",
        "1 new tender for {member}",
    ),
    "digest.subject.many": (
        "{count} nouveaux marchés pour {member}",
        "{count} nieuwe opdrachten voor {member}",
        "{count} new tenders for {member}",
    ),
    "digest.intro": (
        "Voici les marchés publics qui correspondent aux profils de veille de {member}.",
        "Dit zijn de overheidsopdrachten die passen bij de profielen van {member}.",
        "Here are the public tenders that match the watch profiles of {member}.",
    ),
    "label.buyer": ("Acheteur", "Aanbestedende dienst", "Buyer"),
    "label.place": ("Lieu", "Plaats", "Place"),
    "label.deadline": ("Date limite", "Uiterste datum", "Deadline"),
    "label.value": ("Valeur estimée", "Geraamde waarde", "Estimated value"),
    "label.lots": ("Lots", "Percelen", "Lots"),
    "label.reasons": ("Pourquoi", "Waarom", "Why"),
    "label.notice": ("Avis", "Aankondiging", "Notice"),
    "label.documents": ("Documents", "Documenten", "Documents"),
    "label.not_given": ("non précisé", "niet vermeld", "not given"),
    "lot.matched": ("correspond à votre profil", "past bij uw profiel", "matches your profile"),
    "lots.more": ("et {count} autres lots", "en nog {count} percelen", "and {count} more lots"),
    "action.interested": ("Ça m'intéresse", "Interesseert me", "I'm interested"),
    "action.not_relevant": ("Pas pertinent", "Niet relevant", "Not relevant"),
    "footer.why": (
        "Vous recevez ce courriel parce que {member} suit les marchés publics avec PIB ({frequency}).",
        "U ontvangt deze e-mail omdat {member} overheidsopdrachten volgt met PIB ({frequency}).",
        "You receive this email because {member} follows public tenders with PIB ({frequency}).",
    ),
    "footer.followed": (
        "Vous recevez ce courriel parce que {member} a indiqué que ces marchés l'intéressent.",
        "U ontvangt deze e-mail omdat {member} heeft aangegeven dat deze opdrachten interessant zijn.",
        "You receive this email because {member} flagged these tenders as interesting.",
    ),
    "footer.unsubscribe": ("Se désabonner", "Uitschrijven", "Unsubscribe"),
    "frequency.instant": ("alertes immédiates", "onmiddellijke meldingen", "instant alerts"),
    "frequency.daily": ("résumé quotidien", "dagelijks overzicht", "daily digest"),
    "frequency.weekly": ("résumé hebdomadaire", "wekelijks overzicht", "weekly digest"),
    "when.today": ("aujourd'hui", "vandaag", "today"),
    "when.tomorrow": ("demain", "morgen", "tomorrow"),
    "when.days": ("dans {days} jours", "over {days} dagen", "in {days} days"),
    "left.days": ("encore {days} jours", "nog {days} dagen", "{days} days left"),
    "left.one": ("encore 1 jour", "nog 1 dag", "1 day left"),
    "left.last": ("dernier jour", "laatste dag", "last day"),
    "reminder.subject.one": (
        "Date limite {when} : {title}",
        "Uiterste datum {when}: {title}",
        "Deadline {when}: {title}",
    ),
    "reminder.subject.many": (
        "{count} dates limites approchent",
        "{count} uiterste datums naderen",
        "{count} deadlines are approaching",
    ),
    "reminder.intro": (
        "La date limite de ces marchés que vous suivez approche :",
        "De uiterste datum van deze opdrachten die u volgt nadert:",
        "The deadline of these tenders you follow is approaching:",
    ),
    "change.subject.one": ("Modification : {title}", "Wijziging: {title}", "Change: {title}"),
    "change.subject.many": (
        "{count} marchés suivis ont changé",
        "{count} gevolgde opdrachten zijn gewijzigd",
        "{count} tenders you follow have changed",
    ),
    "change.intro": (
        "Des marchés que vous suivez ont été modifiés :",
        "Opdrachten die u volgt zijn gewijzigd:",
        "Tenders you follow have changed:",
    ),
    "change.deadline-moved": (
        "La date limite a changé : {old} → {new}.",
        "De uiterste datum is gewijzigd: {old} → {new}.",
        "The deadline moved: {old} → {new}.",
    ),
    "change.lot-added": (
        "Un lot a été ajouté : {lot}.",
        "Er is een perceel toegevoegd: {lot}.",
        "A lot was added: {lot}.",
    ),
    "change.lot-removed": (
        "Un lot a été retiré : {lot}.",
        "Er is een perceel geschrapt: {lot}.",
        "A lot was removed: {lot}.",
    ),
    "change.cancelled": ("La procédure a été annulée.", "De procedure is geannuleerd.", "The procedure was cancelled."),
    "change.awarded": ("Le marché a été attribué.", "De opdracht is gegund.", "The contract was awarded."),
    "change.modified": ("L'avis a été modifié.", "De aankondiging is gewijzigd.", "The notice was modified."),
    "change.publication": ("Publication", "Publicatie", "Publication"),
    "reveal.subject.requested": (
        "Une entreprise souhaite être mise en relation avec vous : {title}",
        "Een bedrijf wil met u in contact komen: {title}",
        "A firm would like to get in touch with you: {title}",
    ),
    "reveal.subject.accepted": (
        "Mise en relation confirmée avec {name} : {title}",
        "Contact bevestigd met {name}: {title}",
        "You are now in touch with {name}: {title}",
    ),
    "reveal.requested.intro": (
        "« {asker} », une entreprise intéressée comme vous par ce marché, souhaite être mise en relation "
        "avec la vôtre. Elle ne sait pas qui vous êtes : sur ce marché, votre entreprise apparaît sous le nom "
        "« {pseudonym} ».",
        "'{asker}', een bedrijf dat net als u interesse heeft in deze opdracht, wil met uw bedrijf in contact "
        "komen. Het weet niet wie u bent: bij deze opdracht staat uw bedrijf vermeld als '{pseudonym}'.",
        "'{asker}', a firm interested in this tender like you, would like to get in touch with yours. It "
        "does not know who you are: on this tender, your firm goes by '{pseudonym}'.",
    ),
    "reveal.requested.declared": (
        "Ce qu'elle a déclaré pour ce marché :",
        "Wat het voor deze opdracht heeft opgegeven:",
        "What it declared for this tender:",
    ),
    "reveal.requested.answer": (
        "Si vous acceptez, chacune des deux entreprises connaîtra le nom et les coordonnées de l'autre. "
        "Si vous refusez, elle n'en saura rien. Répondez dans PIB ou par l'équipe du cluster, en citant le "
        "marché {reference} et l'entreprise « {asker} ».",
        "Als u aanvaardt, krijgen beide bedrijven elkaars naam en contactgegevens. Als u weigert, verneemt "
        "het daar niets van. Antwoord in PIB of via het team van de cluster, met vermelding van opdracht "
        "{reference} en bedrijf '{asker}'.",
        "If you accept, each firm learns the other's name and contacts. If you refuse, it will not be told. "
        "Answer in PIB or through the cluster's staff, quoting tender {reference} and firm '{asker}'.",
    ),
    "reveal.accepted.intro": (
        "La mise en relation est confirmée : sur ce marché, « {pseudonym} » est l'entreprise",
        "Het contact is bevestigd: bij deze opdracht is '{pseudonym}' het bedrijf",
        "You are now in touch: on this tender, '{pseudonym}' is the firm",
    ),
    "reveal.accepted.contacts": ("Pour la contacter", "Contactgegevens", "How to reach it"),
    "reveal.accepted.no_contacts": (
        "Aucune adresse n'est enregistrée pour cette entreprise : l'équipe du cluster peut vous mettre en contact.",
        "Voor dit bedrijf is geen adres bekend: het team van de cluster kan u in contact brengen.",
        "No address is recorded for this firm: the cluster's staff can put you in touch.",
    ),
    "footer.reveal": (
        "Vous recevez ce courriel parce que {member} a indiqué son intérêt pour ce marché dans PIB.",
        "U ontvangt deze e-mail omdat {member} in PIB interesse heeft getoond voor deze opdracht.",
        "You receive this email because {member} expressed its interest in this tender in PIB.",
    ),
    "label.reference": ("Référence", "Referentie", "Reference"),
    "label.role": ("Rôle", "Rol", "Role"),
    "label.brings": ("Apporte", "Brengt aan", "Brings"),
    "label.lacks": ("Recherche", "Zoekt", "Lacks"),
    "label.whole_tender": ("tout le marché", "de hele opdracht", "the whole tender"),
    "label.seeks_partners": ("Cherche des partenaires", "Zoekt partners", "Seeks partners"),
    "role.lead": ("chef de file (mandataire)", "hoofdaannemer (lasthebber)", "lead"),
    "role.partner": ("partenaire", "partner", "partner"),
    "role.subcontractor": ("sous-traitant", "onderaannemer", "subcontractor"),
    "page.confirm": ("Confirmer", "Bevestigen", "Confirm"),
    "page.confirm.interested": (
        "Indiquer que ce marché vous intéresse ?",
        "Aangeven dat deze opdracht u interesseert?",
        "Flag this tender as interesting?",
    ),
    "page.confirm.not_relevant": (
        "Indiquer que ce marché n'est pas pertinent pour vous ?",
        "Aangeven dat deze opdracht niet relevant is?",
        "Mark this tender as not relevant?",
    ),
    "page.confirm.unsubscribe": (
        "Ne plus recevoir aucun courriel de PIB à l'adresse {email} ?",
        "Geen e-mails van PIB meer ontvangen op {email}?",
        "Stop all PIB emails to {email}?",
    ),
    "page.done.interested": (
        "C'est noté : ce marché vous intéresse. Nous vous rappellerons sa date limite et ses modifications.",
        "Genoteerd: deze opdracht interesseert u. We herinneren u aan de uiterste datum en melden wijzigingen.",
        "Noted: you are interested in this tender. We will remind you of its deadline and tell you of changes.",
    ),
    "page.done.not_relevant": (
        "C'est noté : ce marché n'est pas pertinent pour vous. Vos prochaines alertes en tiendront compte.",
        "Genoteerd: deze opdracht is niet relevant voor u. Uw volgende meldingen houden er rekening mee.",
        "Noted: this tender is not relevant to you. Your next alerts will take it into account.",
    ),
    "page.done.unsubscribe": (
        "Vous êtes désabonné : PIB n'écrira plus à {email}.",
        "U bent uitgeschreven: PIB stuurt geen e-mails meer naar {email}.",
        "You are unsubscribed: PIB will no longer write to {email}.",
    ),
}

# Pages shown when the link itself cannot be trusted: the user, hence the language, is unknown.
INVALID_LINK = (
    "Ce lien n'est pas valide (modifié ou mal copié) : rien n'a été changé.",
    "Deze link is ongeldig (gewijzigd of onvolledig gekopieerd): er is niets gewijzigd.",
    "This link is not valid (altered or copied incompletely): nothing was changed.",
)
EXPIRED_LINK = (
    "Ce lien a expiré : rien n'a été changé. Utilisez les liens d'un courriel plus récent.",
    "Deze link is verlopen: er is niets gewijzigd. Gebruik de links van een recentere e-mail.",
    "This link has expired: nothing was changed. Use the links of a more recent email.",
)
GONE_LINK = (
    "Ce lien ne correspond plus à rien (compte ou avis supprimé) : rien n'a été changé.",
    "Deze link verwijst nergens meer naar (account of aankondiging verwijderd): er is niets gewijzigd.",
    "This link no longer leads anywhere (account or notice removed): nothing was changed.",
)

MONTHS = {
    language: tuple(names.split(","))
    for language, names in (
        ("fr", "janvier,février,mars,avril,mai,juin,juillet,août,septembre,octobre,novembre,décembre"),
        ("nl", "januari,februari,maart,april,mei,juni,juli,augustus,september,oktober,november,december"),
        ("en", "January,February,March,April,May,June,July,August,September,October,November,December"),
    )
}


def language_of(value: str | None) -> str:
    """One of fr, nl, en; anything else is written in English rather than refused."""
    value = (value or "").lower()
    return value if value in LANGUAGES else "en"


def translator(language: str) -> Callable[..., str]:
    """`t(key, **values)` in that language."""
    index = LANGUAGES.index(language_of(language))

    def t(key: str, **values: Any) -> str:
        text = MESSAGES[key][index]
        return text.format(**values) if values else text

    return t


def format_date(day: date, language: str) -> str:
    """
    >>> format_date(date(2026, 2, 16), "fr"), format_date(date(2026, 2, 16), "en")
    ('16 février 2026', '16 February 2026')
    """
    return f"{day.day} {MONTHS[language_of(language)][day.month - 1]} {day.year}"


def format_deadline(deadline: str | None, deadline_utc: datetime | None, language: str) -> str | None:
    """A deadline as a person reads it: a date alone stays a date; a moment is shown in Brussels time.

    >>> from datetime import UTC
    >>> format_deadline("2026-02-16T12:00:00+01:00", datetime(2026, 2, 16, 11, tzinfo=UTC), "nl")
    '16 februari 2026, 12:00'
    >>> format_deadline("2026-02-16", None, "fr"), format_deadline("2026-03-02T11:00:00Z", None, "en")
    ('16 février 2026', '2 March 2026, 12:00')
    """
    if not deadline:
        return None
    if len(deadline) == 10:
        return format_date(date.fromisoformat(deadline), language)
    moment = deadline_utc or datetime.fromisoformat(deadline)
    if moment.tzinfo is not None:  # without an offset it is the buyer's wall-clock time: shown as written
        moment = moment.astimezone(BRUSSELS)
    return f"{format_date(moment.date(), language)}, {moment:%H:%M}"


def format_money(value: float | None, currency: str | None, language: str) -> str | None:
    """An amount rounded to the unit, grouped the local way (as in the match reasons); None when unknown.

    >>> format_money(250000, "EUR", "fr"), format_money(None, "EUR", "fr")
    ('250\\u202f000 EUR', None)
    """
    return None if value is None else format_amount(value, currency, language)


def format_place(nuts: Iterable[str], buyer: Mapping[str, Any], language: str, limit: int = 5) -> str:
    """NUTS codes with their labels (the code alone when unknown); without NUTS, the buyer's town and country.

    >>> format_place(["BE3", "ZZ9"], {}, "fr")
    'Région wallonne (BE3), ZZ9'
    >>> format_place([], {"town": "Lille", "country": "FR"}, "en")
    'Lille, FR'
    """
    codes = list(nuts)
    if not codes:
        return ", ".join(part for part in (buyer.get("town"), buyer.get("country")) if part)
    shown = []
    for code in codes[:limit]:
        label = nuts_label(code, language_of(language))
        shown.append(f"{label} ({code})" if label else code)
    if len(codes) > limit:
        shown.append("…")
    return ", ".join(shown)


def when(days: int, language: str) -> str:
    t = translator(language)
    if days <= 0:
        return t("when.today")
    if days == 1:
        return t("when.tomorrow")
    return t("when.days", days=days)


def days_left(days: int, language: str) -> str:
    """How long a member still has to answer, from the days to the deadline (0: the deadline is today).

    >>> days_left(12, "fr"), days_left(1, "nl"), days_left(0, "en")
    ('encore 12 jours', 'nog 1 dag', 'last day')
    """
    t = translator(language)
    if days <= 0:
        return t("left.last")
    if days == 1:
        return t("left.one")
    return t("left.days", days=days)

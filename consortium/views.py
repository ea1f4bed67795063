"""The public shapes of the consortium: what a member, the staff, or an email may be given.

Never a table row. A member-facing shape has no field that could hold another firm's name, address or
id: other firms appear by pseudonym only, and `RevealedFirm` is the one shape with a name, built only
for a firm that agreed to be revealed to that member on that tender (`interests._revealed_to`). Staff
shapes (`Staff*`, `CatalogueView`, `GroupView`) carry identities and are never given to a member.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

from .errors import ConsortiumError
from .pseudonyms import PATTERN
from .tenders import Tender

PseudonymText = Annotated[str, StringConstraints(pattern=f"^{PATTERN}$")]
CpvCode = Annotated[str, StringConstraints(pattern=r"^\d{8}$")]
Keyword = Annotated[str, StringConstraints(max_length=100)]
RoleName = Literal["lead", "partner", "subcontractor"]
ROLES: tuple[str, ...] = get_args(RoleName)
ROLE_ALIASES = {"co-contractor": "partner"}
"""Older spellings, still accepted and read: partner groups once called a partner a co-contractor."""


def canonical_role(value: object) -> object:
    """A role as written anywhere (a member's option, a group row of older data) in the one vocabulary."""
    if not isinstance(value, str):
        return value
    folded = value.strip().casefold()
    return ROLE_ALIASES.get(folded, folded)


def parse_role(text: str) -> RoleName:
    """The role a member or staff typed; an unknown role is an error that lists the roles."""
    role = canonical_role(text)
    if role not in ROLES:
        raise ConsortiumError(f"role must be {', '.join(ROLES[:-1])} or {ROLES[-1]}, not {text!r}")
    return role  # type: ignore[return-value]


Role = Annotated[RoleName, BeforeValidator(canonical_role)]
"""lead, partner or subcontractor: in an interest and in a partner group alike (docs/users.md)."""
GroupStatus = Literal["forming", "submitted", "won", "lost"]
RequestState = Literal["pending", "revealed"]
"""What an asker may know of its request: a refusal reads as `pending`."""


class PublicModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LotInfo(PublicModel):
    id: str
    title: str | None
    cpv: list[CpvCode]
    nuts: list[str]


class TenderInfo(PublicModel):
    """The tender as published: public information, the same for everyone."""

    reference: str
    publications: list[str]
    notice_type: str
    title: str
    buyer: str
    deadline: str | None
    url: str | None
    lots: list[LotInfo]

    @classmethod
    def of(cls, tender: Tender) -> TenderInfo:
        return cls(
            reference=tender.reference,
            publications=list(tender.publications),
            notice_type=tender.notice_type,
            title=tender.title,
            buyer=tender.buyer,
            deadline=tender.deadline,
            url=tender.url,
            lots=[LotInfo(id=lot.id, title=lot.title, cpv=list(lot.cpv), nuts=list(lot.nuts)) for lot in tender.lots],
        )


class LotCount(PublicModel):
    """How many firms are interested in a lot (an interest in the whole tender counts for every lot)."""

    lot_id: str
    interested: int
    leads: int
    partners: int
    subcontractors: int
    seeking_partners: int
    seeking_lead: int
    """Firms that seek partners and would not lead themselves."""

    def describe(self) -> str:
        text = f"{_firms(self.interested)} interested in lot {self.lot_id}"
        if self.seeking_lead:
            text += f", {self.seeking_lead} {'seeks' if self.seeking_lead == 1 else 'seek'} a lead"
        if self.seeking_partners - self.seeking_lead > 0:
            leads = self.seeking_partners - self.seeking_lead
            text += f", {leads} {'lead seeks' if leads == 1 else 'leads seek'} partners"
        return text


def _firms(n: int) -> str:
    return f"{n} firm" if n == 1 else f"{n} firms"


class AnonymousEntry(PublicModel):
    """Another firm's interest, as every member sees it: what it offers and seeks, under its pseudonym."""

    pseudonym: PseudonymText
    role: Role
    lots: list[str]
    """Lot ids; empty for the whole tender."""
    brings_cpv: list[CpvCode]
    brings_keywords: list[Keyword]
    lacks_cpv: list[CpvCode]
    lacks_keywords: list[Keyword]
    seeks_partners: bool


class OwnInterest(PublicModel):
    """The member's own interest, with its note and dates."""

    pseudonym: PseudonymText
    role: Role
    lots: list[str]
    brings_cpv: list[CpvCode]
    brings_keywords: list[Keyword]
    lacks_cpv: list[CpvCode]
    lacks_keywords: list[Keyword]
    seeks_partners: bool
    note: str | None
    since: datetime
    updated: datetime


class Contact(PublicModel):
    email: str
    language: str


class RevealedFirm(PublicModel):
    """A firm that agreed, on this tender, to be known by this member: its name and how to reach it."""

    pseudonym: PseudonymText
    name: str
    contacts: list[Contact]
    revealed_at: datetime


class OutgoingRequest(PublicModel):
    pseudonym: PseudonymText
    state: RequestState


class IncomingRequest(PublicModel):
    """A firm asks to be put in touch: the member accepts or refuses (`pib reveal answer`)."""

    pseudonym: PseudonymText
    asked_on: date
    entry: AnonymousEntry | None
    """What the asker declared on the tender."""


class MemberTenderView(PublicModel):
    """Exactly what one member may see of the interests in a tender."""

    tender: TenderInfo
    interested: int
    """Firms interested in the tender, the member included."""
    counts: list[LotCount]
    own: OwnInterest | None
    entries: list[AnonymousEntry]
    """The other firms' interests, ordered by pseudonym (an order that says nothing about who they are)."""
    requests_sent: list[OutgoingRequest]
    requests_received: list[IncomingRequest]
    revealed: list[RevealedFirm]


class StaffEntry(PublicModel):
    member_id: int
    name: str
    emails: list[str]
    pseudonym: PseudonymText
    role: Role
    lots: list[str]
    brings_cpv: list[str]
    brings_keywords: list[str]
    lacks_cpv: list[str]
    lacks_keywords: list[str]
    seeks_partners: bool
    note: str | None
    created_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None


class StaffReveal(PublicModel):
    """A reveal request as recorded: who asked whom, on which tender, when, and the answer."""

    id: int
    tender: str
    requester_id: int
    requester: str
    target_id: int
    target: str
    state: Literal["pending", "accepted", "refused", "cancelled"]
    created_at: datetime
    decided_at: datetime | None


class GroupSummary(PublicModel):
    id: int
    name: str
    status: GroupStatus
    firms: int
    uncovered_lots: list[str]


class StaffTenderView(PublicModel):
    """Everything about the interests in a tender: identities, withdrawn interests, reveals, groups."""

    tender: TenderInfo
    interested: int
    counts: list[LotCount]
    entries: list[StaffEntry]
    reveals: list[StaffReveal]
    groups: list[GroupSummary]


class CatalogueView(PublicModel):
    """A firm's catalogue (staff view)."""

    member_id: int
    name: str
    cpv: list[str]
    keywords: list[str]
    regions: list[str]
    certifications: list[str]
    size_band: str | None
    references: list[str]


class MemberCandidate(PublicModel):
    """A firm that could fill a member's gap on a lot, by pseudonym, best first.

    Only what the firm wrote on its interest in this tender (brings, lacks, role, lots) is shown: its
    catalogue helps to rank, but no score, reason or region here comes from it.
    """

    pseudonym: PseudonymText
    reasons: list[str]
    """In the tender's words and the member's own, about what the firm declared on the tender."""
    role: Role
    interested_in_lot: bool
    seeks_partners: bool


class MemberLotPartners(PublicModel):
    lot_id: str
    title: str | None
    lacking_cpv: list[CpvCode]
    """The lot's codes the member does not cover, and the codes it said it lacks."""
    lacking_keywords: list[Keyword]
    """The words the member said it lacks."""
    candidates: list[MemberCandidate]


class MemberPartnerSearch(PublicModel):
    """A member's partner search: interested firms only, lot by lot, and the lots nobody covers yet."""

    tender: TenderInfo
    lots: list[MemberLotPartners]
    """The lots the member is interested in (all when it named none) where it lacks something."""
    covered_lots: list[str]
    """Lots where the member lacks nothing."""
    uncovered_lots: list[str]
    """Lots no interested firm has taken on: flagged (or the whole tender) without saying it lacks part of
    them, as every member reads in the entries; the member itself takes on a lot it flagged and lacks nothing
    of."""


class StaffCandidate(PublicModel):
    member_id: int
    name: str
    interested: bool
    pseudonym: str | None
    score: float
    reasons: list[str]
    role: str | None
    regions: list[str]
    certifications: list[str]
    size_band: str | None


class StaffLotPartners(PublicModel):
    lot_id: str
    title: str | None
    lacking_cpv: list[str]
    lacking_keywords: list[str]
    candidates: list[StaffCandidate]


class StaffPartnerSearch(PublicModel):
    """Partner search for a member as staff see it: every active firm, interested or not, by name."""

    tender: TenderInfo
    member_id: int | None
    name: str | None
    lots: list[StaffLotPartners]
    covered_lots: list[str]
    uncovered_lots: list[str]


class RevealNotification(PublicModel):
    """An email the notifications' sender is to send about a reveal; `id` makes sending idempotent.

    `reveal-requested` goes to the firm asked (the asker by pseudonym); `reveal-accepted` goes to each of
    the two firms, with the other's name and contacts. A refusal sends nothing.
    """

    id: str
    kind: Literal["reveal-requested", "reveal-accepted"]
    recipients: list[Contact]
    pseudonym: PseudonymText
    """The recipient's own pseudonym on the tender."""
    tender: TenderInfo
    asker: AnonymousEntry | None
    counterpart: RevealedFirm | None


class GroupFirm(PublicModel):
    member_id: int
    name: str
    role: Role
    lots: list[str]
    """Lot ids; empty for every lot."""


class Requirement(PublicModel):
    cpv: str
    label: str | None
    covered_by: list[str]
    partly_by: list[str]


class GroupLot(PublicModel):
    lot_id: str
    title: str | None
    firms: list[str]
    requirements: list[Requirement]
    covered: bool
    """A firm of the group takes the lot, and every code it requires is covered by one of them."""


GroupEventKind = Literal["created", "firm-added", "firm-changed", "firm-removed", "status", "note"]


class GroupEventView(PublicModel):
    """One step of a group's history, its parts named (a page translates them; `describe` is English)."""

    at: datetime
    kind: GroupEventKind
    firm: str | None = None
    """The firm added, changed or removed."""
    member_id: int | None = None
    role: Role | None = None
    lots: list[str] = []
    """Lot ids the firm takes; empty for the whole tender."""
    tender: str | None = None
    status_from: GroupStatus | None = None
    status_to: GroupStatus | None = None
    text: str | None = None
    """The group's name when created, a note, or the note given with a status."""

    def describe(self) -> str:
        lots = f"lots {', '.join(self.lots)}" if self.lots else "the whole tender"
        match self.kind:
            case "created":
                return f"group created for {self.tender}: {self.text}"
            case "firm-added":
                return f"{self.firm} added as {self.role}, {lots}"
            case "firm-changed":
                return f"{self.firm} now {self.role}, {lots}"
            case "firm-removed":
                return f"{self.firm} removed"
            case "status":
                return f"{self.status_from} → {self.status_to}" + (f": {self.text}" if self.text else "")
        return f"note: {self.text}"


class GroupView(PublicModel):
    """A partner group (staff): its firms, the lots and competences covered, suggestions for the gaps."""

    id: int
    name: str
    tender: TenderInfo
    status: GroupStatus
    created_at: datetime
    submitted_at: datetime | None
    result_at: datetime | None
    firms: list[GroupFirm]
    lots: list[GroupLot]
    uncovered_lots: list[str]
    suggestions: list[StaffLotPartners]
    history: list[GroupEventView]

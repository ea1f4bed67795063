"""`/staff/organisations` and `/staff/awards`: what the award notices say of firms (issue 14; docs/awards.md).

- `/staff/organisations`: the firms that won most, found by name; `/staff/organisations/{id}`: one firm's
  record, its name variants and how its awards were joined (the resolution's evidence), its member firm;
- `/staff/organisations/links`: the members' links proposed by name, confirmed or refused (audited changes);
- `/staff/awards/network`: the co-bidding network of the cluster's members, a server-drawn picture and its table;
- `/staff/awards/suggestions/{source}/{source_id}`: the firms that won similar contracts, the cluster's apart.

Pages that name member firms next to their awards record a `view` line in the audit trail.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from consortium.errors import ConsortiumError
from consortium.track_record import award_suggestions
from watch.awards import cobidding_network, firm_awards, list_organisations, organisation_members
from watch.organisations import LinkError, decide_link, link_proposals

from ...audit import record_audit
from ...deps import EngineDep, LanguageDep, StaffUser
from ...i18n import translations
from ...network import network_svg
from ...pages import render
from ..tender import tender_path

router = APIRouter()
HEAD = ("/static/staff.css", "/static/awards.css")


@router.get("/organisations")
def organisations(
    request: Request,
    user: StaffUser,
    engine: EngineDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    found = list_organisations(engine, search=q)
    proposed = len(link_proposals(engine))
    record_audit(engine, staff=user, action="view", what="organisations", subject=f"search {q!r}: {len(found)}")
    return render(request, "staff/organisations/list.html", {"found": found, "q": q, "proposed": proposed})


@router.get("/organisations/links")
def links(
    request: Request, user: StaffUser, engine: EngineDep, show: Literal["proposed", "confirmed", "refused"] = "proposed"
) -> HTMLResponse:
    found = link_proposals(engine, status=show)
    record_audit(engine, staff=user, action="view", what="organisation links", subject=f"{show}: {len(found)}")
    done = request.query_params.get("done")
    return render(
        request,
        "staff/organisations/links.html",
        {"links": found, "show": show, "done": done if done in ("confirmed", "refused") else None},
    )


@router.post("/organisations/links")
def decide(
    user: StaffUser,
    engine: EngineDep,
    member_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    organisation_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    decision: Annotated[Literal["confirm", "refuse"], Form()],
) -> Response:
    """Confirm or refuse one link; the audit line is committed with the change."""
    accept = decision == "confirm"
    with Session(engine) as session:
        try:
            decide_link(
                session.connection(),
                member_id=member_id,
                organisation_id=organisation_id,
                accept=accept,
                by=user.email,
            )
        except LinkError:
            raise HTTPException(status_code=404) from None
        record_audit(
            session,
            staff=user,
            action="change",
            what="organisation link",
            subject=f"member {member_id} is organisation {organisation_id}: {'confirmed' if accept else 'refused'}",
        )
        session.commit()
    return RedirectResponse(f"/staff/organisations/links?done={'confirmed' if accept else 'refused'}", status_code=303)


@router.get("/organisations/{organisation_id}")
def organisation(
    request: Request, organisation_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: StaffUser, engine: EngineDep
) -> HTMLResponse:
    firm = firm_awards(engine, organisation_id=organisation_id)
    if firm is None:
        raise HTTPException(status_code=404)
    members = organisation_members(engine, organisation_id=organisation_id)
    record_audit(engine, staff=user, action="view", what="organisation", subject=f"{firm.name} #{organisation_id}")
    return render(
        request,
        "staff/organisations/page.html",
        {"firm": firm, "members": members, "tender_path": tender_path, "staff_links": True},
    )


@router.get("/awards/network")
def network(request: Request, user: StaffUser, engine: EngineDep, language: LanguageDep) -> HTMLResponse:
    found = cobidding_network(engine)
    record_audit(engine, staff=user, action="view", what="co-bidding network", subject=f"{len(found.nodes)} members")
    gettext = translations(language).gettext
    picture = network_svg(
        found,
        title=gettext("Co-bidding network of the cluster's members"),
        description=gettext(
            "Each dot is a member firm, sized by the contracts it won; "
            "a line joins two firms that won contracts together, thicker the more they did."
        ),
        wins_text=gettext("%(name)s: contracts won: %(n)s"),
        pair_text=gettext("%(a)s and %(b)s: contracts won together: %(n)s"),
    )
    names = {node.member_id: node.name for node in found.nodes}
    return render(request, "staff/awards/network.html", {"network": found, "picture": picture, "names": names})


@router.get("/awards/suggestions/{source}/{source_id:path}")
def suggestions(request: Request, source: str, source_id: str, user: StaffUser, engine: EngineDep) -> HTMLResponse:
    try:
        found = award_suggestions(engine, tender=f"{source}:{source_id}")
    except ConsortiumError:
        raise HTTPException(status_code=404) from None
    subject = f"{source} {source_id}: {found.tender.title}"
    record_audit(engine, staff=user, action="view", what="award suggestions", subject=subject)
    return render(
        request,
        "staff/awards/suggestions.html",
        {"found": found, "tender_path": tender_path(source, source_id)},
    )

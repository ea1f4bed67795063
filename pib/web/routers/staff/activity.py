"""`/staff/activity`: charts of what the cluster does (issue 11 point 5): tenders per week per source,
interests and reveals per month, partner groups formed, submitted and won; each chart with its table."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from consortium.activity import monthly_activity
from crawlers.crawl.dashboard import tenders_per_week
from crawlers.crawl.runner import brussels_today

from ...charts import Series, bar_chart
from ...deps import EngineDep, LanguageDep, StaffUser
from ...i18n import format_date, translate
from ...pages import N_, render

router = APIRouter()


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup
    series: list[Series]
    categories: list[str]


def _chart(language: str, title: str, categories: list[str], series: list[Series], *, stacked: bool) -> Chart:
    named = [Series(translate(language, item.name), item.values) for item in series]
    title = translate(language, title)
    svg = bar_chart(title=title, categories=categories, series=named, stacked=stacked) if named else Markup("")
    return Chart(title, svg, named, categories)


@router.get("/activity")
def activity(request: Request, _user: StaffUser, engine: EngineDep, language: LanguageDep) -> HTMLResponse:
    today = brussels_today()
    mondays, per_source = tenders_per_week(engine, today=today)
    monthly = monthly_activity(engine, today=today)
    weeks = [format_date(monday, language, "d MMM") for monday in mondays]
    months = [format_date(month, language, "MMM yyyy") for month in monthly.months]
    charts = [
        _chart(
            language,
            N_("Tenders per week, by source"),
            weeks,
            [Series(name, values) for name, values in per_source.items()],
            stacked=True,
        ),
        _chart(
            language,
            N_("Interests and reveals per month"),
            months,
            [
                Series(N_("interests"), monthly.interests),
                Series(N_("reveals asked"), monthly.reveals_asked),
                Series(N_("reveals agreed"), monthly.reveals_agreed),
            ],
            stacked=False,
        ),
        _chart(
            language,
            N_("Partner groups per month"),
            months,
            [
                Series(N_("formed"), monthly.groups_formed),
                Series(N_("submitted"), monthly.groups_submitted),
                Series(N_("won"), monthly.groups_won),
            ],
            stacked=False,
        ),
    ]
    return render(request, "staff/activity.html", {"charts": charts})

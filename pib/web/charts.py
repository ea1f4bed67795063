"""Small charts drawn on the server as inline SVG: no script, no third-party host, nothing the CSP refuses.

Each chart is an `<svg role="img">` named by its `<title>` (and `<desc>`), with a `<title>` on every bar for
the pointer; colours come from classes styled in `static/staff.css` (`series-0`, `series-1`...). A chart is
never the only way to the numbers: the pages put the same values in a table next to it (`<details>`).

    bar_chart(title="Tenders per week", categories=["W40", "W41"], series=[Series("ted", [3, 5])])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from markupsafe import Markup

_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def _ticks(top: int) -> int:
    """A round top for the axis, at least `top`.

    >>> [_ticks(n) for n in (0, 1, 7, 12, 48, 101, 2400)]
    [1, 1, 10, 20, 50, 200, 5000]
    """
    if top <= 1:
        return 1
    step = 1
    while True:
        for nice in (1, 2, 5):
            if nice * step >= top:
                return nice * step
        step *= 10


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    description: str = "",
    stacked: bool = False,
    width: int = 720,
    height: int = 220,
) -> Markup:
    """Bars per category, one colour per series (side by side, or stacked), an axis with its top, a legend."""
    if any(len(item.values) != len(categories) for item in series):
        raise ValueError(f"bar_chart {title!r}: every series needs one value per category ({len(categories)})")
    ident = f"chart-{next(_ids)}"
    left, right, top_margin, bottom = 40, 8, 24 if len(series) > 1 else 8, 22
    plot_w, plot_h = width - left - right, height - top_margin - bottom
    totals = [sum(item.values[i] for item in series) for i in range(len(categories))]
    peak = max(totals if stacked else [v for item in series for v in item.values] or [0], default=0)
    top = _ticks(peak)
    slot = plot_w / max(1, len(categories))
    bar_w = slot * 0.8 / (1 if stacked else max(1, len(series)))
    parts = [
        Markup(
            '<svg class="chart" role="img" aria-labelledby="{0}-t{1}" viewBox="0 0 {2} {3}" width="{2}" height="{3}"'
            ' preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        ).format(ident, Markup(f" {ident}-d") if description else "", width, height),
        Markup('<title id="{}-t">{}</title>').format(ident, title),
    ]
    if description:
        parts.append(Markup('<desc id="{}-d">{}</desc>').format(ident, description))
    base = top_margin + plot_h
    for value, level in ((0, base), (top, top_margin)):
        parts.append(
            Markup('<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>').format(left, width - right, level, level)
        )
        parts.append(
            Markup('<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>').format(left - 4, level + 4, value)
        )
    for i, category in enumerate(categories):
        stack = 0.0
        for n, item in enumerate(series):
            value = item.values[i]
            if not value:
                continue
            h = plot_h * value / top
            x = left + slot * i + slot * 0.1 + (0 if stacked else n * bar_w)
            y = base - stack - h
            stack += h if stacked else 0
            parts.append(
                Markup(
                    '<rect class="series-{}" x="{}" y="{}" width="{}" height="{}"><title>{} · {}: {}</title></rect>'
                ).format(n, _number(x), _number(y), _number(max(bar_w - 1, 1)), _number(h), category, item.name, value)
            )
    every = max(1, round(len(categories) / 8))
    for i, category in enumerate(categories):
        if i % every == 0:
            x = left + slot * i + slot / 2
            parts.append(
                Markup('<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>').format(
                    _number(x), height - 6, category
                )
            )
    if len(series) > 1:
        x = left
        for n, item in enumerate(series):
            parts.append(Markup('<rect class="series-{}" x="{}" y="6" width="10" height="10"/>').format(n, x))
            parts.append(Markup('<text class="legend" x="{}" y="15">{}</text>').format(x + 14, item.name))
            x += 24 + 7 * len(item.name)
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def sparkline(
    *, title: str, values: Sequence[int], labels: Sequence[str], width: int = 180, height: int = 36
) -> Markup:
    """A row of thin bars (notices per day), its largest value written at the end; zero days drawn as a tick."""
    if len(values) != len(labels):
        raise ValueError(f"sparkline {title!r}: {len(values)} values for {len(labels)} labels")
    ident = f"spark-{next(_ids)}"
    top = max(values, default=0) or 1
    plot_w = width - 34
    slot = plot_w / max(1, len(values))
    parts = [
        Markup(
            '<svg class="sparkline" role="img" aria-labelledby="{0}-t" viewBox="0 0 {1} {2}" width="{1}" height="{2}"'
            ' xmlns="http://www.w3.org/2000/svg">'
        ).format(ident, width, height),
        Markup('<title id="{}-t">{}</title>').format(ident, title),
    ]
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = max(1.0, (height - 4) * value / top)
        parts.append(
            Markup('<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>').format(
                "bar" if value else "zero",
                _number(i * slot),
                _number(height - 2 - h),
                _number(max(slot - 1, 1)),
                _number(h),
                label,
                value,
            )
        )
    parts.append(Markup('<text class="axis" x="{}" y="{}">{}</text>').format(plot_w + 4, 12, max(values, default=0)))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)

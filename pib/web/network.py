"""The co-bidding network drawn on the server as inline SVG (issue 14, item 3): no script, nothing the CSP refuses.

Members sit on a circle (alphabetical order, so a firm is found where it was last time), each a dot sized by the
contracts it won and labelled with its name, written outward from the circle so labels do not cross the lines;
a line joins two members that won contracts together, thicker the more they did. Every dot and line has its
`<title>`; the page lists the same pairs in a table (a picture is never the only way to the facts).
"""

from __future__ import annotations

import math
from itertools import count

from markupsafe import Markup, escape

from watch.awards import CoBiddingNetwork

_ids = count(1)
LABEL_ROOM = 230
"""Room left on each side for the labels (a long firm name is cut at `LABEL_CHARS`)."""
LABEL_CHARS = 30


def _label(name: str) -> str:
    """
    >>> _label("École Numérique SA"), len(_label("x" * 80))
    ('École Numérique SA', 30)
    """
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def network_svg(network: CoBiddingNetwork, *, title: str, description: str, wins_text: str, pair_text: str) -> Markup:
    """The picture of `network`; `wins_text` (`%(name)s`, `%(n)s`) and `pair_text` (`%(a)s`, `%(b)s`, `%(n)s`) are the
    reader's language's tooltips."""
    nodes = network.nodes
    ident = f"network-{next(_ids)}"
    radius = max(120.0, min(300.0, 28.0 * len(nodes) / math.pi))
    height, width = int(2 * radius + 80), int(2 * radius + 2 * LABEL_ROOM)
    cx, cy = width / 2, height / 2
    place: dict[int, tuple[float, float, float]] = {}
    for index, node in enumerate(nodes):
        angle = 2 * math.pi * index / max(len(nodes), 1) - math.pi / 2
        place[node.member_id] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle), angle)
    names = {node.member_id: node.name for node in nodes}
    parts = [
        f'<svg class="network" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>',
        f'<circle class="ring" cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}"/>',
    ]
    for edge in network.edges:
        if edge.source not in place or edge.target not in place:
            continue
        (x1, y1, _), (x2, y2, _) = place[edge.source][:3], place[edge.target][:3]
        tip = pair_text % {"a": names[edge.source], "b": names[edge.target], "n": edge.together}
        parts.append(
            f'<line class="edge weight-{min(edge.together, 5)}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" '
            f'y2="{y2:.1f}"><title>{escape(tip)}</title></line>'
        )
    for node in nodes:
        x, y, angle = place[node.member_id]
        size = 6 + 3 * math.sqrt(node.wins)
        outward = math.cos(angle) >= 0
        lx = x + (size + 6) * (1 if outward else -1)
        tip = wins_text % {"name": node.name, "n": node.wins}
        parts.append(
            f'<g class="node{" idle" if not node.wins else ""}"><title>{escape(tip)}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}"/>'
            f'<text x="{lx:.1f}" y="{y + 4:.1f}" text-anchor="{"start" if outward else "end"}">'
            f"{escape(_label(node.name))}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))

"""The trend chart, drawn on the server as inline SVG (no script, no external library)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

COLORS = {
    "critical": "#7f1d1d",
    "high": "#dc2626",
    "medium": "#f59e0b",
    "low": "#3b82f6",
    "info": "#9ca3af",
}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 44, 28, 12


def trend_svg(points: Sequence[Mapping[str, Any]], severities: Sequence[str]) -> Markup:
    """Stacked bars: open exposures by severity after each monitor run."""
    if not points:
        return Markup('<p class="muted">No monitor run yet.</p>')
    totals = [sum(int(p.get(s, 0)) for s in severities) for p in points]
    peak = max(max(totals), 1)
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / len(points)
    bar = max(2.0, min(36.0, step * 0.7))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="Open exposures by severity per run">',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" class="axis">{peak}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" class="axis">0</text>',
    ]
    for index, point in enumerate(points):
        x = LEFT + index * step + (step - bar) / 2
        y = float(TOP + plot_h)
        for severity in reversed(severities):
            count = int(point.get(severity, 0))
            if not count:
                continue
            height = plot_h * count / peak
            y -= height
            label = escape(f"run {point['run']}: {count} {severity}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{COLORS.get(severity, "#555")}"><title>{label}</title></rect>'
            )
        if len(points) <= 20 or index % max(1, len(points) // 10) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                f'class="axis">{escape(str(point["run"]))}</text>'
            )
    legend_x = LEFT
    for severity in severities:
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 8}" width="8" height="8" '
            f'fill="{COLORS.get(severity, "#555")}"/>'
        )
        legend_x += 70
    parts.append("</svg>")
    return Markup("".join(parts))

"""Inline SVG dot plot of DNS convergence times (metrics named ``dns_convergence_s``)."""

from __future__ import annotations

import math
from html import escape

METRIC = "dns_convergence_s"
_ROW_H, _LABEL_W, _PLOT_W, _PAD = 22, 260, 520, 30


def _label(metric: dict) -> str:
    parts = [str(metric.get("scenario", "-"))]
    for key in ("ip_family", "check"):
        value = metric.get(key)
        if value and value != "-":
            parts.append(str(value))
    return " · ".join(parts)


def _nice_max(value: float) -> float:
    """Round the axis end up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def convergence_plot(metrics: list[dict]) -> str:
    """One row per scenario (and family / check), one dot per measurement; '' when there is none."""
    rows: dict[str, list[float]] = {}
    for metric in metrics:
        if metric.get("name") == METRIC:
            rows.setdefault(_label(metric), []).append(float(metric["value"]))
    if not rows:
        return ""
    x_max = _nice_max(max(max(values) for values in rows.values()))
    height = _PAD * 2 + _ROW_H * len(rows)
    width = _LABEL_W + _PLOT_W + _PAD

    def x(value: float) -> float:
        return _LABEL_W + _PLOT_W * value / x_max

    parts = [f'<svg class="plot" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="DNS convergence seconds">']
    axis_y = height - _PAD
    for i in range(6):  # grid lines and tick labels
        value = x_max * i / 5
        parts.append(f'<line x1="{x(value):.1f}" y1="{_PAD - 6}" x2="{x(value):.1f}" y2="{axis_y}" class="grid"/>')
        parts.append(f'<text x="{x(value):.1f}" y="{axis_y + 16}" text-anchor="middle">{value:g}</text>')
    parts.append(f'<text x="{_LABEL_W + _PLOT_W / 2}" y="{_PAD - 12}" text-anchor="middle">seconds until DNS '
                 f'answered as expected</text>')
    for index, (label, values) in enumerate(sorted(rows.items())):
        y = _PAD + _ROW_H * index + _ROW_H / 2
        parts.append(f'<text x="{_LABEL_W - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        for value in values:
            parts.append(f'<circle cx="{x(value):.1f}" cy="{y:.1f}" r="5" class="dot">'
                         f'<title>{escape(label)}: {value:.2f} s</title></circle>')
    parts.append("</svg>")
    return "\n".join(parts)

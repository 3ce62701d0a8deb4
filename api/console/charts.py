"""Small SVG charts drawn on the server: no chart library, nothing for the browser to run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from markupsafe import Markup

from services.console.stats import HourBucket


@dataclass(frozen=True)
class Series:
    label: str
    css_class: str  # colours live in console.css


# A chart scales to its box, its labels with it: drawn 720 wide they are unreadable on a
# phone. Each chart is therefore drawn twice, wide and narrow, and console.css shows the
# one that fits (.chart-wide, .chart-narrow).
NARROW = 360


def for_every_width(draw: Callable[..., Markup], *args: Any, **narrow: Any) -> Markup:
    """`draw(*args)` at its default width and again `NARROW` wide (with `narrow` options)."""
    wide = draw(*args)
    small = draw(*args, width=NARROW, **narrow)
    return Markup(f'<div class="chart-wide">{wide}</div><div class="chart-narrow">{small}</div>')


def hourly_bars(
    buckets: Sequence[HourBucket], *, width: int = 720, height: int = 220, label_every: int = 3
) -> Markup:
    """Stacked bars per hour: customer, AI, operator and automatic (no model) messages."""
    series = (
        Series("customer", "s-customer"), Series("AI", "s-ai"), Series("operator", "s-op"),
        Series("automatic", "s-auto"),
    )  # fmt: skip
    top = max((b.total for b in buckets), default=0) or 1
    left, bottom, gap = 28, 20, 2
    plot_h = height - bottom - 8
    bar_w = max(2.0, (width - left) / max(1, len(buckets)) - gap)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Messages per hour, last {len(buckets)} hours">',
        f'<text class="axis" x="0" y="12">{top}</text>',
        f'<text class="axis" x="0" y="{height - bottom}">0</text>',
        f'<line class="grid" x1="{left}" y1="{height - bottom}" x2="{width}" '
        f'y2="{height - bottom}"/>',
    ]
    for i, bucket in enumerate(buckets):
        x = left + i * (bar_w + gap)
        y: float = height - bottom
        for value, s in zip(
            (bucket.customer, bucket.ai, bucket.operator, bucket.automatic), series, strict=True
        ):
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(
                f'<rect class="{s.css_class}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}"><title>{bucket.start:%H:00} {escape(s.label)}: {value}</title>'
                "</rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text class="axis" x="{x:.1f}" y="{height - 4}">{bucket.start:%H}h</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bar(parts: Sequence[tuple[str, int, str]], *, width: int = 720) -> Markup:
    """One horizontal bar split by share: (label, value, css class)."""
    total = sum(value for _, value, _ in parts)
    svg = [
        f'<svg class="chart share" viewBox="0 0 {width} 28" role="img" aria-label="Share">',
    ]
    if not total:
        svg.append(f'<rect class="s-empty" x="0" y="0" width="{width}" height="28"/>')
    x = 0.0
    for label, value, css in parts:
        if not value:
            continue
        w = width * value / total
        svg.append(
            f'<rect class="{css}" x="{x:.1f}" y="0" width="{w:.1f}" height="28">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        x += w
    svg.append("</svg>")
    return Markup("".join(svg))


def level_bars(
    values: Sequence[tuple[str, int]], *, width: int = 720, label_w: int = 110
) -> Markup:
    """Labelled horizontal bars, e.g. queue depths."""
    top = max((v for _, v in values), default=0) or 1
    row = 26
    height = row * max(1, len(values))
    svg = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="Levels">']
    for i, (label, value) in enumerate(values):
        y = i * row
        w = (width - label_w - 40) * value / top
        svg.append(
            f'<text class="axis" x="0" y="{y + 17}">{escape(label)}</text>'
            f'<rect class="s-level" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="18"/>'
            f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + 17}">{value}</text>'
        )
    svg.append("</svg>")
    return Markup("".join(svg))

"""Charts as plain data for the templates: inline SVG bars, no script, no inline style.

Each bar is a rectangle whose size is an SVG attribute (not a ``style``), which the page's
Content-Security-Policy allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

CHART_WIDTH = 600
CHART_HEIGHT = 120
MAX_BAR_WIDTH = 40


def every_day(first: date, last: date, values: dict[str, int]) -> list[tuple[str, int]]:
    """One point per day of ``first..last`` (ISO date labels), 0 where ``values`` has none."""
    days = (last - first).days + 1
    labels = [(first + timedelta(days=n)).isoformat() for n in range(max(0, min(days, 366)))]
    return [(label, values.get(label, 0)) for label in labels]


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


def columns(points: Sequence[tuple[str, int]]) -> list[Column]:
    """Vertical bars for ``(label, value)`` points, scaled to the tallest."""
    if not points:
        return []
    tallest = max(value for _, value in points) or 1
    step = CHART_WIDTH / len(points)
    width = min(step * 0.8, MAX_BAR_WIDTH)
    return [
        Column(
            label=label,
            value=value,
            x=round(i * step + (step - width) / 2, 2),
            y=round(CHART_HEIGHT - CHART_HEIGHT * value / tallest, 2),
            width=round(width, 2),
            height=round(CHART_HEIGHT * value / tallest, 2),
        )
        for i, (label, value) in enumerate(points)
    ]


def share_pct(part: Decimal | int, whole: Decimal | int) -> int:
    """``part`` as a whole percentage of ``whole`` (0 when there is nothing)."""
    if not whole:
        return 0
    return round(Decimal(part) * 100 / Decimal(whole))

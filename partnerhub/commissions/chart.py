"""The dashboard's bar chart of commission per month, as geometry for a server-rendered SVG.

No script and no chart library: the template draws one ``<rect>`` per month from these numbers, with a
title and description for screen readers and the same figures as a table below it. Months whose
reversals outweigh their commissions get a bar below the zero line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format

from partnerhub.commissions.queries import MonthSeries

WIDTH = 640
HEIGHT = 220
LEFT = 56  # room for the axis labels
RIGHT = 8
TOP = 12
BOTTOM = 28  # room for the month labels
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label: str  # the month, short ("Mar")
    full_label: str  # the month and year ("March 2026")
    amount: Decimal
    negative: bool


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Chart:
    currency: str
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    zero_y: float
    total: Decimal
    maximum: Decimal
    empty: bool


def _nice_step(span: Decimal) -> Decimal:
    """A round step (1, 2 or 5 × 10^n) that splits `span` into at most four parts."""
    if span <= 0:
        return Decimal(1)
    raw = span / 4
    magnitude = Decimal(10) ** (raw.adjusted())
    for factor in (1, 2, 5, 10):
        step = magnitude * factor
        if step >= raw:
            return step
    return magnitude * 10


def build(series: MonthSeries) -> Chart:
    amounts = [p.amount for p in series.points]
    high = max([ZERO, *amounts])
    low = min([ZERO, *amounts])
    step = _nice_step(high - low)
    top = (high / step).to_integral_value(rounding="ROUND_CEILING") * step if high > 0 else ZERO
    bottom = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step if low < 0 else ZERO
    if top == bottom:
        top = step
    plot_h = HEIGHT - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    scale = Decimal(plot_h) / (top - bottom)

    def y_of(amount: Decimal) -> float:
        return round(float(TOP + (top - amount) * scale), 2)

    zero_y = y_of(ZERO)
    slot = plot_w / max(len(amounts), 1)
    bars = []
    for index, point in enumerate(series.points):
        y = y_of(point.amount)
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 2),
                y=min(y, zero_y),
                width=round(slot * 0.7, 2),
                height=round(abs(zero_y - y), 2),
                label_x=round(LEFT + index * slot + slot / 2, 2),
                label=date_format(point.month, "M"),
                full_label=date_format(point.month, "YEAR_MONTH_FORMAT"),
                amount=point.amount,
                negative=point.amount < 0,
            )
        )
    ticks = []
    value = bottom
    while value <= top:
        ticks.append(Tick(y=y_of(value), amount=value))
        value += step
    return Chart(
        currency=series.currency,
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks,
        zero_y=zero_y,
        total=series.total,
        maximum=high,
        empty=not any(amounts),
    )

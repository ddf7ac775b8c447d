"""Horizontal bar charts drawn on the server as inline SVG (submissions/_bar_chart.html).

Nothing runs in the browser and nothing is fetched: the page carries the picture. Bars go
across, one category under another, its name on a line of its own above its bars, so that
the chart reads on a phone as on a desktop: the SVG is as wide as its column (width 100%),
the bars' lengths are percentages of it and the words keep their size, never shrunk with
the picture. The table beside each chart carries the same figures for screen readers (the
SVG is one image, named by its caption) and for anyone who wants the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# Geometry, in CSS pixels; the bars' lengths are percentages of the chart's width.
LABEL_LINE = 20  # a category's name, above its bars
BAR = 16
BAR_GAP = 4
ROW_GAP = 12
TOP = 4
# The longest bar leaves room after it for its value ("1,751,800.00元" at 13 px is about
# 100 px: a third of a phone's column).
LONGEST_BAR_PERCENT = Decimal(62)
# A name longer than this is cut (with "…") in the picture; the table has it whole.
LABEL_CHARS = 22


@dataclass(frozen=True)
class Bar:
    series: int  # which series (its legend entry and its colour class)
    y: int
    text_y: int  # the value's baseline, level with the bar
    width: str  # a percentage of the chart's width, "37.5%"
    value_x: str  # where the value is written, just after the bar
    text: str  # the value as the table writes it


@dataclass(frozen=True)
class Category:
    label: str  # as drawn (perhaps cut)
    full_label: str
    label_y: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class BarChart:
    ident: str
    caption: str
    series: tuple[str, ...]
    categories: tuple[Category, ...]
    height: int

    @property
    def legend(self) -> list[tuple[int, str]]:
        """(series, name) when there is more than one series to tell apart."""
        return list(enumerate(self.series)) if len(self.series) > 1 else []


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}%"


def bar_chart(
    ident: str,
    caption: str,
    series: Sequence[str],
    rows: Sequence[tuple[str, Sequence[tuple[Decimal | int | None, str]]]],
) -> BarChart:
    """A chart of `rows`: (category name, [(value, value as written)] one per series).
    None is no value (nothing drawn, the words say so); bars scale to the largest value."""
    largest = max(
        (Decimal(value) for _label, values in rows for value, _text in values if value),
        default=Decimal(0),
    )
    categories = []
    y = TOP
    for label, values in rows:
        label_y = y + LABEL_LINE - 6
        y += LABEL_LINE
        bars = []
        for index, (value, text) in enumerate(values):
            share = Decimal(value or 0) / largest * LONGEST_BAR_PERCENT if largest else Decimal(0)
            bars.append(
                Bar(index, y, y + BAR - 4, _percent(share), _percent(share + Decimal(1)), text)
            )
            y += BAR + BAR_GAP
        y += ROW_GAP - BAR_GAP
        cut = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        categories.append(Category(cut, label, label_y, tuple(bars)))
    return BarChart(ident, caption, tuple(series), tuple(categories), y)

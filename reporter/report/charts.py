"""The report's charts, rendered on the server as PNG (email clients show no SVG and run no JavaScript).

Every chart's numbers are also in a table of the report, so it reads with images blocked. Colours come
from Okabe and Ito's colour-blind-safe palette (delivered blue, failed vermillion: apart under
deuteranopia and protanopia, see tests/test_charts.py); states also differ by a word in the table.
PNGs are drawn at 2x (sharp on phones) and reduced to a 64-colour palette to stay small.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

BLUE, SKY, VERMILLION, ORANGE, GREY = "#0072B2", "#56B4E9", "#D55E00", "#E69F00", "#999999"
CLASS_COLOURS = {
    "read": "#004C7A",
    "delivered": BLUE,
    "submitted": "#BBBBBB",
    "queued": "#DDDDDD",
    "failed": VERMILLION,
    "undelivered": ORANGE,
    "unknown": "#555555",
}
STATE_COLOURS = {"worse": VERMILLION, "better": BLUE, "usual": GREY, "no baseline": "#DDDDDD"}
# 420 px as drawn (after tight cropping), shown at up to 520 px on a desktop and about 360 px on a
# phone, so 10 pt text stays legible at either; drawn at 2x so it is sharp on phone screens.
WIDTH_IN, DPI, SCALE = 4.2, 100, 2
CHART_BYTES_LIMIT = 80_000  # per PNG; the email's images travel beside its HTML


@dataclass(frozen=True)
class Chart:
    """A PNG and what it shows: `name` becomes the email's Content-ID and the file stem."""

    name: str
    alt: str
    png: bytes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # A fixed date in the metadata keeps the bytes identical across runs.
    figure.savefig(buffer, format="png", dpi=DPI * SCALE, metadata={"Software": None}, bbox_inches="tight")
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    small = io.BytesIO()
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(small, format="PNG", optimize=True)
    return small.getvalue()


def _figure(height: float) -> tuple[Figure, Axes]:
    """A figure of the report's width, laid out by matplotlib's constrained layout. Drawn on the Agg
    canvas that savefig picks for PNG, without pyplot (no figure manager, 0.2 s less to import)."""
    figure = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    return figure, figure.subplots()


def thousands(ax: Axes, axis: str = "y", percent: bool = False) -> None:
    """Axis labels with separators (20,000) or as percentages (12.5%), at most six of them."""
    fmt = FuncFormatter(lambda v, _: f"{v:,.3g}%" if percent else f"{v:,.0f}")
    which = ax.yaxis if axis == "y" else ax.xaxis
    which.set_major_formatter(fmt)
    which.set_major_locator(MaxNLocator(nbins=5))


def _legend(figure: Figure, handles: Sequence[Artist], columns: int) -> None:
    """Above the plot, outside the data: constrained layout makes room for it."""
    figure.legend(handles=handles, loc="outside upper left", ncols=columns, fontsize=10, frameon=False)


def _frame(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=10)


def failure_rate_trend(dates: list[str], rates: list[float], low: list[float], high: list[float]) -> Chart:
    """Failure rate per day (line) with the usual range from each day's trailing baseline (band)."""
    figure, ax = _figure(2.4)
    x = list(range(len(dates)))
    ax.fill_between(x, [100 * v for v in low], [100 * v for v in high], color=SKY, alpha=0.35, linewidth=0)
    ax.plot(x, [100 * v for v in rates], color=VERMILLION, marker="o", markersize=3, linewidth=1.5)
    ax.plot(x[-1:], [100 * rates[-1]], marker="o", markersize=7, color=VERMILLION)
    step = max(1, len(dates) // 8)
    ax.set_xticks(x[::step], [d[5:] for d in dates[::step]])
    thousands(ax, percent=True)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("failed", fontsize=10)
    _frame(ax)
    legend = [
        Patch(color=VERMILLION, label="failure rate"),
        Patch(color=SKY, alpha=0.35, label="usual range"),
    ]
    _legend(figure, legend, 2)
    alt = f"Failure rate per day, {dates[0]} to {dates[-1]}: " + ", ".join(
        f"{d[5:]} {100 * r:.1f}%" for d, r in zip(dates[-7:], rates[-7:], strict=True)
    )
    return Chart("failure-rate-trend", alt, _png(figure))


def channels_against_baseline(rows: Sequence[tuple[str, float, float | None, str]]) -> Chart:
    """Bars: each channel's failure rate, coloured by its state against its baseline (tick: baseline)."""
    figure, ax = _figure(0.28 * max(len(rows), 3) + 0.9)
    shown = rows[::-1]
    y = list(range(len(shown)))
    values = [100 * r[1] for r in shown]
    ax.barh(y, values, color=[STATE_COLOURS[r[3]] for r in shown], height=0.7)
    bases = [(i, 100 * r[2]) for i, r in zip(y, shown, strict=True) if r[2] is not None]
    if bases:
        ax.scatter([b for _, b in bases], [i for i, _ in bases], marker="|", s=160, color="#222222", zorder=3)
    for i, v in zip(y, values, strict=True):
        ax.text(v, i, f" {v:.1f}%", va="center", fontsize=10)
    ax.set_xlim(0, 1.25 * max([*values, *(b for _, b in bases), 1.0]))
    ax.set_yticks(y, [r[0] for r in shown])
    thousands(ax, "x", percent=True)
    _frame(ax)
    states = sorted({r[3] for r in rows}, key=list(STATE_COLOURS).index)
    handles: list[Artist] = [Patch(color=STATE_COLOURS[s], label=s) for s in states]
    if bases:
        handles.append(Line2D([], [], marker="|", linestyle="", color="#222222", label="baseline"))
    _legend(figure, handles, 3)
    alt = "Failure rate by channel against its baseline: " + ", ".join(
        f"{r[0]} {100 * r[1]:.1f}% ({r[3]})" for r in rows
    )
    return Chart("failure-rate-by-channel", alt, _png(figure))


def trend_by_class(periods: list[str], series: dict[str, list[int]], unit: str) -> Chart:
    """Stacked bars: messages per day (or hour) by final status class; legend above the bars."""
    figure, ax = _figure(3.2)
    x = list(range(len(periods)))
    bottom = [0] * len(periods)
    for klass, colour in CLASS_COLOURS.items():
        values = series.get(klass)
        if not values:
            continue
        ax.bar(x, values, bottom=bottom, color=colour, label=klass)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(periods) // 8)
    ax.set_xticks(x[::step], [p[5:] if unit == "day" else p for p in periods[::step]])
    thousands(ax)
    _legend(figure, ax.get_legend_handles_labels()[0], 4)
    _frame(ax)
    span = f"{periods[0]} to {periods[-1]}" if periods else "no data"
    alt = f"Messages per {unit} by final status class, {span}"
    return Chart(f"messages-per-{unit}", alt, _png(figure))


def top_codes(rows: list[tuple[str, int]]) -> Chart:
    """Horizontal bars: the failure codes with the most messages."""
    figure, ax = _figure(0.28 * max(len(rows), 3) + 0.6)
    labels = [r[0] for r in rows][::-1]
    values = [r[1] for r in rows][::-1]
    ax.barh(labels, values, color=VERMILLION, height=0.7)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:,}", va="center", fontsize=10)
    ax.set_xlim(0, 1.2 * max([*values, 1]))
    thousands(ax, "x")
    ax.set_xlabel("failed or undelivered messages", fontsize=10)
    _frame(ax)
    alt = "Top failure codes: " + ", ".join(f"{label} {n:,}" for label, n in rows)
    return Chart("top-failure-codes", alt, _png(figure))

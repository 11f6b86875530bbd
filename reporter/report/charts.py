"""The report's charts, rendered on the server as PNG (email clients show no SVG and run no JavaScript).

Every chart's numbers are also in a table of the report, so it reads with images blocked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

CLASS_COLOURS = {
    "read": "#1b7837",
    "delivered": "#5aae61",
    "submitted": "#9ecae1",
    "queued": "#c6dbef",
    "failed": "#d6604d",
    "undelivered": "#f4a582",
    "unknown": "#bdbdbd",
}
_WIDTH_IN, _DPI = 6.2, 100  # about 620 px: fits the 640 px email layout


@dataclass(frozen=True)
class Chart:
    """A PNG and what it shows: `name` becomes the email's Content-ID and the file stem."""

    name: str
    alt: str
    png: bytes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    # A fixed date in the metadata keeps the bytes identical across runs.
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def failure_rate_by_channel(rows: list[tuple[str, float]]) -> Chart:
    """Horizontal bars: failure rate (%) per channel, largest volume first."""
    figure, ax = plt.subplots(figsize=(_WIDTH_IN, 0.3 * max(len(rows), 3) + 0.8))
    labels = [r[0] for r in rows][::-1]
    values = [100 * r[1] for r in rows][::-1]
    ax.barh(labels, values, color="#d6604d")
    ax.set_xlabel("failure rate (%)")
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.1f}%", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    alt = "Failure rate by channel: " + ", ".join(f"{c} {100 * r:.1f}%" for c, r in rows)
    return Chart("failure-rate-by-channel", alt, _png(figure))


def trend_by_class(periods: list[str], series: dict[str, list[int]], unit: str) -> Chart:
    """Stacked bars: messages per day (or hour) by final status class."""
    figure, ax = plt.subplots(figsize=(_WIDTH_IN, 2.6))
    bottom = [0] * len(periods)
    for klass, colour in CLASS_COLOURS.items():
        values = series.get(klass)
        if not values:
            continue
        ax.bar(periods, values, bottom=bottom, color=colour, label=klass)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("messages")
    ax.legend(fontsize=7, ncols=4, frameon=False)
    ax.tick_params(axis="x", labelsize=7, rotation=45 if len(periods) > 8 else 0)
    ax.spines[["top", "right"]].set_visible(False)
    span = f"{periods[0]} to {periods[-1]}" if periods else "no data"
    alt = f"Messages per {unit} by final status class, {span}"
    return Chart(f"messages-per-{unit}", alt, _png(figure))


def top_codes(rows: list[tuple[str, int]]) -> Chart:
    """Horizontal bars: the failure codes with the most messages."""
    figure, ax = plt.subplots(figsize=(_WIDTH_IN, 0.3 * max(len(rows), 3) + 0.8))
    labels = [r[0] for r in rows][::-1]
    values = [r[1] for r in rows][::-1]
    ax.barh(labels, values, color="#f4a582")
    ax.set_xlabel("failed or undelivered messages")
    ax.tick_params(axis="y", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    alt = "Top failure codes: " + ", ".join(f"{label} {n}" for label, n in rows)
    return Chart("top-failure-codes", alt, _png(figure))

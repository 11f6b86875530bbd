"""Charts: colours that stay apart for colour-blind readers, sharp PNGs within their size budget.

Colour vision deficiency is simulated with Machado, Oliveira and Fernandes (2009), severity 1.0, applied
in linear RGB; distances are CIE76 ΔE in CIELAB (D65). ΔE above 20 reads as clearly different colours.
"""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from reporter.report import charts

MACHADO = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "normal": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
}
APART = 20.0  # ΔE


def linear(hex_colour: str) -> tuple[float, ...]:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return tuple(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)


def lab(rgb: tuple[float, ...]) -> tuple[float, float, float]:
    r, g, b = (min(1.0, max(0.0, c)) for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def seen(hex_colour: str, vision: str) -> tuple[float, float, float]:
    rgb = linear(hex_colour)
    return lab(tuple(sum(m * c for m, c in zip(row, rgb, strict=True)) for row in MACHADO[vision]))


def delta_e(a: str, b: str, vision: str) -> float:
    return math.dist(seen(a, vision), seen(b, vision))


@pytest.mark.parametrize("vision", ["normal", "deuteranopia", "protanopia"])
def test_delivered_and_failed_stay_apart(vision):
    colours = charts.CLASS_COLOURS
    assert delta_e(colours["delivered"], colours["failed"], vision) > APART
    assert delta_e(colours["read"], colours["undelivered"], vision) > APART
    assert delta_e(charts.STATE_COLOURS["worse"], charts.STATE_COLOURS["better"], vision) > APART


def test_the_old_palette_fails_the_same_check():
    """The check can fail: the former green and red (#5aae61, #d6604d) merge under deuteranopia."""
    assert delta_e("#5aae61", "#d6604d", "normal") > APART
    assert delta_e("#5aae61", "#d6604d", "deuteranopia") < APART


def test_charts_are_2x_pngs_within_budget():
    rows = [
        (f"Channel {i}", 0.01 * i, 0.01 * (i + 1), ["worse", "better", "usual"][i % 3]) for i in range(14)
    ]
    for chart in (
        charts.channels_against_baseline(rows),
        charts.failure_rate_trend(
            [f"2026-11-{d:02d}" for d in range(1, 31)], [0.1] * 30, [0.08] * 30, [0.12] * 30
        ),
        charts.top_codes([(f"SMS {7000 + i}", 20_000 - 1000 * i) for i in range(10)]),
    ):
        image = Image.open(io.BytesIO(chart.png))
        assert image.width >= 2 * 380  # drawn at twice the size it is laid out at
        assert len(chart.png) <= charts.CHART_BYTES_LIMIT, chart.name
        assert chart.alt


def test_axes_print_thousands_separators():
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    charts.thousands(ax, "x")
    assert ax.xaxis.get_major_formatter()(20000, 0) == "20,000"
    plt.close(figure)

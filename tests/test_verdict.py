"""The verdict and the top problems: the rule by hand, and an incident found in noisy traffic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from reporter.cli import cli
from reporter.generate import Incident, generate
from reporter.report.verdict import Change, baseline_words, cell_alpha, decide, is_worse
from tests.test_report import Report


def cell(
    channel="sms", region="eu", messages=1000, failures=100, days=7, base_messages=7000, base_failures=700
):
    return Change(channel, region, messages, failures, days, base_messages, base_failures)


def test_the_rule_by_hand():
    # 150/1000 against 700/7000 (10%): +5 points; pooled 0.10625, z = 0.05 / 0.010438 = 4.79, p ~ 8e-7.
    spike = cell(failures=150)
    assert spike.points == pytest.approx(5.0)
    assert spike.excess == pytest.approx(50.0)  # 1000 x 10% predicted 100
    assert is_worse(spike, 0.05 / 10)
    assert not is_worse(cell(failures=115), 0.05 / 10)  # +1.5 points: under the minimum effect
    assert not is_worse(cell(messages=40, failures=20), 0.05)  # 50% of 40: too few messages to test
    # 3 cells tested, one too small: alpha is shared by the two.
    assert cell_alpha([cell(), cell(), cell(messages=10)]) == pytest.approx(0.005)


def test_the_verdict_names_the_worst_cell_and_the_days_it_holds():
    quiet, spike = cell(), cell("whatsapp", "in", failures=200, days=1)
    verdict = decide([quiet, spike], [], {"in": "India"})
    assert verdict.level == "worse"
    assert verdict.sentence.startswith(
        "▲ Worse than usual: WhatsApp in India failed 20.0%, +10.0 points against 1 earlier day "
        "(10.0%, p < 0.001)"
    )
    usual = decide([quiet], [])
    assert (usual.level, usual.word, usual.icon) == ("usual", "Usual", "●")
    assert "against the 7 days before (10.0%)" in usual.sentence
    better = decide([cell(failures=40, base_failures=700)], [])
    assert better.sentence.startswith("▼ Better than usual: 4.0% of 1,000 messages failed, -6.0 points")
    none = decide([cell(base_messages=0, base_failures=0, days=0)], [])
    assert none.level == "none" and "no earlier day" in none.sentence
    assert [baseline_words(d) for d in (1, 3, 7)] == ["1 earlier day", "3 earlier days", "the 7 days before"]


INCIDENT = Incident(day=dt.date(2026, 11, 25), channel="whatsapp", region="in", code=7706, rate=0.3)


def traffic(folder: Path, incident: bool) -> Path:
    """Eight days of `reporter generate --realistic` traffic (failure rates per channel and region,
    seasonality, missing receipts); the incident: on the last day 7706 Rate limit hit takes 30% of the
    WhatsApp messages in India that would have been delivered."""
    out = folder / ("incident" if incident else "quiet")
    generate(out, 80_000, "parquet", seed=21, days=8, start=dt.date(2026, 11, 18), realistic=True,
             incident=INCIDENT if incident else None)  # fmt: skip
    return out


@pytest.mark.parametrize("incident", [True, False])
def test_an_incident_is_named_and_quiet_traffic_is_usual(tmp_path, incident):
    out = tmp_path / "r"
    result = CliRunner().invoke(cli, ["run", str(traffic(tmp_path, incident)), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    report = Report((out / "report.html").read_text())
    verdict = next(p for p in report.paragraphs if p.startswith(("▲", "▼", "●", "○")))
    if incident:
        assert verdict.startswith("▲ Worse than usual: WhatsApp in India failed "), verdict
        assert "against the 7 days before" in verdict and "mostly code 7706 Rate limit hit" in verdict
        assert report.headings[0].startswith("1. ▲ WhatsApp in India · code 7706 Rate limit hit")
        assert "Top problems" in report.titles
    else:
        assert verdict.startswith("● Usual: "), verdict
        assert not any(h.split(". ", 1)[1].startswith("▲") for h in report.headings)

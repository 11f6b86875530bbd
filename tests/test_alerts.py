"""Alerts: the significance test by hand, and a spike against quiet noise through reporter nightly."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from reporter.alerts import AlertRule, evaluate, rise_p_value
from reporter.cli import cli


def test_rise_p_value_by_hand():
    # 150/1000 against 350/7000: pooled 0.0625,
    # spread sqrt(0.0625 * 0.9375 * (1/1000 + 1/7000)) = 0.008183,
    # z = 0.10 / 0.008183 = 12.2: vanishingly unlikely by chance.
    assert rise_p_value(150, 1000, 350, 7000) < 1e-30
    # 3/20 against 350/7000: pooled 0.050285, spread 0.048935, z = 2.0435, one-sided p = 0.0205.
    assert rise_p_value(3, 20, 350, 7000) == pytest.approx(0.0205, abs=5e-4)
    assert rise_p_value(0, 0, 10, 100) == 1.0


def comparison(**row):
    base = {
        "channel": "sms",
        "region": "eu",
        "messages": 1000,
        "failures": 150,
        "failure_rate": 0.15,
        "baseline_messages": 7000,
        "baseline_failures": 350,
        "baseline_rate": 0.05,
        "change_points": 10.0,
    }
    return pl.DataFrame([{**base, **row}])


def test_rules():
    rise = AlertRule("rise", rise_points_above=5, min_messages=100, significance=0.01)
    high = AlertRule("high", failure_rate_above=0.1, min_messages=100)
    assert [a.rule for a in evaluate(comparison(), (rise, high))] == ["rise", "high"]
    small = comparison(messages=20, failures=3)
    assert evaluate(small, (rise, high)) == []  # below min_messages
    loose = AlertRule("rise", rise_points_above=5, min_messages=10, significance=0.01)
    assert evaluate(small, (loose,)) == []  # 3/20 is not significant at 0.01 (p = 0.0205)
    assert evaluate(comparison(baseline_messages=None), (rise,)) == []  # no history, no rise


def day_log(day: str, sms_failures: int, wa_failures: int) -> str:
    lines = ["event_time,message_id,channel,status_code,region"]
    for channel, region, total, failures in (
        ("sms", "eu", 200, sms_failures),
        ("whatsapp", "uk", 10, wa_failures),
    ):
        for i in range(total):
            final = 7203 if channel == "sms" and i < failures else 7722 if i < failures else 7500
            lines.append(f"{day}T10:00:00Z,{day}-{channel}-{i},{channel},7501,{region}")
            lines.append(f"{day}T10:00:05Z,{day}-{channel}-{i},{channel},{final},{region}")
    return "\n".join(lines) + "\n"


def test_a_spike_alerts_and_low_volume_noise_does_not(tmp_path: Path):
    days = {"2026-11-20": (10, 0), "2026-11-21": (10, 1), "2026-11-22": (10, 0), "2026-11-23": (60, 4)}
    for day, (sms, wa) in days.items():
        (tmp_path / "logs" / day).mkdir(parents=True)
        (tmp_path / "logs" / day / "a.csv").write_text(day_log(day, sms, wa))
    config = tmp_path / "reporter.toml"
    config.write_text(
        "[[alerts]]\nname = 'rise'\nrise_points_above = 5\nmin_messages = 100\nsignificance = 0.01\n"
    )
    common = ["nightly", "--input", str(tmp_path / "logs" / "{date}" / "*.csv"), "--reports",
              str(tmp_path / "reports"), "--config", str(config)]  # fmt: skip
    quiet = CliRunner().invoke(
        cli, [*common, "--from", "2026-11-20", "--to", "2026-11-22", "--fail-on-alert"]
    )
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    spike = CliRunner().invoke(cli, [*common, "--date", "2026-11-23", "--fail-on-alert"])
    assert spike.exit_code == 65
    assert spike.stderr.startswith(
        "reporter: 2026-11-23: alert: sms in eu: failure rate 30.0%, +25.0 points"
    )  # 60/200 vs 30/600
    folder = tmp_path / "reports" / "2026-11-23"
    alerts = json.loads((folder / "manifest.json").read_text())["alerts"]
    assert len(alerts) == 1  # whatsapp in uk went from 1/30 to 4/10 but on 10 messages: no alert
    assert (folder / "email" / "subject.txt").read_text() == (
        "ALERT (1) Worse than usual: 30.5% failed of 210, 2026-11-23\n"
    )
    html = (folder / "report.html").read_text()
    assert "1 alert" in html and "<b>SMS in Europe</b> (rise): failure rate 30.0%, +25.0 points" in html
    # The verdict: 60/200 against the 3 days before, 30/600 (5.0%), with the code behind it.
    assert (
        "<b>▲ Worse than usual:</b> SMS in Europe failed 30.0%, +25.0 points against 3 earlier days "
        "(5.0%, p &lt; 0.001)" in html
    )
    assert "mostly code 7203 Unknown Subscriber address." in html
    # The Failed tile: 64/210 today against 10/210 on 2026-11-22 (4.8%): +25.7 points.
    assert "+25.7 pts vs 22 Nov" in html

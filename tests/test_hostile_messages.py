"""Errors that were internal (exit 70) or misleading: each is now a documented code and one clear line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import trustme
from click.testing import CliRunner

from reporter.cli import cli
from reporter.errors import DeliveryError, EmailContentError, UsageError
from reporter.export import defuse_formulas
from reporter.generate import generate
from reporter.mail import build_message, load_report_email
from tests.test_mail import (  # noqa: F401  (fixtures)
    Inbox,
    _config,
    _send,
    ca,
    report_dir,
    server_tls,
    smtp_server,
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("run")
    generate(root / "logs", 400, "csv", seed=1, start=dt.date(2026, 11, 23))
    assert CliRunner().invoke(cli, ["run", str(root / "logs"), "--out", str(root / "out")]).exit_code == 0
    return str(root / "out" / "warehouse.duckdb")


def test_lists_structs_and_blobs_are_written_to_csv_as_text(warehouse):
    statement = "SELECT [1, 2] AS l, {'x': 'a'} AS s, 'ab'::BLOB AS b, 3 AS n"
    result = CliRunner().invoke(cli, ["sql", statement, "--warehouse", warehouse, "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == 'l,s,b,n\n"[1, 2]","{""x"": ""a""}",6162,3\n'


@pytest.mark.parametrize("value", ["limit=abc", "start=2026-13-01"])
def test_a_param_value_of_the_wrong_kind_is_a_usage_error(warehouse, value):
    result = CliRunner().invoke(cli, ["query", "top_failures", "--param", value, "--warehouse", warehouse])
    assert result.exit_code == 64
    assert result.stderr.startswith(f"reporter: query top_failures: a --param value does not fit ({value})")
    assert result.stderr.count("\n") == 1


def test_csv_defuses_a_leading_tab_and_cr_too():
    frame = pl.DataFrame({"a": ["\t=1", "\rx", "=1", "ok", " \t"]})
    assert defuse_formulas(frame)["a"].to_list() == ["'\t=1", "'\rx", "'=1", "ok", " \t"]


@pytest.mark.parametrize("breaker", ["\v", "\u2028", "\x85", "\x1c", "\f", "\x00"])
def test_a_subject_with_any_line_break_or_control_character_is_refused(report_dir, breaker):  # noqa: F811  (fixtures)
    (report_dir / "email" / "subject.txt").write_text(f"Report{breaker}Bcc: x@example.com\n")
    with pytest.raises(EmailContentError, match="one non-empty line") as caught:
        load_report_email(report_dir)
    assert caught.value.exit_code == 65
    (report_dir / "email" / "subject.txt").write_text("Report\n")
    with pytest.raises(UsageError, match="--subject must be one non-empty line"):
        build_message(
            load_report_email(report_dir), "a@example.com", ["b@example.com"], subject=f"x{breaker}y"
        )


def test_an_untrusted_certificate_with_a_cafile_set_says_so(report_dir, tmp_path, smtp_server, server_tls):  # noqa: F811  (fixtures)
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    port = smtp_server(Inbox(), tls_context=server_tls, require_starttls=True)
    with pytest.raises(DeliveryError, match="TLS certificate not trusted") as caught:
        _send(report_dir, _config(tmp_path, port, cafile=str(other)))
    assert f"trusted by neither the system nor {other}" in str(caught.value)
    assert "set REPORTER_SMTP_CAFILE" not in str(caught.value)


def test_verbose_names_files_with_tabs_and_newlines_on_one_line_each(tmp_path: Path):
    logs = tmp_path / "logs"
    logs.mkdir()
    body = "event_time,message_id,channel,status_code\n2026-11-23T10:00:00Z,m1,sms,7500\n"
    for name in ("a\tb.csv", "c\nd.csv", "e\u2028f.csv"):
        (logs / name).write_text(body)
    (logs / b"g\xff.csv".decode("utf-8", "surrogateescape")).write_text(body)
    result = CliRunner().invoke(cli, ["ingest", str(logs), "--out", str(tmp_path / "out"), "-v"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 6  # header, four files, total
    assert lines[4].endswith("\tunreadable (whole file: unreadable_file)\t0\t0\t0\t0\t0")
    named = [line.split("\t")[0] for line in lines[1:5]]
    assert named == [str(logs / n) for n in ("a\\tb.csv", "c\\nd.csv", "e\\u2028f.csv", "g\\xff.csv")]

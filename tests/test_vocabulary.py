"""The shared vocabulary: rendered into SQL once, and spelled nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from reporter import vocabulary

ROOT = Path(__file__).resolve().parent.parent


def test_rank_and_failure_snippets_evaluate_in_duckdb():
    con = duckdb.connect()
    sql = vocabulary.render(
        "SELECT c, {{ status_rank(c) }}, {{ is_failure(c) }} FROM (VALUES ('read'), ('delivered'), "
        "('failed'), ('undelivered'), ('submitted'), ('queued'), ('unknown'), ('other')) t(c)"
    )
    rows = {c: (rank, failure) for c, rank, failure in con.execute(sql).fetchall()}
    assert rows == {
        "read": (5, False),
        "delivered": (4, False),
        "failed": (3, True),
        "undelivered": (3, True),
        "submitted": (2, False),
        "queued": (1, False),
        "unknown": (0, False),
        "other": (0, False),
    }


@pytest.mark.parametrize(
    ("channel", "destination", "prefix"),
    [
        ("sms", "+447700900123", "+447700"),
        ("rcs", "00491701234567", "+491701"),  # RCS sends to phone numbers too
        ("whatsapp", "07700900123", None),  # national: no country claimed
        ("email", "+447700900123", None),
    ],
)
def test_destination_prefix(channel, destination, prefix):
    sql = vocabulary.render("SELECT {{ destination_prefix($c, $d) }}")
    assert duckdb.connect().execute(sql, {"c": channel, "d": destination}).fetchall() == [(prefix,)]


def test_reached_is_delivered_or_read():
    sql = vocabulary.render(
        "SELECT c FROM (SELECT c, {{ status_rank(c) }} AS r FROM (VALUES ('read'), ('delivered'), "
        "('failed'), ('submitted'), ('queued')) t(c)) WHERE {{ reached(r) }}"
    )
    assert sorted(c for (c,) in duckdb.connect().execute(sql).fetchall()) == ["delivered", "read"]


def test_unknown_marker_is_refused():
    with pytest.raises(KeyError):
        vocabulary.render("SELECT {{ failure_klasses }}")


# A list of two or more of these words, quoted, is a copy of a vocabulary list.
_CLASS_LIST = re.compile(r"""['"](failed|undelivered)['"]\s*,\s*['"](failed|undelivered)['"]""")
_PHONE_LIST = re.compile(r"""['"]sms['"]\s*,\s*['"]mms['"]\s*,\s*['"]whatsapp['"]""")
_REACHED_LIST = re.compile(r"""\(\s*['"](delivered|read)['"]\s*,\s*['"](delivered|read)['"]\s*\)""")
_PENDING_LIST = re.compile(r"""\(\s*['"](submitted|queued)['"]\s*,\s*['"](submitted|queued)['"]\s*\)""")
_RANK_RULE = re.compile(r"""status_rank['"]?\)?\s*>=?\s*\d""")  # the delivered-or-read rule, by number


def test_no_hand_kept_copies_remain():
    files = [*ROOT.joinpath("reporter").rglob("*.py"), *ROOT.joinpath("reporter").rglob("*.sql")]
    files += list(ROOT.joinpath("queries").glob("*.sql"))
    copies = [
        str(p.relative_to(ROOT))
        for p in files
        if p.name != "vocabulary.py"
        and any(
            rule.search(p.read_text())
            for rule in (_CLASS_LIST, _PHONE_LIST, _REACHED_LIST, _PENDING_LIST, _RANK_RULE)
        )
    ]
    assert copies == []


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_median_and_95th_percentile_are_exact_and_interpolated(dialect):
    """Both renderings give the same figures (DuckDB reads Spark's percentile_cont form too): for
    1, 2, 3, 4 the median is 2.5 and the 95th percentile 3 + 0.85 * (4 - 3) = 3.85; NULLs are left out."""
    sql = vocabulary.render(
        "SELECT {{ p50_p95(s) }} FROM (VALUES (1e0), (4e0), (NULL), (3e0), (2e0)) t(s)", dialect
    )
    assert ("quantile_cont(s, [0.5, 0.95])" in sql) == (dialect == "duckdb")
    assert duckdb.connect().execute(sql).fetchall() == [(2.5, 3.85)]


@pytest.mark.parametrize("files", [2, 256, 257, None])
def test_final_event_key_orders_as_its_fields_then_the_file(files):
    """The key DuckDB's arg_max compares sorts events as the tuple (rank, time, code, line, file) of
    their clamped fields, whether the file index is packed into the HUGEINT (up to 256 files, the
    largest values included: no overflow) or kept beside it in a struct (more files, or unknown)."""
    top = [2**bits - 1 for _, bits in vocabulary.FINAL_EVENT_KEY]
    last = (files or 300) - 1
    rows = [  # status_rank, event_time in microseconds, status_code, source_line, source_index
        (*top, last),
        (*top, last - 1),
        (top[0], top[1], top[2], top[3] - 1, last),  # the line before the file
        (4, 1_700_000_000_000_000, 7500, 12, 0),
        (4, 1_700_000_000_000_000, 7500, 12, 1),
        (4, 1_700_000_000_000_000, 7500, 11, last),
        (4, 1_700_000_000_000_000, 7203, 99, last),
        (4, 1_600_000_000_000_000, 9999, 99, last),
        (3, 1_800_000_000_000_000, 7500, 12, 1),
        (-1, 1_800_000_000_000_000, -5, 12, 1),  # clamped to 0: below every other rank and code
        (9, 1_700_000_000_000_000, 7500, 2**41, 0),  # clamped to 7 and 2**40 - 1
    ]

    def clamped(row):
        fields = [min(max(v, 0), t) for v, t in zip(row[:4], top, strict=True)]
        return (*fields, row[4])

    key = vocabulary.final_event_key_sql("duckdb", files)
    assert key.startswith("struct_pack") == (files is None or files > 2**vocabulary.KEY_FILE_BITS)
    values = ", ".join(
        f"({r}, make_timestamp({t}), {c}, {ln}, {s}, {i})" for i, (r, t, c, ln, s) in enumerate(rows)
    )
    got = (
        duckdb.connect()
        .execute(
            f"SELECT i FROM (SELECT *, {key} AS key FROM (VALUES {values}) "
            "t(status_rank, event_time, status_code, source_line, source_index, i)) ORDER BY key, i"
        )
        .fetchall()
    )
    expected = sorted(range(len(rows)), key=lambda i: (clamped(rows[i]), i))
    assert [i for (i,) in got] == expected

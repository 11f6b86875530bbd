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

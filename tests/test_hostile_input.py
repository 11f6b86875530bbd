"""Hostile input to ingest: every good row kept, every bad one quarantined with its reason, no crash.

Each input is a few lines built here; the expected rows and reasons are worked out by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reporter.engine import connect
from reporter.ingest import ingest

GOOD = {"event_time": "2026-11-23T10:00:00Z", "channel": "sms", "status_code": "7500"}


def run(path: Path):
    con = connect()
    result = ingest(con, [str(path)])
    events = con.execute(
        "SELECT message_id, event_time, channel, status_code FROM events ORDER BY source_line"
    )
    kept = events.fetchall()
    quarantine = con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall()
    (stats,) = result.files
    assert stats.reconciles()
    return kept, quarantine


def ndjson(tmp_path: Path, lines: list[str], name: str = "in.ndjson") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "working", ["__c_event_time", "__c_reason", "__json_reason", "__ordinal", "__raw", ""]
)
def test_a_key_named_like_a_working_column_is_just_a_field(tmp_path: Path, working):
    lines = [json.dumps({**GOOD, "message_id": f"m{i}", working: "x"}) for i in (1, 2)]
    kept, quarantine = run(ndjson(tmp_path, lines))
    assert [m for m, *_ in kept] == ["m1", "m2"]
    assert all(t is not None for _, t, *_ in kept)
    assert quarantine == []


@pytest.mark.parametrize("working", ["__c_event_time", "__c_reason", "__in_0", "__c_ordinal"])
def test_a_csv_or_parquet_column_named_like_a_working_column_is_just_a_field(tmp_path: Path, working):
    csv = tmp_path / "in.csv"
    csv.write_text(
        f"event_time,message_id,channel,status_code,{working}\n2026-11-23T10:00:00Z,m1,sms,7500,x\n"
    )
    kept, quarantine = run(csv)
    assert [m for m, *_ in kept] == ["m1"] and kept[0][1] is not None and quarantine == []
    table = pa.table({**{k: [v] for k, v in GOOD.items()}, "message_id": ["m1"], working: ["x"]})
    pq.write_table(table, tmp_path / "in.parquet")
    kept, quarantine = run(tmp_path / "in.parquet")
    assert [m for m, *_ in kept] == ["m1"] and kept[0][1] is not None and quarantine == []


def test_a_parquet_code_out_of_range_is_that_rows_problem(tmp_path: Path):
    codes = [7500.0, 1e300, math.nan, math.inf, 7501.0, -7500.0]
    n = len(codes)
    table = pa.table(
        {
            "event_time": pa.array([1_764_000_000 + i for i in range(n)], pa.int64()),
            "message_id": [f"m{i + 1}" for i in range(n)],
            "channel": ["sms"] * n,
            "status_code": pa.array(codes, pa.float64()),
        }
    )
    pq.write_table(table, tmp_path / "codes.parquet")
    kept, quarantine = run(tmp_path / "codes.parquet")
    assert [(m, code) for m, _, _, code in kept] == [("m1", 7500), ("m5", 7501)]
    assert quarantine == [
        (2, "bad_status_code"),
        (3, "bad_status_code"),
        (4, "bad_status_code"),
        (6, "bad_status_code"),
    ]


def test_parquet_integers_out_of_range_are_that_rows_problem(tmp_path: Path):
    table = pa.table(
        {
            "event_time": pa.array([1_764_000_000, 9_000_000_000_000_000_000, 1_764_000_001], pa.int64()),
            "message_id": ["m1", "m2", "m3"],
            "channel": ["sms"] * 3,
            "status_code": pa.array([7500, 7500, 2**64 - 1], pa.uint64()),
        }
    )
    pq.write_table(table, tmp_path / "ints.parquet")
    kept, quarantine = run(tmp_path / "ints.parquet")
    assert [m for m, *_ in kept] == ["m1"]
    assert quarantine == [(2, "bad_event_time"), (3, "bad_status_code")]


def test_a_parquet_file_with_a_corrupt_footer_is_recorded_whole(tmp_path: Path):
    pq.write_table(pa.table({**{k: [v] for k, v in GOOD.items()}}), tmp_path / "good.parquet")
    data = (tmp_path / "good.parquet").read_bytes()
    (tmp_path / "bad.parquet").write_bytes(data[:-8] + (2**31 - 1).to_bytes(4, "little") + b"PAR1")
    con = connect()
    result = ingest(con, [str(tmp_path / "bad.parquet")])
    assert result.files[0].whole_file == "unreadable_file"
    detail = con.execute("SELECT detail FROM quarantine").fetchall()[0][0]
    assert "ooter" in detail


def test_json_key_spellings_may_differ_from_line_to_line(tmp_path: Path):
    lines = [
        '{"eventTime": "2026-11-23T10:00:00Z", "messageId": "m1", "channel": "sms", "statusCode": 7501}',
        '{"event_time": "2026-11-23T10:01:00Z", "message_id": "m1", "Channel": "sms", "status_code": 7500}',
        '{"timestamp": 1764000000, "transid": "m2", "deliveryChannel": "SMS", "code": "7500"}',
    ]
    kept, quarantine = run(ndjson(tmp_path, lines))
    assert [(m, c, code) for m, _, c, code in kept] == [
        ("m1", "sms", 7501),
        ("m1", "sms", 7500),
        ("m2", "sms", 7500),
    ]
    assert quarantine == []


def test_conflicting_spellings_of_one_key_quarantine_that_row(tmp_path: Path):
    head = '{"event_time": "2026-11-23T10:00:00Z", "status_code": 7500, '
    lines = [
        head + '"message_id": "m1", "Channel": "sms", "channel": "sms"}',
        head + '"message_id": "m2", "Channel": "email", "channel": "sms"}',
        head + '"message_id": "m3", "channel": "sms"}',
    ]
    kept, quarantine = run(ndjson(tmp_path, lines))
    assert [m for m, *_ in kept] == ["m1", "m3"]
    assert quarantine == [(2, "conflicting_keys")]


def _objects(head: str, middles: list[str]) -> list[str]:
    return ["{" + head + middle + "}" for middle in middles]


@pytest.mark.parametrize("shape", ["ndjson", "array"])
def test_a_key_given_twice_with_different_values_quarantines_that_row(tmp_path: Path, shape):
    # DuckDB reads the first of a repeated key: "sms" would be counted for a row that also says "email".
    lines = _objects(
        '"event_time": "2026-11-23T10:00:00Z", "status_code": 7500, ',
        [
            '"message_id": "m1", "channel": "sms"',
            '"message_id": "m2", "channel": "sms", "channel": "email"',
            '"message_id": "m3", "channel": "sms", "channel": "sms", "note": 1, "note": 2',  # same; unread
            '"message_id": "m4", "status_code": 7203, "channel": "sms"',  # status_code twice
            '"message_id": "m5", "chann\\u0065l": "sms", "channel": "voice"',  # one key, escaped once
            '"message_id": "m6", "channel": "sms"',
        ],
    )
    if shape == "ndjson":
        path = ndjson(tmp_path, lines)
    else:
        path = tmp_path / "in.json"
        path.write_text("[\n" + ",\n".join(lines) + "\n]")
    kept, quarantine = run(path)
    assert [(m, c) for m, _, c, _ in kept] == [("m1", "sms"), ("m3", "sms"), ("m6", "sms")]
    assert quarantine == [(2, "conflicting_keys"), (4, "conflicting_keys"), (5, "conflicting_keys")]


def test_a_key_given_twice_in_an_object_nested_too_deep_to_compare_quarantines_that_row(tmp_path: Path):
    # Python's json parser stops at its recursion limit: the two values of "channel" cannot be
    # compared, and the row must not be counted as DuckDB's first value ("sms").
    deep = "[" * 50_000 + "1" + "]" * 50_000
    lines = _objects(
        '"event_time": "2026-11-23T10:00:00Z", "status_code": 7500, ',
        [
            '"message_id": "m1", "channel": "sms"',
            f'"message_id": "m2", "channel": "sms", "channel": "email", "deep": {deep}',
            '"message_id": "m3", "channel": "sms"',
        ],
    )
    kept, quarantine = run(ndjson(tmp_path, lines))
    assert [m for m, *_ in kept] == ["m1", "m3"]
    assert quarantine == [(2, "conflicting_keys")]


def test_a_webhook_body_giving_a_key_twice_with_different_values_is_quarantined(tmp_path: Path):
    def body(transid: str, info: str = "", outer: str = "") -> str:
        return (
            '{"deliveryInfoNotification": {"deliveryInfo": {"timeStamp": "2026-11-23T10:00:00Z", '
            f'"code": "7500", {info}"deliveryChannel": "sms"}}, "transid": "{transid}"{outer}}}}}'
        )

    lines = [
        body("w1"),
        body("w2", info='"code": "7203", '),  # nested twice: 7500 and 7203
        body("w3", info='"code": "7500", '),  # the same value twice: one reading
        body("w4", outer=', "transid": "w5"'),
        body("w6", info='"additionalInfo": "a", "additionalInfo": "b", '),  # a key not read
    ]
    kept, quarantine = run(ndjson(tmp_path, lines))
    assert [m for m, *_ in kept] == ["w1", "w3", "w6"]
    assert quarantine == [(2, "conflicting_keys"), (4, "conflicting_keys")]


@pytest.mark.parametrize(
    "bad",
    [
        '{"event_time": "2026-11-23T10:00:00Z", "message_id": "m2", "channel": "sms", "status_code": 7500,}',
        '{"event_time": "2026-11-23T10:00:00Z", "message_id": "m2", "channel": "sms", "status_code": NaN}',
        '{"event_time": "2026-11-23T10:00:00Z", "message_id": "m2", "channel": "sms", "codes": [7500, ]}',
        '{"event_time": "2026-11-23T10:00:00Z", "message_id": "m2", "channel": "sms", "code": -Infinity}',
        # nested deeper than Python's json parser goes (RecursionError): still that line's problem
        '{"event_time": "2026-11-23T10:00:00Z", "message_id": "m2", "channel": "sms", "deep": '
        + "[" * 50_000
        + "NaN"
        + "]" * 50_000
        + "}",
    ],
)
def test_json_that_only_a_lenient_parser_reads_is_invalid(tmp_path: Path, bad):
    good = [json.dumps({**GOOD, "message_id": m, "note": "a, } NaN"}) for m in ("m1", "m3")]
    kept, quarantine = run(ndjson(tmp_path, [good[0], bad, good[1]]))
    assert [m for m, *_ in kept] == ["m1", "m3"]
    assert quarantine == [(2, "invalid_json")]
    array = tmp_path / "in.json"
    array.write_text("[" + ",\n".join([good[0], bad, good[1]]) + "]")
    kept, quarantine = run(array)
    assert [m for m, *_ in kept] == ["m1", "m3"]
    assert quarantine == [(2, "invalid_json")]


def test_a_line_over_the_maximum_record_size_is_line_too_long(tmp_path: Path):
    from reporter.ingest.content import MAX_RECORD

    good = [json.dumps({**GOOD, "message_id": m}) for m in ("m1", "m3")]
    long_line = '{"message_id": "' + "x" * MAX_RECORD + '"}'
    for name, text in (
        ("long.ndjson", f"{good[0]}\n{long_line}\n{good[1]}\n"),
        ("tail.ndjson", f"{good[0]}\n{good[1]}\n{long_line}"),
    ):
        kept, quarantine = run(ndjson(tmp_path, [text.rstrip("\n")], name))
        assert [m for m, *_ in kept] == ["m1", "m3"]
        assert quarantine == [(2 if name == "long.ndjson" else 3, "line_too_long")]
    con = connect()
    ingest(con, [str(tmp_path / "long.ndjson")])
    lines = con.execute("SELECT message_id, source_line FROM events ORDER BY 2").fetchall()
    assert lines == [("m1", 1), ("m3", 3)]  # the cut line is counted once
    csv = tmp_path / "long.csv"
    time = GOOD["event_time"]
    rows = ["event_time,message_id,channel,status_code", f"{time},m1,sms,7500", "y" * (MAX_RECORD + 1)]
    csv.write_text("\n".join([*rows, f"{time},m3,sms,7500"]) + "\n")
    con = connect()
    result = ingest(con, [str(csv)])
    assert result.files[0].reconciles() and result.files[0].rows_read == 3
    assert con.execute("SELECT line, reason, detail, length(raw) FROM quarantine").fetchall() == [
        (
            3,
            "line_too_long",
            f"a line of {MAX_RECORD + 1:,} bytes, over the maximum record size of {MAX_RECORD:,}",
            1000,
        )
    ]
    assert con.execute("SELECT message_id, source_line FROM events ORDER BY 2").fetchall() == [
        ("m1", 2),
        ("m3", 4),
    ]


def _lines_and_quarantine(path: Path) -> tuple[list[tuple[str, int]], list[tuple[int, str, str | None]]]:
    con = connect()
    result = ingest(con, [str(path)])
    assert result.files[0].reconciles()
    kept = con.execute("SELECT message_id, source_line FROM events ORDER BY 2").fetchall()
    quarantine = con.execute("SELECT line, reason, detail FROM quarantine ORDER BY line").fetchall()
    return kept, quarantine


@pytest.mark.parametrize(
    ("extra", "compressed"),
    [(1, False), (30_000_000, True)],  # DuckDB reads the first whole; it refuses the second's file
)
def test_an_array_element_over_the_maximum_record_size_is_line_too_long(tmp_path: Path, extra, compressed):
    import gzip

    from reporter.ingest.content import MAX_RECORD

    good = [json.dumps({**GOOD, "message_id": m}) for m in ("m1", "m3", "m5")]
    long = '{"message_id": "m2", "note": "' + "x" * (MAX_RECORD + extra) + '"}'
    text = "[\n" + ",\n".join([good[0], long, good[1], good[2]]) + "\n]\n"
    path = tmp_path / ("in.json.gz" if compressed else "in.json")
    path.write_bytes(gzip.compress(text.encode(), 1) if compressed else text.encode())
    kept, quarantine = _lines_and_quarantine(path)
    assert kept == [("m1", 1), ("m3", 3), ("m5", 4)]  # element numbers
    length = len(long)
    detail = f"a line of {length:,} bytes, over the maximum record size of {MAX_RECORD:,}"
    assert quarantine == [(2, "line_too_long", detail)]


def test_a_malformed_array_element_is_that_elements_problem(tmp_path: Path):
    good = [json.dumps({**GOOD, "message_id": m}) for m in ("m1", "m3", "m5")]
    elements = [good[0], '{"message_id": }', good[1], '{"message_id": "a\nb"}', good[2]]
    path = tmp_path / "in.json"
    path.write_text("[" + ", ".join(elements) + "]")
    kept, quarantine = _lines_and_quarantine(path)
    assert kept == [("m1", 1), ("m3", 3), ("m5", 5)]
    assert [(line, reason) for line, reason, _ in quarantine] == [(2, "invalid_json"), (4, "invalid_json")]
    for broken in ("[" + good[0] + ", , " + good[1] + "]", "[" + good[0] + "] x", "[" + good[0]):
        path.write_text(broken)  # the elements cannot be told apart: the file is recorded whole
        kept, quarantine = _lines_and_quarantine(path)
        assert kept == [] and [reason for _, reason, _ in quarantine] == ["unreadable_file"]

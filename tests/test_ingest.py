"""Ingest: one fixture per bad-input kind, with exact counts and reasons worked out by hand."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard

from reporter.config import Config
from reporter.engine import connect
from reporter.ingest import IngestOptions, csv_reader, dedup, ingest
from tests.conftest import DATA


def run(*names: str, options: IngestOptions | None = None):
    con = connect()
    result = ingest(con, [str(DATA / n) for n in names], options)
    events = con.sql("SELECT * FROM events ORDER BY source_index, source_line").pl()
    quarantine = con.sql("SELECT * FROM quarantine ORDER BY file, line").pl()
    return result, events, quarantine


def counts(result):
    (f,) = result.files
    return f.rows_read, f.accepted, f.quarantined


def reasons(quarantine):
    return [(r["line"], r["reason"]) for r in quarantine.iter_rows(named=True)]


# Every CSV fixture is a header and three good rows (lines 2-4), plus what its name says.
@pytest.mark.parametrize("name", ["bom.csv", "crlf.csv", "semicolon.csv"])
def test_dialects_read_every_row(name):
    result, events, quarantine = run(name)
    assert counts(result) == (3, 3, 0)
    assert events["message_id"].to_list() == ["m1", "m1", "m2"]
    assert events["source_line"].to_list() == [2, 3, 4]
    assert events["event_time"][0] == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert quarantine.is_empty()


@pytest.mark.parametrize("compress", [False, True])
def test_line_numbers_count_empty_lines_as_the_file_shows_them(tmp_path: Path, compress):
    # blank_lines.csv: 1 header, 2 m1, 3 empty, 4 m2 code "abc", 5 m3 one column too many, 6 m4.
    path = DATA / "blank_lines.csv"
    if compress:
        path = tmp_path / "blank_lines.csv.gz"
        path.write_bytes(gzip.compress((DATA / "blank_lines.csv").read_bytes()))
    con = connect()
    result = ingest(con, [str(path)])
    assert counts(result) == (4, 2, 2)  # the empty line is no record
    assert con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall() == [
        (4, "bad_status_code"),
        (5, "too_many_columns"),
    ]
    lines = con.execute("SELECT message_id, source_line FROM events ORDER BY source_line").fetchall()
    assert lines == [("m1", 2), ("m4", 6)]


def test_line_numbers_hold_with_an_empty_line_after_every_record(tmp_path: Path):
    # An empty line after each record but the last five; every 97th record has a bad code.
    rows, line_of = ["event_time,message_id,channel,status_code"], {}
    for i in range(1, 3001):
        rows.append(f"2026-11-23T10:00:00Z,m{i},sms,{'abc' if i % 97 == 0 else 7501}")
        line_of[f"m{i}"] = len(rows)
        if i <= 2995:
            rows.append("")
    (tmp_path / "spaced.csv").write_text("\n".join(rows) + "\n")
    con = connect()
    ingest(con, [str(tmp_path / "spaced.csv")])
    bad = con.execute("SELECT line FROM quarantine ORDER BY line").fetchall()
    assert bad == [(line_of[f"m{i}"],) for i in range(97, 3001, 97)]
    got = dict(con.execute("SELECT message_id, source_line FROM events").fetchall())
    assert got == {m: n for m, n in line_of.items() if int(m[1:]) % 97}


def test_a_long_quoted_field_and_an_empty_line(tmp_path: Path):
    # Python's csv module refuses fields over 128 KB by default; DuckDB reads lines up to 10 MB here.
    path = tmp_path / "long.csv"
    path.write_text(
        "event_time,message_id,channel,status_code,note\n"
        f'2026-11-23T10:00:00Z,m1,sms,7501,"{"x" * 200_000}"\n\n2026-11-23T10:00:01Z,m2,sms,abc,y\n'
    )
    con = connect()
    ingest(con, [str(path)])
    assert con.execute("SELECT line, reason FROM quarantine").fetchall() == [(4, "bad_status_code")]


T = "2026-11-23T10:00:00Z"


@pytest.mark.parametrize(
    ("body", "kept", "bad"),
    [
        # An LF-only line ends a CRLF record, then an empty CRLF line: every record is kept, and
        # the lines keep the numbers an editor shows.
        (
            f"{T},m1,sms,7501\r\n{T},m2,sms,7500\n\r\n{T},m3,sms,7500\r\n",
            [("m1", 2), ("m2", 3), ("m3", 5)],
            [],
        ),
        (
            f"{T},m1,sms,7501\r\n{T},m2,sms,7500\r\n\n{T},m3,sms,7500\r\n",
            [("m1", 2), ("m2", 3), ("m3", 5)],
            [],
        ),
        # A CR inside an unquoted field: that record is quarantined whole, the others kept.
        (
            f"{T},m1,sms,7501\r\n{T},m\r2,sms,7500\r\n{T},m3,sms,7500\r\n",
            [("m1", 2), ("m3", 4)],
            [(3, "malformed_row")],
        ),
        # In such a file, a record with a field too many, a field with text after its closing quote,
        # one with too few, and a quoted newline (not counted, as DuckDB numbers) read as in any file.
        (
            f'{T},m1,sms,7501\n\r\n{T},m2,sms,7500,x\r\n{T},"m3"x,sms,7500\r\n{T},m4,sms\r\n'
            f'{T},"m\r\n5",sms,7500\r\n{T},m6,sms,7500\r\n',
            [("m1", 2), ("m\r\n5", 7), ("m6", 8)],
            [(4, "too_many_columns"), (5, "bad_quoting"), (6, "too_few_columns")],
        ),
        # A quote inside an unquoted field is text (DuckDB keeps it), not the start of quoted text.
        (
            f'{T},m"1,sms,7500\r\n{T},m\r2,sms,7500\r\n{T},m3,sms,7500\r\n',
            [('m"1', 2), ("m3", 4)],
            [(3, "malformed_row")],
        ),
        # After text that follows a closing quote, the rest of the line is quoted by nothing.
        (
            f'{T},"m1"x",sms,7500\r\n{T},m\r2,sms,7500\r\n{T},m3,sms,7500\r\n',
            [("m3", 4)],
            [(2, "bad_quoting"), (3, "malformed_row")],
        ),
    ],
)
def test_a_stray_line_break_loses_no_good_record(tmp_path: Path, body, kept, bad):
    # DuckDB's strict parser gives up on the whole file at a lone CR or LF; it reads a repaired copy.
    path = tmp_path / "stray.csv"
    path.write_bytes(f"event_time,message_id,channel,status_code\r\n{body}".encode())
    con = connect()
    result = ingest(con, [str(path)])
    assert result.files[0].whole_file is None
    assert con.execute("SELECT message_id, source_line FROM events ORDER BY source_line").fetchall() == kept
    assert con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall() == bad
    assert counts(result) == (len(kept) + len(bad), len(kept), len(bad))


def test_a_gzipped_csv_with_a_stray_line_break_and_invalid_utf8(tmp_path: Path):
    body = f"h\r\n{T},m1,sms,7501\r\n\n{T},m2,sms,75\xff00\r\n{T},m3,sms,7500\r\n".encode("latin-1")
    path = tmp_path / "stray.csv.gz"
    path.write_bytes(gzip.compress(body.replace(b"h", b"event_time,message_id,channel,status_code", 1)))
    con = connect()
    result = ingest(con, [str(path)])
    assert counts(result) == (3, 2, 1)
    assert con.execute("SELECT message_id, source_line FROM events ORDER BY source_line").fetchall() == [
        ("m1", 2),
        ("m3", 5),
    ]
    assert con.execute("SELECT line, reason FROM quarantine").fetchall() == [(4, "invalid_utf8")]


def test_a_stream_breaking_off_in_the_repair_is_recorded_whole(tmp_path: Path, monkeypatch):
    # A gzip cut short raises EOFError from Python's gzip module partway through the copy.
    def cut_short(path, compression, newline, out, repair=None):
        out.write(b"event_time,message_id,channel,status_code\n")
        raise EOFError("Compressed file ended before the end-of-stream marker was reached")

    monkeypatch.setattr(csv_reader, "repair_line_breaks", cut_short)
    path = tmp_path / "cut.csv"
    path.write_bytes(
        f"event_time,message_id,channel,status_code\r\n{T},m\r,sms,7501\r\n{T},m2,sms,7501\r\n".encode()
    )
    con = connect()
    result = ingest(con, [str(path)])
    assert (result.files[0].whole_file, result.files[0].rows_read) == ("unreadable_file", 0)
    assert con.execute("SELECT detail FROM quarantine").fetchall() == [
        ("EOFError: Compressed file ended before the end-of-stream marker was reached",)
    ]


def test_a_full_disk_while_copying_is_the_runs_error_not_the_inputs(tmp_path: Path):
    import resource

    from reporter.errors import StorageError

    path = tmp_path / "stray.csv"
    rows = "".join(f"{T},m{i},sms,7500\r\n" for i in range(100))
    path.write_bytes(f"event_time,message_id,channel,status_code\r\n{T},m\rx,sms,7500\r\n{rows}".encode())
    con = connect()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))  # a write past 1000 bytes fails (EFBIG)
    try:
        with pytest.raises(StorageError, match=r"cannot write .*repaired\.csv: File too large"):
            ingest(con, [str(path)])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


CSV_FIXTURES = sorted(p.name for p in DATA.glob("*.csv") if p.name not in ("empty.csv", "header_only.csv"))


def assert_a_stray_cr_changes_nothing_else(tmp_path: Path, data: bytes, compression: str | None = None):
    """`data` read as it is (DuckDB's own parser), and with a record holding a lone CR inserted after
    the header (which sends the file through the repaired copy): the same events and quarantine,
    every line one further on, and that record quarantined at line 2."""
    header, rest = data.split(b"\n", 1)
    newline = b"\r\n" if header.endswith(b"\r") else b"\n"
    body = header + b"\n" + f"{T},m\r9,sms,7500".encode() + newline + rest
    plain, stray = tmp_path / "plain.csv", tmp_path / "stray.csv"
    plain.write_bytes(data)
    if compression == "gzip":
        stray, body = tmp_path / "stray.csv.gz", gzip.compress(body)
    elif compression == "zstd":
        stray, body = tmp_path / "stray.csv.zst", zstandard.ZstdCompressor().compress(body)
    stray.write_bytes(body)

    def read(path):
        con = connect()
        result = ingest(con, [str(path)])
        events = con.execute("SELECT * EXCLUDE (source_index) FROM events ORDER BY source_line").fetchall()
        bad = con.execute("SELECT line, reason, raw FROM quarantine ORDER BY line").fetchall()
        return result.files[0], events, bad

    (before, events, bad), (repaired, stray_events, stray_bad) = read(plain), read(stray)
    assert repaired.whole_file is None
    assert [e[:-2] for e in stray_events] == [e[:-2] for e in events]  # all but source_line, event_src
    assert [e[-2] for e in stray_events] == [e[-2] + 1 for e in events]
    assert stray_bad[1:] == [(line + 1, reason, raw) for line, reason, raw in bad]
    assert stray_bad[0][:2] == (2, "malformed_row") and stray_bad[0][2].endswith("m\r9,sms,7500")
    assert (repaired.rows_read, repaired.quarantined) == (before.rows_read + 1, before.quarantined + 1)


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
@pytest.mark.parametrize("name", CSV_FIXTURES)
def test_a_stray_cr_changes_nothing_but_its_own_record(tmp_path: Path, name, compression):
    assert_a_stray_cr_changes_nothing_else(tmp_path, (DATA / name).read_bytes(), compression)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize(
    "row",
    [
        '  "m1,sms,7500',  # two spaces before a quote: no quoted field (DuckDB reads text)
        ' "m2",sms,7500',  # one space before a quote: a quoted field
        '"m3" "a\nb",sms,7500',  # a quote after a closing quote and a space: the field goes on
        '"m4"x,"s\nms",7500',  # text after a closing quote, then a quoted field again
        'm"5,sms,7500',  # a quote inside unquoted text
        '"m6"x",sms,7500',
        '"m""7",sms,7500',  # a doubled quote inside quotes
        '"m8,x",sms,7500',  # the delimiter inside quotes
    ],
)
def test_the_repaired_copy_reads_quotes_as_duckdb_does(tmp_path: Path, row, newline):
    # Each odd row between good ones; DuckDB reading the file itself is the expected answer.
    header = "event_time,message_id,channel,status_code"
    lines = [header, f"{T},m0,sms,7501", f"{T},{row}", f"{T},m9,sms,7500"]
    assert_a_stray_cr_changes_nothing_else(tmp_path, (newline.join(lines) + newline).encode())


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        # The gzip magic number, then bytes that are no deflate stream (zlib.error, not an OSError).
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 64, "cannot decompress"),
        (b"event_time,message\rid,channel,status_code\n", "the first line, the CSV header, cannot be read"),
    ],
)
def test_a_corrupt_gzip_or_a_cr_in_the_header_records_the_file_whole(tmp_path: Path, data, detail):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(data)
    con = connect()
    result = ingest(con, [str(path)])
    assert result.files[0].whole_file == "unreadable_file"
    (got,) = con.execute("SELECT detail FROM quarantine").fetchall()
    assert got[0].startswith(detail)


@pytest.mark.parametrize("suffix", [".csv.zst", ".ndjson.zst"])
def test_a_zstd_file_cut_short_is_recorded_whole(tmp_path: Path, suffix):
    # zstandard's stream reader, and DuckDB, stop quietly at the cut: the lost tail must not be silent.
    if suffix == ".csv.zst":
        rows = ["event_time,message_id,channel,status_code", *(f"{T},m{i},sms,7500" for i in range(5000))]
    else:
        rows = [
            f'{{"event_time": "{T}", "message_id": "m{i}", "channel": "sms", "status_code": 7500}}'
            for i in range(5000)
        ]
    whole = zstandard.ZstdCompressor().compress(("\n".join(rows) + "\n").encode())
    path = tmp_path / f"cut{suffix}"
    for cut in (len(whole) // 2, 20):  # 20 bytes: not a block in it, the file looked empty
        path.write_bytes(whole[:cut])
        con = connect()
        result = ingest(con, [str(path)])
        assert (result.files[0].whole_file, result.files[0].rows_read) == ("unreadable_file", 0)
        assert con.execute("SELECT detail FROM quarantine").fetchall() == [
            ("the zstd stream ends inside a frame: the file was cut short",)
        ]
    # A file of two frames (here an empty second one) is whole.
    (tmp_path / f"whole{suffix}").write_bytes(whole + zstandard.ZstdCompressor().compress(b""))
    assert ingest(connect(), [str(tmp_path / f"whole{suffix}")]).files[0].accepted == 5000


def test_header_names_differing_only_in_case_are_two_columns(tmp_path: Path):
    path = tmp_path / "ids.csv"
    path.write_text(f"event_time,ID,id,channel,status_code\n{T},m1,x,sms,7500\n")
    con = connect()
    ingest(con, [str(path)], IngestOptions(config=Config(columns={"message_id": ("ID",)})))
    assert con.execute("SELECT message_id, source_line FROM events").fetchall() == [("m1", 2)]


def test_a_csv_whose_header_line_is_empty_is_recorded_whole(tmp_path: Path):
    path = tmp_path / "late_header.csv"
    path.write_text("\nevent_time,message_id,channel,status_code\n2026-11-23T10:00:00Z,m1,sms,7501\n")
    con = connect()
    result = ingest(con, [str(path)])
    assert result.files[0].whole_file == "unreadable_file"
    assert con.execute("SELECT reason, detail FROM quarantine").fetchall() == [
        ("unreadable_file", "the first line, the CSV header, is empty")
    ]


def test_quoted_newline_stays_in_its_field():
    result, events, _ = run("quoted_newline.csv")
    assert counts(result) == (2, 2, 0)
    assert events["status_description"].to_list() == ["first line\nsecond line", "plain"]


@pytest.mark.parametrize(
    ("name", "line", "reason"),
    [
        ("too_few_columns.csv", 5, "too_few_columns"),
        ("too_many_columns.csv", 5, "too_many_columns"),
        ("non_numeric_code.csv", 5, "bad_status_code"),
        ("missing_code.csv", 5, "missing_status_code"),
        ("bad_time.csv", 5, "bad_event_time"),
        ("invalid_utf8.csv", 4, "invalid_utf8"),
    ],
)
def test_a_bad_row_is_quarantined_and_its_neighbours_kept(name, line, reason):
    result, events, quarantine = run(name)
    assert counts(result) == (4, 3, 1)
    assert reasons(quarantine) == [(line, reason)]
    assert events["message_id"].to_list() == ["m1", "m1", "m2"]


def test_invalid_utf8_keeps_the_line_after_it_with_its_line_number():
    _, events, _ = run("invalid_utf8.csv")
    assert events["source_line"].to_list() == [2, 3, 5]


def test_quarantined_raw_text_is_kept_for_a_bad_value():
    _, _, quarantine = run("bad_time.csv")
    assert quarantine["raw"].to_list() == ["yesterday at noon,m3,sms,7501,eu"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("truncated.csv.gz", "unreadable_file"),
        ("empty.csv", "empty_file"),
        ("header_only.csv", "header_only"),
    ],
)
def test_a_file_that_cannot_be_read_is_recorded_whole(name, reason):
    result, events, quarantine = run(name)
    assert counts(result) == (0, 0, 0)
    assert result.files[0].whole_file == reason
    assert events.is_empty()
    assert reasons(quarantine) == [(None, reason)]


def test_truncated_gzip_names_the_problem():
    _, _, quarantine = run("truncated.csv.gz")
    assert quarantine["detail"][0].startswith("cannot decompress: Compressed file ended")


def test_gzip_truncated_past_its_first_block_is_recorded_whole(tmp_path: Path):

    rows = "".join(f"2026-11-23T10:00:00Z,m{i},sms,7501,eu\n" for i in range(20000))
    data = gzip.compress(("event_time,message_id,channel,status_code,region\n" + rows).encode(), mtime=0)
    path = tmp_path / "big.csv.gz"
    path.write_bytes(data[: int(len(data) * 0.8)])
    con = connect()
    result = ingest(con, [str(path)])
    assert (result.files[0].whole_file, result.files[0].rows_read) == ("unreadable_file", 0)
    detail = con.execute("SELECT detail FROM quarantine").fetchone()
    assert detail is not None and "GZIP" in detail[0]
    assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)


def test_invalid_json_line():
    result, events, quarantine = run("invalid_json_line.ndjson")
    assert counts(result) == (3, 2, 1)
    assert reasons(quarantine) == [(2, "invalid_json")]
    assert events["status_code"].to_list() == [7501, 7500]
    assert events["source_line"].to_list() == [1, 3]


def test_json_array_with_camel_case_keys_and_mixed_times():
    result, events, _ = run("array.json")
    assert counts(result) == (2, 2, 0)
    assert events["channel"].to_list() == ["push", "push"]
    assert events["status_code"].to_list() == [7501, 7502]
    assert events["event_time"].to_list() == [
        datetime(2026, 11, 23, 4, 30, tzinfo=UTC),  # 10:00 at +05:30
        datetime(2025, 11, 23, 10, 0, tzinfo=UTC),  # epoch ms 1763892000000
    ]
    assert events["region"].to_list() == ["unknown", "unknown"]


def test_webhook_bodies_need_no_configuration():
    result, events, _ = run("webhook.ndjson")
    assert counts(result) == (2, 2, 0)
    assert result.files[0].webhook
    rows = events.to_dicts()
    assert [(r["message_id"], r["channel"], r["status_code"]) for r in rows] == [
        ("w1", "whatsapp", 7501),
        ("w1", "sms", 7203),
    ]
    assert rows[1]["status_description"] == "Unknown Subscriber address"
    assert rows[1]["delivery_status"] == "Un-Delivered"
    assert rows[1]["carrier"] is None  # "" in the body means missing
    assert rows[1]["destination"] == "447700900123"  # in memory; every writer masks it


def test_parquet_with_an_extra_column_is_read():
    result, events, quarantine = run("reference.parquet", "extra_column.parquet")
    assert [(f.rows_read, f.accepted, f.unique, f.duplicates) for f in result.files] == [
        (2, 2, 2, 0),
        (2, 2, 0, 2),
    ]
    assert events.height == 2  # the second file repeats the first file's events exactly
    assert quarantine.is_empty()


def test_parquet_whose_status_code_type_changed_is_recorded_whole():
    result, events, quarantine = run("reference.parquet", "code_type_changed.parquet")
    changed = result.files[1]
    assert (changed.rows_read, changed.accepted, changed.quarantined, changed.whole_file) == (
        2,
        0,
        2,
        "schema_changed",
    )
    assert quarantine["detail"].to_list() == ["status_code is VARCHAR, expected BIGINT"]
    assert quarantine["rows"].to_list() == [2]
    assert events.height == 2


def test_exact_duplicates_are_dropped_and_counted(tmp_path: Path):
    body = (DATA / "bom.csv").read_text(encoding="utf-8-sig")
    path = tmp_path / "dups.csv"
    path.write_text(body + "2026-11-23T10:00:05Z,m1,sms,7500,eu\n")
    con = connect()
    result = ingest(con, [str(path)])
    (f,) = result.files
    assert (f.rows_read, f.accepted, f.unique, f.duplicates) == (4, 4, 3, 1)


def test_every_file_reconciles_and_totals_add_up():
    names = [p.name for p in DATA.iterdir() if p.suffix != ".py"]
    result, events, quarantine = run(*sorted(names))
    for f in result.files:
        assert f.rows_read == f.accepted + f.quarantined
        assert f.accepted == f.unique + f.duplicates
    totals = result.totals()
    assert totals["unique"] == events.height
    assert totals["quarantined"] == quarantine["rows"].sum()


def test_region_precedence(tmp_path: Path):
    folder = tmp_path / "region=sg"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "event_time,message_id,channel,status_code\n2026-11-23T10:00:00Z,m1,sms,7501\n"
    )
    (tmp_path / "b.csv").write_text(
        "event_time,message_id,channel,status_code,region\n"
        "2026-11-23T10:00:00Z,m2,sms,7501,au\n2026-11-23T10:00:00Z,m3,sms,7501,\n"
    )
    con = connect()
    ingest(con, [str(tmp_path)], IngestOptions(region="eu"))
    got = dict(con.execute("SELECT message_id, region FROM events").fetchall())
    assert got == {"m1": "sg", "m2": "au", "m3": "eu"}


def test_naive_times_use_the_configured_zone(tmp_path: Path):
    from reporter.config import Config

    path = tmp_path / "naive.csv"
    path.write_text(
        "event_time,message_id,channel,status_code\n2026-11-23 10:00:00,m1,sms,7501\n1763892000,m2,sms,7501\n"
    )
    con = connect()
    ingest(con, [str(path)], IngestOptions(Config(timezone="Asia/Kolkata")))
    got = dict(con.execute("SELECT message_id, event_time FROM events").fetchall())
    assert got["m1"] == datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    assert got["m2"] == datetime(2025, 11, 23, 10, 0, tzinfo=UTC)  # epoch seconds are UTC whatever the zone


def test_an_unknown_channel_is_quarantined(tmp_path: Path):
    path = tmp_path / "pigeon.csv"
    path.write_text("event_time,message_id,channel,status_code\n2026-11-23T10:00:00Z,m1,pigeon,7501\n")
    con = connect()
    result = ingest(con, [str(path)])
    assert result.reasons == {"unknown_channel": 1}


def test_config_maps_columns_and_sets_region_and_zone_per_input(tmp_path: Path):
    from reporter.config import load_config

    apac = tmp_path / "apac"
    apac.mkdir()
    (apac / "a.csv").write_text("created,ref,medium,result\n2026-11-23 18:00:00,m1,sms,7500\n")
    (tmp_path / "b.csv").write_text("created,ref,medium,result\n2026-11-23 18:00:00,m2,sms,7500\n")
    config = tmp_path / "reporter.toml"
    config.write_text(
        'region = "eu"\n[columns]\nevent_time = ["created"]\nmessage_id = ["ref"]\nchannel = ["medium"]\n'
        'status_code = ["result"]\n'
        '[[inputs]]\npath = "*/apac/*"\nregion = "sg"\ntimezone = "Asia/Singapore"\n'
    )
    con = connect()
    ingest(con, [str(tmp_path)], IngestOptions(load_config(config)))
    got = {r[0]: r[1:] for r in con.execute("SELECT message_id, region, event_time FROM events").fetchall()}
    assert got["m1"] == ("sg", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # 18:00 in Singapore
    assert got["m2"] == ("eu", datetime(2026, 11, 23, 18, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('colour = "red"\n', "unknown key 'colour'"),
        ('[columns]\nstatus = ["x"]\n', "unknown key 'status'"),
        ('timezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ('[[inputs]]\nregion = "eu"\n', "missing 'path'"),
    ],
)
def test_bad_config_names_the_file_and_key(tmp_path: Path, text, message):
    from reporter.config import load_config
    from reporter.errors import ConfigError

    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


# 10**15 bytes a row: one pass per row, as a huge input under a small memory limit would have
@pytest.mark.parametrize("bytes_per_row", [dedup._DEDUP_BYTES_PER_ROW, 10**15])
def test_duplicates_are_found_across_files_and_channel_spellings(tmp_path: Path, monkeypatch, bytes_per_row):
    monkeypatch.setattr(dedup, "_DEDUP_BYTES_PER_ROW", bytes_per_row)
    header = "event_time,message_id,channel,status_code,region\n"
    (tmp_path / "a.csv").write_text(
        header + "2026-11-23T10:00:00Z,m1,SMS,7501,eu\n2026-11-23T10:00:01Z,m1,sms,7500,eu\n"
    )
    (tmp_path / "b.ndjson").write_text(
        '{"event_time": "2026-11-23T10:00:00+00:00", "message_id": "m1", "channel": "sms", '
        '"status_code": 7501, "region": "eu"}\n'
    )
    con = connect()
    result = ingest(con, [str(tmp_path)])
    a, b = result.files
    assert (a.accepted, a.unique, a.duplicates) == (2, 2, 0)
    assert (b.accepted, b.unique, b.duplicates) == (1, 0, 1)  # the same event as a.csv line 2
    assert con.execute("SELECT count(*) FROM events").fetchall() == [(2,)]


def test_quarantined_raw_text_masks_formatted_numbers_and_non_ascii_emails(tmp_path: Path):
    path = tmp_path / "pii.csv"
    path.write_text(
        "event_time,message_id,channel,status_code,destination\n"
        "not a time,m1,sms,7501,+44 7700 900124\n"
        "not a time,m2,email,7501,josé.garcía@example.com\n"
        "not a time,m3,sms,7501,(020) 7946-0958\n",
        encoding="utf-8",
    )
    con = connect()
    ingest(con, [str(path)])
    raws = [r for (r,) in con.execute("SELECT raw FROM quarantine ORDER BY line").fetchall()]
    assert raws == [
        "not a time,m1,sms,7501,***124",
        "not a time,m2,email,7501,***@example.com",
        "not a time,m3,sms,7501,(***958",
    ]


def test_regions_are_keys_and_a_double_code_column_is_read_as_text(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table(
            {
                "event_time": ["2026-11-23T10:00:00Z", "2026-11-23T10:00:01Z"],
                "message_id": ["d1", "d2"],
                "channel": ["sms", "sms"],
                "status_code": pa.array([7501.0, 7500.5], pa.float64()),
                "region": [" US ", "us"],
            }
        ),
        tmp_path / "double.parquet",
    )
    con = connect()
    result = ingest(con, [str(tmp_path / "double.parquet")])
    assert con.execute("SELECT message_id, region, status_code FROM events").fetchall() == [
        ("d1", "us", 7501)
    ]
    assert result.reasons == {"bad_status_code": 1}  # 7500.5 is not a code


def test_message_ids_are_trimmed_and_a_blank_one_is_missing(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # TRIM() takes Unicode spaces too: a no-break space (U+00A0), an ideographic space (U+3000).
    ids = [" m1", "m1 ", "m1", "   ", "m 2", "\u00a0m1", "m1\u3000", "\u00a0", "\u00e9t\u00e9"]
    pq.write_table(
        pa.table(
            {
                "event_time": [f"2026-11-23T10:00:0{i}Z" for i in range(len(ids))],
                "message_id": ids,
                "channel": ["sms"] * len(ids),
                "status_code": [7501] * len(ids),
            }
        ),
        tmp_path / "ids.parquet",
    )
    con = connect()
    ingest(con, [str(tmp_path / "ids.parquet")])
    rows = con.execute("SELECT message_id FROM events ORDER BY source_line").fetchall()
    assert rows == [
        ("m1",),
        ("m1",),
        ("m1",),
        (None,),
        ("m 2",),
        ("m1",),
        ("m1",),
        (None,),
        ("\u00e9t\u00e9",),
    ]


def test_parquet_line_numbers_hold_across_row_groups(tmp_path: Path):
    """The stage's rowid is the record's ordinal: true only if the read keeps the file's order
    across row groups read by different threads. 30 row groups of 1,000 rows; bad rows placed by hand."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 30_000
    bad = {2: "bad_status_code", 17_345: "missing_channel", 29_999: "bad_status_code"}  # 1-based records
    codes = ["x" if bad.get(i) == "bad_status_code" else "7501" for i in range(1, n + 1)]
    channels = [None if bad.get(i) == "missing_channel" else "sms" for i in range(1, n + 1)]
    pq.write_table(
        pa.table(
            {
                "event_time": ["2026-11-23T10:00:00Z"] * n,
                "message_id": [f"m{i}" for i in range(1, n + 1)],
                "channel": channels,
                "status_code": codes,
            }
        ),
        tmp_path / "groups.parquet",
        row_group_size=1_000,
    )
    con = connect(threads=2)
    result = ingest(con, [str(tmp_path / "groups.parquet")])
    assert counts(result) == (n, n - 3, 3)
    quarantined = con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall()
    assert quarantined == sorted(bad.items())
    # Every accepted event keeps its own line: message m<i> sits on record i.
    mismatched = con.execute("SELECT count(*) FROM events WHERE message_id <> 'm' || source_line").fetchall()[
        0
    ][0]
    assert mismatched == 0


def test_json_lines_that_are_not_objects_or_do_not_parse(tmp_path: Path):
    good = '{"event_time": "2026-11-23T10:00:00Z", "message_id": "%s", "channel": "sms", "status_code": 7501}'
    lines = [
        good % "j1",  # line 1
        "[1, 2]",  # 2: valid JSON, an array
        '"just text"',  # 3: valid JSON, a string
        '{"broken": ',  # 4: starts like an object, does not parse
        "  " + good % "j2",  # 5: leading blanks are fine
        good % "j3" + " trailing",  # 6: an object followed by more text
        "42",  # 7: a number
        " \t ",  # 8: blanks only: not a record
    ]
    (tmp_path / "kinds.ndjson").write_text("\n".join(lines) + "\n")
    con = connect()
    result = ingest(con, [str(tmp_path / "kinds.ndjson")])
    assert counts(result) == (7, 2, 5)
    assert con.execute("SELECT message_id FROM events ORDER BY source_line").fetchall() == [("j1",), ("j2",)]
    assert con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall() == [
        (2, "not_an_object"),
        (3, "not_an_object"),
        (4, "invalid_json"),
        (6, "invalid_json"),
        (7, "not_an_object"),
    ]


def test_parquet_keeps_the_raw_text_of_every_quarantined_row(tmp_path: Path):
    """A Parquet file whose channels are all known keeps raw text for bad rows only, tested once per
    file; one with an unknown channel still keeps that row's raw text."""
    con = connect()
    rows = {
        "known.parquet": "('2026-11-23T10:00:00Z', 'm1', 'SMS', 7501), "
        "('2026-11-23T10:00:01Z', 'm2', 'sms', NULL)",
        "unknown.parquet": "('2026-11-23T10:00:00Z', 'm3', 'pigeon', 7501), "
        "('2026-11-23T10:00:01Z', 'm4', 'sms', 7500)",
    }
    for name, values in rows.items():
        con.execute(
            f"COPY (SELECT * FROM (VALUES {values}) t(event_time, message_id, channel, status_code)) "
            f"TO '{tmp_path / name}' (FORMAT parquet)"
        )
    ingest(con, [str(tmp_path)])
    quarantined = con.execute("SELECT reason, raw FROM quarantine ORDER BY file, line").fetchall()
    assert [(r, "m2" in raw or "m3" in raw) for r, raw in quarantined] == [
        ("missing_status_code", True),
        ("unknown_channel", True),
    ]
    assert con.execute("SELECT count(*) FROM events").fetchall() == [(2,)]


def test_channel_spellings_are_looked_at_up_to_a_bound(monkeypatch):
    """Hostile input with millions of distinct channel spellings is never listed in Python: past the
    bound, the per-row test decides (here 'SMS' and 'sms' are two spellings, both known)."""
    from reporter.ingest import stage

    def known(scan: str) -> bool:
        specs = stage.StageSpecs({"channel": stage.FieldSpec("c", "VARCHAR")}, "UTC", "us", [])
        return specs.channel_texts(connect(), scan) is not None and specs.every_channel_known

    scan = "(SELECT unnest(['SMS', 'sms', NULL]) AS c)"
    assert known(scan)
    assert not known("(SELECT unnest(['SMS', 'pigeon']) AS c)")
    monkeypatch.setattr(stage, "_SPELLINGS_TESTED", 1)
    assert not known(scan)

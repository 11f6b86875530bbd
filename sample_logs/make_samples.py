"""Regenerate sample_logs/: three days of synthetic delivery logs in every format, plus known bad rows.

Run from the repository root:  .venv/bin/python sample_logs/make_samples.py

Good rows come from reporter.generate (fixed seeds: the same bytes on every run); the bad rows are
written here by hand, each copied from the real row just above it and then broken in one way.
README.md is written from the same list, so the line numbers it gives always match the files.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from reporter.codes import channel_key
from reporter.generate import Incident, generate

HERE = Path(__file__).resolve().parent
WORK = Path(tempfile.mkdtemp(prefix="sample-logs-"))
DAY1, DAY2, DAY3 = dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25)
BOM = b"\xef\xbb\xbf"
OPERATOR_SAYS = '\nOperator said: "handset busy, retry later"'
LIFECYCLE_CODES = {"7500", "7501", "7502", "7519", "1001", "7200", "7999"}


@dataclass(frozen=True)
class Bad:
    """One deliberately bad row: where it is and what is wrong with it."""

    file: str
    line: int  # physical line, 1-based, of the decompressed text (Parquet: the row)
    record: int  # as a reader counts: CSV record with the header as 1, JSON array element, Parquet row
    kind: str
    detail: str


@dataclass(frozen=True)
class Sample:
    file: str
    good: int  # events a reader should accept
    about: str


# After which record (0-based; in a CSV record 0 is the header) each bad row goes: (bytes, kind, detail).
Inserts = dict[int, list[tuple[bytes, str, str]]]


def generated(fmt: str, events: int, seed: int, start: dt.date, days: int = 1) -> list[Path]:
    return generate(WORK / f"{fmt}-{seed}", events, fmt, seed=seed, days=days, start=start)


def swap(row: list[str], index: int, value: str) -> list[str]:
    """A copy of `row` with one field replaced."""
    return [value if i == index else field for i, field in enumerate(row)]


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def csv_line(fields: list[str], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(fields)
    return buffer.getvalue().encode()


def json_line(record: dict[str, object]) -> bytes:
    kept = {k: v for k, v in record.items() if v is not None}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode()


def assemble(name: str, records: list[bytes], inserts: Inserts, eol: bytes) -> tuple[bytes, list[Bad]]:
    """Join the records, each bad one after its record; return the bytes and where each bad row landed."""
    out: list[bytes] = []
    bad: list[Bad] = []
    line = 1
    for index, record in enumerate(records):
        out.append(record)
        line += record.count(b"\n") + 1  # a quoted newline inside a record is a physical line too
        for raw, kind, detail in inserts.get(index, []):
            out.append(raw)
            bad.append(Bad(name, line, len(out), kind, detail))
            line += raw.count(b"\n") + 1
    return eol.join(out) + eol, bad


def comma_csv() -> tuple[Sample, list[Bad]]:
    name = "events-2026-11-23.csv"
    rows = csv_rows(generated("csv", 900, 101, DAY1)[0])
    inserts: Inserts = {
        120: [(csv_line(rows[120][:6]), "too few columns", "6 of 9 fields: no destination, sender, carrier")],
        250: [(csv_line([*rows[250], "EXTRA"]), "too many columns", "a 10th field after carrier")],
        400: [(csv_line(swap(rows[400], 3, "DELIVRD")), "non-numeric status code", "statusCode DELIVRD")],
        550: [(csv_line(swap(rows[550], 3, "")), "missing status code", "statusCode empty")],
        700: [(csv_line(swap(rows[700], 0, "23/11/2026 25:61")), "unparseable time",
               "eventTime 23/11/2026 25:61 (hour 25, minute 61)")],
    }  # fmt: skip
    data, bad = assemble(name, [csv_line(r) for r in rows], inserts, b"\n")
    (HERE / name).write_bytes(data)
    return Sample(name, 900, "comma-delimited, LF, UTF-8, header `eventTime,transid,...`"), bad


def semicolon_csv() -> tuple[Sample, list[Bad]]:
    name = "events-2026-11-24-semicolon.csv"
    rows = csv_rows(generated("csv", 700, 102, DAY2)[0])
    cafe = csv_line(swap(rows[300], 7, "Café Rouge"), ";").decode().encode("latin-1")
    inserts: Inserts = {
        150: [(csv_line(swap(rows[150], 3, "75O0"), ";"), "non-numeric status code", "statusCode 75O0")],
        300: [(cafe, "invalid UTF-8", "sender `Café Rouge` in Latin-1: byte 0xE9 is not UTF-8")],
        450: [(csv_line(rows[450][:4], ";"), "too few columns", "4 of 9 fields")],
    }  # fmt: skip
    data, bad = assemble(name, [csv_line(r, ";") for r in rows], inserts, b"\r\n")
    (HERE / name).write_bytes(BOM + data)
    return Sample(name, 700, "semicolon-delimited, UTF-8 BOM, CRLF line ends"), bad


def multiline_csv() -> tuple[Sample, list[Bad]]:
    """Two good failure rows whose quoted statusDescription spans two lines, then one bad row."""
    name = "events-2026-11-25-multiline.csv"
    rows = csv_rows(generated("csv", 500, 103, DAY3)[0])
    # The first SMS failures at or after rows 100 and 200: the operator's text follows the description.
    failures = [
        i for i, r in enumerate(rows[1:], 1) if r[3] not in LIFECYCLE_CODES and channel_key(r[2]) == "sms"
    ]
    chosen = [next(i for i in failures if i >= 100), next(i for i in failures if i >= 200)]
    for index in chosen:
        rows[index] = swap(rows[index], 4, rows[index][4] + OPERATOR_SAYS)
    records = [csv_line(r) for r in rows]
    detail = "eventTime `2026-11-25 noon` (two multi-line rows above: line and record differ by 2)"
    inserts: Inserts = {300: [(csv_line(swap(rows[300], 0, "2026-11-25 noon")), "unparseable time", detail)]}
    data, bad = assemble(name, records, inserts, b"\n")
    (HERE / name).write_bytes(data)
    starts = [1 + sum(r.count(b"\n") + 1 for r in records[:index]) for index in chosen]
    spans = " and ".join(f"lines {line}-{line + 1}" for line in starts)
    about = f"comma-delimited; two SMS failure rows ({spans}) have a quoted two-line statusDescription"
    return Sample(name, 500, about), bad


def gzip_csv() -> tuple[Sample, list[Bad]]:
    name = "events-2026-11-25.csv.gz"
    rows = csv_rows(generated("csv", 600, 104, DAY3)[0])
    inserts: Inserts = {320: [(csv_line(swap(rows[320], 3, "")), "missing status code", "statusCode empty")]}
    data, bad = assemble(name, [csv_line(r) for r in rows], inserts, b"\n")
    # mtime=0 and no file name in the header: the same bytes on every run.
    (HERE / name).write_bytes(gzip.compress(data, mtime=0))
    return Sample(name, 600, "gzip of a comma-delimited CSV (line numbers are in the decompressed text)"), bad


def ndjson() -> tuple[Sample, list[Bad]]:
    name = "events-2026-11-23.ndjson"
    lines = generated("ndjson", 800, 105, DAY1)[0].read_bytes().splitlines()

    def edited(index: int, **changes: object) -> bytes:
        return json_line({**json.loads(lines[index]), **changes})

    latin = edited(499, sender="Café Rouge").replace("é".encode(), b"\xe9")
    quotes = b"{'event_time': '2026-11-23T12:00:00Z', 'channel': 'sms', 'status_code': 7500}"
    inserts: Inserts = {
        99: [(lines[99][: len(lines[99]) // 2], "invalid JSON", "record cut off half way, no closing brace")],
        199: [(edited(199, status_code="DELIVRD"), "non-numeric status code", '"status_code": "DELIVRD"')],
        299: [(edited(299, status_code=None), "missing status code", "no status_code key")],
        399: [(edited(399, event_time="not a time"), "unparseable time", '"event_time": "not a time"')],
        499: [(latin, "invalid UTF-8", "sender `Café Rouge` with a Latin-1 byte 0xE9")],
        599: [(quotes, "invalid JSON", "single-quoted keys and strings")],
    }
    data, bad = assemble(name, lines, inserts, b"\n")
    (HERE / name).write_bytes(data)
    about = "one JSON object per line; about 5% carry event_time as epoch milliseconds (a number)"
    return Sample(name, 800, about), bad


def zst_ndjson() -> tuple[Sample, list[Bad]]:
    name = "events-2026-11-24.ndjson.zst"
    lines = generated("ndjson", 600, 106, DAY2)[0].read_bytes().splitlines()
    broken = lines[250].replace(b'"status_code":', b'"status_code" ', 1)
    data, bad = assemble(
        name, lines, {250: [(broken, "invalid JSON", 'no colon after "status_code"')]}, b"\n"
    )
    (HERE / name).write_bytes(zstandard.ZstdCompressor(level=10).compress(data))
    return Sample(name, 600, "Zstandard-compressed NDJSON (line numbers are in the decompressed text)"), bad


def json_array() -> tuple[Sample, list[Bad]]:
    """One element per line between `[` and `]`, so element i (0-based) is on line i + 2."""
    name = "events-2026-11-25.json"
    lines = generated("json", 500, 107, DAY3)[0].read_bytes().splitlines()
    elements = [json.loads(line.rstrip(b",")) for line in lines[1:-1]]
    bad_time = "2026-13-45T99:00:00Z"
    changes = {149: ("status_code", None, "missing status code", '"status_code": null'),
               349: ("event_time", bad_time, "unparseable time", f'"event_time": "{bad_time}"')}  # fmt: skip
    bad = []
    for index, (key, value, kind, detail) in changes.items():
        elements[index][key] = value
        bad.append(Bad(name, index + 2, index + 1, kind, f"element {index + 1} of 500 has {detail}"))
    body = b",\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode() for e in elements)
    (HERE / name).write_bytes(b"[\n" + body + b"\n]\n")
    return Sample(name, 498, "a JSON array, one element per line; 2 of its 500 elements are bad"), bad


def parquet() -> tuple[Sample, list[Bad]]:
    name = "events-2026-11-23-to-25.parquet"
    table = pq.read_table(generated("parquet", 900, 108, DAY1, days=3)[0])
    codes = table.column("status_code").to_pylist()
    codes[449] = None
    column = table.schema.get_field_index("status_code")
    pq.write_table(table.set_column(column, "status_code", pa.array(codes, pa.int64())), HERE / name)
    about = "canonical column names, status_code int64, event_time timestamp[us, UTC]; all three days"
    return Sample(name, 899, about), [Bad(name, 450, 450, "missing status code", "status_code is null")]


# The story `make report` should find: on the last day, 7203 Unknown Subscriber spikes for AT&T's
# SMS numbers in the US, over eight days of realistic traffic (the baseline of the days before).
INCIDENT = Incident(day=DAY3, channel="sms", region="us", code=7203, carrier="AT&T", rate=0.9)
INCIDENT_START, INCIDENT_DAYS, INCIDENT_EVENTS = dt.date(2026, 11, 18), 8, 7000


def incident_csv() -> tuple[Sample, list[Bad]]:
    name = "events-2026-11-18-to-25-incident.csv"
    path = generate(
        WORK / "incident", INCIDENT_EVENTS, "csv", seed=110, days=INCIDENT_DAYS, start=INCIDENT_START,
        realistic=True, incident=INCIDENT,
    )[0]  # fmt: skip
    shutil.copyfile(path, HERE / name)
    about = (
        "realistic traffic over 8 days (`reporter generate --realistic`), with an incident on 2026-11-25: "
        "7203 Unknown Subscriber fails about 90% of AT&T's US SMS that would have been delivered"
    )
    return Sample(name, INCIDENT_EVENTS, about), []


def webhooks() -> tuple[list[Sample], list[Bad]]:
    """Webhook bodies carry no region: it comes from the `region=` folder, as in the real system."""
    root = HERE / "webhooks"
    shutil.rmtree(root, ignore_errors=True)
    samples, bad = [], []
    for path in generated("webhook", 600, 109, DAY2):
        target = root / path.parent.name / "events-2026-11-24.ndjson"
        target.parent.mkdir(parents=True)
        name, lines = target.relative_to(HERE).as_posix(), path.read_bytes().splitlines()
        inserts: Inserts = {}
        if path.parent.name == "region=eu":
            for index, code, kind in (
                (40, "", "missing status code"),
                (80, "DELIVRD", "non-numeric status code"),
            ):
                body = json.loads(lines[index])
                body["deliveryInfoNotification"]["deliveryInfo"]["code"] = code
                inserts[index] = [(json_line(body), kind, f'deliveryInfo "code": "{code}"')]
        data, found = assemble(name, lines, inserts, b"\n")
        target.write_bytes(data)
        samples.append(Sample(name, len(lines), "deliveryInfoNotification bodies, one per line"))
        bad += found
    return samples, bad


def readme(samples: list[Sample], bad: list[Bad]) -> str:
    files = "\n".join(f"| `{s.file}` | {s.good} | {s.about} |" for s in samples)
    rows = "\n".join(f"| `{b.file}` | {b.line} | {b.record} | {b.kind} | {b.detail} |" for b in bad)
    return f"""# sample_logs

Synthetic delivery logs for 2026-11-23 to 2026-11-25 (UTC), every channel and region, in every input
format, with a few deliberately bad rows, and eight days of realistic traffic (2026-11-18 to 2026-11-25)
with an incident on the last day for the report to find. **Generated: do not edit by hand.** Edit
`make_samples.py` and run `.venv/bin/python sample_logs/make_samples.py` from the repository root: it
rewrites every file below and this README, with the same bytes on every run.

Good rows come from `reporter.generate`: multi-event lifecycles per message (7501 Submitted, then 7500
Delivered, 7502 Read where the channel documents it, or a failure code from the code dimension; some
retries delivered after a failure; 1001 Queued first on some Apple messages; a few 7200 and undocumented
7999 codes; US/Canada-only SMS codes mostly in us/ca). Column names vary by format as real exports do: CSV
`eventTime,transid,channel,statusCode,statusDescription,region,destination,sender,carrier`; NDJSON and JSON
`event_time,message_id,channel,status_code,status_description,region,destination,sender,tenant`; Parquet
the canonical names. Channel spellings vary (`SMS`, `WhatsApp`, `e-mail`, `ABC`...); text timestamps are
ISO 8601 with `Z`, `+00:00` or `+05:30`.

The incident file is `reporter generate --realistic` traffic (failure rates per channel and region,
missing receipts, daily and weekly volume, delivery latencies per channel) with
`Incident(day=2026-11-25, channel="sms", region="us", code=7203, carrier="AT&T", rate=0.9)`: on that day
7203 Unknown Subscriber is the final status of far more US SMS than on the seven days before.

## Files ({sum(s.good for s in samples)} good events)

| file | good events | what it is |
|---|---|---|
{files}

## Deliberately bad rows ({len(bad)})

`line` is the physical line (1-based, header included) of the decompressed text, as `sed -n 'Np'` shows
it. `record` is the position as a reader counts it: the CSV record with the header as 1 (a quoted newline
does not start a record), the NDJSON line, the JSON array element, the Parquet row, all 1-based. Each bad
row is an extra row copied from the good row above it, except in the JSON array and the Parquet file,
where a generated row was altered in place.

| file | line | record | kind | what is wrong |
|---|---|---|---|---|
{rows}
"""


def write_all() -> None:
    for old in HERE.glob("events-*"):
        old.unlink()
    samples: list[Sample] = []
    bad: list[Bad] = []
    builds = (
        comma_csv,
        semicolon_csv,
        multiline_csv,
        gzip_csv,
        ndjson,
        zst_ndjson,
        json_array,
        parquet,
        incident_csv,
    )
    for build in builds:
        sample, found = build()
        samples.append(sample)
        bad += found
    hooks, found = webhooks()
    (HERE / "README.md").write_text(readme(samples + hooks, bad + found), encoding="utf-8")
    size = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"{sum(s.good for s in samples + hooks)} good events, {len(bad + found)} bad rows, {size:,} bytes")


def main() -> None:
    try:
        write_all()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()

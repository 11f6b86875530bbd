"""Run bench/reference.sql on one input, in any format `reporter generate` writes.

    python bench/reference.py --codes CODES.parquet --out DIR [--format F] FILE...

    python bench/reference.py --floor ...      # + one materialised read and a duplicate check

The format comes from the files' extension unless given (webhook bodies are .ndjson: pass
`--format webhook`). The read is here, in one place: a view `events` (event_time, message_id,
channel, region, status_code, destination) over DuckDB's own auto-detecting reader, which
reference.sql then uses. Column names and channel spellings differ by format, as in real exports.

With --floor, the read is first materialised into a table (issue 7: the input is scanned once per
run) and its exact duplicate rows are found (issue 3: duplicates are dropped and counted) by
grouping a hash of every column, as a tool must that does both; the reference then reads the table.
This is the least such a tool pays, before any quarantine, masking or extract of its own.
"""

import argparse
from pathlib import Path

import duckdb

SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
# The spellings the exports use for a channel, to the keys of the code dimension.
CHANNEL_KEY = """
CREATE MACRO channel_key(c) AS CASE lower(c)
    WHEN 'e-mail' THEN 'email' WHEN 'in-app' THEN 'inapp' WHEN 'facebook' THEN 'messenger'
    WHEN 'abc' THEN 'apple' WHEN 'apple messages for business' THEN 'apple' WHEN 'twitter dm' THEN 'twitter'
    ELSE lower(c) END;
"""
READ = {
    "parquet": """
        SELECT event_time, message_id, channel, region, status_code, destination
        FROM read_parquet(getvariable('input'))""",
    "csv": """
        SELECT eventTime AS event_time, transid AS message_id, channel_key(channel) AS channel, region,
               statusCode AS status_code, destination
        FROM read_csv(getvariable('input'))""",
    # event_time is ISO 8601 text, or a few times epoch milliseconds (a JSON number).
    "ndjson": """
        SELECT CASE WHEN regexp_full_match(t, '[0-9]+') THEN epoch_ms(CAST(t AS BIGINT)) AT TIME ZONE 'UTC'
                    ELSE CAST(t AS TIMESTAMPTZ) END AS event_time,
               CAST(message_id AS VARCHAR) AS message_id, channel_key(channel) AS channel, region,
               status_code, destination
        FROM (SELECT *, trim(CAST(event_time AS VARCHAR), '"') AS t
              FROM read_json(getvariable('input'), format = 'newline_delimited'))""",
    # The vendor's body carries no region: it is the region=<r>/ folder (a hive partition).
    "webhook": """
        SELECT CAST(deliveryInfoNotification.deliveryInfo.timeStamp AS TIMESTAMPTZ) AS event_time,
               CAST(deliveryInfoNotification.transid AS VARCHAR) AS message_id,
               channel_key(deliveryInfoNotification.deliveryInfo.deliveryChannel) AS channel, region,
               CAST(deliveryInfoNotification.deliveryInfo.code AS BIGINT) AS status_code,
               deliveryInfoNotification.deliveryInfo.destination AS destination
        FROM read_json(getvariable('input'), format = 'newline_delimited', hive_partitioning = true)""",
}

parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
parser.add_argument("files", nargs="+")
parser.add_argument("--codes", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--format", choices=sorted(READ))
parser.add_argument("--floor", action="store_true", help="materialise the read and find duplicates first")
args = parser.parse_args()
fmt = args.format or SUFFIXES[Path(args.files[0]).suffix]

con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
for name, value in (("input", args.files), ("codes", args.codes), ("out", args.out)):
    con.execute(f"SET VARIABLE {name} = ?", [value])
con.execute(CHANNEL_KEY)
if args.floor:
    con.execute(f"CREATE TABLE read AS {READ[fmt]}")
    names = con.execute("SELECT name FROM pragma_table_info('read')").fetchall()
    hashed = f"hash({', '.join(name for (name,) in names)})"
    con.execute(f"CREATE TABLE duplicates AS SELECT {hashed} AS h FROM read GROUP BY h HAVING count(*) > 1")
    con.execute("CREATE VIEW events AS SELECT * FROM read")
else:
    con.execute(f"CREATE VIEW events AS {READ[fmt]}")
con.execute((Path(__file__).parent / "reference.sql").read_text())

"""Writes the small input files the ingest tests read: one file per bad-input kind.

Run from this folder: `python make_fixtures.py`. Text fixtures are written byte for byte so
BOMs, CRLFs and invalid UTF-8 are exactly what the tests name.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
HEADER = "event_time,message_id,channel,status_code,region\n"
GOOD = [
    "2026-11-23T10:00:00Z,m1,sms,7501,eu\n",
    "2026-11-23T10:00:05Z,m1,sms,7500,eu\n",
    "2026-11-23T10:01:00Z,m2,whatsapp,7501,uk\n",
]


def text(name: str, body: str | bytes) -> None:
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    (HERE / name).write_bytes(data)


def main() -> None:
    good = HEADER + "".join(GOOD)
    text("bom.csv", "\ufeff" + good)
    text("crlf.csv", good.replace("\n", "\r\n"))
    text(
        "quoted_newline.csv",
        HEADER.replace("region", "status_description,region")
        + '2026-11-23T10:00:00Z,m1,sms,7501,"first line\nsecond line",eu\n'
        + "2026-11-23T10:00:05Z,m1,sms,7500,plain,eu\n",
    )
    text("semicolon.csv", good.replace(",", ";"))
    text("too_few_columns.csv", good + "2026-11-23T10:02:00Z,m3,sms\n")
    text("too_many_columns.csv", good + "2026-11-23T10:02:00Z,m3,sms,7501,eu,extra\n")
    text("non_numeric_code.csv", good + "2026-11-23T10:02:00Z,m3,sms,75O1,eu\n")
    text("missing_code.csv", good + "2026-11-23T10:02:00Z,m3,sms,,eu\n")
    text("bad_time.csv", good + "yesterday at noon,m3,sms,7501,eu\n")
    text(
        "invalid_utf8.csv",
        (HEADER + GOOD[0] + GOOD[1]).encode()
        + b"2026-11-23T10:02:00Z,m\xff\xfe3,sms,7501,eu\n"
        + GOOD[2].encode(),
    )
    full = gzip.compress(good.encode() * 200, mtime=0)
    text("truncated.csv.gz", full[: len(full) // 2])
    text("empty.csv", "")
    text("header_only.csv", HEADER)
    lines = [
        json.dumps(
            {
                "event_time": "2026-11-23T10:00:00Z",
                "message_id": "j1",
                "channel": "email",
                "status_code": 7501,
                "region": "us",
            }
        ),
        '{"event_time": "2026-11-23T10:00:05Z", "message_id": "j1", "channel": ',
        json.dumps(
            {
                "event_time": "2026-11-23T10:00:09Z",
                "message_id": "j1",
                "channel": "email",
                "status_code": "7500",
                "region": "us",
            }
        ),
    ]
    text("invalid_json_line.ndjson", "\n".join(lines) + "\n")
    text(
        "array.json",
        json.dumps(
            [
                {
                    "eventTime": "2026-11-23T10:00:00+05:30",
                    "messageId": "a1",
                    "Channel": "Push",
                    "statusCode": "7501",
                },
                {"eventTime": 1763892000000, "messageId": "a1", "Channel": "Push", "statusCode": 7502},
            ],
            indent=2,
        ),
    )
    webhook = {
        "deliveryInfoNotification": {
            "deliveryInfo": {
                "timeStamp": "2026-11-23T10:00:00Z",
                "code": "7203",
                "Description": "Unknown Subscriber address",
                "deliveryChannel": "SMS",
                "deliveryStatus": "Un-Delivered",
                "destination": "447700900123",
                "destinationType": "MSISDN",
                "messageCount": "1",
                "additionalInfo": "",
            },
            "transid": "w1",
            "subtid": "s1",
            "carrier": "",
            "callbackData": "",
            "correlationid": "",
        }
    }
    webhook2 = json.loads(json.dumps(webhook))
    webhook2["deliveryInfoNotification"]["deliveryInfo"].update(
        code="7501", deliveryChannel="whatsapp", timeStamp="2026-11-23T09:59:58Z"
    )
    text("webhook.ndjson", json.dumps(webhook2) + "\n" + json.dumps(webhook) + "\n")
    base = {
        "event_time": pa.array([1763892000000000, 1763892005000000], pa.timestamp("us", tz="UTC")),
        "message_id": ["p1", "p1"],
        "channel": ["sms", "sms"],
        "status_code": pa.array([7501, 7500], pa.int64()),
        "region": ["in", "in"],
    }
    pq.write_table(pa.table(base), HERE / "reference.parquet")
    pq.write_table(pa.table({**base, "campaign": ["c1", "c2"]}), HERE / "extra_column.parquet")
    pq.write_table(pa.table({**base, "status_code": ["7501", "7500"]}), HERE / "code_type_changed.parquet")


if __name__ == "__main__":
    main()

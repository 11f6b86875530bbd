"""Synthetic delivery-event logs shaped like real exports, for tests, demos and benchmarks.

Every value is a pure function of (seed, message or event index): a counter-based hash
(splitmix64, in Polars expressions) instead of a stateful generator, so the events do not depend
on the chunk size (only the time-ordering is per chunk) and the same arguments give the same bytes.
Codes come from the code dimension, so the data follows the vendor's document.

hashing.py holds the draws, model.py the messages and their events, writers.py the file formats.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from reporter.errors import UsageError
from reporter.generate.model import UNDOCUMENTED_CODE, Plan, make_events, make_messages, make_plan
from reporter.generate.traffic import Incident
from reporter.generate.writers import Sink

__all__ = ["CHUNK_MESSAGES", "FORMATS", "UNDOCUMENTED_CODE", "Incident", "generate"]

FORMATS = ("csv", "ndjson", "json", "parquet", "webhook")
_EXTENSION = {"csv": "csv", "ndjson": "ndjson", "json": "json", "parquet": "parquet", "webhook": "ndjson"}
# About 250,000 events per chunk keeps memory near 0.5 GB whatever `events` is.
CHUNK_MESSAGES = 120_000


def _chunks(plan: Plan) -> Iterator[pl.DataFrame]:
    first_message = first_event = 0
    while first_event < plan.events:
        # About 2.1 events per message: a small run does not pay for a full chunk.
        count = min(CHUNK_MESSAGES, (plan.events - first_event) // 2 + 16)
        chunk = make_events(plan, make_messages(plan, first_message, count), first_event)
        first_message, first_event = first_message + count, first_event + chunk.height
        yield chunk


def generate(
    out_dir: Path,
    events: int,
    fmt: str,
    seed: int = 0,
    days: int = 1,
    start: dt.date = dt.date(2026, 11, 23),
    files: int = 1,
    realistic: bool = False,
    incident: Incident | None = None,
) -> list[Path]:
    """Write `events` synthetic delivery events in `fmt` under `out_dir`; return the files written.

    Events spread over `days` UTC days from `start` and split by position into `files` files
    (`events.<ext>`, or `events-0001.<ext>`...). Webhook bodies carry no region, so they go to
    `region=<r>/` folders, as a hive partition would deliver them. Same arguments, same bytes.

    `realistic=True`: failure rates per channel and region, missing receipts per channel, daily
    and weekly seasonality in volume and delivery latencies per channel (reporter/generate/traffic.py).
    `incident`: one code spiking on one day, e.g. a story for the report to find::

        generate(out, 5_000, "csv", seed=13, days=8, start=dt.date(2026, 11, 18), realistic=True,
                 incident=Incident(day=dt.date(2026, 11, 25), channel="sms", region="us",
                                   code=7203, carrier="AT&T", rate=0.3))
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if events < 0 or days < 1 or files < 1:
        raise UsageError(f"events must be >= 0, days and files >= 1 (got {events}, {days}, {files})")
    plan = make_plan(seed, events, start, days, files, realistic, incident)
    by = ["file", "region"] if fmt == "webhook" else ["file"]
    with contextlib.ExitStack() as stack:
        sink = Sink(stack, fmt, seed)
        for chunk in _chunks(plan):
            for key, part in sorted(chunk.partition_by(by, as_dict=True, maintain_order=True).items()):
                name = "events." if files == 1 else f"events-{int(key[0]) + 1:04d}."
                folder = Path(out_dir) / f"region={key[1]}" if fmt == "webhook" else Path(out_dir)
                sink.append(folder / (name + _EXTENSION[fmt]), part)
        written = sorted(sink.temporary)
    return written

"""The messages extract written by Spark: extracts/messages/date=YYYY-MM-DD/part-*.parquet.

The layout and columns are the DuckDB path's (docs/extracts.md); Spark names the files part-*,
writes one file per date (rows sorted by the input position of each message's first event), and
the folder is built under a temporary name and renamed into place, as every writer does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from reporter.fsio import atomic_dir

if TYPE_CHECKING:
    from reporter.run import RunOptions


def write_messages(messages: Any, options: RunOptions) -> None:
    """The messages of the period, one folder per date; an empty period still gets one empty file."""
    from pyspark.sql import functions as F

    kept = messages
    if options.start:
        kept = kept.where(F.col("date") >= F.lit(options.start))
    if options.end:
        kept = kept.where(F.col("date") <= F.lit(options.end))
    folder = options.out / "extracts" / "messages"
    with atomic_dir(folder) as tmp:
        (
            kept.repartition("date")
            .sortWithinPartitions("date", "first_src")
            .drop("first_src", "first_delivered_at")
            .write.mode("overwrite")
            .partitionBy("date")
            .parquet(str(tmp))
        )
        for crc in Path(tmp).rglob(".*.crc"):  # Hadoop's local checksums: not part of the contract
            crc.unlink()
        if not any(Path(tmp).glob("date=*/*.parquet")):
            empty = kept.drop("first_src", "first_delivered_at", "date").limit(0).toArrow()
            day = (options.start or dt.date(1970, 1, 1)).isoformat()
            (Path(tmp) / f"date={day}").mkdir(exist_ok=True)
            pq.write_table(empty, Path(tmp) / f"date={day}" / "data_0.parquet", compression="zstd")

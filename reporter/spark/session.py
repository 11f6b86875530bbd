"""The SparkSession a run uses: the master, the config's extra conf, and the settings outputs rely on."""

from __future__ import annotations

import os
import sys
from typing import Any

from reporter.config import EngineConfig
from reporter.errors import EngineError

LOCAL_MASTER = "local[2]"
# Settings the outputs depend on; the config's [engine] conf may add to them, not change them.
FIXED_CONF = {
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # as DuckDB writes (no INT96)
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",  # no _SUCCESS file
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
# Defaults for a local run (kept under 4 GB); the config's conf and spark-submit's options beat them.
DEFAULT_CONF = {
    "spark.driver.memory": "3g",
    "spark.sql.shuffle.partitions": "4",  # per core of local[2]; AQE merges small ones
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # a cron run prints nothing on success
}


def spark_session(engine: EngineConfig, master: str | None, timezone: str) -> Any:
    """A SparkSession (getOrCreate: under spark-submit, the one it made), in the config's time zone."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError("the spark engine needs pyspark: pip install 'reporter[spark]'") from exc
    # Local mode: Python workers run this interpreter, which has reporter and its dependencies.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("reporter")
    url = master or engine.master
    if url:
        builder = builder.master(url)
    elif not os.environ.get("PYSPARK_GATEWAY_PORT"):
        builder = builder.master(LOCAL_MASTER)  # not under spark-submit (which sets the master): local
    for key, value in {
        **DEFAULT_CONF,
        **engine.conf,
        **FIXED_CONF,
        "spark.sql.session.timeZone": timezone,
    }.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # Java missing, a bad master URL...: one line, not a JVM trace
        raise EngineError(f"Spark did not start ({url or LOCAL_MASTER}): {str(exc).splitlines()[0]}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.session.timeZone", timezone)
    return spark

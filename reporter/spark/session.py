"""The SparkSession a run uses: the master, the config's extra conf, and the settings outputs rely on.

A run is silent on success, as a cron job must be: the driver JVM this process starts writes its
stderr (the JVM's own startup warnings, which no log setting reaches, and Spark's log, errors only by
reporter/spark/log4j2.properties) to a log file, removed at exit unless a Spark error named it.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
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
JAVA_OPTIONS = "spark.driver.extraJavaOptions"
_jvm_log: dict[str, Path] = {}  # "path": the log of the JVM this process started; "kept": not removed


def spark_session(engine: EngineConfig, master: str | None, timezone: str) -> Any:
    """A SparkSession (getOrCreate: under spark-submit, the one it made), in the config's time zone."""
    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError("the spark engine needs pyspark: pip install 'reporter[spark]'") from exc
    # Local mode: Python workers run this interpreter, which has reporter and its dependencies.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("reporter")
    url = master or engine.master
    submitted = bool(os.environ.get("PYSPARK_GATEWAY_PORT"))  # spark-submit started the JVM
    if url:
        builder = builder.master(url)
    elif not submitted:
        builder = builder.master(LOCAL_MASTER)  # not under spark-submit (which sets the master): local
    for key, value in {
        **DEFAULT_CONF,
        **engine.conf,
        **FIXED_CONF,
        "spark.sql.session.timeZone": timezone,
    }.items():
        builder = builder.config(key, value)
    builder = builder.config(JAVA_OPTIONS, _java_options(engine.conf.get(JAVA_OPTIONS, "")))
    starts_jvm = not submitted and SparkContext._active_spark_context is None
    try:
        with _stderr_to_log() if starts_jvm else _unchanged():
            spark = builder.getOrCreate()
    except Exception as exc:  # Java missing, a bad master URL...: one line, not a JVM trace
        raise EngineError(
            f"Spark did not start ({url or LOCAL_MASTER}): {str(exc).splitlines()[0]}{log_note()}"
        ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    spark.conf.set("spark.sql.session.timeZone", timezone)
    return spark


def _java_options(configured: str) -> str:
    """The config's driver Java options, then the log4j2 file that keeps Spark's log to errors."""
    log4j = resources.files("reporter.spark").joinpath("log4j2.properties")
    return f"{configured} -Dlog4j2.configurationFile={log4j}".strip()


@contextmanager
def _stderr_to_log() -> Iterator[None]:
    """Start the JVM with its stderr (fd 2, which it inherits) on a log file; ours is restored after."""
    fd, name = tempfile.mkstemp(prefix="reporter-spark-", suffix=".log")
    _jvm_log["path"] = Path(name)
    atexit.register(_remove_log)
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def _unchanged() -> Iterator[None]:
    yield


def log_note() -> str:
    """' (Spark's log: PATH)' for an error message, and that log is kept; '' when there is none."""
    path = _jvm_log.get("path")
    if path is None:
        return ""
    _jvm_log["kept"] = path
    return f" (Spark's log: {path})"


def jvm_log() -> Path | None:
    """The file the driver JVM this process started writes its stderr to (None under spark-submit)."""
    return _jvm_log.get("path")


def _remove_log() -> None:
    path = _jvm_log.get("path")
    if path is not None and "kept" not in _jvm_log:
        with suppress(OSError):
            path.unlink()


_NAMED_ERROR = re.compile(r"[\w.$]+(?:Error|Exception): ")


def failure_line(exc: BaseException) -> str:
    """One line naming a Spark or JVM failure (py4j wraps the JVM's whole trace in the message)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # A Python error in a task comes back inside the JVM's message: its last line says what it was.
    errors = [line for line in lines if line.split(":")[0].endswith(("Error", "Exception"))]
    if errors:
        return errors[-1][:300]
    # A JVM failure: "...SparkException: Job aborted ...: java.io.IOException: Cannot run ...": the innermost.
    for line in lines:
        named = list(_NAMED_ERROR.finditer(line))
        if named:
            return line[named[-1].start() :][:300]
    return (lines[0] if lines else type(exc).__name__)[:300]

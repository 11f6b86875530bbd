"""Inputs the Spark engine reads: local paths (expanded as the DuckDB engine does) and Hadoop URIs.

A URI (`hdfs://`, `s3a://`, `gs://`, `abfss://`, `file://`...: any scheme the cluster's Hadoop has a
FileSystem for) is listed on the driver through the session JVM's Hadoop FileSystem: a file, a
folder (walked recursively, data files by name as for a local folder) or a glob. Each file's bytes
are then read in its task by Spark's binaryFile source (spark/ingest.py): a file must be under 2 GB
(one Java byte array, one Arrow value) and is held whole in the task's memory while it is copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from reporter.errors import InputError
from reporter.ingest.sources import is_data_file
from reporter.spark.session import failure_line

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_GLOB = re.compile(r"[*?\[{]")


@dataclass(frozen=True)
class RemoteFile:
    """One file a URI named: Hadoop's qualified path (binaryFile's `path`) and the name outputs use."""

    uri: str
    name: str  # the scheme and authority the user wrote, then the file's path


def split_inputs(items: list[str]) -> tuple[list[str], list[str]]:
    """(local paths, URIs) of the run's inputs, each in the order given."""
    return [i for i in items if not _URI.match(i)], [i for i in items if _URI.match(i)]


def list_uris(spark: Any, items: list[str]) -> list[RemoteFile]:
    """The files the URIs name, each URI's sorted; a URI naming nothing is an InputError (exit 66)."""
    from py4j.protocol import Py4JError

    files: list[RemoteFile] = []
    for item in items:
        try:
            found = _list(spark, item)
        except Py4JError as exc:  # no FileSystem for the scheme, refused...: one line
            raise InputError(f"{item}: cannot list: {failure_line(exc)}") from exc
        if not found:
            raise InputError(
                f"{item}: {'no files match' if _GLOB.search(item) else 'no such file or folder'}"
            )
        parts = urlsplit(item)
        files.extend(RemoteFile(uri, f"{parts.scheme}://{parts.netloc}{path}") for uri, path in found)
    return files


def _list(spark: Any, item: str) -> list[tuple[str, str]]:
    """(qualified URI, path) of each file: the URI's matches, folders walked for data files."""
    hadoop = spark.sparkContext._jvm.org.apache.hadoop.fs
    path = hadoop.Path(item)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    found: list[tuple[str, str]] = []
    for status in fs.globStatus(path) or []:
        if not status.isDirectory():
            found.append((status.getPath().toString(), status.getPath().toUri().getPath()))
            continue
        walk = fs.listFiles(status.getPath(), True)
        while walk.hasNext():
            file = walk.next().getPath()
            if is_data_file(Path(file.getName())):
                found.append((file.toString(), file.toUri().getPath()))
    return sorted(found)


def local_name(name: str) -> str:
    """The file name (suffixes kept: they tell the format) a task copies a remote file to."""
    return PurePosixPath(urlsplit(name).path).name

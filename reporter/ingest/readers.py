"""The readers, one module per input format, by the format `sources.detect` finds in a file's bytes.

A new format is a module with a `stage(con, source, table, make) -> Staged` (see stage.py for what
every reader shares) and one line here, plus its sniffing in sources.py.
"""

from __future__ import annotations

from reporter.ingest.csv_reader import stage_csv
from reporter.ingest.json_reader import stage_json
from reporter.ingest.parquet_reader import parquet_schema, stage_parquet
from reporter.ingest.stage import (
    FieldSpec,
    Reader,
    SpecMaker,
    Staged,
    StageSpecs,
    UnreadableSource,
    cutting_long_lines,
    line_numbering,
    source_column,
)

READERS: dict[str, Reader] = {
    "csv": cutting_long_lines(stage_csv),
    "ndjson": cutting_long_lines(stage_json),
    "json": stage_json,
    "parquet": stage_parquet,
}

__all__ = [
    "READERS",
    "FieldSpec",
    "Reader",
    "SpecMaker",
    "StageSpecs",
    "Staged",
    "UnreadableSource",
    "line_numbering",
    "parquet_schema",
    "source_column",
]

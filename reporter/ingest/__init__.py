"""Ingest: delivery logs in every real shape -> canonical events + quarantine, reconciled."""

from reporter.ingest.pipeline import (
    EVENT_COLUMNS,
    FileStats,
    IngestOptions,
    IngestResult,
    drop_events,
    ingest,
)

__all__ = ["EVENT_COLUMNS", "FileStats", "IngestOptions", "IngestResult", "drop_events", "ingest"]

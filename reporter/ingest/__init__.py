"""Ingest: delivery logs in every real shape -> canonical events + quarantine, reconciled."""

from reporter.ingest.dedup import drop_events
from reporter.ingest.pipeline import EVENT_COLUMNS, IngestOptions, ingest
from reporter.ingest.results import FileStats, IngestResult

__all__ = ["EVENT_COLUMNS", "FileStats", "IngestOptions", "IngestResult", "drop_events", "ingest"]

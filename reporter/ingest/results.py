"""What an ingest returns: each file's figures and the reconciliation every run must pass."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import duckdb

from reporter.errors import ExitCode, ReconciliationError, UnreadableInputError
from reporter.ingest.sources import InputFinding


@dataclass
class FileStats:
    path: str
    format: str
    size: int
    sha256: str
    compression: str | None = None
    webhook: bool = False
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    unique: int = 0
    duplicates: int = 0
    whole_file: str | None = None  # reason the file was recorded whole, if it was

    def reconciles(self) -> bool:
        return (
            self.rows_read == self.accepted + self.quarantined
            and self.accepted == self.unique + self.duplicates
        )


@dataclass
class IngestResult:
    files: list[FileStats]
    reasons: dict[str, int]
    findings: list[InputFinding] = field(default_factory=list)  # what the inputs named but were not read

    def check_inputs(self) -> None:
        """Raise for an input that could not be read (after the outputs are written: see the manifest)."""
        unreadable = [f for f in self.findings if f.unreadable]
        if not unreadable:
            return
        more = f" (and {len(unreadable) - 1} more unreadable inputs)" if len(unreadable) > 1 else ""
        error = UnreadableInputError(
            f"{unreadable[0].path}: {unreadable[0].problem}{more}; see manifest.json"
        )
        if any(f.io_error for f in unreadable):
            error.exit_code = ExitCode.IO
        raise error

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "accepted", "quarantined", "unique", "duplicates")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}


def reconciled(
    con: duckdb.DuckDBPyConnection, files: list[FileStats], findings: list[InputFinding]
) -> IngestResult:
    """The IngestResult, once every file reconciles (rows read = accepted + quarantined), with the
    quarantine's reasons counted. Both engines end their ingest here."""
    for stats in files:
        if not stats.reconciles():
            raise ReconciliationError(
                f"{stats.path}: rows read {stats.rows_read} != accepted {stats.accepted} "
                f"+ quarantined {stats.quarantined}"
            )
    reasons = Counter(
        dict(con.execute("SELECT reason, sum(rows) FROM quarantine GROUP BY reason").fetchall())
    )
    return IngestResult(files, {k: int(v) for k, v in sorted(reasons.items())}, findings)

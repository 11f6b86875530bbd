"""One error root for the library, and the sysexits codes the CLI maps it to.

Every error carries a one-line message naming the file, line or value at fault;
the CLI prints it on stderr and exits with the subclass's code.
"""

from __future__ import annotations

import os
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (sysexits.h), documented in the README."""

    OK = 0
    USAGE = 64
    DATA = 65
    NO_INPUT = 66
    UNAVAILABLE = 69
    SOFTWARE = 70
    CANT_CREATE = 73
    IO = 74
    TEMP_FAIL = 75
    CONFIG = 78


# The most severe first: when several dates of a backfill fail, the run exits with the first of these
# among them (a bug, then the machine's disk and outputs, the config, delivery, inputs, data, retry).
SEVERITY = (
    ExitCode.SOFTWARE,
    ExitCode.IO,
    ExitCode.CANT_CREATE,
    ExitCode.CONFIG,
    ExitCode.UNAVAILABLE,
    ExitCode.NO_INPUT,
    ExitCode.DATA,
    ExitCode.TEMP_FAIL,
    ExitCode.USAGE,
)


def printable(text: str) -> str:
    """`text` as one printable line: control characters (tab, newline, U+2028...) escaped, bytes
    that are not UTF-8 (in file names) as \\xNN. Error lines and -v tables name files with it."""
    text = os.fsencode(text).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def internal_error(exc: BaseException) -> str:
    """One line for an error that is a bug (exit 70)."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"internal error: {type(exc).__name__}: {first} (please report)"


class ReporterError(Exception):
    """Root of every error the library raises on purpose."""

    exit_code = ExitCode.SOFTWARE


class UsageError(ReporterError):
    """A command was called with options that do not fit together."""

    exit_code = ExitCode.USAGE


class DocumentError(ReporterError):
    """The vendor's status-code document could not be parsed."""

    exit_code = ExitCode.DATA


class ConfigError(ReporterError):
    """A config or overrides file is malformed or names an unknown key."""

    exit_code = ExitCode.CONFIG


class InputError(ReporterError):
    """An input is missing or unreadable as a whole."""

    exit_code = ExitCode.NO_INPUT


class ReconciliationError(ReporterError):
    """Rows read did not equal rows accepted plus rows quarantined."""

    exit_code = ExitCode.DATA


class QueryError(ReporterError):
    """A named query is malformed, or failed when it ran."""

    exit_code = ExitCode.DATA


class OutputError(ReporterError):
    """An output file or folder could not be created."""

    exit_code = ExitCode.CANT_CREATE


class EmailContentError(ReporterError):
    """A report's email/ folder does not hold together (a cid: without its PNG, a PNG never used)."""

    exit_code = ExitCode.DATA


class DeliveryError(ReporterError):
    """The SMTP server refused the message for good, or no verified TLS connection could be made."""

    exit_code = ExitCode.UNAVAILABLE


class TransientDeliveryError(DeliveryError):
    """The SMTP server could not be reached or answered 4xx: the same command may succeed later."""

    exit_code = ExitCode.TEMP_FAIL


class LockedError(ReporterError):
    """Another run holds the nightly lock: try again later."""

    exit_code = ExitCode.TEMP_FAIL


class AlertError(ReporterError):
    """An alert rule fired and --fail-on-alert asked for a non-zero exit."""

    exit_code = ExitCode.DATA


class MemoryLimitError(ReporterError):
    """The run needed more memory than memory_limit allows, even spilling to disk."""

    exit_code = ExitCode.TEMP_FAIL


class EngineError(ReporterError):
    """The Spark engine is not installed, could not start, or its job failed."""

    exit_code = ExitCode.UNAVAILABLE


class StorageError(ReporterError):
    """A file could not be read or written mid-run: a full disk while writing extracts or spilling, an
    input failing with an I/O error after it was opened and read."""

    exit_code = ExitCode.IO


class UnreadableInputError(InputError):
    """An input file or folder could not be read (the run went on without it: see the manifest)."""


class BatchError(ReporterError):
    """Several items failed (the dates of a backfill): one line each, the most severe exit code."""

    def __init__(self, failures: list[tuple[str, int]]) -> None:
        super().__init__("\n".join(line for line, _ in failures))
        self.lines = [line for line, _ in failures]
        codes = {code for _, code in failures}
        self.exit_code = next((c for c in SEVERITY if c in codes), ExitCode.SOFTWARE)

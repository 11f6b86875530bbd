"""Step handles: the tables one step leaves on the run's DuckDB connection for the steps after it.

The steps of a run share one connection; a table's name is the contract between the step that
creates it and the ones that read it (queries/*.sql read the same names, and the warehouse has a
view by each name). A handle names those tables and what they were made from, and checks they are
there when a step hands them on, so reporter/run.py shows the whole data flow in its handles.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from reporter.errors import ReporterError


@dataclass(frozen=True)
class Tables:
    """The tables `step` created on the connection (read by name by the steps after it), and the
    tables it read to make them. All but `internal` are written as extracts/NAME.parquet."""

    step: str
    creates: tuple[str, ...]
    reads: tuple[str, ...] = ()
    internal: tuple[str, ...] = ()

    @property
    def extracts(self) -> tuple[str, ...]:
        return tuple(t for t in self.creates if t not in self.internal)

    def on(self, con: duckdb.DuckDBPyConnection) -> Tables:
        """This handle, once every table it names is on `con`: a step that left one out fails here,
        naming it, not in a query three steps later."""
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
        ).fetchall()
        missing = sorted(set(self.creates) - {name for (name,) in rows})
        if missing:
            raise ReporterError(f"the {self.step} step left no {', '.join(missing)} on the run's connection")
        return self


# What the heavy part of a run leaves for the small part, on either engine (run._duckdb_tables,
# reporter/spark/): the quarantine and inputs (ingest, extracts.register_inputs), the code dimension
# (outcomes.register_dimension) and the small aggregates of events and messages (outcomes).
INGESTED = Tables("ingest", ("quarantine", "inputs"))
DIMENSION = Tables("dimension", ("status_codes", "status_code_rows"))
AGGREGATES = Tables(
    "outcomes",
    ("message_counts", "event_counts", "delivery_times", "by_carrier"),
    reads=("events", "ingest_files", "status_codes"),
)
# The history step: this run's daily breakdowns (named queries over message_counts) and earlier days'.
HISTORY = Tables(
    "history",
    ("daily_history", "daily_codes", "daily_codes_history"),
    reads=("message_counts",),
    internal=("daily_history", "daily_codes_history"),
)

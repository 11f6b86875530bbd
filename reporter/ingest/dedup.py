"""Exact duplicate events: the later copies of an event are taken out of `events`.

Every stage table stays the storage of its file's rows (no copy): a later copy gets the reason
'duplicate' in its stage, and `events` is a view over the stages' accepted rows (AcceptedRows).
Once the duplicates are known, the columns only the check read can leave memory (keep_fields).
Bucket files (reporter/ingest/bucketed.py) are never updated: a bucket's later copies are left out
of its `events` by their input position instead (bucket_events).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb

from reporter import schema
from reporter.engine import limit_bytes
from reporter.ingest.results import FileStats

LINE_BASE = 10**12  # events_all carries file index * base + line, so min() finds the first occurrence
# Memory limit per row hash grouped in one pass when looking for duplicates (12M rows a pass at
# 3 GB, 50M at 12 GB). At 100M events under 3 GB (the kernel's peak RSS, /usr/bin/time): passes of
# 25M rows peaked at 3,674 MiB, in the first pass; of 12M, 3,379 MiB, in 24.7 s for the 9 passes
# (the 4 took 25.8 s); of 6M, 3,379 MiB again. One pass of 100M took RSS 1.2 GB past the limit.
_DEDUP_BYTES_PER_ROW = 240


def stage_table(index: int) -> str:
    return f"stage_{index}"


@dataclass(frozen=True)
class AcceptedRows:
    """One staged file's accepted rows, as `events_all` reads them from its stage table."""

    index: int  # the file's, in the run's order
    table: str
    line: str  # SQL: a row's line number in its file
    skips: str  # the join that line numbering needs, if any (stage.line_numbering)
    present: frozenset[str]  # the optional fields the stage holds
    ordinal_from_rowid: bool  # the stage's __c_ordinal is unused (NULL): the rowid is the ordinal
    # False: `table` is a scan of bucket files (reporter/ingest/bucketed.py), which has no rowid and
    # is never updated: its later copies are left out of `events` by their position instead.
    in_table: bool = True

    def sql(self, duplicate_check: bool = True) -> str:
        """The rows, canonical columns first; `duplicate_check` adds the row hash and rowid it reads."""
        columns = ", ".join(self._column(c) for c in schema.NAMES)
        rowid = "s.rowid" if self.in_table else "CAST(NULL AS BIGINT)"
        check = f", s.__c_hash AS __hash, {rowid} AS __rowid" if duplicate_check else ""
        return (
            f"SELECT {columns}, {self.index} * {LINE_BASE} + {self.line} AS __src{check} "
            f"FROM {self.table} s{self.skips} JOIN channel_map m ON m.text = s.__c_channel_text "
            "WHERE s.__c_reason IS NULL AND m.channel IS NOT NULL"
        )

    def _column(self, name: str) -> str:
        if name == "channel":
            return "m.channel"
        if schema.BY_NAME[name].converted or name in self.present:
            return f"s.__c_{name} AS {name}"
        return f"CAST(NULL AS VARCHAR) AS {name}"


def drop_events(con: duckdb.DuckDBPyConnection) -> None:
    """Drop `events` and the stage tables under it (the quarantine stays), to free their memory.

    A view built over `events` by a later step must be dropped by that step first."""
    con.execute("DROP VIEW IF EXISTS events")
    con.execute("DROP VIEW IF EXISTS events_all")
    con.execute("DROP TABLE IF EXISTS dup_later")
    stages = con.execute(
        "SELECT table_name FROM duckdb_tables() "
        "WHERE temporary AND regexp_full_match(table_name, 'stage_[0-9]+(_skips)?')"
    ).fetchall()
    for (table,) in stages:
        con.execute(f"DROP TABLE {table}")


def _repeated_hashes(con: duckdb.DuckDBPyConnection, stages: list[str], rows: int) -> None:
    """`dup_hashes`: the row hashes that occur more than once, the only duplicate candidates.

    The stage hashed every field but the channel. Hashes are grouped in the stages themselves (a
    superset of the accepted rows: cheaper than events_all's join, and a stray candidate is ruled
    out by the column-by-column comparison after), in passes over hash ranges to bound memory.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE dup_hashes (h UBIGINT)")
    if not stages:
        return
    hashes = " UNION ALL ".join(f"SELECT __c_hash AS h FROM {t} WHERE __c_reason IS NULL" for t in stages)
    passes = max(1, -(-rows // max(limit_bytes(con) // _DEDUP_BYTES_PER_ROW, 1)))
    for i in range(passes):
        part = f"WHERE h % {passes} = {i}" if passes > 1 else ""
        con.execute(f"INSERT INTO dup_hashes SELECT h FROM ({hashes}) {part} GROUP BY h HAVING count(*) > 1")


def deduplicate(con: duckdb.DuckDBPyConnection, accepted: list[AcceptedRows], files: list[FileStats]) -> None:
    """`events`: every accepted event but the later copies of exact duplicates.

    The stage tables stay the storage (no copy): later copies get the reason 'duplicate' in their
    stage, which takes them out of `events`, a view. Rows are hashed while staged and only rows whose
    hash repeats are compared column by column, so the common case costs one integer GROUP BY.
    """
    dropped = find_duplicates(con, accepted, sum(f.accepted for f in files))
    for index in dropped:
        con.execute(
            f"UPDATE {stage_table(index)} SET __c_reason = 'duplicate' WHERE rowid IN "
            f"(SELECT __rowid FROM dup_later WHERE __src // {LINE_BASE} = ?)",
            [index],
        )
    for index, stats in enumerate(files):
        stats.duplicates = int(dropped.get(index, 0))
        stats.unique = stats.accepted - stats.duplicates


def find_duplicates(
    con: duckdb.DuckDBPyConnection, accepted: list[AcceptedRows], rows: int
) -> dict[int, int]:
    """`dup_later` (__src, __rowid): every later copy of an exact duplicate among the `accepted` rows
    (`rows` of them). Returns the later copies per file index. Leaves the view `events_all`."""
    cols = ", ".join(schema.NAMES)
    _create_views(con, accepted, duplicate_check=True)
    _repeated_hashes(con, [rows.table for rows in accepted], rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dup_candidates AS SELECT __src FROM events_all "
        "WHERE __hash IN (SELECT h FROM dup_hashes)"
    )
    con.execute("DROP TABLE dup_hashes")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dup_later AS SELECT __src, __rowid FROM ("
        f"SELECT __src, __rowid, row_number() OVER (PARTITION BY {cols} ORDER BY __src) AS n "
        "FROM events_all WHERE __src IN (SELECT __src FROM dup_candidates)) WHERE n > 1"
    )
    con.execute("DROP TABLE dup_candidates")
    found = con.execute(f"SELECT __src // {LINE_BASE}, count(*) FROM dup_later GROUP BY ALL").fetchall()
    return {int(index): int(count) for index, count in found}


def keep_fields(con: duckdb.DuckDBPyConnection, accepted: list[AcceptedRows], fields: frozenset[str]) -> None:
    """Drop from the stage tables what no step after the duplicate check reads: the row hash, the raw
    text (quarantined rows have theirs already), an unused ordinal and the fields not in `fields`,
    which `events` then shows as NULL. DuckDB drops a column without copying the table, and rowids
    (the line numbers of CSV and Parquet rows) stay; at 20M events of 8 fields, the peak RSS (in the
    per-message GROUP BY) went from 8,431 to 7,592 MiB."""
    for i, rows in enumerate(accepted):
        unread = ["__c_hash", "__c_raw", *(f"__c_{f}" for f in sorted(rows.present - fields))]
        if rows.ordinal_from_rowid:
            unread.append("__c_ordinal")
        for column in unread:
            con.execute(f"ALTER TABLE {rows.table} DROP COLUMN {column}")
        accepted[i] = replace(rows, present=rows.present & fields)
    _create_views(con, accepted, duplicate_check=False)


def bucket_events(
    con: duckdb.DuckDBPyConnection, accepted: list[AcceptedRows], fields: frozenset[str]
) -> None:
    """`events` over a bucket's files (reporter/ingest/bucketed.py): the accepted rows but the later
    copies that find_duplicates left in `dup_later`, with only `fields` of the optional fields (the
    others NULL, as keep_fields leaves them)."""
    kept = [replace(rows, present=rows.present & fields) for rows in accepted]
    # No later copy (the usual case): no anti-join on every scan of `events`.
    later = accepted and con.execute("SELECT count(*) FROM dup_later").fetchall()[0][0]
    _create_views(con, kept, duplicate_check=False, later="dup_later" if later else None)


def _create_views(
    con: duckdb.DuckDBPyConnection,
    accepted: list[AcceptedRows],
    duplicate_check: bool,
    later: str | None = None,
) -> None:
    """`events_all` (the stages' accepted rows, with what the duplicate check reads) and `events`;
    without the rows whose __src is in the table `later`, if given."""
    cols = ", ".join(schema.NAMES)
    check = ", CAST(NULL AS UBIGINT) AS __hash, CAST(NULL AS BIGINT) AS __rowid" if duplicate_check else ""
    empty = f"SELECT {cols}, CAST(NULL AS BIGINT) AS __src{check} FROM events_empty"
    parts = " UNION ALL ".join(rows.sql(duplicate_check) for rows in accepted) or empty
    con.execute(f"CREATE OR REPLACE TEMP VIEW events_all AS {parts}")
    leave_out = f" ANTI JOIN {later} USING (__src)" if later else ""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW events AS SELECT {cols}, {position_columns('__src')} "
        f"FROM events_all{leave_out}"
    )


def position_columns(src: str) -> str:
    """`source_index, source_line, event_src`: an event's input position, from `src` (events_all's
    file index * LINE_BASE + line). The bucket files keep event_src only (reporter/buckets.py)."""
    return (
        f"CAST({src} // {LINE_BASE} AS INTEGER) AS source_index, {src} % {LINE_BASE} AS source_line, "
        f"{src} AS event_src"
    )

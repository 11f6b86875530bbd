"""Exact duplicate events: the later copies of an event are taken out of `events`.

Every stage table stays the storage of its file's rows (no copy): a later copy gets the reason
'duplicate' in its stage, and `events` is a view over the stages' accepted rows.
"""

from __future__ import annotations

import duckdb

from reporter import schema
from reporter.ingest.results import FileStats

LINE_BASE = 10**12  # events_all carries file index * base + line, so min() finds the first occurrence
# Row hashes grouped per pass when looking for duplicates: at 100M events in one pass, the hash table
# took RSS 1.2 GB past a 3 GB memory limit; 25M per pass stays under it.
_DEDUP_ROWS_PER_PASS = 25_000_000


def stage_table(index: int) -> str:
    return f"stage_{index}"


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
    passes = max(1, -(-rows // _DEDUP_ROWS_PER_PASS))
    for i in range(passes):
        part = f"WHERE h % {passes} = {i}" if passes > 1 else ""
        con.execute(f"INSERT INTO dup_hashes SELECT h FROM ({hashes}) {part} GROUP BY h HAVING count(*) > 1")


def deduplicate(
    con: duckdb.DuckDBPyConnection, parts: list[str], stages: list[str], files: list[FileStats]
) -> None:
    """`events`: every accepted event but the later copies of exact duplicates.

    The stage tables stay the storage (no copy): later copies get the reason 'duplicate' in their
    stage, which takes them out of `events`, a view. Rows are hashed while staged and only rows whose
    hash repeats are compared column by column, so the common case costs one integer GROUP BY.
    """
    cols = ", ".join(schema.NAMES)
    empty = (
        f"SELECT {cols}, CAST(NULL AS BIGINT) AS __src, CAST(NULL AS UBIGINT) AS __hash, "
        "CAST(NULL AS BIGINT) AS __rowid FROM events_empty"
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW events_all AS {' UNION ALL '.join(parts) or empty}")
    _repeated_hashes(con, stages, sum(f.accepted for f in files))
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
    dropped = dict(
        con.execute(f"SELECT __src // {LINE_BASE}, count(*) FROM dup_later GROUP BY ALL").fetchall()
    )
    for index in dropped:
        con.execute(
            f"UPDATE {stage_table(index)} SET __c_reason = 'duplicate' WHERE rowid IN "
            f"(SELECT __rowid FROM dup_later WHERE __src // {LINE_BASE} = ?)",
            [index],
        )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW events AS SELECT {cols}, "
        f"CAST(__src // {LINE_BASE} AS INTEGER) AS source_index, __src % {LINE_BASE} AS source_line, "
        "__src AS event_src FROM events_all"
    )
    for index, stats in enumerate(files):
        stats.duplicates = int(dropped.get(index, 0))
        stats.unique = stats.accepted - stats.duplicates

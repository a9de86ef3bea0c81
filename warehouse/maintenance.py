"""Keeping a warehouse's lake small and quick: DuckLake's own maintenance functions, in the order they need.

1. `ducklake_flush_inlined_data`: rows small writes left inline in the catalog go to Parquet files (every table
   but `checksums`, whose rows stay in the catalog: see newsflow.warehouse.checksums).
2. `ducklake_merge_adjacent_files`: the small files of many runs become a few per table partition; the old
   files stay until no snapshot refers to them, so time travel still reads them.
3. `ducklake_expire_snapshots`: snapshots older than the retention are dropped (never the latest).
4. `ducklake_cleanup_old_files`: files only expired snapshots referred to are deleted.

Step 1 runs in a transaction that also records the checksums of the files it writes. DuckLake commits a merge
only in a transaction that changes nothing else, so the checksums of the files step 2 writes are recorded in a
transaction right after it (a compaction killed between the two leaves those files "unrecorded" for
`newsflow verify`, which can record them). That second transaction also drops the rows of the files the merge
replaced; the rows of files step 4 deletes are dropped by the next transaction that records checksums (a run, a
repair, the next compaction): dropping them here would add a snapshot to every compaction, and a row of a file
no snapshot uses is never read. Call it under the warehouse's writer lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from newsflow.warehouse.checksums import CHECKSUMS, checksummed_step, ensure_checksums_table
from newsflow.warehouse.lake import LAKE
from newsflow.warehouse.storage import LANDED, Warehouse, landed_tables


@dataclass
class CompactSummary:
    warehouse: str
    files_before: int = 0
    files_after: int = 0
    snapshots_expired: int = 0
    files_deleted: int = 0
    files_recorded: int = 0  # new files whose checksums the compaction recorded
    seconds: float = 0.0


def data_files(store: Warehouse, con: duckdb.DuckDBPyConnection) -> int:
    """The current data files of every table of the lake (the station table's too)."""
    return sum(len(store.files(name, con)) for name in landed_tables(con))


def flush_statements(tables: list[str]) -> list[str]:
    """The calls that flush the inlined rows of these landed tables to Parquet files (never the checksums')."""
    return [
        f"CALL ducklake_flush_inlined_data('{LAKE}', schema_name => '{LANDED}', table_name => '{name}')"
        for name in tables
        if name != CHECKSUMS
    ]


def compact_lake(store: Warehouse, keep_days: float) -> CompactSummary:
    """Flush, merge, expire and clean up (see the module's docstring); returns what changed."""
    if keep_days < 0:
        raise ValueError(f"keep_days must be 0 or more, not {keep_days:g}")
    clock = time.perf_counter()
    summary = CompactSummary(store.location)
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    with store.connect() as con:
        summary.files_before = data_files(store, con)
        ensure_checksums_table(con)
        flushed = checksummed_step(store, con, flush_statements(landed_tables(con)), "compaction: inlined rows flushed")
        merge = [f"CALL ducklake_merge_adjacent_files('{LAKE}')"]
        merged = checksummed_step(store, con, merge, "compaction: adjacent files merged", alone=True)
        summary.files_recorded = flushed + merged
        expired = con.execute(f"SELECT * FROM ducklake_expire_snapshots('{LAKE}', older_than => ?)", [cutoff])
        summary.snapshots_expired = len(expired.fetchall())
        deleted = con.execute(f"SELECT * FROM ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)")
        summary.files_deleted = len(deleted.fetchall())
        summary.files_after = data_files(store, con)
    summary.seconds = time.perf_counter() - clock
    return summary

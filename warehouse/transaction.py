"""A run's writes to the warehouse: one DuckLake transaction across every table.

Everything a run lands (pages, articles, entities, weather, quarantine, stamps and its `runs` row) is inserted in
one transaction and committed at the end, as one snapshot of the lake whose commit message names the run.
Readers see the previous snapshot until then; a run that dies before its commit leaves only Parquet files the
catalog never recorded, which the next writer deletes. Call it under the warehouse's writer lock
(newsflow.warehouse.locking.writer_lock).

Every data and delete file the transaction adds gets its size and SHA-256 recorded in the landed table `checksums`
by the transaction itself, just before it commits (newsflow.warehouse.checksums).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from types import TracebackType

import duckdb
import polars as pl

from newsflow.core.faults import halt_point
from newsflow.core.schema import RUNS, TABLES
from newsflow.warehouse import ledger
from newsflow.warehouse.catalog import ensure_catalog
from newsflow.warehouse.checksums import ensure_checksums_table, record_new_files, stored_files
from newsflow.warehouse.lake import LAKE, set_commit_message
from newsflow.warehouse.locking import claim_writer
from newsflow.warehouse.storage import LANDED, Warehouse


class RunTransaction:
    """`with RunTransaction(store) as tx:` open; `tx.insert(...)` as often as needed; `tx.commit(run_id, row)`
    ends it. Leaving the block without a commit rolls everything back."""

    def __init__(
        self,
        store: Warehouse,
        holder: str | None = None,
        first: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> None:
        self.store = store
        self.first = first  # run in the transaction before anything reads a table (a repair's table rewrites)
        self.holder = holder or f"newsflow (pid {os.getpid()}) on {socket.gethostname()}"  # in the writer row
        self.con: duckdb.DuckDBPyConnection | None = None
        self.orphans_removed = 0
        self.committed = False
        self.files_recorded = 0  # new data and delete files whose checksums the commit recorded
        self._stored: set[str] = set()  # the files under data/ when the transaction began
        self._columns: dict[str, list[str]] = {}  # a landed table's columns, in the lake's order

    def __enter__(self) -> RunTransaction:
        self.con = self.store.connect()
        try:
            self.orphans_removed = self._remove_orphans()
            ensure_checksums_table(self.con)
            self._stored = stored_files(self.store)
            # DuckDB's allocator keeps what writing Parquet freed; handed back at once, the run's peak memory
            # stays lower for a little more time spent landing (benchmarks/README.md, the DuckLake figures)
            self.con.execute(
                "SET allocator_background_threads = true; SET allocator_flush_threshold = '1MB'; "
                "SET allocator_bulk_deallocation_flush_threshold = '1MB'"
            )
            self.con.execute("BEGIN")
            if self.first is not None:
                self.first(self.con)
            ensure_catalog(self.con)
            claim_writer(self.con, self.holder)
        except BaseException:
            self.con.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self.con is not None
        try:
            if not self.committed:
                self.con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # the transaction failed already: DuckDB rolled it back
        finally:
            self.con.close()

    def _remove_orphans(self) -> int:
        """Delete data files no snapshot records: those of a run that died before its commit. With a SQLite
        catalog every writer takes the same lock (newsflow.warehouse.locking.writer_lock), held now, so every such
        file is dead; with a shared catalog (PostgreSQL) only files a day old are, as a writer on another machine
        may be writing the others now."""
        assert self.con is not None
        age = "cleanup_all => true" if self.store.catalog.is_file else "older_than => now() - INTERVAL 1 DAY"
        try:
            return len(self.con.execute(f"SELECT * FROM ducklake_delete_orphaned_files('{LAKE}', {age})").fetchall())
        except duckdb.Error:  # nothing written yet: no table, no data folder
            return 0

    def read(self, table: str, columns: list[str] | None = None) -> pl.DataFrame:
        """A table's rows in this transaction (what earlier runs landed, and this run so far)."""
        return self.store.read(table, columns, self.con)

    def known_pages(self) -> pl.DataFrame:
        """The ledger's pages in this transaction (newsflow.warehouse.ledger.known_pages)."""
        return ledger.known_pages(self.store, self.con)

    def file_stamps(self) -> pl.DataFrame:
        """The ledger's file stamps in this transaction (newsflow.warehouse.ledger.file_stamps)."""
        return ledger.file_stamps(self.store, self.con)

    def insert(self, tables: Mapping[str, pl.DataFrame]) -> dict[str, int]:
        """Add rows to tables (each frame conformed to its table's schema); returns the rows added per table."""
        assert self.con is not None
        if RUNS.name in tables:
            raise ValueError("the runs row is written by commit(), last")
        added = {}
        for name, frame in tables.items():
            if frame.is_empty():
                added[name] = 0
                continue
            self._append(name, frame)
            added[name] = frame.height
        return added

    def clear(self, tables: list[str]) -> None:
        """Delete every row of these tables in this transaction (a full refresh replaces what came before; the
        rows stay in earlier snapshots)."""
        assert self.con is not None
        for name in tables:
            self.con.execute(f"DELETE FROM {LANDED}.{name}")

    def commit(self, run_id: str, run_row: pl.DataFrame, kind: str = "ingest") -> int:
        """Insert the run's `runs` row and commit: readers see all of the run from now on. Returns the
        snapshot id of the commit."""
        self.insert_runs(run_row)
        return self.commit_as(kind, {"run_id": run_id}, f"{kind} run {run_id}")

    def insert_runs(self, rows: pl.DataFrame) -> None:
        """Add `runs` rows (a run's own, by commit(); an older warehouse's, by newsflow.warehouse.migrate)."""
        self._append(RUNS.name, rows)

    def _append(self, table: str, frame: pl.DataFrame) -> None:
        """Insert a frame, conformed to the table's schema, into the landed table. Through a relation over the
        Arrow data, in the lake table's own column order: an Arrow table registered by name instead stays
        referenced until the transaction ends, so a run's memory would grow with every batch it lands."""
        assert self.con is not None
        columns = self._columns.get(table)
        if columns is None:
            listed = self.con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
                "AND table_name = ? ORDER BY column_index",
                [LAKE, LANDED, table],
            ).fetchall()
            columns = self._columns[table] = [name for (name,) in listed]
        rows = TABLES[table].conform(frame).select(columns).to_arrow()
        self.con.from_arrow(rows).insert_into(f"{LANDED}.{table}")

    def commit_as(self, kind: str, info: dict[str, object], message: str | None = None) -> int:
        """Commit, naming the snapshot (its commit message, and `kind` and `info` as its JSON extra info, which
        newsflow.warehouse.catalog.snapshots reads). Returns the snapshot id."""
        assert self.con is not None
        self.files_recorded = record_new_files(self.store, self.con, self._stored)
        set_commit_message(self.con, kind, info, message)
        halt_point("landed-tables")
        self.con.execute("COMMIT")
        self.committed = True
        halt_point("committed")
        return int(self.con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0])

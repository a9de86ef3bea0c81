"""Landing and reading the Parquet tables of one warehouse folder.

Each run writes one zstd Parquet file per table it has rows for (`<table>/part-<run_id>.parquet`, through a
temporary name and an atomic rename) and its `runs` row last. The `runs` row is the commit: rows of a run
with no `runs` row (a run that crashed half-way) are invisible to readers and deleted by the next run.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from newsflow.faults import halt_point
from newsflow.schema import ARTICLES, PAGES, RUNS, TABLES
from transforms.pages import version_keys

COMPRESSION = "zstd"
LOCK_FILE = ".newsflow.lock"
UNKNOWN = "unknown"  # the partition of rows whose partition value is null

# Hive-style partitions (`<table>/<key>=<value>/part-<run_id>.parquet`) for the tables people query by time:
# articles by month of registration (Korea time), weather readings by month of capture, the ledger by ingest date.
PARTITIONS: dict[str, tuple[str, pl.Expr]] = {
    ARTICLES.name: (
        "registered_month",
        pl.col("registered_at").dt.convert_time_zone("Asia/Seoul").dt.strftime("%Y-%m"),
    ),
    "weather_snapshots": ("capture_month", pl.col("capture_date").dt.strftime("%Y-%m")),
    PAGES.name: ("ingest_date", pl.col("ingested_at").dt.convert_time_zone("Asia/Seoul").dt.strftime("%Y-%m-%d")),
}


class WarehouseBusy(RuntimeError):
    """Another run held the warehouse's writer lock for longer than this run would wait."""


@dataclass(frozen=True)
class Warehouse:
    root: Path

    @classmethod
    def at(cls, path: str | os.PathLike) -> Warehouse:
        return cls(Path(path).expanduser().resolve())

    @contextmanager
    def writer_lock(
        self, timeout: float = 3600.0, on_wait: Callable[[str], None] | None = None, poll: float = 0.2
    ) -> Iterator[None]:
        """Hold the warehouse's writer lock: one run writes at a time, a second one waits (up to `timeout`
        seconds, then WarehouseBusy). An OS file lock (flock), so the kernel releases it when a run dies, even by
        SIGKILL. Readers never take it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+", encoding="utf-8") as handle:
            deadline = time.monotonic() + timeout
            waited = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    if time.monotonic() >= deadline:
                        raise WarehouseBusy(
                            f"{self.root} is being written by {holder}; gave up after {timeout:.0f} s"
                        ) from None
                    if not waited and on_wait is not None:
                        on_wait(holder)
                    waited = True
                    time.sleep(poll)
            handle.seek(0)
            handle.truncate()
            handle.write(f"newsflow run (pid {os.getpid()})")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def catalog_path(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def data_docs_dir(self) -> Path:
        return self.root / "data_docs"

    def table_dir(self, table: str) -> Path:
        return self.root / table

    def files(self, table: str) -> list[Path]:
        """Every Parquet file of a table, in all its partitions."""
        return sorted(self.table_dir(table).rglob("*.parquet"))

    def live_runs(self, runs: pl.DataFrame | None = None) -> set[str]:
        """Committed runs whose files are current: since the latest full refresh (all when there was none), less
        the runs a committed compaction merged into its own files. `runs`: the runs table, when already read."""
        runs = self.read(RUNS.name) if runs is None else runs
        refreshed = runs.filter(pl.col("full_refresh").fill_null(False))["started_at"].max()
        if refreshed is not None:
            runs = runs.filter(pl.col("started_at") >= refreshed)
        return set(runs["run_id"].to_list()) - _replaced(runs)

    @staticmethod
    def run_of(path: Path) -> str:
        """The run that wrote a file (part-<run_id>.parquet, or part-<run_id>.<part>.parquet for a run that
        landed batch by batch): a file is visible when its run is live.
        A compaction's file holds rows of the runs it merged, each row keeping its own run_id."""
        return path.name.removeprefix("part-").split(".")[0]

    def read(self, table: str) -> pl.DataFrame:
        """The live rows of a table: the files of live runs (not the files of runs without a `runs` row, nor of
        runs a full refresh or a compaction replaced). The runs table is read whole."""
        spec = TABLES[table]
        files = self.files(table)
        if table != RUNS.name:
            live = self.live_runs()
            files = [f for f in files if self.run_of(f) in live]
        if not files:
            return spec.empty()
        # the table's schema, not the first file's: a column added later reads as null in older files
        frame = pl.scan_parquet(
            files, schema=spec.schema, missing_columns="insert", extra_columns="ignore", hive_partitioning=False
        ).collect()
        return spec.conform(frame)

    def known_pages(self) -> pl.DataFrame:
        """page_id, content_hash, article_id and version_key of every page already in the ledger (the article
        columns where one landed)."""
        pages = self.read(PAGES.name).select("page_id", "content_hash")
        articles = self.read(ARTICLES.name).select("page_id", "article_id", version_key=version_keys())
        return pages.join(articles, on="page_id", how="left")

    def remove_uncommitted(self) -> list[Path]:
        """Delete files of runs that never committed, files a committed compaction or full refresh left behind,
        and stray temporary files; returns what was removed. Writers call it under the writer lock."""
        runs = self.read(RUNS.name)
        committed, live, replaced = set(runs["run_id"].to_list()), self.live_runs(runs), _replaced(runs)
        removed = [path for path in self.root.glob(".*.tmp") if path.is_file()]  # a catalog left half-built
        for path in removed:
            path.unlink(missing_ok=True)
        for table in TABLES:
            if table == RUNS.name:
                continue
            for path in [*self.table_dir(table).rglob("*.tmp"), *self.table_dir(table).rglob("part-*.parquet")]:
                run = self.run_of(path)
                if path.suffix == ".tmp" or run not in committed or (run in replaced and run not in live):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed

    def land(self, run_id: str, tables: Mapping[str, pl.DataFrame], run_row: pl.DataFrame) -> dict[str, int]:
        """Write a run's rows: every table's file first, then the runs row that commits them."""
        written = self.write_tables(run_id, tables)
        halt_point("landed-tables")
        self.commit(run_id, run_row)
        return written

    def write_tables(self, run_id: str, tables: Mapping[str, pl.DataFrame], part: int | None = None) -> dict[str, int]:
        """Write rows of a run that stay invisible until `commit`. A run landing batch by batch numbers its
        parts: `part-<run_id>.<part>.parquet`."""
        if RUNS.name in tables:
            raise ValueError("the runs row is written by commit(), last")
        return {name: self._write(name, run_id, TABLES[name].conform(frame), part) for name, frame in tables.items()}

    def commit(self, run_id: str, run_row: pl.DataFrame) -> None:
        """Write the run's `runs` row: from now on readers see every file of the run."""
        self._write(RUNS.name, run_id, RUNS.conform(run_row))

    def discard(self, run_id: str) -> None:
        """Remove every file of a run, its runs row first (undoes a commit whose catalog could not be built)."""
        for table in (RUNS.name, *TABLES):
            for path in self.table_dir(table).rglob(f"part-{run_id}.*parquet"):
                path.unlink(missing_ok=True)

    def _write(self, table: str, run_id: str, frame: pl.DataFrame, part: int | None = None) -> int:
        """Write a run's rows of a table: one file per partition (or one file), each through a temporary name."""
        if frame.is_empty():
            return 0
        name = f"part-{run_id}.parquet" if part is None else f"part-{run_id}.{part:05d}.parquet"
        if table not in PARTITIONS:
            self._write_file(self.table_dir(table) / name, frame)
            return frame.height
        key, value = PARTITIONS[table]
        keyed = frame.with_columns(value.fill_null(UNKNOWN).alias("__partition"))
        for (partition,), rows in keyed.partition_by("__partition", as_dict=True, maintain_order=True).items():
            self._write_file(self.table_dir(table) / f"{key}={partition}" / name, rows.drop("__partition"))
        return frame.height

    @staticmethod
    def _write_file(final: Path, frame: pl.DataFrame) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(final.name + ".tmp")
        frame.write_parquet(temporary, compression=COMPRESSION, statistics=True)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, final)


def _replaced(runs: pl.DataFrame) -> set[str]:
    """The runs that committed compactions in `runs` merged into their own files."""
    return set(runs["replaces"].explode().drop_nulls().to_list())

"""`newsflow migrate`: a warehouse of newsflow's format before DuckLake, moved into a DuckLake in place.

That format kept each run's rows in Parquet part files named by the run (`<table>/**/part-<run_id>[.<part>]
.parquet`) and made a run visible by its `runs` row. Its readers showed the rows of live runs: committed (a
`runs` row), not older than the latest full refresh, and not merged away by a compaction (`replaces`). This
module reads the tables exactly so, once, lands every row (each keeping its run_id) and every `runs` row in one
transaction of the new lake, checks the row counts, and only then deletes the old files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from newsflow.core.schema import RUNS, TABLES
from newsflow.warehouse.storage import Warehouse
from newsflow.warehouse.transaction import RunTransaction

OLD_CATALOG = "warehouse.duckdb"


class MigrationError(ValueError):
    """The folder is not a warehouse of the older format, or its rows did not all arrive."""


@dataclass
class Migrated:
    rows: dict[str, int]
    runs: int
    files_removed: int


def is_old_format(store: Warehouse) -> bool:
    return store.is_local and (store.root / RUNS.name).is_dir() and not store.has_catalog


def _run_of(path: Path) -> str:
    return path.name.removeprefix("part-").split(".")[0]


def _old_files(root: Path, table: str) -> list[Path]:
    return sorted((root / table).rglob("part-*.parquet")) if (root / table).is_dir() else []


def live_runs(runs: pl.DataFrame) -> set[str]:
    """The runs whose files the older format's readers showed."""
    refreshed = runs.filter(pl.col("full_refresh").fill_null(False))["started_at"].max()
    if refreshed is not None:
        runs = runs.filter(pl.col("started_at") >= refreshed)
    replaced = set(runs["replaces"].explode().drop_nulls().to_list()) if "replaces" in runs.columns else set()
    return set(runs["run_id"].to_list()) - replaced


def _read(files: list[Path], table: str) -> pl.DataFrame:
    spec = TABLES[table]
    if not files:
        return spec.empty()
    scan = pl.scan_parquet(
        files, schema=spec.schema, missing_columns="insert", extra_columns="ignore", hive_partitioning=False
    )
    return spec.conform(scan.collect())


def old_tables(root: Path) -> dict[str, pl.DataFrame]:
    """Every table of the older format as its readers showed it (runs: every committed run)."""
    runs = _read(_old_files(root, RUNS.name), RUNS.name)
    live = live_runs(runs)
    tables = {RUNS.name: runs}
    for table in TABLES:
        if table != RUNS.name:
            tables[table] = _read([f for f in _old_files(root, table) if _run_of(f) in live], table)
    return tables


def migrate(store: Warehouse) -> Migrated:
    """Move the older format's tables into a DuckLake in the same folder; call under the writer lock."""
    if not is_old_format(store):
        raise MigrationError(f"{store.location} is not a warehouse of the older format (no runs/ folder, or a lake)")
    tables = old_tables(store.root)
    runs = tables.pop(RUNS.name)
    with RunTransaction(store, holder="newsflow migrate") as tx:
        tx.insert(tables)
        for table, frame in tables.items():
            if tx.read(table, ["run_id"]).height != frame.height:
                raise MigrationError(f"{table}: {frame.height} rows read, a different count landed")
        tx.insert_runs(runs)
        tx.commit_as("migration", {"runs": runs.height})
    removed = 0
    for table in TABLES:
        if (store.root / table).is_dir():
            removed += len(list((store.root / table).rglob("*.parquet")))
            shutil.rmtree(store.root / table)
    (store.root / OLD_CATALOG).unlink(missing_ok=True)
    return Migrated({t: f.height for t, f in tables.items()}, runs.height, removed)

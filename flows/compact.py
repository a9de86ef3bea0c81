"""The compact flow: merge the small files of many runs into one file per table partition, atomically.

A compaction is a run of its own. It writes the live rows of every table again (each row keeping the run_id
that first wrote it) into its own files, one per partition, then commits with a `runs` row of kind
`compaction` that lists the runs it `replaces`. Readers decide visibility per file, by the run in the file's
name: before the commit they read the old files, after it the new ones, never both. The replaced files are
deleted once the new catalog is in place; a compaction killed half-way leaves uncommitted files that the next
writer removes.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsflow.schema import PAGE_STATUSES, RUNS, TABLES
from warehouse.catalog import refresh_catalog
from warehouse.store import Warehouse


@dataclass
class CompactSummary:
    run_id: str
    warehouse: str
    runs_merged: int = 0
    files_before: int = 0
    files_after: int = 0
    rows: int = 0
    seconds: float = 0.0


def data_files(store: Warehouse) -> int:
    return sum(len(store.files(name)) for name in TABLES if name != RUNS.name)


@task(name="merge-runs", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def merge_runs(store: Warehouse, run_id: str, started: datetime) -> tuple[list[str], int]:
    """Write every live row again as this run's files and commit; returns the runs merged and the rows written."""
    live = sorted(store.live_runs())
    tables = {name: store.read(name) for name in TABLES if name != RUNS.name}
    row = {c: None for c in RUNS.column_names} | {
        "run_id": run_id,
        "started_at": started,
        "finished_at": datetime.now(UTC),
        "sources": [],
        "pages_seen": 0,
        "pages_skipped": 0,
        **{f"pages_{s}": 0 for s in PAGE_STATUSES},
        "articles_rows": 0,
        "entities_rows": 0,
        "weather_rows": 0,
        "quarantine_rows": 0,
        "validation_success": True,
        "seconds": 0.0,
        "stage_seconds": json.dumps({}),
        "full_refresh": False,
        "kind": "compaction",
        "replaces": live,
    }
    store.land(run_id, tables, RUNS.conform(pl.DataFrame([row], schema_overrides={"replaces": pl.List(pl.String)})))
    return live, sum(frame.height for frame in tables.values())


@flow(name="newsflow-compact", log_prints=True)
def compact(warehouse: str = "warehouse", lock_timeout: float = 3600.0, min_runs: int = 2) -> CompactSummary:
    """Merge the files of every live run into one file per table partition (when at least `min_runs` runs have
    files to merge); the tables' contents do not change."""
    logger = get_run_logger()
    store = Warehouse.at(warehouse)
    waiting = partial(logger.info, "waiting for the warehouse: %s is writing to it")
    started, clock = datetime.now(UTC), time.perf_counter()
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    summary = CompactSummary(run_id=run_id, warehouse=store.location)
    with store.writer_lock(timeout=lock_timeout, on_wait=waiting):
        store.remove_uncommitted()
        summary.files_before = data_files(store)
        with_files = {store.run_of(f) for name in TABLES if name != RUNS.name for f in store.files(name)}
        if len(with_files & store.live_runs()) < min_runs:
            logger.info("nothing to compact: fewer than %d runs have files", min_runs)
            summary.files_after = summary.files_before
            return summary
        merged, summary.rows = merge_runs(store, run_id, started)
        summary.runs_merged = len(merged)
        refresh_catalog(store)
        store.remove_uncommitted()  # the merged runs' files: the new catalog no longer reads them
        summary.files_after = data_files(store)
    summary.seconds = time.perf_counter() - clock
    logger.info(
        "compaction %s merged %d runs: %d files -> %d (%d rows)",
        run_id, summary.runs_merged, summary.files_before, summary.files_after, summary.rows,
    )  # fmt: skip
    return summary

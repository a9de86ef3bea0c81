"""The compact flow: DuckLake's own maintenance of a warehouse (newsflow.warehouse.maintenance), as a Prefect flow."""

from __future__ import annotations

from functools import partial

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newsflow.core.constants import DEFAULT_WAREHOUSE
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.maintenance import CompactSummary, compact_lake
from newsflow.warehouse.storage import Warehouse


@task(name="compact-lake", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def compact_task(store: Warehouse, keep_days: float) -> CompactSummary:
    """Merge small files, expire old snapshots, delete the files nothing refers to any more. Each step is a
    transaction of DuckLake's, so a retry starts from whatever the last one committed."""
    return compact_lake(store, keep_days)


@flow(name="newsflow-compact", log_prints=True)
def compact(
    warehouse: str = DEFAULT_WAREHOUSE,
    lock_timeout: float = 3600.0,
    keep_days: float = 30.0,
    catalog: str | None = None,
) -> CompactSummary:
    """Compact the warehouse under its writer lock: the tables' contents do not change; history older than
    `keep_days` days (snapshots and the files only they refer to) is dropped, the latest snapshot always kept."""
    logger = get_run_logger()
    store = Warehouse.at(warehouse, catalog)
    waiting = partial(logger.info, "waiting for the warehouse: %s is writing to it")
    with writer_lock(store, timeout=lock_timeout, on_wait=waiting):
        summary = compact_task(store, keep_days)
    logger.info(
        "compacted %s: %d files -> %d, %d snapshots expired, %d files deleted",
        store.location, summary.files_before, summary.files_after, summary.snapshots_expired, summary.files_deleted,
    )  # fmt: skip
    return summary

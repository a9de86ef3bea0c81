"""The warehouse's files read across schema versions, by polars and through the DuckDB catalog."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from newsflow.schema import RUNS
from warehouse.catalog import query, refresh_catalog
from warehouse.store import Warehouse


def run_row(run_id: str, started: datetime) -> pl.DataFrame:
    row = {c: None for c in RUNS.column_names} | {"run_id": run_id, "started_at": started, "finished_at": started}
    return RUNS.conform(pl.DataFrame([row], schema_overrides={"started_at": pl.Datetime("us", "UTC")}))


def test_a_column_added_later_reads_as_null_in_older_files(tmp_path):
    store = Warehouse.at(tmp_path)
    (tmp_path / "runs").mkdir()
    old = run_row("20240101T000000-old", datetime(2024, 1, 1, tzinfo=UTC)).drop("full_refresh")  # before it existed
    old.write_parquet(tmp_path / "runs" / "part-20240101T000000-old.parquet")
    new = run_row("20240102T000000-new", datetime(2024, 1, 2, tzinfo=UTC)).with_columns(full_refresh=pl.lit(False))
    new.write_parquet(tmp_path / "runs" / "part-20240102T000000-new.parquet")

    runs = store.read("runs").sort("run_id")
    assert runs.select("run_id", "full_refresh").rows() == [
        ("20240101T000000-old", None),
        ("20240102T000000-new", False),
    ]
    assert store.live_runs() == {"20240101T000000-old", "20240102T000000-new"}
    refresh_catalog(store)
    seen = query(store, "SELECT run_id, full_refresh FROM runs ORDER BY run_id")
    assert seen.rows() == [("20240101T000000-old", None), ("20240102T000000-new", False)]

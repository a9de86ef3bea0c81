"""The warehouse's files read across schema versions, by polars and through the DuckDB catalog."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from newsflow.schema import QUARANTINE, RUNS
from warehouse.catalog import BUILT_FROM, query, refresh_catalog
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


def test_the_catalog_is_rebuilt_only_when_the_statements_behind_its_views_change(tmp_path):
    store = Warehouse.at(tmp_path)
    (tmp_path / "runs").mkdir()
    for number in (1, 2, 3):
        run_id = f"2024010{number}T000000-run{number}"
        run_row(run_id, datetime(2024, 1, number, tzinfo=UTC)).write_parquet(
            tmp_path / "runs" / f"part-{run_id}.parquet"
        )
        assert refresh_catalog(store) == str(tmp_path / "warehouse.duckdb")
        if number == 1:
            built = query(store, f"SELECT built_at FROM {BUILT_FROM}").item()
    # the views find the new files by their glob: the first catalog still stands and reads all three runs
    assert query(store, f"SELECT built_at FROM {BUILT_FROM}").item() == built
    assert query(store, "SELECT count(*) FROM runs").item() == 3

    (tmp_path / "quarantine").mkdir()  # a table's first file: its view changes from the empty SELECT to the glob
    QUARANTINE.empty().write_parquet(tmp_path / "quarantine" / "part-20240103T000000-run3.parquet")
    refresh_catalog(store)
    rebuilt = query(store, f"SELECT built_at FROM {BUILT_FROM}").item()
    assert rebuilt > built
    assert "read_parquet" in query(store, "SELECT sql FROM duckdb_views() WHERE view_name = 'quarantine'").item()

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:  # a catalog from before the fingerprint
        con.execute(f"DROP TABLE {BUILT_FROM}")
    refresh_catalog(store)
    assert query(store, f"SELECT built_at FROM {BUILT_FROM}").item() > rebuilt

"""`newsflow migrate`: a warehouse of the format before DuckLake (part files named by run, a `runs` row as the
commit, compactions that replace runs) moves into DuckLake in place with the same rows its readers showed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import polars as pl
import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.core.schema import RUNS, TABLES
from newsflow.flows.ingest import ingest
from newsflow.warehouse.catalog import query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e
CONTENT = ("pages", "articles", "entities", "weather_snapshots", "quarantine", "stamps")


def digest(store: Warehouse, table: str) -> str:
    return hashlib.sha256(
        "\n".join(sorted(map(repr, query(store, f"SELECT * FROM {table}").rows()))).encode()
    ).hexdigest()


def write_part(root, table: str, run: str, frame: pl.DataFrame, partition: str | None = None) -> None:
    folder = root / table / partition if partition else root / table
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / f"part-{run}.parquet")


@pytest.fixture(scope="module")
def source(prefect_harness, tmp_path_factory) -> Warehouse:
    store = Warehouse.at(tmp_path_factory.mktemp("lake") / "wh")
    ingest([str(EXAMPLES)], warehouse=str(store.root))
    return store


def test_an_old_warehouse_moves_into_duckdb_lake_with_the_rows_its_readers_showed(source, tmp_path):
    run = source.read(RUNS.name).row(0, named=True)["run_id"]
    old = tmp_path / "old"
    tables = {table: source.read(table) for table in CONTENT}
    # the ingest run's files, then a compaction that rewrote them all (its files keep each row's run_id)
    for table, frame in tables.items():
        if table == "articles":  # partitioned, as that format did, by month of registration
            for (month,), rows in (
                frame.with_columns(m=pl.col("registered_at").dt.strftime("%Y-%m"))
                .partition_by("m", as_dict=True)
                .items()
            ):
                write_part(old, table, run, rows.drop("m"), f"registered_month={month}")
                write_part(old, table, "20991231T000000-compact", rows.drop("m"), f"registered_month={month}")
        else:
            write_part(old, table, run, frame)
            write_part(old, table, "20991231T000000-compact", frame)
    stray = tables["articles"].head(1).with_columns(title=pl.lit("a run that never committed"))
    write_part(old, "articles", "20991231T000001-crashed", stray, "registered_month=2024-01")
    ingest_row = source.read(RUNS.name)
    compaction = ingest_row.with_columns(
        run_id=pl.lit("20991231T000000-compact"),
        kind=pl.lit("compaction"),
        replaces=pl.lit([run], dtype=pl.List(pl.String)),
        started_at=pl.lit(datetime(2099, 12, 31, tzinfo=UTC)),
    )
    write_part(old, RUNS.name, run, ingest_row)
    write_part(old, RUNS.name, "20991231T000000-compact", RUNS.conform(compaction))
    (old / "warehouse.duckdb").write_bytes(b"the old catalog")

    refused = CliRunner().invoke(app, ["sql", "SELECT 1", "--warehouse", str(old)], terminal_width=400)
    assert refused.exit_code == 2 and f"newsflow migrate --warehouse {old}" in refused.output

    moved = CliRunner().invoke(app, ["migrate", "--warehouse", str(old)], terminal_width=400)
    assert moved.exit_code == 0, moved.output
    assert f"articles {tables['articles'].height:,}" in moved.output and "runs 2" in moved.output
    store = Warehouse.at(old)
    for table in CONTENT:
        assert digest(store, table) == digest(source, table), table
    assert query(store, "SELECT run_id, kind FROM runs ORDER BY run_id").rows() == [
        (run, ingest_row["kind"][0]),
        ("20991231T000000-compact", "compaction"),
    ]
    assert not any((old / table).exists() for table in TABLES) and not (old / "warehouse.duckdb").exists()
    again = CliRunner().invoke(app, ["migrate", "--warehouse", str(old)], terminal_width=400)
    assert again.exit_code == 2 and "not a warehouse of the older format" in again.output

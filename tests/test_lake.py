"""The warehouse's DuckLake: tables created from newsflow.core.schema and evolved with it, no snapshot when nothing
changed, readers beside a writer, any DuckDB client attaching it, copies reading their own files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime

import polars as pl
import pytest

from newsflow.core.schema import RUNS, Table
from newsflow.warehouse import catalog
from newsflow.warehouse.catalog import ensure_catalog, query, snapshots
from newsflow.warehouse.lake import attach_sql
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.storage import Warehouse
from newsflow.warehouse.transaction import RunTransaction


def run_row(run_id: str, started: datetime) -> pl.DataFrame:
    row = {c: None for c in RUNS.column_names} | {"run_id": run_id, "started_at": started, "finished_at": started}
    return RUNS.conform(pl.DataFrame([row], schema_overrides={"started_at": pl.Datetime("us", "UTC")}))


def commit_run(store: Warehouse, run_id: str, day: int) -> int:
    with writer_lock(store), RunTransaction(store) as tx:
        return tx.commit(run_id, run_row(run_id, datetime(2024, 1, day, tzinfo=UTC)))


def test_a_run_is_one_snapshot_named_after_it_and_nothing_changed_adds_none(tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    first = commit_run(store, "20240101T000000-one", 1)  # creates the tables and views in the same snapshot
    second = commit_run(store, "20240102T000000-two", 2)
    assert second == first + 1
    history = snapshots(store)
    assert history.filter(pl.col("run_id").is_not_null()).select("snapshot_id", "run_id", "kind").rows() == [
        (first, "20240101T000000-one", "ingest"),
        (second, "20240102T000000-two", "ingest"),
    ]
    with store.connect() as con:
        con.execute("BEGIN")
        assert ensure_catalog(con) is False  # tables, stations and views are as declared: nothing to do
        con.execute("COMMIT")
    assert snapshots(store)["snapshot_id"].max() == second
    assert query(store, "SELECT count(*) FROM runs", at="20240101T000000-one").item() == 1
    assert query(store, "SELECT count(*) FROM runs").item() == 2


def test_a_column_added_to_the_schema_later_reads_as_null_in_older_rows(tmp_path, monkeypatch):
    store = Warehouse.at(tmp_path / "wh")
    older = Table(RUNS.name, RUNS.key, tuple(c for c in RUNS.columns if c.name != "full_refresh"), RUNS.description)
    monkeypatch.setitem(catalog.TABLES, RUNS.name, older)
    with writer_lock(store), RunTransaction(store) as tx:  # a warehouse made before full_refresh existed
        tx.con.execute(
            "INSERT INTO landed.runs (run_id, started_at, finished_at) VALUES ('old', '2024-01-01 00:00:00+00', "
            "'2024-01-01 00:00:00+00')"
        )
        tx.con.execute("COMMIT")
        tx.committed = True
    monkeypatch.undo()
    commit_run(store, "new", 2)  # the run adds the column, then its row
    assert query(store, "SELECT run_id, full_refresh FROM runs ORDER BY run_id").rows() == [
        ("new", None),
        ("old", None),
    ]
    described = query(
        store,
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'runs' AND column_name = "
        "'full_refresh' AND schema_name = 'landed'",
    ).item()
    assert described == next(c.description for c in RUNS.columns if c.name == "full_refresh")


def test_a_reader_sees_each_commit_and_never_what_is_not_committed(tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    commit_run(store, "one", 1)
    with store.connect(read_only=True) as reader, writer_lock(store), RunTransaction(store) as tx:
        tx.insert(
            {
                "stamps": pl.DataFrame(
                    {"run_id": ["two"], "source": ["/a"], "page_id": ["p"], "file_size": [1], "file_mtime_ns": [1]}
                )
            }
        )
        assert reader.execute("SELECT count(*) FROM stamps").fetchone()[0] == 0  # inserted, not committed
        assert query(store, "SELECT count(*) FROM stamps").item() == 0
        tx.commit("two", run_row("two", datetime(2024, 1, 2, tzinfo=UTC)))
        assert reader.execute("SELECT count(*) FROM stamps").fetchone()[0] == 1  # the open reader sees it
    assert query(store, "SELECT count(*) FROM runs").item() == 2


def test_a_transaction_left_without_commit_leaves_the_previous_snapshot_and_no_file(tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    commit_run(store, "one", 1)
    rows = pl.DataFrame(
        {
            "run_id": ["x"] * 50,
            "source": [f"/{i}" for i in range(50)],
            "page_id": ["p"] * 50,
            "file_size": list(range(50)),
            "file_mtime_ns": [1] * 50,
        }
    )
    with pytest.raises(RuntimeError), writer_lock(store), RunTransaction(store) as tx:
        tx.insert({"stamps": rows})  # more rows than DuckLake inlines: a Parquet file is written
        raise RuntimeError("the run crashed")
    assert query(store, "SELECT count(*) FROM stamps").item() == 0
    commit_run(store, "two", 2)  # the next writer deletes whatever files the dead transaction left
    assert list((store.root / "data" / "landed" / "stamps").glob("*.parquet")) == []


def test_any_duckdb_client_attaches_the_warehouse_with_the_printed_lines(tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    commit_run(store, "one", 1)
    lines = attach_sql(store, alias="news")
    assert len(lines.strip().splitlines()) == 2
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(config={'autoinstall_known_extensions': False, 'autoload_known_extensions': False})\n"
        "con.execute(sys.argv[1])\n"
        "print(con.execute('SELECT run_id FROM news.runs').fetchall(), con.execute("
        "'SELECT count(*) FROM news.person_roles').fetchall())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, lines], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('one',)] [(0,)]"


def test_a_copied_warehouse_reads_its_own_files(tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    commit_run(store, "one", 1)
    shutil.copytree(store.root, tmp_path / "copy", symlinks=True)  # as `cp -a` copies it
    copy = Warehouse.at(tmp_path / "copy")
    commit_run(store, "two", 2)  # runs into the original after the copy: the copy does not see them
    assert query(copy, "SELECT list(run_id ORDER BY run_id) FROM runs").item().to_list() == ["one"]
    commit_run(copy, "three", 3)  # nor the original the copy's
    assert query(store, "SELECT list(run_id ORDER BY run_id) FROM runs").item().to_list() == ["one", "two"]
    shutil.rmtree(store.root)  # the original is gone: the copy must not need it
    assert query(copy, "SELECT list(run_id ORDER BY run_id) FROM runs").item().to_list() == ["one", "three"]
    assert all(path.startswith(str(copy.root)) for path, _ in copy.files("runs") + copy.files("stations"))

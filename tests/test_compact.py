"""`newsflow compact`: DuckLake's maintenance merges the files of many runs and drops old history, with the
tables' contents (each row's run_id included) unchanged; a compaction killed half-way changes nothing either."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from newsflow.flows.compact import compact
from newsflow.flows.ingest import ingest
from newsflow.warehouse.catalog import query, snapshots
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e
TABLES = ("pages", "articles", "article_versions", "entities", "weather_snapshots", "quarantine", "runs")
BATCHES = (["01", "05"], ["12", "21"], ["23"], None)  # four runs: three small ones, then every example page


def contents(store: Warehouse, at: str | None = None) -> dict[str, str]:
    """A hash of every table's rows, run_id included."""
    return {
        t: hashlib.sha256(
            "\n".join(sorted(map(repr, query(store, f"SELECT * FROM {t}", at=at).rows()))).encode()
        ).hexdigest()
        for t in TABLES
    }


def data_files(store: Warehouse, table: str) -> int:
    return len(store.files(table))


@pytest.fixture
def several_runs(prefect_harness, tmp_path) -> Warehouse:
    store = Warehouse.at(tmp_path / "wh")
    for batch in BATCHES:
        pages = [str(p) for p in sorted(EXAMPLES.iterdir()) if batch is None or p.name[:2] in batch]
        ingest(pages, warehouse=str(store.root))
    return store


def test_compaction_merges_files_keeps_the_rows_and_history_within_the_retention(several_runs):
    store = several_runs
    before = contents(store)
    first_run = query(store, "SELECT min(run_id) FROM runs").item()
    at_first = contents(store, at=first_run)

    summary = compact(warehouse=str(store.root))  # keeps 30 days: every snapshot here
    assert summary.files_after < summary.files_before and summary.snapshots_expired == 0
    assert contents(store) == before
    assert contents(store, at=first_run) == at_first  # time travel still reads the files merged away

    again = ingest([str(EXAMPLES)], warehouse=str(store.root))  # the ledger survived the compaction
    assert again.pages_skipped == again.pages_seen
    after = contents(store)  # a runs row more, no other row
    assert after["runs"] != before["runs"]
    assert {t: h for t, h in after.items() if t != "runs"} == {t: h for t, h in before.items() if t != "runs"}
    before = after

    dropped = compact(warehouse=str(store.root), keep_days=0)  # no history: every snapshot but the latest
    assert dropped.snapshots_expired > 0 and dropped.files_deleted > 0
    assert len(snapshots(store)) == 1  # the latest, made by the compaction itself
    assert contents(store) == before
    with store.connect(read_only=True) as con:  # every data and delete file of every table of the lake
        referenced = {
            path
            for (table,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'landed'"
            ).fetchall()
            for row in con.execute(
                "SELECT data_file, delete_file FROM ducklake_list_files('lake', ?, schema => 'landed')", [table]
            ).fetchall()
            for path in row
            if path
        }
    assert {str(p) for p in (store.root / "data").rglob("*.parquet")} == referenced  # nothing else is left


def test_a_compaction_killed_half_way_changes_nothing(several_runs, tmp_path):
    from prefect.settings import PREFECT_API_URL

    store = several_runs
    before = contents(store)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    process = subprocess.Popen(
        [sys.executable, "-m", "newsflow", "compact", "--warehouse", str(store.root), "--keep-days", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    time.sleep(4)  # somewhere in Prefect's start, the merge or the clean-up
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert contents(store) == before
    compact(warehouse=str(store.root))
    assert contents(store) == before


def test_status_shows_rows_files_size_and_last_run_per_table_then_the_snapshots(several_runs):
    from typer.testing import CliRunner

    from newsflow.cli import app
    from newsflow.cli.output import _size

    store = several_runs
    compact(warehouse=str(store.root))
    result = CliRunner().invoke(app, ["status", "--warehouse", str(store.root)], terminal_width=200)
    assert result.exit_code == 0, result.output
    shown = {
        cells[0]: cells[1:]
        for line in result.output.splitlines()
        if (cells := [c.strip() for c in line.split("│")[1:-1]]) and cells[0] in ("pages", "articles", "runs")
    }
    last_run, finished = query(
        store, "SELECT run_id, strftime(finished_at, '%Y-%m-%d %H:%M') FROM runs ORDER BY run_id DESC LIMIT 1"
    ).row(0)
    for table in ("pages", "articles"):
        files = store.files(table)
        assert shown[table] == [
            str(query(store, f"SELECT count(*) FROM {table}").item()),
            str(len(files)),
            _size(sum(os.path.getsize(path) for path, _ in files)),  # 12.3 KB
            last_run,
            f"{finished} KST",
        ]
    assert shown["runs"][0] == str(len(BATCHES))
    runs = query(store, "SELECT run_id FROM runs ORDER BY run_id")["run_id"].to_list()
    listed = [line for line in result.output.splitlines() if any(run in line for run in runs)]
    assert [next(run for run in runs if run in line) for line in listed[-len(runs) :]] == runs

"""`newsflow compact`: the files of many runs become one file per table partition, atomically, with the tables'
contents (each row's run_id included) unchanged; a compaction killed before its commit changes nothing."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from flows.compact import compact
from flows.ingest import ingest
from tests.conftest import EXAMPLES
from warehouse.catalog import query
from warehouse.store import Warehouse

pytestmark = pytest.mark.e2e
TABLES = ("pages", "articles", "article_versions", "entities", "weather_snapshots", "quarantine")
BATCHES = (["01", "05"], ["12", "21"], ["23"], None)  # four runs: three small ones, then every example page


def contents(store: Warehouse) -> dict[str, str]:
    """A hash of every table's rows, run_id included."""
    return {
        t: hashlib.sha256("\n".join(sorted(map(repr, query(store, f"SELECT * FROM {t}").rows()))).encode()).hexdigest()
        for t in TABLES
    }


def files_per_partition(store: Warehouse, table: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in store.files(table):
        found[path.parent.name] = found.get(path.parent.name, 0) + 1
    return found


@pytest.fixture
def several_runs(prefect_harness, tmp_path) -> Warehouse:
    store = Warehouse.at(tmp_path / "wh")
    for batch in BATCHES:
        pages = [str(p) for p in sorted(EXAMPLES.iterdir()) if batch is None or p.name[:2] in batch]
        ingest(pages, warehouse=str(store.root))
    return store


def test_compaction_leaves_one_file_per_partition_and_the_same_rows(several_runs):
    store = several_runs
    before, runs_before = contents(store), query(store, "SELECT run_id FROM runs")["run_id"].to_list()
    assert max(files_per_partition(store, "articles").values()) > 1

    summary = compact(warehouse=str(store.root))
    assert summary.runs_merged == len(BATCHES) and summary.files_after < summary.files_before
    assert contents(store) == before
    for table in ("pages", "articles", "entities", "weather_snapshots"):
        assert set(files_per_partition(store, table).values()) == {1}, table
    merged = query(store, "SELECT kind, replaces FROM runs WHERE kind = 'compaction'").row(0)
    assert merged == ("compaction", sorted(runs_before))

    assert compact(warehouse=str(store.root)).runs_merged == 0  # one live run: nothing to do
    again = ingest([str(EXAMPLES)], warehouse=str(store.root))  # the ledger survived the compaction
    assert again.pages_skipped == again.pages_seen
    assert contents(store) == before


def test_a_compaction_killed_before_its_commit_changes_nothing(several_runs, tmp_path):
    from prefect.settings import PREFECT_API_URL

    store = several_runs
    before, files = contents(store), sorted(store.files("articles"))
    marker = tmp_path / "halted"
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "NEWSFLOW_HALT_AT": "landed-tables",
        "NEWSFLOW_HALT_MARKER": str(marker),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "newsflow", "compact", "--warehouse", str(store.root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[0].decode()[-3000:]
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)

    assert contents(store) == before  # the merged files are there but uncommitted: invisible
    assert len(store.files("articles")) > len(files)
    summary = compact(warehouse=str(store.root))  # removes them, then compacts for real
    assert summary.runs_merged == len(BATCHES)
    assert contents(store) == before


def test_status_shows_rows_files_size_and_last_run_per_table(several_runs):
    from typer.testing import CliRunner

    from newsflow.cli import app

    store = several_runs
    compact(warehouse=str(store.root))
    result = CliRunner().invoke(app, ["status", "--warehouse", str(store.root)], terminal_width=200)
    assert result.exit_code == 0, result.output
    shown = {
        cells[0]: cells[1:]
        for line in result.output.splitlines()
        if (cells := [c.strip() for c in line.split("│")[1:-1]]) and cells[0] in ("pages", "articles", "runs")
    }
    last_ingest = query(store, "SELECT max(run_id) FROM runs WHERE kind = 'ingest'").item()
    for table in ("pages", "articles"):
        files = store.files(table)
        assert shown[table] == [
            str(query(store, f"SELECT count(*) FROM {table}").item()),
            str(len(files)),
            str(sum(f.stat().st_size for f in files)),
            last_ingest,
        ]
    assert shown["runs"][0] == str(len(BATCHES) + 1)  # the four runs and the compaction

"""Crash safety: real `newsflow run` processes killed with SIGKILL at several points leave the warehouse readable,
with the killed run either wholly visible or not at all, and the next run completes the work: the final tables
equal those of runs that were never interrupted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsflow.core.faults import POINTS
from newsflow.flows.ingest import ingest
from newsflow.warehouse.catalog import query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e
CONTENT_TABLES = ("pages", "articles", "entities", "weather_snapshots", "quarantine")
RUN_COLUMNS = {"run_id", "ingested_at"}  # differ between any two runs by design


def snapshot(store: Warehouse) -> dict[str, list[tuple]]:
    """Every table's rows through the catalog, less the columns that name the run, sorted."""
    tables = {}
    for table in CONTENT_TABLES:
        frame = query(store, f"SELECT * FROM {table}")
        frame = frame.drop([c for c in frame.columns if c in RUN_COLUMNS])
        tables[table] = sorted(map(repr, frame.rows()))
    return tables


@pytest.fixture(scope="module")
def worlds(prefect_harness, tmp_path_factory):
    """`base`: a warehouse after a run on half the example pages (13 of 26); `done`: base, then a run on all."""
    root = tmp_path_factory.mktemp("crash")
    ingest([str(page) for page in sorted(EXAMPLES.iterdir())[:13]], warehouse=str(root / "base"))
    done = copy_of(Warehouse.at(root / "base"), root / "done")
    ingest([str(EXAMPLES)], warehouse=str(done.root))
    return Warehouse.at(root / "base"), done


def copy_of(store: Warehouse, to: Path) -> Warehouse:
    shutil.copytree(store.root, to)
    return Warehouse.at(to)  # a copy reads its own files


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def killed_at(point: str, store: Warehouse, marker: Path, api_url: str) -> None:
    """Start `newsflow run` on all example pages, wait until it halts at `point`, SIGKILL its process group."""
    env = {**os.environ, "PREFECT_API_URL": api_url, "NEWSFLOW_HALT_AT": point, "NEWSFLOW_HALT_MARKER": str(marker)}
    args = [sys.executable, "-m", "newsflow", "run", str(EXAMPLES), "--warehouse", str(store.root), "--batch-size", "5"]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while not marker.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run never reached {point}:\n{process.communicate()[0].decode()[-3000:]}")
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_any_point_is_all_or_nothing_and_the_next_run_completes_it(worlds, api_url, tmp_path, point):
    base, done = worlds
    store = copy_of(base, tmp_path / "wh")
    killed_at(point, store, tmp_path / "halted", api_url)

    seen = snapshot(store)  # the catalog still opens and reads
    committed = point == "committed"  # killed after its transaction committed: the run is wholly there
    assert seen == (snapshot(done) if committed else snapshot(base))

    summary = ingest([str(EXAMPLES)], warehouse=str(store.root))  # the next run, uninterrupted
    assert snapshot(store) == snapshot(done)
    assert summary.pages_skipped == (26 if committed else 13)
    referenced = {path for table in CONTENT_TABLES for path, _ in store.files(table)}
    stray = {str(p) for table in CONTENT_TABLES for p in (store.root / "data" / "landed" / table).rglob("*.parquet")}
    assert stray == referenced  # the killed run's unrecorded files are gone

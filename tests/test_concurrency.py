"""Two writers and a reader on one warehouse: runs take turns through the writer lock, readers never block a run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsflow.flows.ingest import ingest
from newsflow.warehouse.catalog import query
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES, EXPECTED

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def start(*args: str, api_url: str) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_API_URL": api_url}
    return subprocess.Popen(
        [sys.executable, "-m", "newsflow", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def test_two_runs_at_once_take_turns_and_land_each_page_once(api_url, tmp_path):
    warehouse = str(tmp_path / "wh")
    runs = [start("run", str(EXAMPLES), "--warehouse", warehouse, "--batch-size", "5", api_url=api_url) for _ in "ab"]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert any("waiting for the warehouse" in out for out in outputs)  # the second one waited for the first
    store = Warehouse.at(warehouse)
    pages = query(store, "SELECT count(*) AS n, count(DISTINCT page_id) AS distinct_ids FROM pages").row(0)
    assert pages == (len(EXPECTED), len(EXPECTED))
    assert query(store, "SELECT count(*) - count(DISTINCT article_id) FROM articles").item() == 0
    skipped = sorted(query(store, "SELECT pages_skipped FROM runs")["pages_skipped"].to_list())
    assert skipped == [0, len(EXPECTED)]


def test_a_run_that_cannot_get_the_warehouse_says_who_has_it(api_url, tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    with writer_lock(store):
        run = start("run", str(EXAMPLES), "--warehouse", str(store.root), "--wait", "1", api_url=api_url)
        output = run.communicate(timeout=300)[0]
    assert run.returncode == 1
    assert f"is being written by newsflow run (pid {os.getpid()})" in " ".join(output.split())
    assert not (store.root / "runs").exists()  # nothing was written


def test_a_run_that_waited_for_the_warehouse_lists_its_sources_again(api_url, tmp_path):
    """`newsflow run` lists its sources before its flow starts; a page added while the run waits for the warehouse
    is in the run all the same."""
    folder, store = tmp_path / "pages", Warehouse.at(tmp_path / "wh")
    folder.mkdir()
    pages = sorted(EXAMPLES.glob("*.txt"))[:3]
    for page in pages[:2]:
        (folder / page.name).write_bytes(page.read_bytes())
    with writer_lock(store):
        run = start("run", str(folder), "--warehouse", str(store.root), api_url=api_url)
        for line in run.stdout:
            if "waiting for the warehouse" in line:
                (folder / pages[2].name).write_bytes(pages[2].read_bytes())
                break
    output = run.communicate(timeout=300)[0]
    assert run.returncode == 0, output
    landed = query(store, "SELECT source FROM pages ORDER BY source")["source"].to_list()
    assert [Path(source).name for source in landed] == [page.name for page in pages]


def test_a_reader_holding_the_warehouse_open_never_blocks_a_run(prefect_harness, tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    pages = sorted(EXAMPLES.iterdir())
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, part in [(first, pages[:10]), (second, pages[10:])]:
        folder.mkdir()
        for page in part:
            (folder / page.name).write_bytes(page.read_bytes())
    ingest([str(first)], warehouse=str(store.root))
    with store.connect(read_only=True) as reader:  # held open through the next run
        assert reader.execute("SELECT count(*) FROM pages").fetchone()[0] == 10
        summary = ingest([str(second)], warehouse=str(store.root))
        # each query reads the lake's latest snapshot: the open reader sees the new run too
        assert reader.execute("SELECT count(*) FROM pages").fetchone()[0] == len(pages)
    assert summary.pages_seen == len(pages) - 10 and summary.report is not None
    assert query(store, "SELECT count(*) FROM pages").item() == len(pages)

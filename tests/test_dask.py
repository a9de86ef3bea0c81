"""The ingest flow on a real Dask cluster (a scheduler and two worker processes on 127.0.0.1) lands exactly the rows
the default runner lands."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from newsflow.core.schema import RUNS, TABLES
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES, EXPECTED

pytestmark = pytest.mark.e2e
distributed = pytest.importorskip("distributed")
BATCH = 4  # 26 example pages: 7 batches, so both workers get some
PAGES = len(EXPECTED)
ARTICLES = sum(page["status"] == "article" for page in EXPECTED.values())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dask_cli() -> str:
    found = shutil.which("dask", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("the dask command is missing from the environment: is distributed installed?")
    return found


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[str]:
    """`dask scheduler` and two `dask worker` processes (one thread each) on 127.0.0.1; stopped afterwards."""
    port, space = free_port(), tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{port}"
    common = {"cwd": Path(__file__).parent.parent, "start_new_session": True, "stdout": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [dask_cli(), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stderr=open(space / "scheduler.log", "w"),  # noqa: SIM115 - closed with the process
            **common,
        )
    ]
    for number in range(2):
        processes.append(
            subprocess.Popen(
                [
                    *(dask_cli(), "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1"),
                    *("--no-dashboard", "--local-directory", str(space / f"worker-{number}")),
                ],
                stderr=open(space / f"worker-{number}.log", "w"),  # noqa: SIM115
                **common,
            )
        )
    try:
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def newsflow(*args: str, api_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": api_url}
    done = subprocess.run(
        [sys.executable, "-m", "newsflow", *args], capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def rows(store: Warehouse, table: str) -> pl.DataFrame:
    """A table's rows without what differs from run to run (run ids, ingest time), in a fixed order."""
    frame = store.read(table).drop("run_id", "ingested_at", strict=False)
    return frame.sort([c for c, dtype in frame.schema.items() if dtype == pl.String or dtype.is_numeric()])


def test_a_dask_cluster_lands_the_same_rows_as_the_default_runner(cluster, api_url, tmp_path):
    # tasks each worker has run (a lambda: pickled by value, the workers cannot import this test module)
    executed = lambda dask_worker: dask_worker.state.executed_count  # noqa: E731
    local, remote = Warehouse.at(tmp_path / "local"), Warehouse.at(tmp_path / "dask")
    newsflow("run", str(EXAMPLES), "--warehouse", str(local.root), api_url=api_url)
    with distributed.Client(cluster, timeout=30) as client:
        before = client.run(executed)
        newsflow(
            "run", str(EXAMPLES), "--warehouse", str(remote.root), "--dask-address", cluster,
            "--batch-size", str(BATCH), api_url=api_url,
        )  # fmt: skip
        after = client.run(executed)
    # every batch was drafted on the cluster (the flow submits nothing else), shared between its two workers
    done = {worker: after[worker] - before.get(worker, 0) for worker in after}
    assert sum(done.values()) == -(-PAGES // BATCH), done
    assert len(done) == 2 and all(done.values()), done

    for table in TABLES:
        if table != RUNS.name:
            assert rows(remote, table).equals(rows(local, table)), table
    pages = remote.read("pages")
    assert pages.height == PAGES and pages["page_id"].n_unique() == PAGES
    assert remote.read("articles").height == ARTICLES
    (run,) = remote.read(RUNS.name).to_dicts()
    assert run["pages_seen"] == PAGES and run["articles_rows"] == ARTICLES


def test_an_unreachable_dask_scheduler_is_a_usage_error(api_url, tmp_path):
    env = {**os.environ, "PREFECT_API_URL": api_url}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "newsflow", "run", str(EXAMPLES), "--warehouse", str(tmp_path / "w")),
            *("--dask-address", f"tcp://127.0.0.1:{free_port()}"),
        ],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot reach the Dask cluster at tcp://127.0.0.1:" in done.stderr
    assert not (tmp_path / "w" / "runs").exists()

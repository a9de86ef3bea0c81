"""Scheduled runs: `newsflow serve` against a real `prefect server`, new pages landing at the next scheduled run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.flows.schedule import ingest_parameters, ingest_schedule
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

PREFECT = shutil.which("prefect", path=str(Path(sys.executable).parent)) or shutil.which("prefect")
FIRST, SECOND = ["01_biz_economy.txt", "05_wire_agency.txt"], "12_broadcaster.txt"
DEPLOYMENT = "newsflow-ingest/serve-test"


def prefect_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment without the caller's Prefect settings: its own home and database, no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
    }
    return env | extra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(url: str, path: str, body: dict | None = None) -> dict | list:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def wait_until(what: str, check: Callable[[], bool], seconds: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    tail = log.read_text(errors="replace")[-3000:] if log else ""
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}\n{tail}")


def stop(process: subprocess.Popen, seconds: float = 20) -> None:
    """Stop a process group started with start_new_session, politely first."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def drop(page: str, folder: Path) -> None:
    """Put a page into the watched folder atomically (hidden name first), as a crawler should."""
    hidden = folder / f".{page}.part"
    shutil.copyfile(EXAMPLES / page, hidden)
    hidden.rename(folder / page)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A real `prefect server start` on 127.0.0.1 with its own home; its API URL and home."""
    if PREFECT is None:
        pytest.skip("the prefect command line is not installed")
    home = tmp_path_factory.mktemp("prefect-home")
    url = f"http://127.0.0.1:{free_port()}/api"
    port = url.rsplit(":", 1)[1].split("/")[0]
    log = home / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port, "--no-ui"],
            env=prefect_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until("the Prefect server's /api/health", lambda: _healthy(url, server, log), 180, log)
        yield url, home
    finally:
        stop(server)


def _healthy(url: str, server: subprocess.Popen, log: Path) -> bool:
    if server.poll() is not None:
        pytest.fail(f"prefect server exited with {server.returncode}\n{log.read_text(errors='replace')[-3000:]}")
    try:
        return api(url, "/health") is True
    except OSError:
        return False


def landed(store: Warehouse) -> pl.DataFrame:
    return store.read("pages")


@pytest.mark.e2e
def test_serve_lands_new_pages_at_each_scheduled_run_and_stops_on_ctrl_c(prefect_server, tmp_path):
    url, home = prefect_server
    source, store = tmp_path / "inbox", Warehouse.at(tmp_path / "wh")
    source.mkdir()
    log = tmp_path / "serve.log"
    env = prefect_env(home, PREFECT_API_URL=url, PREFECT_RUNNER_POLL_FREQUENCY="2")
    command = [sys.executable, "-m", "newsflow", "serve", str(source), "--warehouse", str(store.root)]
    with log.open("w") as out:
        serve = subprocess.Popen(
            [*command, "--interval", "5", "--name", "serve-test", "--workers", "1"],
            cwd=tmp_path,  # the served runs find the flow by module path and the folders by absolute path
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for page in FIRST:
            drop(page, source)
        names = lambda: sorted(Path(s).name for s in landed(store)["source"])  # noqa: E731
        wait_until("a scheduled run to land the first two pages", lambda: names() == FIRST, 240, log)
        drop(SECOND, source)
        wait_until("a later scheduled run to land the third page", lambda: len(names()) == 3, 240, log)

        pages, runs = store.read("pages"), store.read("runs")
        assert sorted(Path(s).name for s in pages["source"]) == sorted([*FIRST, SECOND])
        assert pages["page_id"].n_unique() == pages.height == 3  # each page exactly once
        third = pages.filter(pl.col("source").str.ends_with(SECOND))["run_id"].item()
        later = runs.filter(run_id=third).row(0, named=True)
        assert (later["pages_seen"], later["pages_skipped"]) == (3, 2)
        first = pages.filter(pl.col("source").str.ends_with(FIRST[0]))["run_id"].item()
        assert first != third and pages.filter(run_id=first).height == 2
        assert runs.filter(run_id=first)["sources"].item().to_list() == [str(source.resolve())]

        deployment = api(url, f"/deployments/name/{DEPLOYMENT}")
        assert deployment["schedules"][0]["schedule"]["interval"] == 5.0
        assert deployment["parameters"]["warehouse"] == str(store.root.resolve())
        assert deployment["parameters"]["sources"] == [str(source.resolve())]
        completed = {"deployment_id": {"any_": [deployment["id"]]}, "state": {"type": {"any_": ["COMPLETED"]}}}
        finished = lambda: api(url, "/flow_runs/filter", {"flow_runs": completed})  # noqa: E731
        # the run that landed the third page commits before it reports its state
        wait_until("Prefect to show two completed runs of the deployment", lambda: len(finished()) >= 2, 60, log)
        done = finished()
        assert len(done) >= 2 and all(run["auto_scheduled"] for run in done)  # scheduled runs, not manual ones
        # every completed run committed a runs row; at most one more run may be committing right now
        assert len(done) <= store.read("runs").height <= len(done) + 1

        serve.send_signal(signal.SIGINT)  # what Ctrl-C sends
        started = time.monotonic()
        assert serve.wait(timeout=60) == 0
        assert time.monotonic() - started < 30
        assert "stopped serving" in log.read_text()
        assert api(url, f"/deployments/name/{DEPLOYMENT}")["paused"] is True  # no runs pile up while stopped
    finally:
        stop(serve)
    pages = store.read("pages")  # a run cancelled by the stop left nothing behind: still each page once
    assert pages["page_id"].n_unique() == pages.height == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--cron", "not a cron"), "invalid cron expression 'not a cron'"),
        (("--cron", "61 * * * *"), "invalid cron expression '61 * * * *'"),
        (("--cron", "* * * * *", "--interval", "5"), "give either a cron expression or an interval, not both"),
        (("--interval", "0"), "the interval must be a positive number of seconds"),
        (("--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_serve_checks_the_schedule_before_serving(args, message, tmp_path):
    result = CliRunner().invoke(app, ["serve", str(tmp_path), *args], catch_exceptions=False)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize("command", ["serve", "deploy"])
def test_serve_and_deploy_check_the_sources(command, tmp_path):
    result = CliRunner().invoke(app, [command, str(tmp_path / "missing")], catch_exceptions=False)
    assert result.exit_code == 2
    assert f"source not found: {tmp_path / 'missing'}" in " ".join(result.output.split())


def test_serve_without_a_prefect_server_says_how_to_start_one(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "serve", str(EXAMPLES), "--warehouse", str(tmp_path / "wh")],
        env=prefect_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "serve needs a Prefect server" in message and "`prefect server start`" in message
    assert not (tmp_path / "wh").exists()


@pytest.mark.e2e
def test_deploy_registers_the_same_schedule_with_a_work_pool(prefect_server, tmp_path):
    url, home = prefect_server
    env = prefect_env(home, PREFECT_API_URL=url)
    pool = subprocess.run(
        [PREFECT, "work-pool", "create", "newsflow-test", "--type", "process"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert pool.returncode == 0, pool.stderr
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "deploy", "inbox", "--pool", "newsflow-test", "--name", "deploy-test"],
        cwd=EXAMPLES.parent,  # relative sources are registered as absolute paths
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "source not found: inbox" in result.stderr  # checked before registering
    options = ["--warehouse", str(tmp_path / "wh"), "--pool", "newsflow-test", "--name", "deploy-test"]
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "deploy", "pages", *options, "--cron", "15 9 * * 1-5"],
        cwd=EXAMPLES.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "prefect worker start --pool newsflow-test" in " ".join(result.stdout.split())
    deployment = api(url, "/deployments/name/newsflow-ingest/deploy-test")
    assert deployment["work_pool_name"] == "newsflow-test"
    assert deployment["entrypoint"] == "newsflow.flows.ingest.ingest"  # importable wherever newsflow is installed
    schedule = deployment["schedules"][0]["schedule"]
    assert (schedule["cron"], schedule["timezone"]) == ("15 9 * * 1-5", "Asia/Seoul")
    assert deployment["parameters"]["sources"] == [str(EXAMPLES)]
    assert deployment["parameters"]["warehouse"] == str(tmp_path / "wh")
    assert deployment["paused"] is False


def test_the_schedule_defaults_to_every_half_hour_in_korea_time():
    schedule = ingest_schedule(None, None)
    assert (schedule.cron, schedule.timezone, schedule.interval) == ("*/30 * * * *", "Asia/Seoul", None)
    assert ingest_schedule(None, 90).interval == timedelta(seconds=90)
    assert ingest_schedule("0 6 * * *", None, "UTC").timezone == "UTC"


def test_parameters_hold_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parameters = ingest_parameters(["inbox", "more/pages.txt"], "wh", batch_size=500, workers=1, profiles_dir="p")
    assert parameters == {
        "sources": [str(tmp_path / "inbox"), str(tmp_path / "more" / "pages.txt")],
        "warehouse": str(tmp_path / "wh"),
        "batch_size": 500,
        "workers": 1,
        "profiles_dir": str(tmp_path / "p"),
    }

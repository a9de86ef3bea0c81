"""newsflow.flows.prefect_api: the temporary Prefect server `newsflow run` starts before it imports Prefect."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from newsflow.flows.prefect_api import EarlyServer
from tests.conftest import EXAMPLES


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def without_api() -> dict[str, str]:
    """This process's environment less any Prefect API, as a bare `newsflow run` on a new machine has it."""
    return {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}


@pytest.mark.parametrize(
    ("env", "starts"),
    [
        ({}, True),
        ({"PREFECT_API_URL": "http://127.0.0.1:4200/api"}, False),
        ({"PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false"}, False),
        ({"PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "true"}, True),
    ],
)
def test_a_server_is_started_only_when_the_environment_names_no_api(monkeypatch, env, starts):
    started = []
    monkeypatch.setattr(EarlyServer, "__init__", lambda self, database=None: started.append(self))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    server = EarlyServer.start_if_needed()
    assert (server is not None, len(started)) == (starts, int(starts))


@pytest.mark.parametrize(("env", "registers"), [({}, "false"), ({"PREFECT_API_BLOCKS_REGISTER_ON_START": "1"}, "1")])
def test_the_server_boots_without_registering_blocks_unless_the_environment_asks(monkeypatch, env, registers):
    launched = []
    monkeypatch.setattr(subprocess, "Popen", lambda command, env: launched.append((command, env)))
    monkeypatch.delenv("PREFECT_API_BLOCKS_REGISTER_ON_START", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    EarlyServer()  # its process is the stand-in's None: nothing is started
    [(command, server_env)] = launched
    assert command[command.index("--factory") + 1] == "prefect.server.api.server:create_app"
    assert server_env["PREFECT_API_BLOCKS_REGISTER_ON_START"] == registers
    assert (server_env["PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION"], server_env["PREFECT__SERVER_EPHEMERAL"]) == (
        "false",
        "1",
    )


def test_a_usage_error_stops_the_server_the_command_started(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from newsflow.cli import app

    started: list[EarlyServer] = []
    start = classmethod(lambda cls, database=None: started.append(cls(database)) or started[-1])
    monkeypatch.setattr(EarlyServer, "start_if_needed", start)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "missing"), "--warehouse", str(tmp_path / "wh")])
    assert result.exit_code == 2 and "source not found" in result.output
    [server] = started  # started before the sources were checked, so that it boots while they are
    assert server.process is None and not listening(server.port)


def test_the_early_server_is_stopped_unused_when_settings_name_an_api(prefect_harness):
    from prefect.settings import PREFECT_API_URL, get_current_settings

    from newsflow.flows.prefect_api import prefect_api

    early = EarlyServer()
    process = early.process
    with prefect_api(early) as url:
        assert url == PREFECT_API_URL.value() != early.api_url
        assert early.process is None
        # a server that outlives the run: its flow runs keep their heartbeats (Prefect's default)
        assert get_current_settings().flows.heartbeat_frequency is not None
    assert process.poll() is not None


def test_the_command_hands_its_flow_what_it_prepared_once_and_only_inside_the_block(prefect_harness):
    from newsflow.flows.prefect_api import handed_over, prefect_api

    listing = object()
    assert handed_over("listing") is None
    with prefect_api(None, listing=listing):
        assert handed_over("listing") is listing
        assert handed_over("listing") is None  # taken once: a second flow run in the block lists again
    with prefect_api(None, listing=listing):
        pass
    assert handed_over("listing") is None  # nothing outlives its block


def test_what_a_flow_run_loads_on_first_use_is_loaded_while_the_server_boots():
    """The command's own imports do not load FIRST_USE_MODULES (else preloading them would be pointless), and
    `preload` does (each still exists in the installed versions)."""
    from newsflow.flows.prefect_api import FIRST_USE_MODULES

    script = textwrap.dedent(
        """
        import sys
        import newsflow.cli, newsflow.flows.ingest
        from newsflow.flows.prefect_api import FIRST_USE_MODULES, preload
        print(sorted(m for m in FIRST_USE_MODULES if m in sys.modules))
        preload()
        print(sorted(m for m in FIRST_USE_MODULES if m in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", str(sorted(FIRST_USE_MODULES))]


@pytest.mark.e2e
def test_a_bare_run_reports_to_the_early_server_and_stops_it(tmp_path):
    """No PREFECT_API_URL: the run lands its pages, reports to the server started before Prefect was imported
    (Prefect does not start its own), and leaves no server behind."""
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "-v", "run", str(EXAMPLES / "01_biz_economy.txt"), "--warehouse",
         str(tmp_path / "wh"), "--workers", "1"],
        capture_output=True, text=True, env={**without_api(), "XDG_CACHE_HOME": str(tmp_path / "cache")},
        timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.search(r"rows articles\s+│\s+1 │", result.stdout)
    log = result.stdout + result.stderr
    assert "Starting temporary server" not in log
    port = int(re.search(r"View at http://127\.0\.0\.1:(\d+)/runs/flow-run/", log).group(1))
    assert not listening(port)
    # the run's Prefect database is the warehouse's own, not the one every warehouse shares
    from newsflow.flows.prefect_api import artifact_key

    folder = artifact_key("summary", str(tmp_path / "wh")).removeprefix("newsflow-summary-")
    with sqlite3.connect(tmp_path / "cache" / "newsflow" / "prefect" / folder / "prefect.db") as con:
        assert con.execute("SELECT count(*) FROM flow_run").fetchone() == (1,)


@pytest.mark.e2e
def test_prefects_own_server_stands_in_when_the_early_one_does_not_come_up():
    script = textwrap.dedent(
        """
        from newsflow.flows.prefect_api import EarlyServer, prefect_api
        early = EarlyServer()
        early.process.kill()  # as if a Prefect release changed how its server starts
        early.process.wait()
        with prefect_api(early) as url:
            import httpx
            from prefect.settings import get_current_settings
            assert url != early.api_url and early.process is None
            assert httpx.get(url + "/health").json() is True
            # the server stops with the run: no heartbeats for it to watch
            assert get_current_settings().flows.heartbeat_frequency is None
        print(url)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=without_api(), timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "the early temporary Prefect server did not start" in result.stderr
    port = int(re.search(r"http://127\.0\.0\.1:(\d+)/api", result.stdout).group(1))
    assert not listening(port)


@pytest.mark.e2e
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_the_server_stops_when_the_run_is_killed(tmp_path, stop):
    """A run stopped by a signal runs no atexit handler (a scheduler's SIGTERM, the OOM killer's SIGKILL): its
    temporary server stops anyway, instead of running on forever."""
    app = "prefect.server.api.server:create_app"
    run = subprocess.Popen(
        [sys.executable, "-m", "newsflow", "run", str(EXAMPLES), "--warehouse", str(tmp_path / "wh"), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=without_api(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        server, port = None, 0
        while not (port and listening(port)) and run.poll() is None and time.monotonic() < deadline:
            if server is None:
                found = [p for p in psutil.Process(run.pid).children() if app in p.cmdline()]
                server = found[0] if found else None
                port = int(server.cmdline()[server.cmdline().index("--port") + 1]) if server else 0
            time.sleep(0.1)
        assert server is not None and listening(port), "the run's server did not come up"
        run.send_signal(stop)
        assert run.wait(timeout=30) == -stop  # the signal ended the run, not the run its work
        server.wait(timeout=30)  # psutil.TimeoutExpired if the server runs on
        assert not listening(port)
    finally:
        run.kill()


def test_each_warehouse_has_its_own_prefect_database_and_artifact_keys(tmp_path, monkeypatch):
    from newsflow.flows.prefect_api import artifact_key, database_env, run_database

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL"):
        monkeypatch.delenv(name, raising=False)
    local = run_database(str(tmp_path / "lake"))
    assert local.parent.parent == tmp_path / "cache" / "newsflow" / "prefect" and local.parent.is_dir()
    assert local.parent.name == artifact_key("summary", str(tmp_path / "lake")).removeprefix("newsflow-summary-")
    remote, other = run_database("s3://bucket/news"), run_database("s3://bucket/other")
    assert len({local, remote, other}) == 3 and not (tmp_path / "lake").exists()
    assert database_env(local) == {"PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{local}"}
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://db/prefect")
    assert database_env(local) == {}  # the user's own database wins
    keys = {artifact_key("summary", where) for where in (str(tmp_path / "lake"), "/srv/lake", "s3://bucket/news")}
    assert len(keys) == 3 and all(re.fullmatch(r"newsflow-summary-[a-z0-9-]+", key) for key in keys)
    assert artifact_key("summary", "/srv/News Lake/").startswith("newsflow-summary-news-lake-")

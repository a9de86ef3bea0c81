"""The Prefect API a command's flow runs report to: the one place that starts, shares and stops it.

With no PREFECT_API_URL, a flow run makes Prefect start a temporary server (`SubprocessASGIServer`) at its first
API call: the process imports the server's code and then waits for the server to boot, every run, doing nothing
else. `newsflow run` instead starts the same server as a subprocess (EarlyServer) before it imports Prefect and
the flows, so the server boots while the command loads and checks its inputs. `prefect_api` then waits for it to
answer, points the run at it, hands the flow what the command prepared for it (`handed_over`), and stops it.

No Prefect import at this module's top: that is the point. The command line is the one Prefect 3 uses for its
temporary server (uvicorn on `prefect.server.api.server:create_app` in ephemeral mode, no UI). Should a Prefect
release change it so that the server does not come up, `prefect_api` stops it and starts Prefect's own instead.

The server runs this module as its main (`serve`), which stops it when the command ends however the command
ends: a `newsflow run` stopped by SIGTERM or SIGKILL runs no atexit handler, and its server would run on.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import importlib
import importlib.util
import logging
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

# what Prefect sets for its temporary server's process (prefect.server.api.server.SubprocessASGIServer)
EPHEMERAL_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
# Block types are not registered at the server's boot (the environment can still ask for it): to see whether the
# registry changed, Prefect imports every installed Prefect collection, and prefect-dask brings dask, distributed
# and numpy, a good share of the boot. The runs use no blocks, and `prefect server start` registers them on the
# same database. Migrations still run: they create a new machine's database.
BOOT_DEFAULTS = {"PREFECT_API_BLOCKS_REGISTER_ON_START": "false", "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false"}
# Modules a flow run imports on first use, after the server answers: Prefect's parameter serialisation (fastapi),
# its task engine, and pyarrow (the catalog types an empty table through Arrow). Imported while the server boots.
FIRST_USE_MODULES = ("fastapi.encoders", "prefect.task_engine", "pyarrow")
# Prefect settings newsflow needs in every working directory (the user's own environment still wins):
# no telemetry, and time for the temporary local API to create its database on a machine's first run.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LOG_PRINTS": "true",
    # Prefect's console shows warnings and errors only: not a line per task run nor a link to a UI that stops
    # with the run (its API still gets every log line); `newsflow -v` shows them, `-q` errors only
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
    "DO_NOT_TRACK": "1",  # no SDK telemetry, and no telemetry notice on a machine's first run in a terminal
}
# Prefect's names for its server's database; the first is what run_database's path is handed over as
DATABASE_VARIABLES = ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL")
# What the command hands the flow it runs inside prefect_api: per context (a thread, a task), never process-wide
_HANDOVER: ContextVar[dict[str, Any] | None] = ContextVar("newsflow_handover", default=None)


def configure_prefect() -> None:
    """Apply PREFECT_DEFAULTS where the environment does not set them; call before importing prefect."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


@contextmanager
def prefect_api(early: EarlyServer | None = None, database: Path | None = None, **handover: Any) -> Iterator[str]:
    """The Prefect API the run reports to, for as long as the block lasts: the configured one (PREFECT_API_URL,
    a profile), else a temporary server, stopped afterwards. `early` is one the command started before importing
    Prefect; without it, or if it does not come up, Prefect's own starts here, on `database` (the warehouse's:
    see run_database; default Prefect's own). `handover`: objects the command
    prepared for the flow run inside the block (the listing of its sources), which it takes with handed_over.

    The temporary server is shared by every task of the run: task runs on Dask workers report to the same API as
    the flow (else Prefect would start a temporary server in each worker process, and the task runs would be lost
    with it); its URL reaches the workers through the settings Prefect sends with every task. Yields the URL."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    token = _HANDOVER.set(dict(handover))
    try:
        configured = get_current_settings().api.url
        if configured:
            if early:
                early.stop()
            yield configured
            return
        timeout = get_current_settings().server.ephemeral.startup_timeout_seconds
        with ExitStack() as stack:
            url = stack.enter_context(_temporary_server(early, timeout, database))
            # no flow run heartbeats: they let a server that outlives a run mark it crashed, and this one stops
            # with the run; the engine also waits for the heartbeat thread's sleep at the end of a run
            stack.enter_context(temporary_settings({PREFECT_API_URL: url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}))
            yield url
    finally:
        _HANDOVER.reset(token)


def run_database(warehouse: str) -> Path:
    """Where the temporary server of runs on `warehouse` keeps its database, so that the runs, logs and artifacts
    of one warehouse never mix with another's: $XDG_CACHE_HOME/newsflow/prefect/<name>-<hash>/prefect.db, named
    after the warehouse's location. Not inside the warehouse: a command that stops at a usage error leaves no
    warehouse behind, and the early server starts before the command's inputs are checked."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "newsflow" / "prefect" / _warehouse_slug(warehouse)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "prefect.db"


def database_env(database: Path | None) -> dict[str, str]:
    """The variable that points a temporary server at `database`, unless the user named a database already."""
    if database is None or any(os.environ.get(name) for name in DATABASE_VARIABLES):
        return {}
    return {DATABASE_VARIABLES[0]: f"sqlite+aiosqlite:///{database}"}


def artifact_key(kind: str, warehouse: str) -> str:
    """A Prefect artifact key that names the warehouse (`newsflow-summary-lake-1a2b3c4d`), so the latest artifact
    of one warehouse is never another's. Keys take lowercase letters, digits and dashes only."""
    return f"newsflow-{kind}-{_warehouse_slug(warehouse)}"


def _warehouse_slug(warehouse: str) -> str:
    """The warehouse's last path part and a hash of its location (a local one made absolute, as Warehouse.at
    does): `lake-1a2b3c4d`."""
    if "://" not in warehouse or warehouse.startswith("file://"):
        warehouse = str(Path(warehouse.removeprefix("file://")).expanduser().resolve())
    name = re.sub(r"[^a-z0-9]+", "-", warehouse.rstrip("/").rsplit("/", 1)[-1].lower()).strip("-")[:32] or "warehouse"
    return f"{name}-{hashlib.sha256(warehouse.encode()).hexdigest()[:8]}"


def handed_over(name: str) -> Any:
    """What the command handed over under `name` for the flow run in its prefect_api block, once; None if
    nothing was (a scheduled run, a flow called from Python, or taken already)."""
    handover = _HANDOVER.get()
    return handover.pop(name, None) if handover else None


@contextmanager
def _temporary_server(early: EarlyServer | None, timeout: float, database: Path | None) -> Iterator[str]:
    preload()
    if early and early.wait(timeout):
        url, stop = early.api_url, early.stop
    else:
        if early:
            early.stop()
            logging.getLogger(__name__).warning("the early temporary Prefect server did not start; Prefect's own will")
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

        # the server process takes the current settings as its environment when it starts
        named = database_env(database).get(DATABASE_VARIABLES[0])
        with temporary_settings(updates={PREFECT_SERVER_DATABASE_CONNECTION_URL: named} if named else None):
            server.start(timeout=timeout)
        url, stop = server.api_url, server.stop
    try:
        yield url
    finally:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        for service in (APILogWorker, EventsWorker):
            service.drain_all(timeout=5)  # the run's last logs and events reach the server before it stops
        stop()


def preload() -> None:
    """Import FIRST_USE_MODULES now, while the temporary server boots and this process would only wait."""
    for name in FIRST_USE_MODULES:
        importlib.import_module(name)


class EarlyServer:
    """A temporary Prefect API server on 127.0.0.1, started now, waited for later. It stops with the process
    that started it, however that one ends, so start it from the main thread: the kernel's signal comes when
    the starting thread ends."""

    def __init__(self, database: Path | None = None) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        spec = importlib.util.find_spec("prefect")
        app_dir = Path(next(iter(spec.submodule_search_locations))).parent if spec else Path.cwd()
        command = [
            sys.executable, "-m", __name__, str(os.getpid()), "--app-dir", str(app_dir),
            "--factory", "prefect.server.api.server:create_app",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
            command, env={**BOOT_DEFAULTS, **database_env(database), **os.environ, **EPHEMERAL_ENV}
        )
        atexit.register(self.stop)  # whatever happens to the command

    @classmethod
    def start_if_needed(cls, database: Path | None = None) -> EarlyServer | None:
        """A server, unless the environment names an API (PREFECT_API_URL) or forbids a temporary one. Prefect's
        other sources of settings (profiles, prefect.toml) are read only once Prefect is imported: prefect_api
        stops this server then if they name an API."""
        if os.environ.get("PREFECT_API_URL"):
            return None
        if os.environ.get("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true").lower() in ("0", "false", "no", "off"):
            return None
        return cls(database)

    def wait(self, timeout: float) -> bool:
        """True once the server answers its health check; False if it exited or did not answer in time."""
        deadline = time.monotonic() + timeout
        while self.process is not None and self.process.poll() is None:
            if api_answers(self.api_url):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop the server (as Prefect stops its own: terminate, then kill after 5 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def api_answers(url: str) -> bool:
    """Whether the Prefect API at `url` (http://HOST:PORT/api) answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


PR_SET_PDEATHSIG = 1  # Linux prctl: the signal a process gets when the thread that started it ends


def serve(parent: int, uvicorn_args: list[str]) -> None:
    """The server process's main: uvicorn with `uvicorn_args`, stopped by SIGTERM (which uvicorn answers with a
    clean shutdown) as soon as `parent`, the command that started it, has ended."""
    try:
        armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) == 0
    except (OSError, AttributeError):  # no prctl: not Linux
        armed = False
    if os.getppid() != parent:  # the command ended before the signal was armed
        sys.exit(0)
    if not armed:
        threading.Thread(target=_stop_when_orphaned, args=(parent,), daemon=True).start()
    sys.argv = ["uvicorn", *uvicorn_args]
    runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)


def _stop_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2:])

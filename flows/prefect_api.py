"""Prefect's temporary local API server, started before Prefect is imported.

With no PREFECT_API_URL, a flow run makes Prefect start a temporary server (`SubprocessASGIServer`) at its first
API call: the process imports the server's code (some 2.5 s) and then waits for the server to boot (5 s or more),
every run, doing nothing else. `newsflow run` instead starts the same server as a subprocess before it imports
Prefect and the flows, so the server boots while the command loads, and the command never imports the server's
code. `newsflow.flows.runners.shared_api` then waits for it to answer and points the run at it.

No Prefect import here: that is the point. The command line is the one Prefect 3 uses for its temporary server
(uvicorn on `prefect.server.api.server:create_app` in ephemeral mode, no UI). Should a Prefect release change it
so that the server does not come up, `shared_api` stops it and starts Prefect's own instead.

The server runs this module as its main (`serve`), which stops it when the command ends however the command
ends: a `newsflow run` stopped by SIGTERM or SIGKILL runs no atexit handler, and its server would run on.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.util
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

# what Prefect sets for its temporary server's process (prefect.server.api.server.SubprocessASGIServer)
EPHEMERAL_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
# Block types are not registered at the server's boot (the environment can still ask for it): to see whether the
# registry changed, Prefect imports every installed Prefect collection, and prefect-dask brings dask, distributed
# and numpy, some 0.7 s of a 7-9 s boot. The runs use no blocks, and `prefect server start` registers them on the
# same database. Migrations still run: they create a new machine's database.
BOOT_DEFAULTS = {"PREFECT_API_BLOCKS_REGISTER_ON_START": "false", "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false"}


class EarlyServer:
    """A temporary Prefect API server on 127.0.0.1, started now, waited for later. It stops with the process
    that started it, however that one ends, so start it from the main thread: the kernel's signal comes when
    the starting thread ends."""

    def __init__(self) -> None:
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
            command, env={**BOOT_DEFAULTS, **os.environ, **EPHEMERAL_ENV}
        )
        atexit.register(self.stop)  # whatever happens to the command

    @classmethod
    def start_if_needed(cls) -> EarlyServer | None:
        """A server, unless the environment names an API (PREFECT_API_URL) or forbids a temporary one. Prefect's
        other sources of settings (profiles, prefect.toml) are read only once Prefect is imported: shared_api
        stops this server then if they name an API."""
        if os.environ.get("PREFECT_API_URL"):
            return None
        if os.environ.get("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true").lower() in ("0", "false", "no", "off"):
            return None
        return cls()

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

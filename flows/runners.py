"""Task runners the ingest flow can run its batches on besides its own threads."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    get_current_settings,
    temporary_settings,
)
from prefect.task_runners import TaskRunner

from newsflow.drafting.workers import default_workers
from newsflow.flows.prefect_api import EarlyServer

# Modules a flow run imports on first use, after the server answers: Prefect's parameter serialisation (fastapi),
# its task engine, and pyarrow (the catalog types an empty table through Arrow). Some 0.5 s of an unchanged re-run.
FIRST_USE_MODULES = ("fastapi.encoders", "prefect.task_engine", "pyarrow")


def dask_runner(address: str | None, workers: int = 0) -> tuple[TaskRunner, int]:
    """A Dask task runner and how many batches to keep in flight on it: on the cluster at `address`
    (tcp://HOST:PORT; its workers need newsflow installed and the source files at the same paths), or on a
    local cluster of `workers` single-threaded processes (default one per core) bound to 127.0.0.1."""
    from prefect_dask import DaskTaskRunner

    logging.getLogger("distributed").setLevel(logging.WARNING)  # the cluster's comings and goings are not news
    if address:
        from distributed import Client

        with Client(address, timeout=10, set_as_default=False) as client:
            threads = sum(client.nthreads().values())
        if not threads:
            raise ValueError("the scheduler has no workers")
        return DaskTaskRunner(address=address), 2 * threads
    count = workers or default_workers()
    cluster = {
        "n_workers": count,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": None,
    }
    return DaskTaskRunner(cluster_kwargs=cluster), 2 * count


@contextmanager
def shared_api(early: EarlyServer | None = None) -> Iterator[str]:
    """The Prefect API the run reports to, for as long as the block lasts: the configured one (PREFECT_API_URL,
    a profile), else a temporary server, stopped afterwards. `early` is one the command started before importing
    Prefect (newsflow.flows.prefect_api); without it, or if it does not come up, Prefect's own starts here.

    The temporary server is started here rather than left to Prefect for two reasons: its boot overlaps the
    command's start with `early`, and task runs on Dask workers report to the same API as the flow (else Prefect
    would start a temporary server in each worker process, slow, and the task runs would be lost with it): its
    URL reaches the workers through the settings Prefect sends with every task. Yields the API's URL."""
    configured = get_current_settings().api.url
    if configured:
        if early:
            early.stop()
        yield configured
        return
    timeout = get_current_settings().server.ephemeral.startup_timeout_seconds
    preload()
    if early and early.wait(timeout):
        url, stop = early.api_url, early.stop
    else:
        if early:
            early.stop()
            logging.getLogger(__name__).warning("the early temporary Prefect server did not start; Prefect's own will")
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start(timeout=timeout)
        url, stop = server.api_url, server.stop
    try:
        # no flow run heartbeats: they let a server that outlives a run mark it crashed, and this one stops with
        # the run; the engine also waits up to a second at the end of a run for the heartbeat thread's sleep
        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
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

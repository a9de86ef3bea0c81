"""Task runners the ingest flow can run its batches on besides its own threads."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings
from prefect.task_runners import TaskRunner

from flows.workers import default_workers


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
def shared_api() -> Iterator[str]:
    """Make sure task runs on Dask workers report to the same Prefect API as the flow. With no PREFECT_API_URL,
    Prefect would start a temporary server in each worker process (slow, and the task runs would be lost with
    it): start the temporary server here instead and hand its URL to the workers through the settings Prefect
    sends with every task. Yields the API's URL."""
    configured = get_current_settings().api.url
    if configured:
        yield configured
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=get_current_settings().server.ephemeral.startup_timeout_seconds)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        from prefect.logging.handlers import APILogHandler

        APILogHandler.flush()  # the run's last logs go to the server before it stops
        server.stop()

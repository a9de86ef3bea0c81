"""Task runners the ingest flow can run its batches on besides its own threads."""

from __future__ import annotations

import logging

from prefect.task_runners import TaskRunner

from newsflow.drafting.workers import default_workers


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

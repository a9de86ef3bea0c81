"""Scheduled ingest: the schedule and parameters of the `newsflow-ingest` deployment, served or deployed.

Both paths register the same deployment (the flow by module path, `newsflow.flows.ingest.ingest`, so it loads wherever
newsflow is installed, whatever the working directory) with the same parameters, absolute paths included, and
the same schedule. Each scheduled run is an ordinary incremental run: it skips pages already in the ledger.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect.schedules import Cron, Interval, Schedule

from newsflow.core.constants import SEOUL
from newsflow.warehouse.storage import Warehouse

DEFAULT_CRON = "*/30 * * * *"
DEFAULT_NAME = "newsflow-scheduled"
DEFAULT_TIMEZONE = SEOUL


class ScheduleError(ValueError):
    """A cron expression, interval or time zone that Prefect would not accept."""


def ingest_schedule(cron: str | None, interval: float | None, timezone: str = DEFAULT_TIMEZONE) -> Schedule:
    """The deployment's schedule: a cron in `timezone` (DEFAULT_CRON when neither is given) or an interval."""
    if cron is not None and interval is not None:
        raise ScheduleError("give either a cron expression or an interval, not both")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {timezone!r} (use an IANA name such as Asia/Seoul)") from None
    if interval is not None:
        if interval <= 0:
            raise ScheduleError(f"the interval must be a positive number of seconds, not {interval}")
        return Interval(timedelta(seconds=interval), timezone=timezone)
    try:
        return Cron(cron or DEFAULT_CRON, timezone=timezone)
    except ValueError as exc:  # Prefect validates the expression with its vendored croniter
        raise ScheduleError(f"invalid cron expression {cron!r}: {exc}") from None


def ingest_parameters(
    sources: list[str],
    warehouse: str,
    batch_size: int,
    workers: int,
    profiles_dir: str | Path | None = None,
    lock_timeout: float | None = None,
    catalog: str | None = None,
) -> dict[str, Any]:
    """Flow parameters for every scheduled run; paths are absolute since the run may start in another folder.
    `catalog` (NEWSFLOW_CATALOG) is passed on only when set: the default is found from the warehouse, and a
    PostgreSQL password belongs in PGPASSWORD or ~/.pgpass of the worker, not in the deployment."""
    store = Warehouse.at(warehouse, catalog)
    parameters: dict[str, Any] = {
        "sources": [str(Path(s).resolve()) for s in sources],
        "warehouse": store.location,  # an absolute path, or the URL (s3://...) as given
        "batch_size": batch_size,
        "workers": workers,
        "profiles_dir": str(Path(profiles_dir).resolve()) if profiles_dir else None,
    }
    if lock_timeout is not None:
        parameters["lock_timeout"] = lock_timeout
    if catalog:
        parameters["catalog"] = str(store.catalog)
    return parameters


def serve_ingest(name: str, schedule: Schedule, parameters: dict[str, Any]) -> None:
    """Serve the ingest deployment with Prefect's runner (what `Flow.serve` uses) until SIGINT or SIGTERM.

    One run at a time: a run that comes due while another is going waits for it (runs on one warehouse take
    turns on its writer lock anyway). Ctrl-C stops like SIGTERM does, at once: the runner cancels a run in
    flight (the warehouse keeps its last committed state; the next run cleans up) and pauses the schedule,
    where `Flow.serve` would wait for the run to finish.
    """
    from prefect.runner import Runner
    from prefect.types.entrypoint import EntrypointType

    from newsflow.flows.ingest import ingest

    runner = Runner(name=name, pause_on_shutdown=True, limit=1)
    runner.add_flow(
        ingest, name=name, schedules=[schedule], parameters=parameters, entrypoint_type=EntrypointType.MODULE_PATH
    )
    previous = signal.signal(signal.SIGINT, runner.handle_sigterm)
    try:
        asyncio.run(runner.start())
    finally:
        signal.signal(signal.SIGINT, previous)


def deploy_ingest(name: str, schedule: Schedule, parameters: dict[str, Any], work_pool: str) -> str:
    """Register the ingest deployment with a work pool (run by `prefect worker start --pool POOL`); its id.

    No image and no code storage: the worker imports `newsflow.flows.ingest` from the environment it runs in, which
    must have newsflow installed.
    """
    from prefect.types.entrypoint import EntrypointType

    from newsflow.flows.ingest import ingest

    deployment_id = ingest.deploy(
        name=name,
        work_pool_name=work_pool,
        schedules=[schedule],
        parameters=parameters,
        entrypoint_type=EntrypointType.MODULE_PATH,
        build=False,
        push=False,
        print_next_steps=False,
    )
    return str(deployment_id)

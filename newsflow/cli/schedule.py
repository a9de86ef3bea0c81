"""`serve` and `deploy`: the ingest flow on a schedule, served by this process or registered with a Prefect work
pool, both checking what they were given (`_scheduled`) and that a Prefect server is there (`_require_server`)
before anything is registered. They register last on the app, as `newsflow --help` lists them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from newsflow.cli import (
    BatchSizeOption,
    ProfilesOption,
    QuietOption,
    VerboseOption,
    WarehouseOption,
    WorkersOption,
    _examples,
    app,
)
from newsflow.cli.inputs import _check_sources, _settings, _store
from newsflow.cli.output import EXIT_FAILED, EXIT_USAGE, _fail, console
from newsflow.cli.progress import _level, _prefect_console
from newsflow.core.constants import SEOUL
from newsflow.core.settings import Settings
from newsflow.flows.prefect_api import configure_prefect

CronOption = Annotated[
    str | None,
    typer.Option("--cron", help='Cron expression (default "*/30 * * * *" when no --interval is given).'),
]
IntervalOption = Annotated[
    float | None, typer.Option("--interval", min=0, help="Seconds between runs (instead of --cron).")
]
TimezoneOption = Annotated[str, typer.Option("--timezone", help="Time zone the cron expression is read in.")]
NameOption = Annotated[str, typer.Option("--name", help="Deployment name.")]


def _scheduled(
    sources: list[str],
    settings: Settings,
    cron: str | None,
    interval: float | None,
    timezone: str,
) -> tuple[Any, dict[str, Any]]:
    """Check what `serve` and `deploy` were given, before anything is registered; the schedule and parameters."""
    _check_sources(sources, settings)
    _store(settings.warehouse, settings.catalog)  # exit 2 on an unusable location or catalog setting
    configure_prefect()
    from newsflow.flows.schedule import ScheduleError, ingest_parameters, ingest_schedule

    try:
        schedule = ingest_schedule(cron, interval, timezone)
    except ScheduleError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    parameters = ingest_parameters(
        sources,
        settings.warehouse,
        settings.batch_size,
        settings.workers,
        settings.profiles_dir,
        catalog=settings.catalog,
    )
    return schedule, parameters


def _require_server(command: str) -> None:
    """Prefect schedules runs only on a real server: its temporary local one has no scheduler."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise _fail(
            f"{command} needs a Prefect server to schedule runs: start one with `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (Prefect's temporary local server has no scheduler)",
            EXIT_USAGE,
        )


def _when(schedule: Any) -> str:
    if schedule.cron:
        return f"cron {schedule.cron!r} ({schedule.timezone})"
    return f"every {schedule.interval.total_seconds():g} s"


@app.command(
    epilog=_examples(
        "export PREFECT_API_URL=http://127.0.0.1:4200/api    (prefect server start)",
        'newsflow serve inbox/ --warehouse lake --cron "*/30 * * * *"',
        "newsflow serve inbox/ --interval 600",
    )
)
def serve(
    sources: Annotated[list[str], typer.Argument(help="Folders (or files) of pages to watch.")],
    cron: CronOption = None,
    interval: IntervalOption = None,
    timezone: TimezoneOption = SEOUL,
    name: NameOption = "newsflow-scheduled",
    warehouse: WarehouseOption = None,
    profiles: ProfilesOption = None,
    batch_size: BatchSizeOption = None,
    workers: WorkersOption = None,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run the ingest flow over SOURCES on a schedule, until stopped (Ctrl-C or SIGTERM).

    Serves a Prefect deployment of the ingest flow with Prefect's own runner.
    Each scheduled run ingests only the pages not yet in the ledger,
    so files dropped into the folders land at the next run; one run at a time.

    Needs a Prefect server (`prefect server start`), named by PREFECT_API_URL;
    its UI shows the deployment and every run. Prefect's temporary local server
    has no scheduler, so serve exits 2 when PREFECT_API_URL is not set.
    """
    settings = _settings(warehouse, profiles, batch_size=batch_size, workers=workers)
    schedule, parameters = _scheduled(sources, settings, cron, interval, timezone)
    _require_server("serve")
    from newsflow.flows.schedule import serve_ingest

    console.print(
        f"serving deployment newsflow-ingest/{name}: {_when(schedule)}, "
        f"{', '.join(parameters['sources'])} -> {parameters['warehouse']}; Ctrl-C stops",
        highlight=False,
    )
    with _prefect_console(_level(verbose, quiet)):
        serve_ingest(name, schedule, parameters)
    console.print("stopped serving", highlight=False)


@app.command(
    epilog=_examples(
        "newsflow deploy inbox/ --pool newsflow --cron '*/30 * * * *'",
        "prefect worker start --pool newsflow      (where newsflow is installed)",
    )
)
def deploy(
    sources: Annotated[list[str], typer.Argument(help="Folders (or files) of pages to ingest, as seen by the worker.")],
    pool: Annotated[str, typer.Option("--pool", help="Prefect work pool whose workers run the flow.")] = "newsflow",
    cron: CronOption = None,
    interval: IntervalOption = None,
    timezone: TimezoneOption = SEOUL,
    name: NameOption = "newsflow-scheduled",
    warehouse: WarehouseOption = None,
    profiles: ProfilesOption = None,
    batch_size: BatchSizeOption = None,
    workers: WorkersOption = None,
) -> None:
    """Register the same scheduled deployment as `serve` with a Prefect server's work pool, then exit.

    Needs PREFECT_API_URL (a running `prefect server start`) and a process work pool; a worker
    (`prefect worker start --pool POOL`) in an environment where newsflow is installed runs each scheduled run.
    """
    settings = _settings(warehouse, profiles, batch_size=batch_size, workers=workers)
    schedule, parameters = _scheduled(sources, settings, cron, interval, timezone)
    _require_server("deploy")
    from newsflow.flows.schedule import deploy_ingest

    try:
        deployment_id = deploy_ingest(name, schedule, parameters, pool)
    except Exception as exc:  # an unknown pool, an unreachable server
        raise _fail(f"could not deploy: {type(exc).__name__}: {exc}", EXIT_FAILED) from None
    console.print(
        f"deployed newsflow-ingest/{name} ({deployment_id}) to work pool {pool!r}: {_when(schedule)}; "
        f"start a worker with: prefect worker start --pool {pool}",
        highlight=False,
    )

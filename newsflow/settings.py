"""Settings: defaults, overridable by NEWSFLOW_* environment variables and then by command-line options."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Prefect settings newsflow needs in every working directory (the user's own environment still wins):
# no telemetry, and time for the temporary local API to create its database on a machine's first run.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LOG_PRINTS": "true",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_")

    warehouse: str = "warehouse"  # folder (or s3:// URL) of the DuckLake's data files and reports
    # the DuckLake catalog database, sqlite:PATH or postgres:CONNINFO (default: <warehouse>/catalog.sqlite)
    catalog: str | None = None
    batch_size: int = 4000  # pages per Prefect task run, cut into one slice per worker process
    profiles_dir: Path | None = None  # extra layout profiles (*.toml) beside the bundled ones
    workers: int = 0  # processes that draft batches (parsers and MeCab hold the GIL); 0 = one per core, 1 = in-process
    lock_timeout: float = 3600.0  # seconds a run waits for another run writing the same warehouse
    task_runner: str = "threads"  # threads, or dask (batches parsed on a Dask cluster)
    dask_address: str | None = None  # tcp://HOST:PORT of an existing Dask scheduler (implies dask)
    # URL lists (flows.fetch): per-URL limits of the HTTP fetch
    fetch_timeout: float = Field(20.0, gt=0)  # seconds to connect, and between bytes read
    fetch_attempts: int = Field(3, ge=1)  # tries on connection errors, timeouts, 429 and 5xx
    fetch_max_bytes: int = Field(10_000_000, gt=0)  # a larger body is abandoned: the page is an error row
    fetch_backoff: float = Field(1.0, ge=0)  # seconds before the 2nd attempt, doubled for each further one


def configure_prefect() -> None:
    """Apply PREFECT_DEFAULTS where the environment does not set them; call before importing prefect."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)

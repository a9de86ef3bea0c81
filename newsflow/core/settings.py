"""Settings: defaults, overridable by NEWSFLOW_* environment variables and then by command-line options.

Every setting has a type and a range, checked before anything runs (`load_settings`): a bad value is a
SettingsError whose one line names the setting, the value and what it may be.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Gt, Le
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsflow.core.constants import DEFAULT_WAREHOUSE

ENV_PREFIX = "NEWSFLOW_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, validate_default=True)

    warehouse: str = Field(DEFAULT_WAREHOUSE, min_length=1)  # folder (or s3:// URL) of the DuckLake's data and reports
    # the DuckLake catalog database, sqlite:PATH or postgres:CONNINFO (default: <warehouse>/catalog.sqlite)
    catalog: str | None = Field(None, pattern=r"^(sqlite|postgres):.+", examples=["sqlite:PATH or postgres:CONNINFO"])
    batch_size: int = Field(4000, ge=1, le=1_000_000)  # pages per Prefect task run, one slice per worker process
    profiles_dir: Path | None = None  # extra layout profiles (*.toml) beside the bundled ones
    # processes that draft batches (parsers and MeCab hold the GIL); 0 = one per core, 1 = in-process
    workers: int = Field(0, ge=0, le=256)
    lock_timeout: float = Field(3600.0, ge=0)  # seconds a run waits for another run writing the same warehouse
    task_runner: Literal["threads", "dask"] = "threads"  # threads, or dask (batches parsed on a Dask cluster)
    dask_address: str | None = Field(None, pattern=r"^tcp://[^:/]+:\d+$", examples=["tcp://HOST:PORT"])  # a scheduler
    # a page (a file after gunzip, a WARC record, an HTML page) larger than this is rejected after reading at
    # most this many bytes; far above any real article
    max_page_bytes: int = Field(8_000_000, ge=1024)
    # URL lists (newsflow.sources.fetch): per-URL limits of the HTTP fetch
    fetch_timeout: float = Field(20.0, gt=0)  # seconds to connect, and between bytes read
    fetch_deadline: float = Field(60.0, gt=0)  # seconds one attempt at a URL may take in all
    fetch_attempts: int = Field(3, ge=1, le=20)  # tries on connection errors, timeouts, 429 and 5xx
    fetch_max_bytes: int = Field(10_000_000, gt=0)  # a larger body is abandoned: the page is an error row
    fetch_backoff: float = Field(1.0, ge=0)  # seconds before the 2nd attempt, doubled for each further one
    # run reports (reports/run-*.html) older than this many days are deleted when a run writes its own
    report_keep_days: float = Field(90.0, gt=0)


class SettingsError(ValueError):
    """A setting's value is of the wrong type or out of range; the message is one line naming it."""


def load_settings(**overrides: Any) -> Settings:
    """The settings: defaults, then NEWSFLOW_* variables, then `overrides` (command-line options; None means not
    given), all validated. Raises SettingsError naming the first bad setting."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, given)) from None


def _explain(exc: ValidationError, given: dict[str, Any]) -> str:
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "?"
    source = f"--{name.replace('_', '-')}" if name in given else f"{ENV_PREFIX}{name.upper()}"
    field = Settings.model_fields.get(name)
    allowed = allowed_values(field) if field else ""
    return f"{source}={error.get('input')!r}: setting {name} must be {allowed or error['msg']}"


def allowed_values(field: Any) -> str:
    """What a setting may be, in words: `a whole number from 1 to 1000000`, `one of threads, dask`, ..."""
    kind = field.annotation
    if getattr(kind, "__origin__", None) is Literal:
        return "one of " + ", ".join(map(str, kind.__args__))
    if field.examples:
        return field.examples[0]
    low = next((f"above {r.gt}" for r in field.metadata if isinstance(r, Gt)), None)
    low = low or next((f"at least {r.ge}" for r in field.metadata if isinstance(r, Ge)), None)
    high = next((r.le for r in field.metadata if isinstance(r, Le)), None)
    noun = {int: "a whole number", float: "a number"}.get(kind, "a value")
    if low and low.startswith("at least") and high is not None:
        return f"{noun} from {low.removeprefix('at least ')} to {high}"
    return " ".join(part for part in (noun, low, high and f"at most {high}") if part)

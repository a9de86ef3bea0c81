"""What the command prints and how: the stdout console (`Output`, as wide as a line needs off a terminal), the
stderr console for errors and log lines, `_fail` and the exit codes, and the formatting of results: a query's
result written as a table, CSV, JSON or Parquet (`_write_result`, with `_cell`, `_flat` and `_jsonable` for what
CSV and JSON cannot hold as it is), byte counts (`_size`) and instants in Korea time (`_kst`)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import typer
from rich.console import Console, ConsoleDimensions
from rich.table import Table
from rich.text import Text

from newsflow.core.constants import SEOUL

EXIT_FAILED, EXIT_USAGE, EXIT_STRICT = 1, 2, 3

PIPED_WIDTH = 1_000_000  # the width of a line when stdout is not a terminal: a table is never wrapped there


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class Output(Console):
    """A console as wide as its terminal or, when its file is not a terminal (a pipe, a file, a test's capture),
    as wide as a line needs: rich would wrap tables at 80 columns there (or at the width of the terminal stdin
    is, or of COLUMNS)."""

    @property
    def size(self) -> ConsoleDimensions:
        if not _is_terminal(self.file):
            return ConsoleDimensions(PIPED_WIDTH, super().size.height)
        return super().size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = Output()
errors = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def _fail(message: str, code: int) -> typer.Exit:
    message = " ".join(message.split())  # one line, whatever the exception's text holds
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)  # one line, however long
    return typer.Exit(code)


def _write_result(result: Any, output: Format, target: Path | None) -> None:
    """A query's result in a format, to a file or (`target` None) stdout."""
    if output is Format.parquet:
        result.write_parquet(target)
        return
    if output is Format.table:
        table = Table(show_header=True)
        for name in result.columns:
            table.add_column(name)
        for row in result.iter_rows():
            table.add_row(*(Text(_cell(value)) for value in row))  # as they are: no console markup
        if target is None:
            console.print(table)
        else:
            with target.open("w", encoding="utf-8") as file:
                Output(file=file, color_system=None).print(table)
        return
    if output is Format.csv:
        text = _flat(result).write_csv()
    else:
        text = json.dumps(result.to_dicts(), ensure_ascii=False, default=_jsonable) + "\n"
    if target is None:
        sys.stdout.write(text)
    else:
        target.write_text(text, encoding="utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=_jsonable)
    return str(value)


def _flat(frame: Any) -> Any:
    """The frame as a CSV file holds it: lists and structs as JSON text; timestamps in ISO 8601 with their offset,
    as the JSON format (datetime.isoformat) writes them: 2026-03-04T09:30:00+09:00, with microseconds when any."""
    import polars as pl

    changed: list[Any] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype.is_nested():
            values = frame[name].to_list()
            encoded = [None if v is None else json.dumps(v, ensure_ascii=False, default=_jsonable) for v in values]
            changed.append(pl.Series(name, encoded, dtype=pl.String))
        elif isinstance(dtype, pl.Datetime):
            offset = "%:z" if dtype.time_zone else ""
            whole = column.dt.strftime(f"%Y-%m-%dT%H:%M:%S{offset}")
            fraction = column.dt.strftime(f"%Y-%m-%dT%H:%M:%S%.6f{offset}")
            changed.append(pl.when(column.dt.microsecond() == 0).then(whole).otherwise(fraction).alias(name))
        elif dtype == pl.Time:
            whole, fraction = column.dt.strftime("%H:%M:%S"), column.dt.strftime("%H:%M:%S%.6f")
            changed.append(pl.when(column.dt.microsecond() == 0).then(whole).otherwise(fraction).alias(name))
        elif dtype == pl.Binary:
            changed.append(column.bin.encode("hex"))
    return frame.with_columns(changed) if changed else frame


def _jsonable(value: Any) -> Any:
    """JSON for what json.dumps does not take: times as ISO 8601 (with their offset), decimals as numbers."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta | UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _size(size: int) -> str:
    """A byte count for people, in decimal units: 0 B, 812 B, 4.1 KB, 12.3 MB, 1.2 GB."""
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _kst(moment: datetime | None) -> str:
    """An instant as Korea time to the minute, `2026-12-07 17:30 KST`; `-` for none."""
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(SEOUL)).strftime("%Y-%m-%d %H:%M KST")

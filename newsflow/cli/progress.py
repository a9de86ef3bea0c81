"""What shows on stderr while a flow runs: `run`'s progress bar (pages, pages/s, ETA), and Prefect's log lines at
the level -v/-q ask for (`_level`, `_prefect_console`), with newsflow's own INFO lines (`OwnLogLines`) printed
above the bar. Prefect is imported only once a flow is about to run, never when the command starts."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from newsflow.cli.output import EXIT_USAGE, _fail, errors

_verbosity = {"level": 0}  # the app's -v (1) or -q (-1), for the command that runs


def _level(verbose: bool, quiet: bool, default: int | None = None) -> int:
    """-1 (quiet), 0 or 1 (verbose): a command's own -v/-q, else the app's (`newsflow -v run ...`)."""
    if verbose and quiet:
        raise _fail("-v/--verbose and -q/--quiet exclude each other", EXIT_USAGE)
    if verbose or quiet:
        return 1 if verbose else -1
    return _verbosity["level"] if default is None else default


class PagesPerSecond(ProgressColumn):
    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} pages/s" if speed else "- pages/s", style="progress.data.speed")


@contextlib.contextmanager
def _progress_bar(shown: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr (pages, pages/s, ETA) while the block lasts, and the callable the flow reports
    its progress to (pages settled, pages to read); None when it is not `shown`."""
    if not shown:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        PagesPerSecond(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        redirect_stdout=False,
    )
    task: list[Any] = []

    def report(done: int, total: int) -> None:
        if not task:
            task.append(bar.add_task("reading pages", total=total))
        described = "reading pages" if done < total else "validating, landing"
        bar.update(task[0], completed=done, total=total, description=described, refresh=True)

    with bar:
        yield report


CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"  # Prefect's console log handler (configure_prefect: WARNING)


class OwnLogLines(logging.Handler):
    """The log lines of newsflow's own flow code (waiting for the warehouse, each batch) that Prefect's console
    leaves out, being below its level: printed through the errors console, so above the progress bar."""

    def __init__(self, below: int, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.INFO)
        self.below = below
        self.setFormatter(formatter or logging.Formatter("%(asctime)s | %(levelname)-7s | %(message)s", "%H:%M:%S"))
        self.package = os.path.dirname(os.path.abspath(sys.modules["newsflow"].__file__ or ""))

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < self.below and os.path.abspath(record.pathname).startswith(self.package + os.sep)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            errors.print(self.format(record), markup=False, highlight=False, soft_wrap=True)
        except Exception:
            self.handleError(record)


def _level_number(name: str | None, default: int) -> int:
    if not name:
        return default
    found = int(name) if name.strip().isdigit() else logging.getLevelName(name.strip().upper())
    return found if isinstance(found, int) else default


@contextlib.contextmanager
def _prefect_console(verbosity: int) -> Iterator[None]:
    """While a flow runs: Prefect's console log handler shows what PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL says
    (WARNING unless the user's environment sets it), INFO and up with -v, errors only with -q; newsflow's own
    INFO lines show unless -q. Processes the run starts (Dask workers) get the same level."""
    from prefect.logging.handlers import PrefectConsoleHandler

    root = logging.getLogger()
    handlers = [h for h in root.handlers if isinstance(h, PrefectConsoleHandler)]
    configured = _level_number(os.environ.get(CONSOLE_LEVEL), logging.WARNING)
    level = {1: min(configured, logging.INFO), -1: max(configured, logging.ERROR)}.get(verbosity, configured)
    saved_levels, saved_env = [h.level for h in handlers], os.environ.get(CONSOLE_LEVEL)
    own = OwnLogLines(level, handlers[0].formatter if handlers else None) if verbosity >= 0 else None
    for handler in handlers:
        handler.setLevel(level)
    os.environ[CONSOLE_LEVEL] = logging.getLevelName(level)
    if own:
        root.addHandler(own)
    try:
        yield
    finally:
        if own:
            root.removeHandler(own)
        for handler, saved in zip(handlers, saved_levels, strict=True):
            handler.setLevel(saved)
        if saved_env is None:
            os.environ.pop(CONSOLE_LEVEL, None)
        else:
            os.environ[CONSOLE_LEVEL] = saved_env

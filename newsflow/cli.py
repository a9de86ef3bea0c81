"""The `newsflow` command line: run, serve, deploy, extract, entities, sql, schema, compact, status, verify, attach,
migrate, report.

Exit codes: 0 the run completed; 1 it failed (the warehouse keeps its previous state); 2 usage or
configuration error; 3 with --strict, when anything was rejected or quarantined.

Output: results on stdout (tables as wide as their rows need when stdout is not a terminal, so a pipe or a file
gets them unwrapped), everything else on stderr: errors, log lines, and `run`'s progress bar (on a terminal).
`-` reads standard input wherever a file is read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import duckdb
import typer
from rich.console import Console, ConsoleDimensions
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from newsflow import __version__
from newsflow.core.constants import SEOUL
from newsflow.core.settings import Settings, SettingsError, load_settings
from newsflow.flows.prefect_api import EarlyServer, configure_prefect, prefect_api, run_database

EXIT_FAILED, EXIT_USAGE, EXIT_STRICT = 1, 2, 3
app = typer.Typer(
    help="newsflow: Korean news pages into validated article, entity and weather tables, queried with DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


def _examples(*lines: str) -> str:
    """A command's help epilog: an Examples block, one command a line."""
    return "Examples:\n" + "\n".join(f"  {line}" for line in lines)


WarehouseOption = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        "-w",
        help="Warehouse folder, or an fsspec URL such as s3://bucket/prefix (env NEWSFLOW_WAREHOUSE; default ./lake).",
    ),
]
BatchSizeOption = Annotated[
    int | None, typer.Option(min=1, help="Pages per task run, cut into one slice per worker process (default 4000).")
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=0, help="Processes that read, parse and extract entities (default: one per core; 1: none, in-process)."
    ),
]
ProfilesOption = Annotated[
    Path | None,
    typer.Option("--profiles", help="Folder of extra layout profiles (*.toml).", exists=True, file_okay=False),
]


class Runner(StrEnum):
    threads = "threads"
    dask = "dask"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


class SchemaFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Also show Prefect's own log lines: each task run, the link to its UI."),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Show errors only: no progress bar, no log lines below ERROR.")
]
_verbosity = {"level": 0}  # the app's -v (1) or -q (-1), for the command that runs


def _fail(message: str, code: int) -> typer.Exit:
    message = " ".join(message.split())  # one line, whatever the exception's text holds
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)  # one line, however long
    return typer.Exit(code)


def _store(location: str, catalog: str | None = None) -> Any:
    """The Warehouse at a folder or URL, its storage checked: exit 2 with one line when the protocol is unknown,
    the catalog setting is wrong, the bucket does not exist or the credentials are refused."""
    from newsflow.warehouse.storage import Warehouse, WarehouseError

    try:
        store = Warehouse.at(location, catalog)
        store.check()
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    return store


def _where(warehouse: str | None) -> tuple[str, str | None]:
    """The warehouse location and catalog setting, from the option and the environment."""
    settings = _settings(warehouse)
    return settings.warehouse, settings.catalog


def _settings(warehouse: str | None = None, profiles: Path | None = None, **options: Any) -> Settings:
    """The settings (defaults, NEWSFLOW_* variables, then the command's options), every one checked: exit 2
    with one line naming a bad one and what it may be."""
    try:
        return load_settings(warehouse=warehouse, profiles_dir=profiles, **options)
    except SettingsError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


def _show_version(shown: bool) -> None:
    if shown:
        sys.stdout.write(f"newsflow {__version__}\n")
        raise typer.Exit()


@app.callback(
    epilog=_examples(
        "newsflow run examples/pages                  ingest into ./lake",
        'newsflow sql "FROM articles" --format csv    query it',
        "newsflow schema articles                     what each column means",
        "newsflow -v run inbox/                       Prefect's log lines too",
    )
)
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """newsflow: Korean news pages into validated article, entity and weather tables, queried with DuckDB.

    Every NEWSFLOW_* setting is checked before any command runs."""
    _verbosity["level"] = _level(verbose, quiet, 0)
    _settings()


def _level(verbose: bool, quiet: bool, default: int | None = None) -> int:
    """-1 (quiet), 0 or 1 (verbose): a command's own -v/-q, else the app's (`newsflow -v run ...`)."""
    if verbose and quiet:
        raise _fail("-v/--verbose and -q/--quiet exclude each other", EXIT_USAGE)
    if verbose or quiet:
        return 1 if verbose else -1
    return _verbosity["level"] if default is None else default


def _checked_inputs(sources: list[str], settings: Settings) -> tuple[Any, Any]:
    """The run's warehouse, once it is reachable, and the listing of its sources, once they and the layout
    profiles are checked (exit 2 with one line otherwise)."""
    store = _store(settings.warehouse, settings.catalog)
    return store, _check_sources(sources, settings, for_run=True)


@app.command(
    epilog=_examples(
        "newsflow run examples/pages",
        "newsflow run inbox/ crawl.warc.gz todo.urls --warehouse lake",
        "newsflow run inbox/ --json > summary.json       summary as JSON",
        "find inbox -name '*.html' | newsflow run -       sources on stdin",
        "newsflow run inbox/ -v                           Prefect's log lines too",
    )
)
def run(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Page files (text, HTML, .gz); folders of them, searched recursively; WARC archives (.warc, "
            ".warc.gz: a page per response or resource record); URL lists (.urls, .urls.txt: an http or https "
            "URL a line, fetched within NEWSFLOW_FETCH_TIMEOUT, _ATTEMPTS and _MAX_BYTES); `-`: the paths "
            "(or URLs) standard input lists, one a line."
        ),
    ],
    warehouse: WarehouseOption = None,
    profiles: ProfilesOption = None,
    batch_size: BatchSizeOption = None,
    workers: WorkersOption = None,
    wait: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds to wait for another run writing the same warehouse (default 3600)."),
    ] = None,
    full_refresh: Annotated[
        bool,
        typer.Option(
            help="Ingest every page again, even those already in the ledger; the run replaces all earlier rows."
        ),
    ] = False,
    checksum: Annotated[
        bool,
        typer.Option(
            help="Read and hash every page file. By default a file whose size and modification time are those the "
            "ledger recorded when it read it is skipped unread, as rsync's quick check does."
        ),
    ] = False,
    strict: Annotated[bool, typer.Option(help="Exit 3 when any page is rejected or any row quarantined.")] = False,
    task_runner: Annotated[
        Runner | None,
        typer.Option(
            help="Where batches are drafted: threads in this process, each handing its batch to --workers "
            "processes, or a Dask cluster (a local one with --workers processes, or the one at --dask-address) "
            "(default threads)."
        ),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(help="Scheduler of an existing Dask cluster, tcp://HOST:PORT (implies --task-runner dask)."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the run's summary as one JSON object on stdout (pages by status, rows per table, "
            "quarantined, validation, report, Data Docs, seconds), and nothing else there.",
        ),
    ] = False,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Run the ingest flow over SOURCES into the warehouse and print a summary.

    Runs on one warehouse take turns: a second one waits for the first, then skips the pages it ingested. Every
    task runner lands the same rows."""
    settings = _settings(warehouse, profiles, batch_size=batch_size, workers=workers, lock_timeout=wait)
    runner = task_runner or (Runner.dask if dask_address or settings.dask_address else Runner(settings.task_runner))
    address = dask_address or settings.dask_address
    if address and runner is not Runner.dask:
        raise _fail("--dask-address needs --task-runner dask", EXIT_USAGE)
    level = _level(verbose, quiet)
    configure_prefect()
    database = run_database(settings.warehouse)  # the warehouse's own Prefect database, not ~/.prefect's
    early = EarlyServer.start_if_needed(database)  # boots while the inputs are checked and the flows load
    try:
        sources = _sources_from_stdin(sources)
        store, listing = _checked_inputs(sources, settings)
    except typer.Exit:
        if early:
            early.stop()
        raise
    from newsflow.flows.ingest import ingest, with_runner

    processes = settings.workers
    flow, in_flight = ingest, 2
    if runner is Runner.dask:
        from newsflow.flows.runners import dask_runner

        try:
            dask, in_flight = dask_runner(address, processes)
        except (OSError, ValueError) as exc:
            if early:
                early.stop()
            raise _fail(f"cannot reach the Dask cluster at {address}: {exc}", EXIT_USAGE) from None
        flow = with_runner(dask)
    try:
        with (
            _progress_bar(shown=level >= 0 and _is_terminal(sys.stderr)) as progress,
            _prefect_console(level),
            contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext(),
            prefect_api(early, database, listing=listing, progress=progress),
        ):
            summary = flow(
                sources,
                warehouse=store.location,
                catalog=str(store.catalog),
                batch_size=settings.batch_size,
                in_flight=in_flight,
                workers=processes,
                lock_timeout=settings.lock_timeout,
                full_refresh=full_refresh,
                checksum=checksum,
                profiles_dir=str(settings.profiles_dir) if settings.profiles_dir else None,
            )
    except Exception as exc:  # a stage crashed: nothing was committed
        _fail_on_damage(exc, store, "the run failed, the warehouse is unchanged: ")
        raise _fail(f"the run failed, the warehouse is unchanged: {type(exc).__name__}: {exc}", EXIT_FAILED) from None
    if as_json:
        sys.stdout.write(json.dumps(_summary_record(summary), ensure_ascii=False) + "\n")
    else:
        _print_summary(summary)
    if strict and not summary.clean:
        raise _fail("--strict: pages were rejected or rows quarantined", EXIT_STRICT)


def _print_summary(summary: Any) -> None:
    table = Table(title=f"newsflow run {summary.run_id}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("pages found", str(summary.pages_seen))
    table.add_row("already ingested (skipped)", str(summary.pages_skipped))
    for status, count in summary.statuses.items():
        table.add_row(f"pages {status}", str(count))
    for name, count in summary.rows.items():
        table.add_row(f"rows {name}", str(count))
    console.print(table)
    if not summary.rows.get("pages"):
        console.print(f"nothing new: {summary.pages_seen} pages seen, all already ingested; nothing validated")
    else:
        verdict = "passed" if summary.validation_success else "had failures (see the report)"
        console.print(f"validation {verdict}; {summary.quarantined} rows quarantined")
    console.print(f"warehouse: {summary.warehouse}  (snapshot {summary.snapshot})", highlight=False)
    console.print(f"run report: {summary.report or 'not written (see the log)'}", highlight=False)
    nothing_validated = not summary.data_docs and not summary.rows.get("pages")
    docs = "none yet: no page has been validated" if nothing_validated else "not built (see the log)"
    console.print(f"Data Docs:  {summary.data_docs or docs}", highlight=False)


def _summary_record(summary: Any) -> dict[str, Any]:
    """`run --json`: the run's summary as one JSON object."""
    return {
        "run_id": summary.run_id,
        "warehouse": summary.warehouse,
        "snapshot": summary.snapshot,
        "pages_found": summary.pages_seen,
        "pages_skipped": summary.pages_skipped,
        "pages": dict(summary.statuses),
        "rows": dict(summary.rows),
        "quarantined": summary.quarantined,
        "validation_success": summary.validation_success,
        "report": summary.report,
        "data_docs": summary.data_docs,
        "seconds": round(summary.seconds, 3),
    }


def _sources_from_stdin(sources: list[str]) -> list[str]:
    """SOURCES with `-` replaced by the sources standard input lists, one a line (blank lines skipped)."""
    if "-" not in sources:
        return sources
    listed = [line.rstrip("\r\n") for line in sys.stdin.read().splitlines() if line.strip()]
    if not listed:
        raise _fail("`-` reads the sources from standard input, one a line, and it listed none", EXIT_USAGE)
    expanded: list[str] = []
    for source in sources:
        expanded += listed if source == "-" else [source]
        listed = [] if source == "-" else listed  # standard input is read once
    return expanded


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


@app.command(
    epilog=_examples(
        "newsflow extract examples/pages/01_biz_economy.txt",
        "newsflow extract my-page.html --json --profiles my-profiles/",
        "curl -s https://example.com/news/1 | newsflow extract - --json",
    )
)
def extract(
    pages: Annotated[list[str], typer.Argument(help="Page files to parse (`-`: a page on standard input).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per page per line.")] = False,
    profiles: ProfilesOption = None,
) -> None:
    """Parse pages and print what newsflow makes of them, writing nothing."""
    from newsflow.drafting.rules import ProfileError, load_rules
    from newsflow.transforms.entities import entities
    from newsflow.transforms.pages import parse_pages

    try:
        rules = load_rules([profiles] if profiles else [])
    except ProfileError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    for page in pages:
        if page != "-" and not Path(page).is_file():
            raise _fail(f"page file {page!r} {'is a folder' if Path(page).is_dir() else 'does not exist'}", EXIT_USAGE)
    raw = _raw_pages(pages)
    parsed = parse_pages(raw, rules)
    found = entities(parsed.articles, rules.lexicon)
    articles = {r["page_id"]: r for r in parsed.articles.to_dicts()}
    for page in parsed.pages.to_dicts():
        article = articles.get(page["page_id"])
        record = {
            "page": page,
            "article": article,
            "weather": parsed.weather.filter(page_id=page["page_id"]).to_dicts(),
            "entities": found.filter(article_id=article["article_id"]).to_dicts() if article else [],
        }
        if as_json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False, default=_jsonable) + "\n")
        else:
            title = article["title"] if article else "-"
            console.print(f"{page['source']}: {page['status']} ({page['reason']}) {title}", highlight=False)


def _raw_pages(pages: list[str]) -> Any:
    """The raw pages (newsflow.sources.pages.RAW_SCHEMA) of page files, in order; `-` is a page read from
    standard input, its source `-`."""
    import polars as pl

    from newsflow.sources.capture import Capture, over_cap
    from newsflow.sources.pages import RAW_SCHEMA, max_page_bytes, page_row, read_pages

    frames = []
    for page in pages:
        if page != "-":
            frames.append(read_pages([str(Path(page).resolve())]))
            continue
        cap = max_page_bytes()
        data = sys.stdin.buffer.read(cap + 1)
        refused = over_cap("page is", cap) if len(data) > cap else None
        frames.append(pl.DataFrame([page_row(Capture("-", data[:cap], refused=refused))], schema=RAW_SCHEMA))
    return pl.concat(frames)


@app.command(
    name="entities",
    epilog=_examples(
        "echo '이재용 삼성전자 회장이 뉴욕을 찾았다.' | newsflow entities",
        "newsflow entities docs.txt --type org --type person",
        "cat docs.txt | newsflow entities - -t PS",
    ),
)
def entities_command(
    source: Annotated[
        Path | None,
        typer.Argument(help="Text file, one document per line (default, or `-`: standard input).", dir_okay=False),
    ] = None,
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            "-t",
            help="Only entities of this type, as spelt any of these ways, in any case: person (people, PS), "
            "organisation (organization, org, OG), location (place, LC). Repeatable.",
        ),
    ] = None,
) -> None:
    """Print the people, organisations and places in each line of text, a JSON array per line.

    Each array is [{"text", "type", "start", "end"}, ...], with character offsets into that line; type is
    person, organisation or location."""
    from newsflow.core.schema import entity_type
    from newsflow.drafting.rules import load_lexicon
    from newsflow.transforms.entities import spans

    try:
        wanted = {entity_type(kind) for kind in types} if types else None
    except ValueError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    from_stdin = source is None or str(source) == "-"
    if not from_stdin and not source.exists():
        raise _fail(f"no such file: {source}", EXIT_USAGE)
    stream = sys.stdin if from_stdin else source.open(encoding="utf-8")
    lexicon = load_lexicon()
    with stream:
        for line in stream:
            found = spans([line.rstrip("\n")], lexicon)[0]
            if wanted is not None:
                found = [span for span in found if span["type"] in wanted]
            sys.stdout.write(json.dumps(found, ensure_ascii=False) + "\n")


@app.command(
    epilog=_examples(
        'newsflow sql "SELECT section, title, registered_at FROM articles"',
        'newsflow sql "FROM articles" --format csv -o articles.csv',
        'newsflow sql "FROM entities" --format parquet -o entities.parquet',
        "newsflow sql -f warehouse/queries/top_people_by_month.sql --format json",
        "echo 'FROM runs' | newsflow sql -",
        'newsflow sql --at RUN_ID "FROM runs"',
    )
)
def sql(
    query: Annotated[
        str | None, typer.Argument(help="SQL to run (read-only); `-` reads it from standard input.")
    ] = None,
    file: Annotated[
        str | None,
        typer.Option("--file", "-f", help="Read the SQL from a file (`-`: standard input)."),
    ] = None,
    warehouse: WarehouseOption = None,
    output: Annotated[
        Format,
        typer.Option(
            "--format",
            help="Output format. csv: lists and structs as JSON in their cell; csv and json: times in ISO 8601 "
            "with their offset (2026-03-04T09:30:00+09:00); parquet needs -o FILE.",
        ),
    ] = Format.table,
    out: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Write the result to this file instead of stdout."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Answer from the warehouse as it was after a run (its run id), at a snapshot (its id, see "
            "`newsflow status`) or at a time (ISO 8601, Korea time unless it has an offset).",
        ),
    ] = None,
) -> None:
    """Query the warehouse with DuckDB SQL over a read-only connection."""
    import polars as pl

    from newsflow.warehouse.catalog import HistoryError, ReadOnlyError
    from newsflow.warehouse.catalog import query as run_query

    if (query is None) == (file is None):
        raise _fail("give either a QUERY or --file FILE", EXIT_USAGE)
    if output is Format.parquet and (out is None or str(out) == "-"):
        raise _fail("--format parquet writes a file: give -o FILE", EXIT_USAGE)
    if query == "-" or file == "-":
        text = sys.stdin.read()
    elif query is not None:
        text = query
    elif not Path(file).is_file():
        raise _fail(f"no such file: {file}", EXIT_USAGE)
    else:
        text = Path(file).read_text(encoding="utf-8")
    store = _store(*_where(warehouse))
    try:
        result = run_query(store, text, at=at)
    except (FileNotFoundError, ReadOnlyError, HistoryError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except duckdb.Error as exc:
        _fail_on_damage(exc, store)
        raise _fail(f"{type(exc).__name__}: {exc}", EXIT_USAGE) from None
    except pl.exceptions.PolarsError as exc:  # a type polars does not read, such as INTERVAL
        reason = str(exc).split(". ")[0]
        raise _fail(f"the result cannot be shown: {reason}; cast that column, e.g. to VARCHAR", EXIT_USAGE) from None
    target = None if out is None or str(out) == "-" else out
    try:
        _write_result(result, output, target)
    except OSError as exc:
        raise _fail(f"cannot write {target}: {exc.strerror or exc}", EXIT_USAGE) from None


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


# What the catalog does not say of article_versions' own columns (newsflow.core.dictionary.TABLE_VIEWS says it)
VERSION_COLUMNS = {
    "version": "The version's number: 1 for the oldest, by update time.",
    "versions": "How many versions the article has.",
    "is_current": "Whether this is the latest version, the one `articles` shows.",
}


@app.command(
    epilog=_examples(
        "newsflow schema                              every table and view",
        "newsflow schema articles                     its columns and their meaning",
        "newsflow schema person_roles --format json",
        "newsflow schema --format markdown > tables.md",
    )
)
def schema(
    name: Annotated[
        str | None, typer.Argument(metavar="TABLE", help="A table or view (default: list them all).")
    ] = None,
    warehouse: WarehouseOption = None,
    output: Annotated[SchemaFormat, typer.Option("--format", help="Output format.")] = SchemaFormat.table,
) -> None:
    """List the tables and views `newsflow sql` queries, or describe one: its columns' types and meanings.

    For each column: its type, whether it may be null, and what it means.

    Tables are described by newsflow itself; a view's columns are those DuckDB gives it in the warehouse (or, with
    no warehouse yet, in an empty one), with the catalog's comments where it has them."""
    store = _store_if_any(warehouse)
    known = _relations(store)
    if name is None:
        _print_relations(known, output)
        return
    found = name if name in known else name.lower()
    if found not in known:
        raise _fail(f"no table or view {name!r}; there are: {', '.join(known)}", EXIT_USAGE)
    kind, description = known[found]
    columns = _table_columns(found) if kind == "table" else _view_columns(store, found)
    _print_columns(found, kind, description, columns, output)


def _store_if_any(warehouse: str | None) -> Any:
    """The warehouse, if one is there to look at; None otherwise (`schema` describes newsflow's own tables
    without one)."""
    from newsflow.warehouse.storage import Warehouse, WarehouseError

    try:
        store = Warehouse.at(*_where(warehouse))
        store.check()
        return store if store.has_catalog else None
    except (WarehouseError, OSError):
        return None


def _relations(store: Any) -> dict[str, tuple[str, str]]:
    """name -> (kind, description) of every table and view people query: newsflow's tables, then its views, then
    any other view the warehouse has."""
    from newsflow.core.dictionary import TABLE_VIEWS, bundled_views_folder, view_descriptions
    from newsflow.core.schema import STATIONS, TABLES
    from newsflow.warehouse.catalog import query

    found = {table.name: ("table", table.description) for table in (*TABLES.values(), STATIONS)}
    found["article_versions"] = ("view", TABLE_VIEWS["article_versions"])
    for view, description in sorted(view_descriptions(bundled_views_folder()).items()):
        found.setdefault(view, ("view", description))
    if store is not None:
        with contextlib.suppress(duckdb.Error, OSError):
            lake = query(
                store, "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal"
            )
            for view, comment in sorted(lake.iter_rows()):
                found.setdefault(view, ("view", comment or ""))
    return found


Column = tuple[str, str, bool, str]  # name, type, nullable, meaning


def _table_columns(name: str) -> list[Column]:
    from newsflow.core.dictionary import readable_type
    from newsflow.core.schema import STATIONS, TABLES

    table = TABLES.get(name) or STATIONS
    return [(c.name, readable_type(c.dtype), c.nullable, c.description) for c in table.columns]


def _view_columns(store: Any, name: str) -> list[Column]:
    """A view's columns as DuckDB describes them in the warehouse (in an empty model of it when there is none, or
    when the warehouse lacks the view), with the catalog's column comments."""
    from newsflow.core.dictionary import readable_type
    from newsflow.core.schema import ARTICLES
    from newsflow.warehouse.catalog import queries

    statements = [
        (f'DESCRIBE "{name}"', None),
        (f'SELECT * FROM "{name}" LIMIT 0', None),
        (
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = $name",
            {"name": name},
        ),
    ]
    try:
        if store is None:
            raise LookupError
        described, empty, comments = queries(store, statements)
    except (LookupError, duckdb.Error, OSError):
        with _empty_lake() as con:
            described, empty, comments = (
                (con.sql(sql, params=params) if params else con.sql(sql)).pl() for sql, params in statements
            )
    meaning = {c.name: c.description for c in ARTICLES.columns} | VERSION_COLUMNS if name == "article_versions" else {}
    meaning |= {column: comment for column, comment in comments.iter_rows() if comment}
    return [
        (column, readable_type(empty.schema[column]), null != "NO", meaning.get(column, ""))
        for column, null in described.select("column_name", "null").iter_rows()
    ]


@contextlib.contextmanager
def _empty_lake() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the lake's tables, empty, and its views (newsflow.warehouse.catalog)."""
    from newsflow.core.schema import STATIONS, TABLES
    from newsflow.warehouse.catalog import view_statements
    from newsflow.warehouse.storage import LANDED

    with duckdb.connect() as con:
        con.execute(f"SET TimeZone = '{SEOUL}'")
        con.execute(f"CREATE SCHEMA {LANDED}")
        for table in (*TABLES.values(), STATIONS):
            con.register("empty_table", table.empty().to_arrow())
            con.execute(f'CREATE TABLE {LANDED}."{table.name}" AS SELECT * FROM empty_table')
            con.unregister("empty_table")
        for statement in view_statements():
            con.execute(statement)
        yield con


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _print_relations(known: dict[str, tuple[str, str]], output: SchemaFormat) -> None:
    if output is SchemaFormat.json:
        listed = [{"name": n, "kind": kind, "description": d} for n, (kind, d) in known.items()]
        sys.stdout.write(json.dumps(listed, ensure_ascii=False) + "\n")
    elif output is SchemaFormat.markdown:
        lines = ["| name | kind | description |", "|---|---|---|"]
        lines += [f"| `{n}` | {kind} | {_markdown_cell(d)} |" for n, (kind, d) in known.items()]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        table = Table(title="tables and views (newsflow schema TABLE describes one)")
        for column in ("name", "kind", "description"):
            table.add_column(column, overflow="fold")
        for n, (kind, d) in known.items():
            table.add_row(n, kind, Text(d))
        console.print(table, highlight=False)


def _print_columns(name: str, kind: str, description: str, columns: list[Column], output: SchemaFormat) -> None:
    if output is SchemaFormat.json:
        record = {
            "name": name,
            "kind": kind,
            "description": description,
            "columns": [{"name": c, "type": t, "nullable": null, "meaning": m} for c, t, null, m in columns],
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif output is SchemaFormat.markdown:
        lines = [f"### {name}", "", _markdown_cell(description), ""]
        lines += ["| column | type | nullable | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c}` | {t} | {'yes' if null else 'no'} | {_markdown_cell(m)} |" for c, t, null, m in columns]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        table = Table(title=f"{name} ({kind}): {description}", title_justify="left")
        for column in ("column", "type", "nullable", "meaning"):
            table.add_column(column, overflow="fold")
        for c, t, null, m in columns:
            table.add_row(c, t, "yes" if null else "no", Text(m))
        console.print(table, highlight=False)


@app.command(
    epilog=_examples(
        "newsflow compact",
        "newsflow compact --keep-days 7 --warehouse lake",
    )
)
def compact(
    warehouse: WarehouseOption = None,
    wait: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds to wait for a run writing the same warehouse (default 3600)."),
    ] = None,
    keep_days: Annotated[
        float,
        typer.Option(
            min=0,
            help="History to keep, in days: older snapshots (and files only they use) are dropped, so `sql --at` "
            "reaches back this far; the latest snapshot is always kept.",
        ),
    ] = 30.0,
    verbose: VerboseOption = False,
    quiet: QuietOption = False,
) -> None:
    """Merge small data files and drop history older than --keep-days (DuckLake maintenance); contents do not change."""
    settings = _settings(warehouse)
    store = _store(settings.warehouse, settings.catalog)
    if not store.has_catalog:
        raise _fail(f"no warehouse at {store.location}: run `newsflow run` first", EXIT_USAGE)
    from newsflow.warehouse.verify import problem_line, verify_warehouse

    damaged = verify_warehouse(store, quick=True).damaged  # a merge would carry a truncated file forward
    if damaged:
        raise _fail(f"compaction refused, the warehouse is unchanged: {problem_line(damaged[0])}", EXIT_FAILED)
    level = _level(verbose, quiet)
    configure_prefect()
    from newsflow.flows.compact import compact as compact_flow

    try:
        with _prefect_console(level), prefect_api(database=run_database(store.location)):
            summary = compact_flow(
                warehouse=store.location,
                catalog=str(store.catalog),
                lock_timeout=settings.lock_timeout if wait is None else wait,
                keep_days=keep_days,
            )
    except Exception as exc:
        _fail_on_damage(exc, store, "compaction failed, the warehouse is unchanged: ")
        raise _fail(
            f"compaction failed, the warehouse is unchanged: {type(exc).__name__}: {exc}", EXIT_FAILED
        ) from None
    console.print(
        f"{summary.files_before} data files -> {summary.files_after}; {summary.snapshots_expired} snapshots older "
        f"than {keep_days:g} days expired, {summary.files_deleted} files deleted ({summary.seconds:.1f} s)",
        highlight=False,
    )


@app.command(epilog=_examples("newsflow status", "newsflow status --warehouse s3://bucket/prefix"))
def status(warehouse: WarehouseOption = None) -> None:
    """Show per table the rows, data files, size and last run, then the snapshots with the runs that made them.

    Sizes in decimal units (1 MB = 1,000,000 bytes), times in Korea time (KST)."""
    from newsflow.core.schema import TABLES
    from newsflow.warehouse.catalog import snapshots

    store = _store(*_where(warehouse))
    if not store.has_catalog:
        raise _fail(f"no warehouse at {store.location}", EXIT_USAGE)
    table = Table(title=f"{store.location} (catalog {store.catalog})")
    for name in ("table", "rows", "files", "size", "last run", "finished"):
        table.add_column(name, justify="right" if name in ("rows", "files", "size") else "left")
    try:
        con = store.connect(read_only=True)
    except FileNotFoundError as exc:  # a PostgreSQL catalog no run has made yet
        raise _fail(str(exc), EXIT_USAGE) from None
    with con:
        try:
            runs = store.read("runs", ["run_id", "finished_at"], con)
        except duckdb.Error as exc:
            _fail_on_damage(exc, store)
            raise
        finished = dict(zip(runs["run_id"], runs["finished_at"], strict=True))
        for name in TABLES:
            try:
                frame = store.read(name, ["run_id"], con)
            except duckdb.Error as exc:
                _fail_on_damage(exc, store)
                raise
            files = store.files(name, con)
            last = frame["run_id"].max() if frame.height else None
            size = _size(sum(size for _, size in files))
            table.add_row(name, str(frame.height), str(len(files)), size, last or "-", _kst(finished.get(last)))
    console.print(table)
    history = Table(title="snapshots (newsflow sql --at SNAPSHOT or RUN_ID)")
    for name in ("snapshot", "time", "run", "kind"):
        history.add_column(name, justify="right" if name == "snapshot" else "left")
    for row in snapshots(store).iter_rows(named=True):
        history.add_row(str(row["snapshot_id"]), _kst(row["snapshot_time"]), row["run_id"] or "-", row["kind"] or "-")
    console.print(history)


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


def _fail_on_damage(exc: BaseException, store: Any, prefix: str = "") -> None:
    """Exit 1 with one line naming the damaged warehouse file `exc` is about, if it is about one."""
    from newsflow.warehouse.verify import damaged_file_message

    message = damaged_file_message(exc, store)
    if message:
        raise _fail(prefix + message, EXIT_FAILED) from None


@app.command(
    epilog=_examples(
        "newsflow verify",
        "newsflow verify --repair        then `newsflow run SOURCES` lands them again",
        "newsflow verify --record-missing",
    )
)
def verify(
    warehouse: WarehouseOption = None,
    repair: Annotated[
        bool,
        typer.Option(
            help="Drop each damaged file from its table (in a new snapshot), move it to <warehouse>/damaged/, and "
            "take its pages out of the ledger so that the next run over the same sources lands them again."
        ),
    ] = False,
    record_missing: Annotated[
        bool,
        typer.Option(help="Hash and record the files that have no checksum yet (written before newsflow kept them)."),
    ] = False,
    wait: Annotated[
        float | None,
        typer.Option(min=0, help="Seconds to wait for a run writing the same warehouse (default 3600)."),
    ] = None,
) -> None:
    """Check every data file of the warehouse against the size and SHA-256 recorded when it was written.

    Names each file that is missing, truncated or changed (bit rot, an overwrite) and exits 1 when any is; the
    run report says when the warehouse was last verified."""
    from newsflow.warehouse.verify import problem_line, repair_warehouse, verify_warehouse

    settings = _settings(warehouse, lock_timeout=wait)
    store = _store(settings.warehouse, settings.catalog)
    if not store.has_catalog:
        raise _fail(f"no warehouse at {store.location}: run `newsflow run` first", EXIT_USAGE)
    found = verify_warehouse(store, record_missing=record_missing, lock_timeout=settings.lock_timeout)
    if found.problems:
        problems = Table(title="files that did not verify")
        for name in ("file", "table", "problem", "detail"):
            problems.add_column(name, overflow="fold")
        for problem in found.problems:
            problems.add_row(problem.path, problem.table, problem.problem, problem.detail)
        console.print(problems)
    console.print(
        f"{found.files_checked} files ({found.bytes_checked:,} bytes) checked: {len(found.damaged)} damaged, "
        f"{len(found.unrecorded)} without a recorded checksum"
        + (f", {found.recorded} recorded now" if found.recorded else "")
        + ("" if record_missing or not found.unrecorded else " (--record-missing records them)"),
        highlight=False,
    )
    if not found.damaged:
        return
    if not repair:
        more = f" ({len(found.damaged) - 1} more damaged files above)" if len(found.damaged) > 1 else ""
        raise _fail(problem_line(found.damaged[0]) + more, EXIT_FAILED)
    repaired = repair_warehouse(store, found, lock_timeout=settings.lock_timeout)
    for file in repaired.files:
        console.print(
            f"{file.path} (table {file.table}, {file.problem}): moved to {file.moved_to or '-'}; "
            f"{file.rows_lost if file.rows_lost is not None else 'unknown'} rows lost",
            highlight=False,
        )
    console.print(
        f"repaired in snapshot {repaired.snapshot}: {len(repaired.pages_to_reread)} pages leave the ledger and are "
        f"read again by the next run over their sources",
        highlight=False,
    )


@app.command(epilog=_examples("newsflow migrate --warehouse old-lake"))
def migrate(warehouse: WarehouseOption = None) -> None:
    """Move a warehouse of newsflow's format before DuckLake (part files, warehouse.duckdb) into DuckLake, in place.

    Every table's rows, run ids included, land in one transaction; the old files are deleted only once it has
    committed with every row. Reports and Data Docs stay where they are."""
    from newsflow.warehouse.locking import writer_lock
    from newsflow.warehouse.migrate import MigrationError
    from newsflow.warehouse.migrate import migrate as migrate_warehouse
    from newsflow.warehouse.storage import Warehouse, WarehouseError

    settings = _settings(warehouse)
    try:
        store = Warehouse.at(settings.warehouse, settings.catalog)
        with writer_lock(store, timeout=settings.lock_timeout):
            done = migrate_warehouse(store)
    except (MigrationError, WarehouseError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    rows = ", ".join(f"{table} {count:,}" for table, count in done.rows.items())
    console.print(
        f"moved {store.location} into DuckLake ({store.catalog}): {rows}, runs {done.runs:,}; "
        f"{done.files_removed:,} old files removed",
        highlight=False,
    )


@app.command(
    epilog=_examples(
        'duckdb -cmd "$(newsflow attach)" -c "FROM news.person_roles"',
        "newsflow attach --alias lake --warehouse lake",
    )
)
def attach(
    warehouse: WarehouseOption = None,
    alias: Annotated[str, typer.Option(help="Name the warehouse is attached under.")] = "news",
) -> None:
    """Print the two lines of SQL that attach the warehouse read-only in any DuckDB client on this machine.

    For example `duckdb -cmd "$(newsflow attach)"`, then `FROM news.articles`; in Python,
    `duckdb.connect().execute(lines)`. The extensions load from newsflow's wheels: nothing is downloaded."""
    from newsflow.warehouse.lake import attach_sql

    store = _store(*_where(warehouse))
    if not store.has_catalog:
        raise _fail(f"no warehouse at {store.location}: run `newsflow run` first", EXIT_USAGE)
    if not alias.isidentifier():
        raise _fail(f"--alias {alias!r} is not a plain SQL name", EXIT_USAGE)
    sys.stdout.write(attach_sql(store, alias))


@app.command(epilog=_examples("newsflow report", "newsflow report --open"))
def report(
    warehouse: WarehouseOption = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the report and the Data Docs in a web browser.")] = False,
) -> None:
    """Print where the run reports (the latest run's, and the latest that landed pages), the data dictionary and
    the Great Expectations Data Docs are."""
    from newsflow.report.run_report import DICTIONARY, LATEST, WITH_DATA
    from newsflow.warehouse.storage import DATA_DOCS, REPORTS

    store = _store(*_where(warehouse))
    latest, docs = store.url(REPORTS, f"{LATEST}.html"), store.url(DATA_DOCS, "index.html")
    if not store.exists(REPORTS, f"{LATEST}.html"):
        raise _fail(f"no report yet at {latest}: run `newsflow run` first", EXIT_USAGE)
    has_docs = store.exists(DATA_DOCS, "index.html")
    with_data = f"{WITH_DATA}.html"
    console.print(f"latest run:           {latest}", highlight=False)
    shown = store.url(REPORTS, with_data) if store.exists(REPORTS, with_data) else "none yet: no run has landed pages"
    console.print(f"latest run with data: {shown}", highlight=False)
    console.print(f"data dictionary:      {store.url(REPORTS, f'{DICTIONARY}.html')}", highlight=False)
    shown = docs if has_docs else "none yet: a run that validates pages builds them"
    console.print(f"Data Docs:            {shown}", highlight=False)
    if open_ and not store.is_local:
        errors.print(f"{store.location} is on object storage: download the pages to open them", highlight=False)
    elif open_:
        import webbrowser

        for page in [latest, docs] if has_docs else [latest]:
            if not webbrowser.open(Path(page).as_uri()):
                errors.print(f"no web browser to open {page}; open it by hand", highlight=False)


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


def _check_sources(sources: list[str], settings: Settings, for_run: bool = False) -> Any:
    """Exit 2 with one line when the warehouse is a file, a source is missing or a layout profile is wrong.
    `for_run`: returns the listing of the sources (newsflow.sources.pages.Listing) for the run's flow, which then
    need not list them again."""
    from newsflow.drafting.rules import ProfileError, load_layouts
    from newsflow.sources.pages import Listing, SourceError, discover

    if Path(settings.warehouse).exists() and not Path(settings.warehouse).is_dir():
        raise _fail(f"--warehouse {settings.warehouse} is a file, not a folder", EXIT_USAGE)
    try:
        listing = Listing(sources) if for_run else discover(sources)
        load_layouts([settings.profiles_dir] if settings.profiles_dir else [])
    except (SourceError, ProfileError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    return listing if for_run else None


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

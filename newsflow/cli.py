"""The `newsflow` command line: run, serve, deploy, extract, entities, sql, compact, status, attach, migrate, report.

Exit codes: 0 the run completed; 1 it failed (the warehouse keeps its previous state); 2 usage or
configuration error; 3 with --strict, when anything was rejected or quarantined.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from newsflow.core.constants import SEOUL
from newsflow.core.settings import Settings, SettingsError, load_settings
from newsflow.flows.prefect_api import EarlyServer, configure_prefect, prefect_api

EXIT_FAILED, EXIT_USAGE, EXIT_STRICT = 1, 2, 3
app = typer.Typer(
    help=__doc__.split("\n")[0], no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)
console = Console()
errors = Console(stderr=True)

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


@app.callback()
def _check_environment() -> None:
    """Every NEWSFLOW_* setting is checked before any command runs."""
    _settings()


def _checked_inputs(sources: list[str], settings: Settings) -> tuple[Any, Any]:
    """The run's warehouse, once it is reachable, and the listing of its sources, once they and the layout
    profiles are checked (exit 2 with one line otherwise)."""
    store = _store(settings.warehouse, settings.catalog)
    return store, _check_sources(sources, settings, for_run=True)


@app.command()
def run(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Page files (text, HTML, .gz); folders of them, searched recursively; WARC archives (.warc, "
            ".warc.gz: a page per response or resource record); URL lists (.urls, .urls.txt: an http or https "
            "URL a line, fetched within NEWSFLOW_FETCH_TIMEOUT, _ATTEMPTS and _MAX_BYTES)."
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
) -> None:
    """Run the ingest flow over SOURCES into the warehouse and print a summary.

    Runs on one warehouse take turns: a second one waits for the first, then skips the pages it ingested. Every
    task runner lands the same rows."""
    settings = _settings(warehouse, profiles, batch_size=batch_size, workers=workers, lock_timeout=wait)
    runner = task_runner or (Runner.dask if dask_address or settings.dask_address else Runner(settings.task_runner))
    address = dask_address or settings.dask_address
    if address and runner is not Runner.dask:
        raise _fail("--dask-address needs --task-runner dask", EXIT_USAGE)
    configure_prefect()
    early = EarlyServer.start_if_needed()  # boots while the inputs are checked and the flows load
    try:
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
        with prefect_api(early, listing=listing):
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
    verdict = "passed" if summary.validation_success else "had failures (see the report)"
    console.print(f"validation {verdict}; {summary.quarantined} rows quarantined")
    console.print(f"warehouse: {summary.warehouse}  (snapshot {summary.snapshot})", highlight=False)
    console.print(f"run report: {summary.report or 'not written (see the log)'}", highlight=False)
    nothing_validated = not summary.data_docs and not summary.rows.get("pages")
    docs = "none yet: no page has been validated" if nothing_validated else "not built (see the log)"
    console.print(f"Data Docs:  {summary.data_docs or docs}", highlight=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@app.command()
def extract(
    pages: Annotated[list[Path], typer.Argument(help="Page files to parse.", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per page per line.")] = False,
    profiles: ProfilesOption = None,
) -> None:
    """Parse pages and print what newsflow makes of them, writing nothing."""
    from newsflow.drafting.rules import ProfileError, load_rules
    from newsflow.sources.pages import read_pages
    from newsflow.transforms.entities import entities
    from newsflow.transforms.pages import parse_pages

    try:
        rules = load_rules([profiles] if profiles else [])
    except ProfileError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    raw = read_pages([str(p.resolve()) for p in pages])
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


@app.command(name="entities")
def entities_command(
    source: Annotated[
        Path | None, typer.Argument(help="Text file, one document per line (default: standard input).", dir_okay=False)
    ] = None,
) -> None:
    """Print the people, organisations and places in each line of text, a JSON array per line.

    Each array is [{"text", "type", "start", "end"}, ...], with character offsets into that line."""
    from newsflow.drafting.rules import load_lexicon
    from newsflow.transforms.entities import spans

    if source is not None and not source.exists():
        raise _fail(f"no such file: {source}", EXIT_USAGE)
    stream = source.open(encoding="utf-8") if source else sys.stdin
    lexicon = load_lexicon()
    with stream:
        for line in stream:
            found = spans([line.rstrip("\n")], lexicon)[0]
            sys.stdout.write(json.dumps(found, ensure_ascii=False) + "\n")


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="SQL to run (read-only).")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", exists=True, dir_okay=False, help="Read the SQL from a file."),
    ] = None,
    warehouse: WarehouseOption = None,
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
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
    import duckdb

    from newsflow.warehouse.catalog import HistoryError, ReadOnlyError
    from newsflow.warehouse.catalog import query as run_query

    if (query is None) == (file is None):
        raise _fail("give either a QUERY or --file FILE", EXIT_USAGE)
    text = query if query is not None else file.read_text(encoding="utf-8")
    store = _store(*_where(warehouse))
    try:
        result = run_query(store, text, at=at)
    except (FileNotFoundError, ReadOnlyError, HistoryError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    except duckdb.Error as exc:
        _fail_on_damage(exc, store)
        raise _fail(f"{type(exc).__name__}: {exc}", EXIT_USAGE) from None
    if output is Format.csv:
        sys.stdout.write(result.write_csv())
    elif output is Format.json:
        sys.stdout.write(json.dumps(result.to_dicts(), ensure_ascii=False, default=_jsonable) + "\n")
    else:
        table = Table(show_header=True)
        for name in result.columns:
            table.add_column(name)
        for row in result.iter_rows():
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


@app.command()
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
    configure_prefect()
    from newsflow.flows.compact import compact as compact_flow

    try:
        with prefect_api():
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


@app.command()
def status(warehouse: WarehouseOption = None) -> None:
    """Show per table the row count, data files and size, then the snapshots with the runs that made them."""
    from newsflow.core.schema import TABLES
    from newsflow.warehouse.catalog import snapshots

    store = _store(*_where(warehouse))
    if not store.has_catalog:
        raise _fail(f"no warehouse at {store.location}", EXIT_USAGE)
    table = Table(title=f"{store.location} (catalog {store.catalog})")
    for name in ("table", "rows", "files", "bytes", "last run"):
        table.add_column(name, justify="left" if name in ("table", "last run") else "right")
    try:
        con = store.connect(read_only=True)
    except FileNotFoundError as exc:  # a PostgreSQL catalog no run has made yet
        raise _fail(str(exc), EXIT_USAGE) from None
    with con:
        for name in TABLES:
            try:
                frame = store.read(name, ["run_id"], con)
            except duckdb.Error as exc:
                _fail_on_damage(exc, store)
                raise
            files = store.files(name, con)
            last = frame["run_id"].max() if frame.height else "-"
            table.add_row(name, str(frame.height), str(len(files)), str(sum(size for _, size in files)), last)
    console.print(table)
    history = Table(title="snapshots (newsflow sql --at SNAPSHOT or RUN_ID)")
    for name in ("snapshot", "time (KST)", "run", "kind"):
        history.add_column(name, justify="right" if name == "snapshot" else "left")
    for row in snapshots(store).iter_rows(named=True):
        when = row["snapshot_time"].strftime("%Y-%m-%d %H:%M:%S")
        history.add_row(str(row["snapshot_id"]), when, row["run_id"] or "-", row["kind"] or "-")
    console.print(history)


def _fail_on_damage(exc: BaseException, store: Any, prefix: str = "") -> None:
    """Exit 1 with one line naming the damaged warehouse file `exc` is about, if it is about one."""
    from newsflow.warehouse.verify import damaged_file_message

    message = damaged_file_message(exc, store)
    if message:
        raise _fail(prefix + message, EXIT_FAILED) from None


@app.command()
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


@app.command()
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


@app.command()
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


@app.command()
def report(
    warehouse: WarehouseOption = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the report and the Data Docs in a web browser.")] = False,
) -> None:
    """Print where the latest run report (HTML) and the Great Expectations Data Docs are."""
    from newsflow.warehouse.storage import DATA_DOCS, REPORTS

    store = _store(*_where(warehouse))
    latest, docs = store.url(REPORTS, "latest.html"), store.url(DATA_DOCS, "index.html")
    if not store.exists(REPORTS, "latest.html"):
        raise _fail(f"no report yet at {latest}: run `newsflow run` first", EXIT_USAGE)
    has_docs = store.exists(DATA_DOCS, "index.html")
    console.print(f"run report: {latest}", highlight=False)
    shown = docs if has_docs else "none yet: a run that validates pages builds them"
    console.print(f"Data Docs:  {shown}", highlight=False)
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


@app.command()
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
    serve_ingest(name, schedule, parameters)
    console.print("stopped serving", highlight=False)


@app.command()
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

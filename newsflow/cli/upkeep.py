"""The commands that look after a warehouse and say where it is: compact, status, verify and migrate, then attach
and report. They register on the app after `schema` and before `serve`, the order `newsflow --help` lists them
in."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.table import Table

from newsflow.cli import QuietOption, VerboseOption, WarehouseOption, _examples, app
from newsflow.cli.inputs import _fail_on_damage, _settings, _store, _where
from newsflow.cli.output import EXIT_FAILED, EXIT_USAGE, _fail, _kst, _size, console, errors
from newsflow.cli.progress import _level, _prefect_console
from newsflow.flows.prefect_api import configure_prefect, prefect_api, run_database


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

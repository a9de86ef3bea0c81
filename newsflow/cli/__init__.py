"""The `newsflow` command line: run, serve, deploy, extract, entities, sql, schema, compact, status, verify, attach,
migrate, report.

Exit codes: 0 the run completed; 1 it failed (the warehouse keeps its previous state); 2 usage or
configuration error; 3 with --strict, when anything was rejected or quarantined.

Output: results on stdout (tables as wide as their rows need when stdout is not a terminal, so a pipe or a file
gets them unwrapped), everything else on stderr: errors, log lines, and `run`'s progress bar (on a terminal).
`-` reads standard input wherever a file is read.

The package, one concern a module: this one holds the app, its options and the commands from run to schema;
`upkeep` the warehouse's (compact to report) and `schedule` serve and deploy, registered in that order; `inputs`
checks what a command is given, `output` prints, `progress` shows a run's progress and log lines, `schema` holds
the schema command's helpers.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.table import Table

from newsflow import __version__
from newsflow.cli.inputs import (
    _check_sources,
    _fail_on_damage,
    _raw_pages,
    _settings,
    _sources_from_stdin,
    _store,
    _where,
)
from newsflow.cli.output import (
    EXIT_FAILED,
    EXIT_STRICT,
    EXIT_USAGE,
    Format,
    _fail,
    _is_terminal,
    _jsonable,
    _write_result,
    console,
)
from newsflow.cli.progress import _level, _prefect_console, _progress_bar, _verbosity
from newsflow.cli.schema import (
    SchemaFormat,
    _print_columns,
    _print_relations,
    _relations,
    _store_if_any,
    _table_columns,
    _view_columns,
)
from newsflow.core.settings import Settings
from newsflow.flows.prefect_api import EarlyServer, configure_prefect, prefect_api, run_database

LINES_PER_CALL = 256  # lines `newsflow entities` tags at a time from a pipe or file


app = typer.Typer(
    help="newsflow: Korean news pages into validated article, entity and weather tables, queried with DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Also show Prefect's own log lines: each task run, the link to its UI."),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Show errors only: no progress bar, no log lines below ERROR.")
]


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
    from newsflow.drafting.rules import ProfileError, load_entity_model, load_rules
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
    found = entities(parsed.articles, load_entity_model())
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
    person, organisation or location. The spans are the entity tagger's (trained on KLUE-NER, so a place with
    its country is one place: 미국 뉴욕), with the people, organisations and places `NAME ORG TITLE` chains add."""
    from newsflow.core.schema import entity_type
    from newsflow.drafting.rules import load_entity_model
    from newsflow.transforms.entities import spans

    try:
        wanted = {entity_type(kind) for kind in types} if types else None
    except ValueError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    from_stdin = source is None or str(source) == "-"
    if not from_stdin and not source.exists():
        raise _fail(f"no such file: {source}", EXIT_USAGE)
    stream = sys.stdin if from_stdin else source.open(encoding="utf-8")
    model = load_entity_model()
    # a terminal gets each line's answer at once; a pipe or file is tagged LINES_PER_CALL lines at a time
    per_call = 1 if stream.isatty() else LINES_PER_CALL
    with stream:
        while lines := [line.rstrip("\n") for line in itertools.islice(stream, per_call)]:
            for found in spans(lines, model):
                if wanted is not None:
                    found = [span for span in found if span["type"] in wanted]
                sys.stdout.write(json.dumps(found, ensure_ascii=False) + "\n")
            sys.stdout.flush()


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


@app.command(
    name="schema",
    epilog=_examples(
        "newsflow schema                              every table and view",
        "newsflow schema articles                     its columns and their meaning",
        "newsflow schema person_roles --format json",
        "newsflow schema --format markdown > tables.md",
    ),
)
def schema_command(
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


# The other commands register on `app` as these modules load, after the ones above and in this order (that of
# `newsflow --help`); they import the app and the options from this module, so they load last.
from newsflow.cli import upkeep  # noqa: E402, F401  compact, status, verify, migrate, attach, report

# isort: split
from newsflow.cli import schedule  # noqa: E402, F401  serve, deploy

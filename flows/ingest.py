"""The ingest flow: sources -> read -> parse -> entities -> validate -> land -> catalog -> report."""

from __future__ import annotations

import gc
import json
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from pathlib import Path

import polars as pl
from prefect import Flow, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from newsflow.core.constants import DEFAULT_WAREHOUSE
from newsflow.core.faults import halt_point
from newsflow.core.schema import (
    ARTICLES,
    ENTITIES,
    PAGE_STATUSES,
    PAGES,
    QUARANTINE,
    RUNS,
    STAMPS,
    TABLES,
    WEATHER_SNAPSHOTS,
    version_keys,
)
from newsflow.drafting.batch import DraftedBatch, Stopwatch
from newsflow.drafting.workers import Workers, rules_of
from newsflow.expectations import ExpectationResult, Validation, Validator
from newsflow.flows.prefect_api import artifact_key, handed_over
from newsflow.report.run_report import write_run_report
from newsflow.sources.pages import Listing, batched, discover, file_stats
from newsflow.transforms.pages import (
    KNOWN_SCHEMA,
    Parsed,
    rejected_by_validation,
    settle,
)
from newsflow.warehouse.ledger import stamped, unchanged_files
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.storage import DATA_DOCS, Warehouse
from newsflow.warehouse.transaction import RunTransaction

VALIDATED = ("pages", "articles", "entities", "weather_snapshots")
# Settled batches are validated and landed together once they hold this many pages (and at the end of the run):
# GX's cost is mostly per call (planning its expectations), hardly per row. Memory sets the limit: what GX holds
# while it runs grows with the pages validated together (benchmarks/README.md, validation.py).
VALIDATE_PAGES = 8_000


@dataclass
class RunSummary:
    """What a run did, for the console, the runs table and the exit code."""

    run_id: str
    warehouse: str
    pages_seen: int = 0
    pages_skipped: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    validation_success: bool = True
    full_refresh: bool = False
    snapshot: int | None = None  # the lake's snapshot the run committed
    report: str | None = None  # the run's HTML report
    data_docs: str | None = None  # the Data Docs index page
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        """Nothing rejected, errored or quarantined (what --strict asks for)."""
        bad = self.statuses.get("rejected", 0) + self.statuses.get("error", 0)
        return bad == 0 and self.quarantined == 0


@task(name="draft-batch", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def draft_batch(refs: list[str], workers: Workers) -> DraftedBatch:
    """The expensive, order-free work on a batch of pages, wherever the task runner puts it: the workers read,
    hash and decode the pages, skip those already in the ledger, draft articles and readings, and extract the
    entities of the articles that are new against the pages landed before this run. The flow settles the batch
    against the earlier batches of the run afterwards, in order."""
    return workers.draft(refs)


@task(name="validate-tables", cache_policy=NO_CACHE)
def validate_tables(tables: dict[str, pl.DataFrame], validator: Validator) -> dict[str, Validation]:
    """Validate every table with its suite, parents first: a row whose parent row failed (an entity of a
    quarantined article) fails its relationship expectation and follows it into quarantine."""
    pages = validator.validate(PAGES, tables["pages"])
    articles = validator.validate(ARTICLES, tables["articles"], related={"pages": pages.valid})
    return {
        "pages": pages,
        "articles": articles,
        "entities": validator.validate(ENTITIES, tables["entities"], related={"articles": articles.valid}),
        "weather_snapshots": validator.validate(
            WEATHER_SNAPSHOTS, tables["weather_snapshots"], related={"pages": pages.valid}
        ),
    }


# No retries on the two tasks below: they write inside the run's one transaction, which a failed statement
# aborts; the run fails whole and the next run does its work.
@task(name="land-batch", cache_policy=NO_CACHE)
def land_batch(tx: RunTransaction, tables: dict[str, pl.DataFrame]) -> None:
    """Insert a batch's rows in the run's transaction: invisible to readers until the run commits."""
    tx.insert(tables)


@task(name="commit-run", cache_policy=NO_CACHE)
def commit_run(tx: RunTransaction, run_id: str, run_row: pl.DataFrame) -> int:
    """Insert the run's runs row and commit the run's transaction: one new snapshot of every table."""
    return tx.commit(run_id, run_row)


@task(name="publish-reports", cache_policy=NO_CACHE)
def publish_reports(
    store: Warehouse, run_id: str, validator: Validator, validations: dict[str, Validation], summary: RunSummary
) -> str | None:
    """Build the Data Docs and the run report from the committed warehouse; returns the report's Markdown. The
    run has landed by now, so a failure here is logged and leaves the run as it is."""
    logger = get_run_logger()
    try:
        if validator.prepared:
            summary.data_docs = store.publish_folder(DATA_DOCS, partial(validator.build_data_docs, run_name=run_id))
        elif store.exists(DATA_DOCS, "index.html"):  # nothing new was validated: the docs of earlier runs stand
            summary.data_docs = store.url(DATA_DOCS, "index.html")
    except Exception as exc:  # GX rendering is not worth failing a landed run for
        logger.warning("Data Docs were not built: %s: %s", type(exc).__name__, exc)
    try:
        report = write_run_report(store, run_id, validations, summary.data_docs)
    except Exception as exc:
        logger.warning("the run report was not written: %s: %s", type(exc).__name__, exc)
        return None
    summary.report = report.page
    return report.markdown


@flow(name="newsflow-ingest", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def ingest(
    sources: list[str],
    warehouse: str = DEFAULT_WAREHOUSE,
    batch_size: int = 4000,
    profiles_dir: str | None = None,
    workers: int = 0,
    lock_timeout: float = 3600.0,
    full_refresh: bool = False,
    in_flight: int = 2,
    checksum: bool = False,
    catalog: str | None = None,
) -> RunSummary:
    """Ingest raw pages from the sources into the warehouse; returns the run's summary. One run writes a
    warehouse at a time: a second one waits for the first (up to `lock_timeout` seconds), then skips what the
    first one ingested.

    Batches are drafted by the flow's task runner, up to `in_flight` at a time (threads by default, each handing
    its batch in slices to `workers` processes; Dask workers with `with_runner`), and settled here one by one in
    order, then validated and landed VALIDATE_PAGES pages at a time, so every runner lands the same rows and
    memory holds a few batches.

    A page file whose size and modification time match the ledger's stamp of it is skipped unread; `checksum`
    reads and hashes every file instead (an unchanged one is still skipped, by its hash). `catalog`: the
    warehouse's DuckLake catalog (newsflow.warehouse.storage.Warehouse.at). Started by
    `newsflow run`, the flow takes the listing of the sources (refs and file stats) the command made while
    Prefect's server booted, unless it had to wait for the warehouse: then it lists them again."""
    logger = get_run_logger()
    store = Warehouse.at(warehouse, catalog)
    listing = _listing_handed_over(sources)

    def waiting(holder: str) -> None:
        nonlocal listing
        listing = None  # the sources are listed again once the warehouse is free: pages added meanwhile are in
        logger.info("waiting for the warehouse: %s is writing to it", holder)

    with writer_lock(store, timeout=lock_timeout, on_wait=waiting), RunTransaction(store) as tx:
        if tx.orphans_removed:
            logger.warning("removed %d data files of runs that never committed", tx.orphans_removed)
        return _ingest(tx, sources, listing, batch_size, profiles_dir, workers, full_refresh, in_flight, checksum)


def _listing_handed_over(sources: list[str]) -> Listing | None:
    """The listing of these sources `newsflow run` made while Prefect's server booted, if it made one."""
    listing = handed_over("listing")
    return listing if isinstance(listing, Listing) and listing.sources == tuple(sources) else None


def with_runner(task_runner: TaskRunner) -> Flow:
    """The ingest flow with another task runner (a DaskTaskRunner: batches are drafted on a Dask cluster)."""
    return ingest.with_options(task_runner=task_runner)


def _ingest(
    tx: RunTransaction,
    sources: list[str],
    listing: Listing | None,
    batch_size: int,
    profiles_dir: str | None,
    workers: int,
    full_refresh: bool,
    in_flight: int,
    checksum: bool,
) -> RunSummary:
    logger = get_run_logger()
    started, clock, watch = datetime.now(UTC), time.perf_counter(), Stopwatch()
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    store = tx.store
    with watch.stage("discover"):
        refs = listing.refs if listing else discover(sources)
        if full_refresh:  # everything is ingested again and, once committed, replaces every earlier run's rows
            tx.clear([name for name in TABLES if name != RUNS.name])
        known = tx.known_pages() if not full_refresh else pl.DataFrame(schema=KNOWN_SCHEMA)
        stamps = tx.file_stamps()
        if full_refresh or checksum:
            unchanged: set[str] = set()
        else:  # the listing's stats, taken while Prefect's server booted; else the files are stat'ed now
            unchanged = unchanged_files(refs, stamps, listing.stats() if listing else file_stats(stamped(refs, stamps)))
    summary = RunSummary(
        run_id=run_id,
        warehouse=store.location,
        pages_seen=len(refs),
        pages_skipped=len(unchanged),  # the batches add the pages they skip by their hash
        full_refresh=full_refresh,
    )
    logger.info(
        "run %s: %d pages found in %s, %d of them unchanged files",
        run_id,
        len(refs),
        ", ".join(sources),
        len(unchanged),
    )

    validator = Validator(references={"stations": rules_of(profiles_dir).stations})
    landing = Landing(tx, run_id, started, validator, summary, watch, known, stamps)
    batches = list(batched([ref for ref in refs if ref not in unchanged], batch_size))
    progress = handed_over("progress")  # `newsflow run`'s progress bar: (pages settled, pages to read)
    settled, to_read = 0, sum(len(batch) for batch in batches)
    if callable(progress):
        progress(settled, to_read)
    # Each batch's frames end in reference cycles (Prefect's and GX's objects) that only a full collection frees,
    # so one runs after every batch. Frozen, the objects from before the batches (imports, Prefect's state) are
    # left out of those collections, which then scan only what the run made since instead of every object.
    gc.freeze()
    try:
        with Workers(workers or None, profiles_dir, known) as pool:
            for number, drafted in enumerate(_drafted_in_order(batches, pool, in_flight), start=1):
                landing.settle(number, drafted)
                del drafted
                gc.collect()
                halt_point("parsed")
                logger.info("batch %d/%d: %s", number, len(batches), landing.last)
                settled += len(batches[number - 1])
                if callable(progress):
                    progress(settled, to_read)
            landing.land()
    finally:
        gc.unfreeze()
    _check_every_page_is_accounted_for(summary, landing.pages_quarantined)
    validations = landing.validations()
    summary.validation_success = all(v.success for v in validations.values())
    with watch.stage("land"):
        summary.seconds = time.perf_counter() - clock
        summary.snapshot = commit_run(tx, run_id, _run_row(summary, sources, started, watch.seconds))
    with watch.stage("report"):
        markdown = publish_reports(store, run_id, validator, validations, summary)
    _publish_artifacts(summary, markdown)
    summary.seconds = time.perf_counter() - clock
    logger.info("run %s finished in %.1f s", run_id, summary.seconds)
    return summary


class IncompleteRun(RuntimeError):
    """A page the run found has no ledger row: the run is not committed."""


def _check_every_page_is_accounted_for(summary: RunSummary, quarantined: int) -> None:
    """A run commits only if every page it found is accounted for: skipped (unchanged, or known by its hash), in
    the run's ledger rows whatever their status, or (a ledger row that failed its expectations) in quarantine."""
    accounted = summary.pages_skipped + sum(summary.statuses.values()) + quarantined
    if accounted != summary.pages_seen:
        raise IncompleteRun(
            f"{summary.pages_seen} pages found but {accounted} accounted for (skipped or in the ledger): "
            "nothing is committed"
        )


def _drafted_in_order(batches: list[list[str]], workers: Workers, in_flight: int) -> Iterator[DraftedBatch]:
    """Each batch drafted, in order, by the task runner; while the caller settles one, the next `in_flight`
    batches are being drafted."""
    upcoming = iter(batches)
    pending: deque[PrefectFuture] = deque(
        draft_batch.submit(refs, workers) for refs in islice(upcoming, max(in_flight, 1))
    )
    while pending:
        done = pending.popleft().result()
        for refs in islice(upcoming, 1):
            pending.append(draft_batch.submit(refs, workers))
        yield done


class Landing:
    """The in-order half of a run: each drafted batch is settled against everything landed before it (earlier
    runs and the run's earlier batches); settled batches are validated and written as one part of the run once
    they hold VALIDATE_PAGES pages (land), and the rest at the end; counts add up in the summary and the
    expectation results per table."""

    def __init__(
        self,
        tx: RunTransaction,
        run_id: str,
        started: datetime,
        validator: Validator,
        summary: RunSummary,
        watch: Stopwatch,
        known: pl.DataFrame,
        stamps: pl.DataFrame,
    ) -> None:
        self.tx, self.run_id, self.started = tx, run_id, started
        self.validator, self.summary, self.watch, self.known = validator, summary, watch, known
        self.stamps = stamps  # the quick check's stamps (source, file_size, file_mtime_ns) from before the run
        self.results: dict[str, list[ExpectationResult]] = {name: [] for name in VALIDATED}
        self.settled: list[dict[str, pl.DataFrame]] = []  # settled batches' tables, not validated yet
        self.part = 0  # the number of the last batch settled: the part its tables land in
        self.pages_quarantined = 0  # ledger rows that failed their expectations: in quarantine instead
        self.last = ""
        summary.statuses = dict.fromkeys(PAGE_STATUSES, 0)
        summary.rows = dict.fromkeys((*VALIDATED, QUARANTINE.name), 0)

    def settle(self, part: int, batch: DraftedBatch) -> None:
        self.watch.add(batch.seconds)
        self.summary.pages_skipped += batch.pages_skipped
        new = batch.pages_read - batch.pages_skipped
        self.last = f"{batch.pages_read} pages, {new} new"
        self._restamp(part, batch.stamps)
        if batch.drafted is None or batch.drafted.pages.is_empty():
            return
        with self.watch.stage("settle"):
            parsed = settle(batch.drafted, self.known)
            self.settled.append(
                {
                    "pages": parsed.pages,
                    "articles": parsed.articles,
                    # settling can only turn candidate articles into duplicates: their entities are left out
                    "entities": batch.entities.join(parsed.articles.select("page_id"), on="page_id", how="semi"),
                    "weather_snapshots": parsed.weather,
                }
            )
            self.part = part
            self.known = pl.concat([self.known, _known_rows(parsed)])
        if sum(tables["pages"].height for tables in self.settled) >= VALIDATE_PAGES:
            self.land()

    def land(self) -> None:
        """Validate the settled batches not landed yet, as one, and write them as one part of the run."""
        if not self.settled:
            return
        tables = {name: pl.concat([batch[name] for batch in self.settled]) for name in VALIDATED}
        self.settled = []
        if not self.validator.prepared:
            with self.watch.stage("gx-import"):
                self.validator.prepare()  # once per run: GX's import costs seconds, whatever the size of the run
        with self.watch.stage("validate"):
            validations = validate_tables(tables, self.validator)
        landed = _tables_to_land(self.run_id, self.started, validations)
        with self.watch.stage("land"):
            land_batch(self.tx, landed)
        for name, validation in validations.items():
            self.results[name].extend(validation.results)
        self.pages_quarantined += validations["pages"].quarantine.height
        for status in PAGE_STATUSES:
            count = landed["pages"].filter(pl.col("status") == status).height
            self.summary.statuses[status] = self.summary.statuses.get(status, 0) + count
        for name, frame in landed.items():
            self.summary.rows[name] = self.summary.rows.get(name, 0) + frame.height
        self.summary.quarantined += landed["quarantine"].height

    def _restamp(self, part: int, stamps: pl.DataFrame) -> None:
        """Land the stamps of files read again for bytes the ledger has, unless the ledger has those stamps
        (`--checksum` reads unchanged files too): later runs' quick check then skips the files unread."""
        stamp = list(STAMPS.key)  # source, file_size, file_mtime_ns
        new = stamps.join(self.stamps, on=stamp, how="anti").unique(stamp, maintain_order=True)
        if new.is_empty():
            return
        with self.watch.stage("land"):
            land_batch(self.tx, {STAMPS.name: new.with_columns(run_id=pl.lit(self.run_id))})
        self.summary.rows[STAMPS.name] = self.summary.rows.get(STAMPS.name, 0) + new.height
        self.last += f", {new.height} files stamped again"

    def validations(self) -> dict[str, Validation]:
        """Each table's expectation results over all batches (an expectation passed when it passed in every
        batch; failed_rows add up), for the report; the rows themselves have landed already."""
        merged = {}
        for name, results in self.results.items():
            by_expectation: dict[str, ExpectationResult] = {}
            for result in results:
                seen = by_expectation.get(result.expectation)
                by_expectation[result.expectation] = (
                    result
                    if seen is None
                    else replace(
                        seen, success=seen.success and result.success, failed_rows=seen.failed_rows + result.failed_rows
                    )
                )
            empty = TABLES[name].empty().drop("run_id")
            merged[name] = Validation(name, empty, QUARANTINE.empty().drop("run_id"), tuple(by_expectation.values()))
        return merged


def _known_rows(parsed: Parsed) -> pl.DataFrame:
    """Rows for `known` of a settled batch: its pages, with the article (version) each one landed."""
    articles = parsed.articles.select("page_id", "article_id", version_key=version_keys())
    return parsed.pages.select("page_id", "content_hash").join(articles, on="page_id", how="left")


def _tables_to_land(run_id: str, started: datetime, validations: dict[str, Validation]) -> dict[str, pl.DataFrame]:
    """The valid rows of every table and the quarantined ones, stamped with the run; pages whose article was
    quarantined become rejected."""
    landed = {name: v.valid.with_columns(run_id=pl.lit(run_id)) for name, v in validations.items()}
    landed["pages"] = rejected_by_validation(landed["pages"], validations["articles"].quarantine).with_columns(
        ingested_at=pl.lit(started).cast(PAGES.schema["ingested_at"])
    )
    landed["quarantine"] = pl.concat([v.quarantine for v in validations.values()]).with_columns(run_id=pl.lit(run_id))
    return landed


def _run_row(summary: RunSummary, sources: list[str], started: datetime, stages: dict[str, float]) -> pl.DataFrame:
    row = {
        "run_id": summary.run_id,
        "started_at": started,
        "finished_at": datetime.now(UTC),
        "sources": [str(Path(s).resolve()) for s in sources],
        "pages_seen": summary.pages_seen,
        "pages_skipped": summary.pages_skipped,
        **{f"pages_{s}": summary.statuses.get(s, 0) for s in PAGE_STATUSES},
        "articles_rows": summary.rows.get("articles", 0),
        "entities_rows": summary.rows.get(ENTITIES.name, 0),
        "weather_rows": summary.rows.get(WEATHER_SNAPSHOTS.name, 0),
        "quarantine_rows": summary.quarantined,
        "validation_success": summary.validation_success,
        "full_refresh": summary.full_refresh,
        "kind": "ingest",
        "seconds": summary.seconds,
        "stage_seconds": json.dumps({k: round(v, 3) for k, v in stages.items()}),
    }
    return pl.DataFrame([row])


def _publish_artifacts(summary: RunSummary, markdown: str | None) -> None:
    counts = [{"what": f"pages {s}", "count": n} for s, n in summary.statuses.items()]
    counts += [{"what": f"rows {t}", "count": n} for t, n in summary.rows.items()]
    where = f"report: {summary.report or 'not written'}; Data Docs: {summary.data_docs or 'not built'}"
    create_table_artifact(
        key=artifact_key("counts", summary.warehouse),
        table=counts,
        description=f"Counts of run {summary.run_id}; {where}",
    )
    create_markdown_artifact(
        key=artifact_key("summary", summary.warehouse),
        markdown=markdown or f"# {where}\n",
        description=f"Run report of {summary.run_id}",
    )

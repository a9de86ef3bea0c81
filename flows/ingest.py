"""The ingest flow: sources -> read -> parse -> entities -> validate -> land -> catalog -> report."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from expectations import Validation, Validator
from flows.report import write_run_report
from flows.sources import batched, discover, read_pages
from newsflow.faults import halt_point
from newsflow.profiles import load_rules
from newsflow.schema import ARTICLES, ENTITIES, PAGE_STATUSES, PAGES, TABLES, WEATHER_SNAPSHOTS
from newsflow.workers import EntityWorkers
from transforms.pages import KNOWN_SCHEMA, parse_pages, rejected_by_validation, version_keys
from warehouse.catalog import refresh_catalog
from warehouse.store import DATA_DOCS, Warehouse

VALIDATED = ("pages", "articles", "entities", "weather_snapshots")


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
    report: str | None = None  # the run's HTML report
    data_docs: str | None = None  # the Data Docs index page
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        """Nothing rejected, errored or quarantined (what --strict asks for)."""
        bad = self.statuses.get("rejected", 0) + self.statuses.get("error", 0)
        return bad == 0 and self.quarantined == 0


@task(name="read-pages", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def read_batch(paths: list[str]) -> pl.DataFrame:
    """Read, hash and decode a batch of page files."""
    return read_pages(paths)


@task(name="parse-pages", cache_policy=NO_CACHE)
def parse_batch(raw: pl.DataFrame, known: pl.DataFrame, profiles_dir: str | None) -> dict[str, pl.DataFrame]:
    """Parse a batch into ledger rows, articles and weather readings."""
    parsed = parse_pages(raw, load_rules([profiles_dir] if profiles_dir else []), known)
    return {"pages": parsed.pages, "articles": parsed.articles, "weather_snapshots": parsed.weather}


@task(name="extract-entities", cache_policy=NO_CACHE)
def extract_entities(articles: pl.DataFrame, workers: EntityWorkers) -> pl.DataFrame:
    """Entity rows of a batch of articles, shared out among the worker processes."""
    return workers(articles)


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


@task(name="land-tables", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def land_tables(store_root: str, run_id: str, tables: dict[str, pl.DataFrame], run_row: pl.DataFrame) -> None:
    """Write the run's rows, then its runs row (the commit), then rebuild the catalog; if the catalog cannot
    be built the run's files are removed again, so the warehouse keeps its previous state."""
    store = Warehouse.at(store_root)
    store.land(run_id, tables, run_row)
    try:
        refresh_catalog(store)
    except Exception:
        store.discard(run_id)
        raise


@task(name="publish-reports", cache_policy=NO_CACHE)
def publish_reports(
    store: Warehouse, run_id: str, validator: Validator, validations: dict[str, Validation], summary: RunSummary
) -> None:
    """Build the Data Docs and the run report from the committed warehouse. The run has landed by now, so a
    failure here is logged and leaves the run as it is."""
    logger = get_run_logger()
    try:
        summary.data_docs = store.publish_folder(DATA_DOCS, partial(validator.build_data_docs, run_name=run_id))
    except Exception as exc:  # GX rendering is not worth failing a landed run for
        logger.warning("Data Docs were not built: %s: %s", type(exc).__name__, exc)
    try:
        docs = summary.data_docs
        summary.report = str(write_run_report(store, run_id, validations, docs))
    except Exception as exc:
        logger.warning("the run report was not written: %s: %s", type(exc).__name__, exc)


class Stopwatch:
    """Wall time per stage, summed over batches."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


@flow(name="newsflow-ingest", log_prints=True)
def ingest(
    sources: list[str],
    warehouse: str = "warehouse",
    batch_size: int = 2000,
    profiles_dir: str | None = None,
    workers: int = 0,
    lock_timeout: float = 3600.0,
    full_refresh: bool = False,
) -> RunSummary:
    """Ingest raw pages from the sources into the warehouse; returns the run's summary. One run writes a
    warehouse at a time: a second one waits for the first (up to `lock_timeout` seconds), then skips what the
    first one ingested."""
    logger = get_run_logger()
    store = Warehouse.at(warehouse)
    waiting = partial(logger.info, "waiting for the warehouse: %s is writing to it")
    with store.writer_lock(timeout=lock_timeout, on_wait=waiting):
        return _ingest(store, sources, batch_size, profiles_dir, workers, full_refresh)


def _ingest(
    store: Warehouse, sources: list[str], batch_size: int, profiles_dir: str | None, workers: int, full_refresh: bool
) -> RunSummary:
    logger = get_run_logger()
    started, clock, watch = datetime.now(UTC), time.perf_counter(), Stopwatch()
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    removed = store.remove_uncommitted()
    if removed:
        logger.warning("removed %d files of runs that never committed", len(removed))
    with watch.stage("discover"):
        paths = discover(sources)
        # a full refresh ingests everything again and, once committed, replaces every earlier run's rows
        known = pl.DataFrame(schema=KNOWN_SCHEMA) if full_refresh else store.known_pages()
    summary = RunSummary(run_id=run_id, warehouse=store.location, pages_seen=len(paths), full_refresh=full_refresh)
    logger.info("run %s: %d pages found in %s", run_id, len(paths), ", ".join(sources))

    with EntityWorkers(workers or None, profiles_dir) as entity_workers:
        tables = _parse_in_batches(paths, known, batch_size, profiles_dir, entity_workers, summary, watch)
    validator = Validator(references={"stations": load_rules([profiles_dir] if profiles_dir else []).stations})
    with watch.stage("gx-import"):
        validator.prepare()  # once per run: GX's import costs seconds, whatever the size of the run
    with watch.stage("validate"):
        validations = validate_tables(tables, validator)
    landed = _tables_to_land(run_id, started, validations)
    summary.statuses = {s: landed["pages"].filter(pl.col("status") == s).height for s in PAGE_STATUSES}
    summary.rows = {name: frame.height for name, frame in landed.items()}
    summary.quarantined = landed["quarantine"].height
    summary.validation_success = all(v.success for v in validations.values())

    with watch.stage("land"):
        summary.seconds = time.perf_counter() - clock
        land_tables(store.location, run_id, landed, _run_row(summary, sources, started, watch.seconds))
    with watch.stage("report"):
        publish_reports(store, run_id, validator, validations, summary)
    _publish_artifacts(summary)
    summary.seconds = time.perf_counter() - clock
    logger.info("run %s finished in %.1f s", run_id, summary.seconds)
    return summary


def _parse_in_batches(
    paths: list[str],
    known: pl.DataFrame,
    batch_size: int,
    profiles_dir: str | None,
    entity_workers: EntityWorkers,
    summary: RunSummary,
    watch: Stopwatch,
) -> dict[str, pl.DataFrame]:
    """Read, parse and extract entities batch by batch; pages already in the ledger are counted and skipped."""
    logger = get_run_logger()
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in VALIDATED}
    batches = list(batched(paths, batch_size))
    for number, batch in enumerate(batches, start=1):
        start = time.perf_counter()
        with watch.stage("read"):
            raw = read_batch(batch)
            seen = raw["page_id"].is_in(known["page_id"].implode())  # same source and bytes as an earlier run
            summary.pages_skipped += int(seen.sum())
            raw = raw.filter(~seen)
        with watch.stage("parse"):
            parsed = parse_batch(raw, known, profiles_dir)
        with watch.stage("entities"):
            parsed["entities"] = extract_entities(parsed["articles"], entity_workers)
        halt_point("parsed")
        for name, frame in parsed.items():
            parts[name].append(frame)
        new_pages = parsed["pages"].select("page_id", "content_hash")
        known = pl.concat(
            [
                known,
                new_pages.join(
                    parsed["articles"].select("page_id", "article_id", version_key=version_keys()),
                    on="page_id",
                    how="left",
                ),
            ]
        )
        rate = raw.height / max(time.perf_counter() - start, 1e-9)
        logger.info("batch %d/%d: %d pages, %d new, %.0f pages/s", number, len(batches), len(batch), raw.height, rate)
    return {
        name: pl.concat(frames) if frames else TABLES[name].empty().drop("run_id") for name, frames in parts.items()
    }


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


def _publish_artifacts(summary: RunSummary) -> None:
    counts = [{"what": f"pages {s}", "count": n} for s, n in summary.statuses.items()]
    counts += [{"what": f"rows {t}", "count": n} for t, n in summary.rows.items()]
    where = f"report: {summary.report or 'not written'}; Data Docs: {summary.data_docs or 'not built'}"
    create_table_artifact(key="newsflow-counts", table=counts, description=f"Counts of run {summary.run_id}; {where}")
    markdown = Path(summary.report).with_suffix(".md") if summary.report else None
    create_markdown_artifact(
        key="newsflow-summary",
        markdown=markdown.read_text(encoding="utf-8") if markdown and markdown.exists() else f"# {where}\n",
        description=f"Run report of {summary.run_id}",
    )

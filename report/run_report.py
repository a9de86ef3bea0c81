"""The run report: one self-contained HTML page per run, two pointers to the latest ones, the data dictionary page,
and the same truths in markdown for the Prefect artifact.

Files in the warehouse's reports folder:

* `run-<run_id>.html` / `.md`: the report of each run, deleted `report_keep_days` after the run started
  (NEWSFLOW_REPORT_KEEP_DAYS), except those the pointers show;
* `latest.html` / `.md`: the latest run's report, whatever it did; a run that found no new page says so plainly
  ("nothing new: ...; nothing validated") and links to
* `latest-with-data.html` / `.md`: the latest run that validated new pages, which a run with nothing new leaves
  as it is;
* `data-dictionary.html`: every table and view, linked from every report.

Every figure is read back from the warehouse once the run has committed: what the run landed, its failed
expectations with the query that finds their quarantined rows, the runs of the last 30 days (runs with nothing new
folded), how fresh each table's newest rows are, trend charts, a row-count anomaly flag, and each station's latest
temperature of the most recent capture dates. The outcome of every expectation (warnings included, which leave no
trace in the tables) comes from the run's validation. Pages are rendered from Jinja2 templates (templates/) with
the charts as inline SVG (newsflow.report.charts): no script, no network.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

import newsflow.warehouse.catalog
from newsflow.core.constants import KST_FORMAT
from newsflow.core.dictionary import data_dictionary, view_descriptions
from newsflow.core.schema import PAGE_STATUSES, TABLES
from newsflow.core.settings import load_settings
from newsflow.expectations import ExpectationResult, Validation
from newsflow.report import charts
from newsflow.report.history import (
    HISTORY_DAYS,
    KST,
    Anomaly,
    Freshness,
    HistoryLine,
    article_anomalies,
    expired_reports,
    fold_history,
    freshness,
    kst,
    new_pages,
    nothing_new_text,
    plural,
    quarantine_sql,
    report_name,
    sql_command,
)
from newsflow.warehouse.catalog import queries, query
from newsflow.warehouse.storage import REPORTS, Warehouse
from newsflow.warehouse.verify import last_verification

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "assets"  # the page's style, inlined into every page
TEMPLATES = Path(__file__).parent / "templates"
VIEWS = Path(newsflow.warehouse.catalog.__file__).parent / "views"
LATEST, WITH_DATA, DICTIONARY = "latest", "latest-with-data", "data-dictionary"
LANDED = ("pages", "articles", "entities", "weather_snapshots", "quarantine")
SAMPLE_ROWS = 5  # quarantined rows shown under each failed expectation
WEATHER_DAYS = 7  # the weather chart shows readings captured in the last this many days of the newest capture date
RUN_COLUMNS = ", ".join(
    [
        "run_id",
        "started_at",
        "finished_at",
        "kind",
        "pages_seen",
        "pages_skipped",
        *(f"pages_{s}" for s in PAGE_STATUSES),
        "articles_rows",
        "entities_rows",
        "weather_rows",
        "quarantine_rows",
        "validation_success",
        "round(seconds, 1) AS seconds",
    ]
)

LATEST_WEATHER_SQL = f"""
SELECT station, region, latitude, longitude, capture_date, temperature_c, condition, site
FROM weather_readings
WHERE temperature_c IS NOT NULL
  AND capture_date > (SELECT max(capture_date) FROM weather_readings WHERE temperature_c IS NOT NULL) - {WEATHER_DAYS}
QUALIFY row_number() OVER (PARTITION BY station ORDER BY capture_date DESC, pages DESC, site) = 1
ORDER BY latitude DESC NULLS LAST, station
"""

FRESHNESS_SQL = """
SELECT
    (SELECT max(ingested_at) FROM landed.pages) AS pages_ingested,
    (SELECT max(registered_at) FROM landed.articles) AS articles_registered,
    (SELECT max(finished_at) FROM runs WHERE articles_rows > 0) AS articles_landed,
    (SELECT max(finished_at) FROM runs WHERE entities_rows > 0) AS entities_landed,
    (SELECT max(capture_date) FROM landed.weather_snapshots) AS weather_captured,
    (SELECT max(finished_at) FROM runs WHERE weather_rows > 0) AS weather_landed
"""


class RunReport(NamedTuple):
    page: str  # the run's HTML page: a path, or a URL on object storage
    markdown: str  # the same report in Markdown, as written beside it


@dataclass(frozen=True)
class Pointer:
    """The latest run that validated pages, and the page that shows it."""

    run_id: str
    started: str  # in Korea time
    href: str | None  # its page, relative to the reports folder: latest-with-data.html, else run-<run_id>.html


@dataclass
class FailedExpectation:
    table: str
    expectation: str
    severity: str
    failed_rows: int
    quarantined: int  # this run's rows in quarantine for it
    sql: str | None  # the query that lists them
    command: str | None  # the same as a `newsflow sql` line
    samples: list[dict[str, Any]] = field(default_factory=list)  # the first rows: row_key, failed_expectations


@dataclass
class ReportData:
    run_id: str
    warehouse: str
    data_docs: str | None
    now: datetime
    run: dict[str, Any]  # this run's runs row ({} when it has none)
    statuses: list[dict[str, Any]]  # status, pages (this run)
    history: pl.DataFrame  # the runs of the last HISTORY_DAYS days (and this run), newest first
    anomalies: dict[str, Anomaly]  # by run_id, over the history and the runs before it
    quarantine: list[dict[str, Any]]  # table_name, expectation, rows (this run)
    samples: list[dict[str, Any]]  # table_name, expectation, row_key, failed_expectations: first rows of each
    null_rates: list[dict[str, Any]]  # table_name, column, rows, nulls, null_rate (this run's rows)
    weather: list[dict[str, Any]]  # the latest reading of each station, of the most recent capture dates
    freshness: list[Freshness]
    expectations: list[ExpectationResult]
    with_data: Pointer | None  # the latest run that validated pages (this one when it did)
    kept_pages: set[str] = field(default_factory=set)  # run ids whose report file is there
    verified: dict[str, Any] | None = None  # the last `newsflow verify` (newsflow.warehouse.verify.last_verification)

    @property
    def new_pages(self) -> int:
        return new_pages(self.run)

    @property
    def validated(self) -> bool:
        """Whether the run found new pages (and so validated them): a run with nothing new validated nothing."""
        return self.new_pages > 0

    @property
    def started(self) -> str:
        return kst(self.run.get("started_at"))

    @property
    def anomaly(self) -> Anomaly | None:
        return self.anomalies.get(self.run_id)

    @property
    def failed_expectations(self) -> list[ExpectationResult]:
        return [r for r in self.expectations if not r.success]

    @property
    def failures(self) -> list[FailedExpectation]:
        """Each failed expectation of this run, with its quarantined rows: the count, the query and the first rows.
        Rows in quarantine for an expectation the run's validation did not report are listed too."""
        counts = {(q["table_name"], q["expectation"]): int(q["rows"]) for q in self.quarantine}
        found = [(r.table, r.expectation, r.severity, r.failed_rows) for r in self.failed_expectations]
        reported = {(t, e) for t, e, *_ in found}
        found += [(t, e, "critical", n) for (t, e), n in counts.items() if (t, e) not in reported]
        failures = []
        for table, expectation, severity, failed_rows in sorted(found, key=lambda f: (f[2] != "critical", f[0], f[1])):
            quarantined = counts.get((table, expectation), 0)
            sql = quarantine_sql(self.run_id, table, expectation) if quarantined else None
            failures.append(
                FailedExpectation(
                    table,
                    expectation,
                    severity,
                    failed_rows,
                    quarantined,
                    sql,
                    sql_command(sql, self.warehouse) if sql else None,
                    [s for s in self.samples if s["table_name"] == table and s["expectation"] == expectation],
                )
            )
        return failures

    @property
    def headline(self) -> str:
        """What the run did, in one line."""
        if not self.validated:
            return nothing_new_text(self.run)
        failed = len(self.failures)
        verdict = "every expectation passed" if not failed else f"{plural(failed, 'expectation')} failed"
        return f"{plural(self.new_pages, 'new page')} validated: {verdict}"

    @property
    def history_lines(self) -> list[HistoryLine]:
        return fold_history(self.history, self.run_id, self.anomalies, self.kept_pages)


def gather(
    store: Warehouse,
    run_id: str,
    validations: Mapping[str, Validation],
    data_docs: str | Path | None = None,
    now: datetime | None = None,
) -> ReportData:
    """The report's figures, read from the warehouse catalog (the run must have committed), on one connection."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=HISTORY_DAYS)
    run = {"run": run_id}
    this, last_with_data, statuses, history, before, quarantine, samples, weather, newest = queries(
        store,
        [
            (f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = $run", run),
            (
                "SELECT run_id, started_at FROM runs WHERE pages_seen > pages_skipped ORDER BY started_at DESC LIMIT 1",
                None,
            ),
            ("SELECT status, count(*) AS pages FROM pages WHERE run_id = $run GROUP BY status ORDER BY status", run),
            (
                f"SELECT {RUN_COLUMNS} FROM runs WHERE started_at >= $since OR run_id = $run ORDER BY started_at DESC",
                {**run, "since": since},
            ),
            (  # the runs the anomaly flag of the oldest runs shown compares with
                f"""SELECT {RUN_COLUMNS} FROM runs WHERE started_at < $since AND articles_rows > 0
                    ORDER BY started_at DESC LIMIT 10""",
                {"since": since},
            ),
            (
                """SELECT table_name, expectation, count(*) AS rows
                   FROM (SELECT table_name, unnest(failed_expectations) AS expectation FROM quarantine
                         WHERE run_id = $run)
                   GROUP BY ALL ORDER BY rows DESC, table_name, expectation""",
                run,
            ),
            (
                f"""SELECT table_name, expectation, row_key, array_to_string(failed_expectations, ', ') AS failed
                    FROM (SELECT *, unnest(failed_expectations) AS expectation FROM quarantine WHERE run_id = $run)
                    QUALIFY row_number() OVER (PARTITION BY table_name, expectation ORDER BY row_key) <= {SAMPLE_ROWS}
                    ORDER BY table_name, expectation, row_key""",
                run,
            ),
            (LATEST_WEATHER_SQL, None),
            (FRESHNESS_SQL, None),
        ],
    )
    this_run = this.row(0, named=True) if this.height else {}
    landed = new_pages(this_run) > 0
    kept = {*_kept_reports(store), run_id}
    if landed:
        with_data: Pointer | None = Pointer(run_id, kst(this_run.get("started_at")), f"{WITH_DATA}.html")
    else:  # the page latest-with-data.html shows; else (reports from before it) the runs table's last such run
        with_data = pointed_run(store, WITH_DATA)
        if with_data is None and last_with_data.height:
            found, started = last_with_data.row(0)
            with_data = Pointer(found, kst(started), report_name(found) if found in kept else None)
    return ReportData(
        run_id=run_id,
        warehouse=store.location,
        data_docs=str(data_docs) if data_docs else None,
        now=now,
        run=this_run,
        statuses=statuses.to_dicts(),
        history=history,
        anomalies=article_anomalies(pl.concat([before, history], how="vertical_relaxed")),
        quarantine=quarantine.to_dicts(),
        samples=samples.to_dicts(),
        null_rates=_null_rates(store, run_id, landed=landed),
        weather=weather.to_dicts(),
        freshness=freshness(newest.row(0, named=True), now),
        expectations=[r for v in validations.values() for r in v.results],
        with_data=with_data,
        kept_pages=kept,
        verified=last_verification(store),
    )


def verified_text(verified: dict[str, Any] | None) -> str:
    """When the warehouse's files were last checked against their checksums, and what that found."""
    if not verified:
        return "files never verified (run `newsflow verify`)"
    when = datetime.fromisoformat(verified["checked_at"]).astimezone(KST).strftime(KST_FORMAT)
    found = "every file as written" if not verified["damaged"] else f"{verified['damaged']} damaged files"
    return f"files last verified {when}: {verified['files_checked']} files, {found}"


def _null_rates(store: Warehouse, run_id: str, landed: bool = True) -> list[dict[str, Any]]:
    """Per table and column, how many of this run's rows leave it null. A run that landed no page (all of them
    unchanged) landed no row: its tables are not scanned."""
    columns = {name: [c for c in TABLES[name].column_names if c != "run_id"] for name in LANDED}
    if not landed:
        return [_null_rate(name, column, 0, 0) for name, names in columns.items() for column in names]
    found = queries(store, [(_null_counts_sql(name, names), {"run": run_id}) for name, names in columns.items()])
    return [
        _null_rate(name, column, counts["__rows"].item(), counts[column].item())
        for (name, names), counts in zip(columns.items(), found, strict=True)
        for column in names
    ]


def _null_counts_sql(table: str, columns: list[str]) -> str:
    counts = ", ".join(f'count("{c}") AS "{c}"' for c in columns)
    return f'SELECT count(*) AS "__rows", {counts} FROM "{table}" WHERE run_id = $run'


def _null_rate(table: str, column: str, rows: int, filled: int) -> dict[str, Any]:
    nulls = rows - filled
    return {
        "table_name": table,
        "column": column,
        "rows": rows,
        "nulls": nulls,
        "null_rate": nulls / rows if rows else 0.0,
    }


# --- the report files ------------------------------------------------------------------------------------------


def _read_report(store: Warehouse, name: str) -> str | None:
    try:
        return store.fs.cat_file(f"{store.path}/{REPORTS}/{name}").decode("utf-8")
    except FileNotFoundError:
        return None


def _meta(page: str, name: str) -> str | None:
    found = re.search(rf'<meta name="newsflow-{name}" content="([^"]*)"', page)
    return html.unescape(found[1]) if found else None


def pointed_run(store: Warehouse, pointer: str) -> Pointer | None:
    """The run a pointer page (latest or latest-with-data) shows, from the page's own metadata; None when there
    is no such page yet."""
    page = _read_report(store, f"{pointer}.html")
    run_id = _meta(page, "run-id") if page else None
    return Pointer(run_id, _meta(page, "run-started") or "–", f"{pointer}.html") if page and run_id else None


def _kept_reports(store: Warehouse) -> list[str]:
    """The run ids whose run-<run_id>.html is in the reports folder."""
    found = store.fs.glob(f"{store.path}/{REPORTS}/run-*.html")
    return [path.rsplit("/", 1)[-1].removeprefix("run-").removesuffix(".html") for path in found]


def _modified(store: Warehouse, path: str) -> datetime:
    when = store.fs.modified(path)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def prune_reports(store: Warehouse, keep_days: float, protected: set[str], now: datetime | None = None) -> list[str]:
    """Delete the run reports (run-<run_id>.html and .md) older than `keep_days`, by the run's start time (else
    the file's modification time), except those of the `protected` runs; on local folders and object storage
    alike (through the warehouse's filesystem). Returns the names deleted."""
    now = now or datetime.now(UTC)
    paths = {path.rsplit("/", 1)[-1]: path for path in store.fs.glob(f"{store.path}/{REPORTS}/run-*")}
    run_ids = sorted({name.removeprefix("run-").rsplit(".", 1)[0] for name in paths})
    started: dict[str, datetime] = {}
    if run_ids and store.has_catalog:
        known = query(store, "SELECT run_id, started_at FROM runs WHERE list_contains($ids, run_id)", {"ids": run_ids})
        started = dict(known.iter_rows())
    ages = {}
    for name, path in paths.items():
        run_id = name.removeprefix("run-").rsplit(".", 1)[0]
        ages[name] = started.get(run_id) or _modified(store, path)
    expired = expired_reports(ages, now, keep_days, protected)
    for name in expired:
        store.fs.rm(paths[name])
    return expired


# --- HTML ------------------------------------------------------------------------------------------------------


def _href(location: str) -> str:
    """A link to a file of the warehouse: file:// for a local path, the URL itself on object storage."""
    return location if "://" in location else Path(location).as_uri()


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return kst(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = _cell
    env.filters["pct"] = lambda share: f"{share:.1%}"
    env.filters["href"] = _href
    return env


def _css() -> Markup:
    return Markup((ASSETS / "report.css").read_text(encoding="utf-8"))  # our own style sheet, trusted


def _svg(chart: Any, name: str) -> Markup | None:
    return Markup(charts.to_svg(chart, name)) if chart is not None else None  # SVG vl-convert drew from our data


def render_html(data: ReportData) -> str:
    """The report page: self-contained HTML (inline style and SVG charts, no script)."""
    history = data.history
    runs_with_data = history.filter(pl.col("pages_seen") > pl.col("pages_skipped")).height
    return (
        environment()
        .get_template("run_report.html.j2")
        .render(
            d=data,
            css=_css(),
            latest=f"{LATEST}.html",
            dictionary=f"{DICTIONARY}.html",
            history_days=HISTORY_DAYS,
            runs_shown=history.height,
            runs_with_data=runs_with_data,
            chart_rows=_svg(charts.rows_per_run(history), "rows"),
            chart_rates=_svg(charts.rates_per_run(history), "rates"),
            chart_weather=_svg(charts.weather_bars(data.weather), "weather"),
            chart_map=_svg(charts.weather_map(data.weather), "map"),
            weather_span=charts.capture_span(data.weather),
            weather_days=WEATHER_DAYS,
            generated=kst(data.now),
            verified=verified_text(data.verified),
            statuses_total=max(sum(s["pages"] for s in data.statuses), 1),
            report_name=report_name,
            plural=plural,
        )
    )


def render_dictionary(views_folder: Path = VIEWS, with_data: bool = True) -> str:
    """The data dictionary (newsflow.core.dictionary) as a self-contained HTML page; `with_data`: whether to
    link latest-with-data.html (there once a run has validated pages)."""
    from markdown_it import MarkdownIt  # CommonMark with tables; comes with rich

    text = re.sub(r"<!--.*?-->\s*", "", data_dictionary(view_descriptions(views_folder)), flags=re.DOTALL)
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    body = re.sub(r"<h([23])>([^<]+)</h\1>", lambda m: f'<h{m[1]} id="{m[2].strip().lower()}">{m[2]}</h{m[1]}>', body)
    return (
        environment()
        .get_template("data_dictionary.html.j2")
        .render(
            css=_css(), body=Markup(body), latest=f"{LATEST}.html", with_data=f"{WITH_DATA}.html" if with_data else None
        )
    )


# --- markdown --------------------------------------------------------------------------------------------------


def render_markdown(data: ReportData, html_path: str | Path | None = None, reports_folder: str | None = None) -> str:
    """The same truths in short (the Prefect artifact): what the run did (nothing new, or its counts), the
    anomaly flag, the failed expectations with the query that lists their quarantined rows; where the pages are."""
    lines = [f"# newsflow run {data.run_id}", "", f"Started {data.started} (run id `{data.run_id}`)", ""]
    lines.append(f"Warehouse: `{data.warehouse}`")
    if html_path:
        lines.append(f"Report: `{html_path}`")
    if data.with_data:
        pointer = data.with_data
        which = "this run" if pointer.run_id == data.run_id else f"run `{pointer.run_id}`"
        where = f"`{reports_folder}/{pointer.href}` " if reports_folder and pointer.href else ""
        lines.append(f"Latest run that validated pages: {where}({which}, started {pointer.started})")
    if data.data_docs:
        lines.append(f"Data Docs: `{data.data_docs}`")
    verified = verified_text(data.verified)
    lines += [verified[0].upper() + verified[1:], ""]
    if not data.validated:
        lines.append(f"**{data.headline[0].upper() + data.headline[1:]}.**")
        if data.with_data is None:
            lines.append("No run has validated pages yet.")
        return "\n".join(lines) + "\n"
    lines.append(f"**{data.headline}.**")
    if data.anomaly:
        lines += ["", f"**Warning, {data.anomaly.text}.**"]
    lines += ["", "| pages by status | count |", "|---|---:|"]
    lines += [f"| {s['status']} | {s['pages']} |" for s in data.statuses]
    lines += ["", "| table | rows landed |", "|---|---:|"]
    for table, column in [
        ("articles", "articles_rows"),
        ("entities", "entities_rows"),
        ("weather_snapshots", "weather_rows"),
        ("quarantine", "quarantine_rows"),
    ]:
        lines.append(f"| {table} | {data.run.get(column) or 0} |")
    lines += ["", "## Validation", ""]
    failures = data.failures
    if not failures:
        lines.append("Every expectation passed.")
        return "\n".join(lines) + "\n"
    lines += ["| table | expectation | severity | failing rows | quarantined |", "|---|---|---|---:|---:|"]
    lines += [f"| {f.table} | `{f.expectation}` | {f.severity} | {f.failed_rows} | {f.quarantined} |" for f in failures]
    for failure in failures:
        if failure.command:
            sent = plural(failure.quarantined, "row")
            lines += ["", f"The {sent} `{failure.table}` `{failure.expectation}` sent to quarantine:", ""]
            lines += ["```sh", failure.command, "```"]
    return "\n".join(lines) + "\n"


# --- writing ---------------------------------------------------------------------------------------------------


def write_run_report(
    store: Warehouse,
    run_id: str,
    validations: Mapping[str, Validation],
    data_docs: str | Path | None = None,
    *,
    keep_days: float | None = None,
    now: datetime | None = None,
) -> RunReport:
    """Write run-<run_id>.html and .md into the warehouse's reports folder, replace latest.html / .md with them,
    and latest-with-data.html / .md too when the run validated new pages (a run with nothing new leaves those to
    the last run that did); write data-dictionary.html; then delete the run reports older than `keep_days`
    (default: the report_keep_days setting) except those the pointers show. Each file is replaced whole. Returns
    the run's HTML page's location (a path, or a URL on object storage) and the Markdown written."""
    data = gather(store, run_id, validations, data_docs, now)
    page = store.url(REPORTS, report_name(run_id))
    rendered, markdown = render_html(data), render_markdown(data, page, store.url(REPORTS))
    files = {report_name(run_id): rendered, report_name(run_id, "md"): markdown}
    files |= {f"{LATEST}.html": rendered, f"{LATEST}.md": markdown}
    if data.validated:
        files |= {f"{WITH_DATA}.html": rendered, f"{WITH_DATA}.md": markdown}
    files[f"{DICTIONARY}.html"] = render_dictionary(
        with_data=data.with_data is not None and data.with_data.href == f"{WITH_DATA}.html"
    )
    for name, text in files.items():
        store.write_text(f"{REPORTS}/{name}", text)
    keep = keep_days if keep_days is not None else load_settings().report_keep_days
    protected = {run_id} | ({data.with_data.run_id} if data.with_data else set())
    removed = prune_reports(store, keep, protected, data.now)
    if removed:
        log.info("deleted %d run report files older than %g days", len(removed), keep)
    return RunReport(page, markdown)

"""The run report: one self-contained HTML page per run (and `latest.html`), plus the same figures in markdown for
the Prefect artifact.

Every figure is read back from the warehouse catalog once the run has committed, so the page shows what is
stored: pages by status, rows per table for this run and the last runs, quarantined rows by expectation, null
rates per column, and the latest weather reading of each station as a bar chart and a map drawn from the
station coordinates. The outcome of every expectation (warnings included, which leave no trace in the tables)
comes from the run's validation. The page needs no network: styles, data and the script that draws the charts
are inline, and the tables read without the script.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from newsflow.core.constants import KST_FORMAT, SEOUL
from newsflow.core.schema import TABLES
from newsflow.expectations import ExpectationResult, Validation
from newsflow.warehouse.catalog import queries
from newsflow.warehouse.storage import REPORTS, Warehouse
from newsflow.warehouse.verify import last_verification

ASSETS = Path(__file__).parent / "assets"  # the page's style and chart script, inlined into every report
LANDED = ("pages", "articles", "entities", "weather_snapshots", "quarantine")
LAST_RUNS = 10

LATEST_WEATHER_SQL = """
SELECT station, region, latitude, longitude, capture_date, temperature_c, condition, site
FROM weather_readings
WHERE temperature_c IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY station ORDER BY capture_date DESC, pages DESC, site) = 1
ORDER BY latitude DESC NULLS LAST, station
"""


@dataclass
class ReportData:
    run_id: str
    warehouse: str
    data_docs: str | None
    statuses: list[dict[str, Any]]  # status, pages (this run)
    runs: list[dict[str, Any]]  # the last runs, newest first
    quarantine: list[dict[str, Any]]  # table_name, expectation, rows (this run)
    null_rates: list[dict[str, Any]]  # table_name, column, rows, nulls, null_rate (this run's rows)
    weather: list[dict[str, Any]]  # the latest reading of each station
    expectations: list[ExpectationResult]
    verified: dict[str, Any] | None = None  # the last `newsflow verify` (newsflow.warehouse.verify.last_verification)

    @property
    def failed_expectations(self) -> list[ExpectationResult]:
        return [r for r in self.expectations if not r.success]


class RunReport(NamedTuple):
    page: str  # the run's HTML page: a path, or a URL on object storage
    markdown: str  # the same report in Markdown, as written beside it


def gather(
    store: Warehouse, run_id: str, validations: Mapping[str, Validation], data_docs: str | Path | None = None
) -> ReportData:
    """The report's figures, read from the warehouse catalog (the run must have committed), on one connection."""
    run = {"run": run_id}
    statuses, runs, quarantine, weather = queries(
        store,
        [
            ("SELECT status, count(*) AS pages FROM pages WHERE run_id = $run GROUP BY status ORDER BY status", run),
            (
                f"""SELECT run_id, started_at, pages_seen, pages_skipped, pages_article, pages_rejected, pages_error,
                       articles_rows, entities_rows, weather_rows, quarantine_rows, validation_success,
                       round(seconds, 1) AS seconds
                FROM runs ORDER BY started_at DESC LIMIT {LAST_RUNS}""",
                None,
            ),
            (
                """SELECT table_name, expectation, count(*) AS rows
                   FROM (SELECT table_name, unnest(failed_expectations) AS expectation FROM quarantine
                         WHERE run_id = $run)
                   GROUP BY ALL ORDER BY rows DESC, table_name, expectation""",
                run,
            ),
            (LATEST_WEATHER_SQL, None),
        ],
    )
    return ReportData(
        run_id=run_id,
        warehouse=store.location,
        data_docs=str(data_docs) if data_docs else None,
        statuses=statuses.to_dicts(),
        runs=runs.to_dicts(),
        quarantine=quarantine.to_dicts(),
        null_rates=_null_rates(store, run_id, landed=statuses.height > 0),
        weather=weather.to_dicts(),
        expectations=[r for v in validations.values() for r in v.results],
        verified=last_verification(store),
    )


def verified_text(verified: dict[str, Any] | None) -> str:
    """When the warehouse's files were last checked against their checksums, and what that found."""
    if not verified:
        return "files never verified (run `newsflow verify`)"
    when = datetime.fromisoformat(verified["checked_at"]).astimezone(ZoneInfo(SEOUL)).strftime(KST_FORMAT)
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


# --- HTML ---------------------------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool], table_id: str) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{cell}</td>' if n else f"<td>{cell}</td>" for cell, n in zip(r, numeric, strict=True))
        + "</tr>"
        for r in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _bar(share: float, scale: float = 160) -> str:
    return f'<span class="bar" style="width:{max(1, round(share * scale))}px"></span>'


def render_html(data: ReportData) -> str:
    """The report page: self-contained HTML (inline style, data and script)."""
    pages_total = sum(s["pages"] for s in data.statuses)
    this_run = next((r for r in data.runs if r["run_id"] == data.run_id), {})
    quarantined = this_run.get("quarantine_rows", 0)
    failed = data.failed_expectations
    verdict = (
        '<span class="ok">every expectation passed</span>'
        if not failed
        else f'<span class="bad">{len(failed)} expectation{"s" if len(failed) > 1 else ""} failed</span>'
    )
    cards = "".join(
        f'<div class="card" data-figure="{key}"><b>{_e(value)}</b>{_e(label)}</div>'
        for key, value, label in [
            ("pages", pages_total, "new pages"),
            ("articles", this_run.get("articles_rows", 0), "articles landed"),
            ("entities", this_run.get("entities_rows", 0), "entities landed"),
            ("weather", this_run.get("weather_rows", 0), "weather readings landed"),
            ("quarantine", quarantined, "rows quarantined"),
        ]
    )
    statuses = _table(
        ["status", "pages", ""],
        [(_e(s["status"]), _e(s["pages"]), _bar(s["pages"] / max(pages_total, 1))) for s in data.statuses],
        [False, True, False],
        "pages-by-status",
    )
    runs = _table(
        [
            "run",
            "started (KST)",
            "pages seen",
            "skipped",
            "articles",
            "entities",
            "weather",
            "quarantined",
            "seconds",
            "valid",
        ],
        [
            (
                f"<b>{_e(r['run_id'])}</b>" if r["run_id"] == data.run_id else _e(r["run_id"]),
                _e(r["started_at"]),
                _e(r["pages_seen"]),
                _e(r["pages_skipped"]),
                _e(r["articles_rows"]),
                _e(r["entities_rows"]),
                _e(r["weather_rows"]),
                _e(r["quarantine_rows"]),
                _e(r["seconds"]),
                '<span class="ok">yes</span>' if r["validation_success"] else '<span class="bad">no</span>',
            )
            for r in data.runs
        ],
        [False, False, True, True, True, True, True, True, True, False],
        "rows-per-run",
    )
    quarantine = (
        _table(
            ["table", "expectation", "rows"],
            [(_e(q["table_name"]), f"<code>{_e(q['expectation'])}</code>", _e(q["rows"])) for q in data.quarantine],
            [False, False, True],
            "quarantine-by-expectation",
        )
        if data.quarantine
        else '<p id="quarantine-by-expectation" class="ok">No row of this run went to quarantine.</p>'
    )
    expectations = _table(
        ["table", "expectation", "severity", "result", "failing rows"],
        [
            (
                _e(r.table),
                f"<code>{_e(r.expectation)}</code>",
                _e(r.severity),
                '<span class="ok">passed</span>'
                if r.success
                else f'<span class="{"bad" if r.severity == "critical" else "warn"}">failed</span>',
                _e(r.failed_rows),
            )
            for r in sorted(data.expectations, key=lambda r: (r.success, r.table, r.expectation))
        ],
        [False, False, False, False, True],
        "expectations",
    )
    nulls = _table(
        ["table", "column", "rows", "nulls", "null rate", ""],
        [
            (
                _e(n["table_name"]),
                _e(n["column"]),
                _e(n["rows"]),
                _e(n["nulls"]),
                f"{n['null_rate']:.1%}",
                _bar(n["null_rate"], 100) if n["nulls"] else "",
            )
            for n in data.null_rates
        ],
        [False, False, True, True, True, False],
        "null-rates",
    )
    weather = _table(
        ["station", "region", "capture date", "℃", "condition", "site"],
        [
            (
                _e(w["station"]),
                _e(w["region"]),
                _e(w["capture_date"]),
                f"{w['temperature_c']:.1f}",
                _e(w["condition"]),
                _e(w["site"]),
            )
            for w in data.weather
        ],
        [False, False, False, True, False, False],
        "latest-weather",
    )
    docs = (
        f'<a href="{html.escape(_href(data.data_docs))}">Great Expectations Data Docs</a>'
        if data.data_docs
        else "no Data Docs were built"
    )
    island = json.dumps({"weather": data.weather}, default=_json_default, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>newsflow run {_e(data.run_id)}</title>
<style>{(ASSETS / "report.css").read_text(encoding="utf-8")}</style></head>
<body>
<h1>newsflow run <span id="run-id">{_e(data.run_id)}</span></h1>
<p class="meta">Warehouse <code>{_e(data.warehouse)}</code> · validation: {verdict} · {docs} ·
<span id="verified">{_e(verified_text(data.verified))}</span></p>
<div class="cards">{cards}</div>
<h2>Pages by status (this run)</h2>{statuses}
<h2>Rows per table, this run and the last {LAST_RUNS}</h2>{runs}
<h2>Quarantined rows by expectation (this run)</h2>{quarantine}
<h2>Latest weather reading by station</h2>
<div class="charts"><div id="weather-bars"></div><div id="weather-map"></div></div>
<details><summary>the readings as a table ({len(data.weather)} stations)</summary>{weather}</details>
<h2>Expectations (this run)</h2>{expectations}
<h2>Null rates per column (this run's rows)</h2>{nulls}
<script type="application/json" id="report-data">{island}</script>
<script>{(ASSETS / "report.js").read_text(encoding="utf-8")}</script>
</body></html>
"""


def _json_default(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


# --- markdown -----------------------------------------------------------------------------------------------------


def _href(location: str) -> str:
    """A link to a file of the warehouse: file:// for a local path, the URL itself on object storage."""
    return location if "://" in location else Path(location).as_uri()


def render_markdown(data: ReportData, html_path: str | Path | None = None) -> str:
    """The headline figures in markdown (the Prefect artifact), with where the full report is."""
    lines = [f"# newsflow run {data.run_id}", "", f"Warehouse: `{data.warehouse}`"]
    if html_path:
        lines.append(f"Report: `{html_path}`")
    if data.data_docs:
        lines.append(f"Data Docs: `{data.data_docs}`")
    verified = verified_text(data.verified)
    lines.append(verified[0].upper() + verified[1:])
    lines += ["", "| pages by status | count |", "|---|---:|"]
    lines += [f"| {s['status']} | {s['pages']} |" for s in data.statuses]
    this_run = next((r for r in data.runs if r["run_id"] == data.run_id), {})
    lines += ["", "| table | rows landed |", "|---|---:|"]
    for table, column in [
        ("articles", "articles_rows"),
        ("entities", "entities_rows"),
        ("weather_snapshots", "weather_rows"),
        ("quarantine", "quarantine_rows"),
    ]:
        lines.append(f"| {table} | {this_run.get(column, 0)} |")
    lines += ["", "## Validation", ""]
    failed = data.failed_expectations
    if not failed:
        lines.append("Every expectation passed.")
    else:
        lines += ["| table | expectation | severity | failing rows |", "|---|---|---|---:|"]
        lines += [f"| {r.table} | `{r.expectation}` | {r.severity} | {r.failed_rows} |" for r in failed]
    return "\n".join(lines) + "\n"


def write_run_report(
    store: Warehouse, run_id: str, validations: Mapping[str, Validation], data_docs: str | Path | None = None
) -> RunReport:
    """Write run-<run_id>.html and .md into the warehouse's reports folder, and latest.html / latest.md beside
    them (each replaced whole); returns the run's HTML page's location (a path, or a URL on object storage) and
    the Markdown written."""
    data = gather(store, run_id, validations, data_docs)
    page = store.url(REPORTS, f"run-{run_id}.html")
    rendered, markdown = render_html(data), render_markdown(data, page)
    for name, text in [
        (f"run-{run_id}.html", rendered),
        ("latest.html", rendered),
        (f"run-{run_id}.md", markdown),
        ("latest.md", markdown),
    ]:
        store.write_text(f"{REPORTS}/{name}", text)
    return RunReport(page, markdown)

"""The pure parts of the run report: what a run did in words, the runs of the last days folded for reading, the
row-count anomaly flag, the age of the newest rows, retention and the SQL that finds a run's quarantined rows.

Everything here takes frames and values (no warehouse, no files), so it is tested on small inputs; times are
shown in Korea time (newsflow.core.constants.SEOUL) whatever zone they come in.
"""

from __future__ import annotations

import re
import shlex
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from newsflow.core.constants import KST_FORMAT, SEOUL
from newsflow.core.schema import PAGE_STATUSES

KST = ZoneInfo(SEOUL)
HISTORY_DAYS = 30  # the runs the report lists and charts: those started in the last this many days
ANOMALY_RATIO = 0.5  # a run that landed fewer articles than this share of the median of ...
ANOMALY_WINDOW = 10  # ... the last this many earlier runs that landed any ...
ANOMALY_MIN_RUNS = 3  # ... is flagged, when there are at least this many to compare with
FOLD_MIN = 2  # consecutive runs with nothing new are shown as one line from this many on
LANDED_COUNTS = {"articles": "articles_rows", "entities": "entities_rows", "weather": "weather_rows"}


def kst(when: datetime | None) -> str:
    """A time as the report prints it: `2026-12-07 14:30 KST` (a naive time is taken as UTC)."""
    if when is None:
        return "–"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(KST).strftime(KST_FORMAT)


def plural(count: int, noun: str) -> str:
    """`1 page`, `2 pages`: a count and its noun (made plural with an s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def new_pages(run: Mapping[str, Any]) -> int:
    """The pages a run found that were not already in the ledger: those it validated."""
    return int(run.get("pages_seen") or 0) - int(run.get("pages_skipped") or 0)


def validated_rows(run: Mapping[str, Any]) -> int:
    """The rows a run validated: its new pages' ledger rows, the rows it landed and those it quarantined."""
    pages = sum(int(run.get(f"pages_{s}") or 0) for s in PAGE_STATUSES)
    landed = sum(int(run.get(c) or 0) for c in LANDED_COUNTS.values())
    return pages + landed + int(run.get("quarantine_rows") or 0)


def nothing_new_text(run: Mapping[str, Any]) -> str:
    """What a run that found no new page did, plainly."""
    seen = int(run.get("pages_seen") or 0)
    if not seen:
        return "nothing new: no pages found in the sources; nothing validated"
    return f"nothing new: {plural(seen, 'page')} seen, all already ingested; nothing validated"


# --- the runs of the last days ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anomaly:
    """A run that landed far fewer articles than the runs before it that landed any."""

    run_id: str
    articles: int
    median: float
    compared: int  # how many earlier runs the median is of

    @property
    def text(self) -> str:
        share = self.articles / self.median if self.median else 0.0
        return (
            f"row-count anomaly: {self.articles} articles landed, {share:.0%} of the median {self.median:g} "
            f"of the last {self.compared} runs that landed any (flagged below {ANOMALY_RATIO:.0%})"
        )


def article_anomalies(
    runs: pl.DataFrame,
    ratio: float = ANOMALY_RATIO,
    window: int = ANOMALY_WINDOW,
    min_runs: int = ANOMALY_MIN_RUNS,
) -> dict[str, Anomaly]:
    """run_id -> Anomaly for each run (of `runs`: run_id, started_at, pages_seen, pages_skipped, articles_rows) that
    validated new pages but landed fewer than `ratio` times the median articles of the last `window` earlier runs
    that landed any, when there are at least `min_runs` of those. A run with nothing new is never flagged."""
    found: dict[str, Anomaly] = {}
    earlier: list[int] = []  # articles of the runs that landed any, oldest first
    for run in runs.sort("started_at").iter_rows(named=True):
        articles = int(run["articles_rows"] or 0)
        compared = earlier[-window:]
        if new_pages(run) > 0 and len(compared) >= min_runs:
            median = statistics.median(compared)
            if articles < ratio * median:
                found[run["run_id"]] = Anomaly(run["run_id"], articles, float(median), len(compared))
        if articles > 0:
            earlier.append(articles)
    return found


@dataclass
class HistoryLine:
    """One line of the report's history: a run, or consecutive runs with nothing new folded into one."""

    runs: list[dict[str, Any]]  # newest first
    current: bool = False  # the line is the run the report is of
    anomaly: Anomaly | None = None
    page: str | None = None  # the run's report file, when it is still kept
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def folded(self) -> bool:
        return len(self.runs) > 1

    @property
    def run(self) -> dict[str, Any]:
        return self.runs[0]

    @property
    def nothing_new(self) -> bool:
        return all(new_pages(r) == 0 for r in self.runs)

    @property
    def when(self) -> str:
        """The line's start time(s) in Korea time: one time, or the span of the folded runs."""
        first, last = self.runs[-1]["started_at"], self.runs[0]["started_at"]
        if not self.folded:
            return kst(first)
        return span_text(first, last)

    @property
    def label(self) -> str:
        if self.folded:
            return f"{len(self.runs)} runs with nothing new, {self.when}"
        if self.nothing_new:
            return nothing_new_text(self.run)
        return plural(new_pages(self.run), "new page")


def span_text(first: datetime, last: datetime) -> str:
    """`2026-12-07 08:00–14:00 KST` within a day, `2026-12-06 22:00 – 2026-12-07 04:00 KST` across days."""
    a, b = _to_kst(first), _to_kst(last)
    if a.date() == b.date():
        return f"{a:%Y-%m-%d %H:%M}–{b:%H:%M} KST"
    return f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M} KST"


def _to_kst(when: datetime) -> datetime:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(KST)


def fold_history(
    runs: pl.DataFrame,
    current: str | None = None,
    anomalies: Mapping[str, Anomaly] | None = None,
    pages: Iterable[str] = (),
    fold_min: int = FOLD_MIN,
) -> list[HistoryLine]:
    """The runs (any order) as history lines, newest first: each run that validated pages on its own line, and
    each stretch of `fold_min` or more consecutive runs with nothing new as one line. The `current` run always
    has a line of its own. `pages`: the run ids whose report file is kept (linked from their line)."""
    anomalies = anomalies or {}
    kept = set(pages)
    lines: list[HistoryLine] = []
    stretch: list[dict[str, Any]] = []

    def close() -> None:
        if len(stretch) >= fold_min:
            lines.append(HistoryLine(list(stretch)))
        else:
            lines.extend(_single(r, current, anomalies, kept) for r in stretch)
        stretch.clear()

    for run in runs.sort("started_at", descending=True).iter_rows(named=True):
        if new_pages(run) == 0 and run["run_id"] != current:
            stretch.append(run)
            continue
        close()
        lines.append(_single(run, current, anomalies, kept))
    close()
    return lines


def _single(run: dict[str, Any], current: str | None, anomalies: Mapping[str, Anomaly], kept: set[str]) -> HistoryLine:
    run_id = run["run_id"]
    return HistoryLine(
        [run],
        current=run_id == current,
        anomaly=anomalies.get(run_id),
        page=report_name(run_id) if run_id in kept else None,
    )


def report_name(run_id: str, suffix: str = "html") -> str:
    return f"run-{run_id}.{suffix}"


# --- freshness -------------------------------------------------------------------------------------------------


def age_words(then: datetime | date | None, now: datetime) -> str:
    """How long ago `then` was, in words: `just now`, `12 min ago`, `3 h ago`, `5 days ago`; a date is a day:
    `today`, `yesterday`, `12 days ago`. A time ahead of `now` reads `in 3 h`."""
    if then is None:
        return "no rows yet"
    if not isinstance(then, datetime):  # a date: whole days in Korea time
        days = (_to_kst(now).date() - then).days
        if days == 0:
            return "today"
        if days == 1:
            return "yesterday"
        return f"{days} days ago" if days > 0 else f"in {-days} days"
    seconds = (now - (then if then.tzinfo else then.replace(tzinfo=UTC))).total_seconds()
    ahead, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        words = f"{int(seconds // 60)} min"
    elif seconds < 48 * 3600:
        words = f"{int(seconds // 3600)} h"
    else:
        words = f"{int(seconds // 86400)} days"
    return f"in {words}" if ahead else f"{words} ago"


@dataclass(frozen=True)
class Freshness:
    table: str
    what: str  # what the time is of: "newest registered_at", "last landed", ...
    newest: datetime | date | None
    age: str

    @property
    def shown(self) -> str:
        if self.newest is None:
            return "–"
        return kst(self.newest) if isinstance(self.newest, datetime) else self.newest.isoformat()


FRESHNESS = [  # (table, what, the column of the freshness query)
    ("pages", "last ingest (newest ingested_at)", "pages_ingested"),
    ("articles", "newest registered_at", "articles_registered"),
    ("articles", "last landed (run finished)", "articles_landed"),
    ("entities", "last landed (run finished)", "entities_landed"),
    ("weather_snapshots", "newest capture_date", "weather_captured"),
    ("weather_snapshots", "last landed (run finished)", "weather_landed"),
]


def freshness(newest: Mapping[str, datetime | date | None], now: datetime) -> list[Freshness]:
    """The age of each table's newest row from the freshness query's one row (see FRESHNESS)."""
    return [Freshness(table, what, newest.get(key), age_words(newest.get(key), now)) for table, what, key in FRESHNESS]


# --- retention -------------------------------------------------------------------------------------------------

REPORT_FILE = re.compile(r"run-(?P<run_id>.+)\.(?:html|md)")


def expired_reports(
    files: Mapping[str, datetime], now: datetime, keep_days: float, protected: Iterable[str] = ()
) -> list[str]:
    """The run report files (name -> the run's start time, else the file's modification time) older than
    `keep_days`, except those of the `protected` runs (the ones latest.html and latest-with-data.html show).
    Names that are not run-<run_id>.html/.md are never listed."""
    cutoff = now - timedelta(days=keep_days)
    keep = set(protected)
    expired = []
    for name, when in sorted(files.items()):
        matched = REPORT_FILE.fullmatch(name)
        if matched and matched["run_id"] not in keep and when < cutoff:
            expired.append(name)
    return expired


# --- quarantined rows ------------------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quarantine_sql(run_id: str, table: str, expectation: str) -> str:
    """The query that lists the rows of `table` a run quarantined for failing `expectation`."""
    return (
        "SELECT row_key, failed_expectations, row FROM quarantine "
        f"WHERE run_id = {_sql_text(run_id)} AND table_name = {_sql_text(table)} "
        f"AND list_contains(failed_expectations, {_sql_text(expectation)}) ORDER BY row_key"
    )


def sql_command(sql: str, warehouse: str | None = None) -> str:
    """A ready-to-copy `newsflow sql "..."` line (POSIX shell) for `sql`."""
    quoted = '"' + re.sub(r'(["\\$`])', r"\\\1", sql) + '"'
    where = f" --warehouse {shlex.quote(warehouse)}" if warehouse else ""
    return f"newsflow sql {quoted}{where}"

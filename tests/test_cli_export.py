"""What the command line gives of a warehouse made by a real run over examples/pages: `run --json`, `sql` in every
format for every table and view, `schema` of its views, `status` for people, and a run's quiet stderr."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.warehouse.catalog import queries, query, snapshots
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES, EXPECTED

pytestmark = pytest.mark.e2e

runner = CliRunner()
NAMES = [
    "pages",
    "articles",
    "article_versions",
    "entities",
    "weather_snapshots",
    "quarantine",
    "stamps",
    "runs",
    "stations",
    "article_entities",
    "entity_pairs",
    "person_roles",
    "weather_readings",
    "weather_daily",
]
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+09:00")
CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


@pytest.fixture(scope="module")
def ran(api_url, tmp_path_factory) -> subprocess.CompletedProcess:
    """`newsflow run examples/pages --json` in a child process, stdout and stderr pipes, as a bare command line has
    it (no console log level of the user's)."""
    warehouse = tmp_path_factory.mktemp("export") / "wh"
    env = {k: v for k, v in os.environ.items() if k != CONSOLE_LEVEL} | {"PREFECT_API_URL": api_url}
    done = subprocess.run(
        [sys.executable, "-m", "newsflow", "run", str(EXAMPLES), "--warehouse", str(warehouse), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    done.warehouse = str(warehouse)  # type: ignore[attr-defined]
    return done


@pytest.fixture(scope="module")
def store(ran) -> Warehouse:
    return Warehouse.at(ran.warehouse)


# --- run --json and what a run prints ----------------------------------------------------------------------------


def test_run_json_prints_the_summary_as_one_object_and_nothing_else(ran, store):
    [line] = ran.stdout.splitlines()
    summary = json.loads(line)
    assert list(summary) == [
        "run_id",
        "warehouse",
        "snapshot",
        "pages_found",
        "pages_skipped",
        "pages",
        "rows",
        "quarantined",
        "validation_success",
        "report",
        "data_docs",
        "seconds",
    ]
    run = query(store, "SELECT * FROM runs").row(0, named=True)
    assert summary["run_id"] == run["run_id"] and summary["warehouse"] == ran.warehouse
    assert summary["pages_found"] == len(EXPECTED) == run["pages_seen"] and summary["pages_skipped"] == 0
    statuses = [exp["status"] for exp in EXPECTED.values()]
    assert summary["pages"] == {
        s: statuses.count(s) for s in ("article", "not_article", "duplicate", "rejected", "error")
    }
    counts = queries(store, [(f"SELECT count(*) AS n FROM {t}", None) for t in ("pages", "articles", "entities")])
    assert [summary["rows"][t] for t in ("pages", "articles", "entities")] == [c.item() for c in counts]
    assert summary["rows"]["weather_snapshots"] == run["weather_rows"]
    assert (summary["quarantined"], summary["validation_success"]) == (0, True)
    assert summary["snapshot"] == snapshots(store)["snapshot_id"].max()
    assert summary["report"] == f"{ran.warehouse}/reports/run-{run['run_id']}.html"
    assert summary["data_docs"] == f"{ran.warehouse}/data_docs/index.html"
    assert 0 < summary["seconds"] < 600


def test_a_run_hides_prefects_own_log_lines_and_shows_no_progress_bar_on_a_pipe(ran):
    log = ran.stderr
    assert "View at http" not in log and "Finished in state" not in log and "Beginning flow run" not in log
    assert "pages/s" not in log and "ETA" not in log
    assert "Prefect collects anonymous usage data" not in log
    assert re.search(r"batch 1/1: 26 pages, 26 new", log)  # newsflow's own lines stay


# --- sql: every table and view in every format -----------------------------------------------------------------------


def test_the_lake_has_exactly_these_tables_and_views(store):
    found = query(store, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal")
    assert sorted(found["view_name"]) == sorted(NAMES)


def as_json(value):
    """A value as the JSON export gives it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", NAMES)
def test_sql_exports_every_table_and_view_in_every_format(store, tmp_path, name):
    sql = f"SELECT * FROM {name} ORDER BY ALL"
    frame = query(store, sql)
    expected = [{k: as_json(v) for k, v in row.items()} for row in frame.to_dicts()]
    where = ("--warehouse", store.location)

    as_csv = invoke("sql", sql, *where, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    invoke("sql", sql, *where, "--format", "csv", "-o", str(tmp_path / "out.csv"))
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert len(rows) == frame.height and list(rows[0] if rows else frame.columns) == frame.columns
    for row, want in zip(rows, expected, strict=True):
        for column, dtype in frame.schema.items():
            cell, value = row[column], want[column]
            if dtype.is_nested():  # lists and structs: JSON in the cell
                assert (json.loads(cell) if cell else None) == value
            elif isinstance(dtype, pl.Datetime):
                assert cell == (value or "") and (value is None or ISO.fullmatch(cell))
            elif isinstance(dtype, pl.Date):
                assert cell == (value or "")

    as_json_out = invoke("sql", sql, *where, "--format", "json")
    assert as_json_out.exit_code == 0, as_json_out.output
    assert json.loads(as_json_out.output) == expected
    invoke("sql", sql, *where, "--format", "json", "-o", str(tmp_path / "out.json"))
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8")) == expected

    written = invoke("sql", sql, *where, "--format", "parquet", "-o", str(tmp_path / "out.parquet"))
    assert written.exit_code == 0 and written.output == ""
    assert pl.read_parquet(tmp_path / "out.parquet").equals(frame)

    invoke("sql", sql, *where, "-o", str(tmp_path / "out.txt"))
    shown = invoke("sql", sql, *where)
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == shown.output
    header = shown.output.splitlines()[1]
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == frame.columns  # one header line: nothing wrapped


def test_timestamps_are_iso_8601_in_korea_time_in_csv_and_json_alike(store):
    sql = "SELECT registered_at, updated_at, reporters FROM articles WHERE updated_at IS NOT NULL ORDER BY ALL LIMIT 1"
    row = query(store, sql).row(0, named=True)
    [as_csv] = csv.DictReader(io.StringIO(invoke("sql", sql, "-w", store.location, "--format", "csv").output))
    as_json_out = json.loads(invoke("sql", sql, "-w", store.location, "--format", "json").output)[0]
    expected = row["registered_at"].astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%dT%H:%M:%S+09:00")
    assert as_csv["registered_at"] == as_json_out["registered_at"] == expected
    assert as_csv["updated_at"] == as_json_out["updated_at"]
    assert json.loads(as_csv["reporters"]) == as_json_out["reporters"] == row["reporters"]


def test_articles_as_csv_in_a_real_process_no_longer_crashes(store):
    done = subprocess.run(
        [sys.executable, "-m", "newsflow", "sql", "FROM articles", "--format", "csv", "-w", store.location],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == query(store, "SELECT count(*) FROM articles").item()
    assert all(isinstance(json.loads(row["body"]), list) for row in rows)


def test_parquet_needs_an_output_file(store):
    for args in ([], ["-o", "-"]):
        result = invoke("sql", "FROM runs", "-w", store.location, "--format", "parquet", *args)
        assert result.exit_code == 2
        assert "--format parquet writes a file: give -o FILE" in result.output


def test_an_unwritable_output_file_is_a_usage_error(store, tmp_path):
    result = invoke("sql", "FROM runs", "-w", store.location, "--format", "csv", "-o", str(tmp_path / "no" / "x.csv"))
    assert result.exit_code == 2 and "cannot write" in result.output


def test_a_result_polars_cannot_read_is_a_usage_error_not_a_traceback(store):
    result = invoke("sql", "SELECT INTERVAL 1 DAY AS i", "-w", store.location)
    assert result.exit_code == 2
    assert "the result cannot be shown" in result.output and "cast that column" in result.output


def test_sql_reads_its_query_from_standard_input(store, tmp_path):
    expected = [{"n": len(EXPECTED)}]
    dash = invoke("sql", "-", "-w", store.location, "--format", "json", input="SELECT count(*) AS n FROM pages\n")
    assert json.loads(dash.output) == expected
    file_dash = invoke(
        "sql", "-f", "-", "-w", store.location, "--format", "json", input="SELECT count(*) AS n FROM pages"
    )
    assert json.loads(file_dash.output) == expected
    (tmp_path / "q.sql").write_text("SELECT count(*) AS n FROM pages", encoding="utf-8")
    assert json.loads(
        invoke("sql", "-f", str(tmp_path / "q.sql"), "-w", store.location, "--format", "json").output
    ) == (expected)


def test_a_wide_result_is_one_line_per_row_through_a_pipe(store):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsflow",
            "sql",
            "SELECT article_id, body FROM articles ORDER BY ALL LIMIT 1",
            "-w",
            store.location,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = query(store, "SELECT body FROM articles ORDER BY article_id, body LIMIT 1").item().to_list()
    lines = done.stdout.splitlines()
    assert len(lines) == 5  # top, header, rule, the row, bottom
    assert json.dumps(body, ensure_ascii=False) in lines[3]


# --- schema of the warehouse's views, status ------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["person_roles", "weather_readings", "article_entities"])
def test_schema_of_a_view_describes_it_as_the_warehouse_does(store, view):
    described = json.loads(invoke("schema", view, "-w", store.location, "--format", "json").output)
    columns = query(store, f"DESCRIBE {view}")
    assert described["kind"] == "view"
    assert [c["name"] for c in described["columns"]] == columns["column_name"].to_list()
    assert all(c["nullable"] for c in described["columns"])
    types = dict(query(store, f"SELECT * FROM {view} LIMIT 0").schema)
    from newsflow.core.dictionary import readable_type

    assert [c["type"] for c in described["columns"]] == [readable_type(types[c["name"]]) for c in described["columns"]]


def test_status_shows_sizes_and_times_for_people(store):
    result = invoke("status", "-w", store.location)
    assert result.exit_code == 0, result.output
    run_id, finished = query(store, "SELECT run_id, finished_at FROM runs").row(0)
    when = finished.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M KST")
    rows = {
        cells[0]: cells[1:]
        for line in result.output.splitlines()
        if (cells := [c.strip() for c in line.split("│")[1:-1]])
    }
    size = sum(size for _, size in store.files("articles"))
    assert rows["articles"] == [
        str(query(store, "SELECT count(*) FROM articles").item()),
        str(len(store.files("articles"))),
        f"{size / 1000:.1f} KB" if size < 10**6 else f"{size / 10**6:.1f} MB",
        run_id,
        when,
    ]
    assert rows["stamps"] == ["0", "0", "0 B", "-", "-"]
    assert re.search(rf"│ +\d+ │ \d{{4}}-\d\d-\d\d \d\d:\d\d KST │ {run_id} │ ingest +│", result.output)

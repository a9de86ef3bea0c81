"""The run report and the Data Docs, checked against the warehouse: as written, and as a real browser shows it.

The browser test needs Debian's chromium (`.ci/run` installs it); without it the test skips, unless
NEWSFLOW_REQUIRE_BROWSER=1 (set by `.ci/run`) makes that a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.flows.ingest import ingest
from newsflow.report.run_report import LATEST_WEATHER_SQL, gather, verified_text
from newsflow.warehouse.catalog import query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# what a headless chromium needs on a machine with no network and no display (as root: no sandbox)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOT_PAGE = "2024년 07월 01일 월요일\n• 서울 99℃\n• 부산 25℃\n경제 전체기사\n"  # one reading out of range


@pytest.fixture(scope="module")
def runs(prefect_harness, tmp_path_factory):
    """Two runs into one warehouse: the example pages, then a page with a reading out of range."""
    root = tmp_path_factory.mktemp("reported")
    first = ingest([str(EXAMPLES)], warehouse=str(root / "wh"), batch_size=8)
    extra = root / "extra"
    extra.mkdir()
    (extra / "hot.txt").write_text(HOT_PAGE, encoding="utf-8")
    second = ingest([str(extra)], warehouse=str(root / "wh"))
    return Warehouse.at(root / "wh"), first, second


def figures(page) -> dict[str, int]:
    return {card.get("data-figure"): int(card.findtext("b")) for card in page.xpath("//div[@class='card']")}


def table_rows(page, table_id: str) -> list[list[str]]:
    return [
        [td.text_content().strip() for td in tr.findall("td")] for tr in page.get_element_by_id(table_id).iter("tr")
    ][1:]


def test_each_run_writes_its_report_and_data_docs(runs):
    store, first, second = runs
    assert Path(first.report) != Path(second.report)
    assert Path(second.report).read_text(encoding="utf-8") == (store.reports_dir / "latest.html").read_text("utf-8")
    docs = store.data_docs_dir
    assert second.data_docs == str(docs / "index.html") and (docs / "index.html").exists()
    assert {p.name for p in (docs / "expectations").glob("*.html")} >= {
        "pages.html", "articles.html", "entities.html", "weather_snapshots.html"
    }  # fmt: skip
    validated = list((docs / "validations" / "weather_snapshots").glob(f"{second.run_id}/*/*.html"))
    assert validated and "temperature_c" in validated[0].read_text(encoding="utf-8")


def test_the_report_shows_what_the_warehouse_holds(runs):
    store, _, second = runs
    page = lxml.html.parse(second.report).getroot()
    run = query(store, "SELECT * FROM runs WHERE run_id = $r", {"r": second.run_id}).row(0, named=True)
    assert figures(page) == {
        "pages": run["pages_seen"] - run["pages_skipped"],
        "articles": run["articles_rows"],
        "entities": run["entities_rows"],
        "weather": run["weather_rows"],
        "quarantine": run["quarantine_rows"],
    }
    assert figures(page)["quarantine"] == 1
    statuses = query(
        store, "SELECT status, count(*) FROM pages WHERE run_id = $r GROUP BY 1 ORDER BY 1", {"r": run["run_id"]}
    )
    assert [(s, int(n)) for s, n, _ in table_rows(page, "pages-by-status")] == statuses.rows()
    assert table_rows(page, "quarantine-by-expectation") == [
        ["weather_snapshots", "expect_column_values_to_be_between(temperature_c)", "1"]
    ]
    runs_shown = table_rows(page, "rows-per-run")
    assert [r[0] for r in runs_shown] == query(store, "SELECT run_id FROM runs ORDER BY started_at DESC")[
        "run_id"
    ].to_list()
    nulls = {(t, c): (int(rows), int(n)) for t, c, rows, n, _, _ in table_rows(page, "null-rates")}
    assert nulls[("weather_snapshots", "temperature_c")] == (1, 0)
    assert nulls[("weather_snapshots", "condition")] == (1, 1)
    assert nulls[("quarantine", "row")] == (1, 0)


def test_a_run_that_landed_no_page_reports_no_rows_without_scanning_the_tables(runs):
    store, _, second = runs
    landed = gather(store, second.run_id, {})
    nothing = gather(store, "20990101T000000-unlanded", {})  # as an unchanged re-run: no page of its own
    assert nothing.statuses == [] and nothing.quarantine == []
    assert [(r["table_name"], r["column"]) for r in nothing.null_rates] == [
        (r["table_name"], r["column"]) for r in landed.null_rates
    ]
    assert {(r["rows"], r["nulls"], r["null_rate"]) for r in nothing.null_rates} == {(0, 0, 0.0)}
    assert nothing.runs == landed.runs and nothing.runs[0]["run_id"] == second.run_id
    assert nothing.weather == landed.weather != []


def test_report_prints_where_both_pages_are_and_opens_them(runs, monkeypatch):
    store, _, _ = runs
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    result = CliRunner().invoke(app, ["report", "--warehouse", str(store.root), "--open"])
    assert result.exit_code == 0, result.output
    assert str(store.reports_dir / "latest.html") in result.output
    assert str(store.data_docs_dir / "index.html") in result.output
    assert opened == [(store.reports_dir / "latest.html").as_uri(), (store.data_docs_dir / "index.html").as_uri()]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if os.environ.get("NEWSFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail("NEWSFLOW_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    return chromium


def test_a_real_browser_draws_the_latest_weather_of_every_station(runs, browser, tmp_path):
    store, _, _ = runs
    url = (store.reports_dir / "latest.html").as_uri()
    dom = lxml.html.fromstring(browser("--dump-dom", url, profile=tmp_path / "profile").stdout)
    assert dom.find("body").get("data-rendered") == "yes"  # the chart script ran to its end
    latest = query(store, LATEST_WEATHER_SQL)
    bars = [(g.get("data-station"), float(g.get("data-temperature"))) for g in dom.xpath("//*[@class='station-bar']")]
    assert bars == list(zip(latest["station"], latest["temperature_c"], strict=True))
    assert ("서울", 99.0) not in bars  # the quarantined reading is not shown
    dots = {g.get("data-station") for g in dom.xpath("//*[@class='station-dot']")}
    assert dots == set(latest.filter(latest["latitude"].is_not_null())["station"])
    assert len(dots) >= 20
    assert figures(dom)["quarantine"] == 1
    shot = tmp_path / "report.png"
    browser(f"--screenshot={shot}", "--window-size=1280,1800", url, profile=tmp_path / "profile")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_each_run_publishes_a_summary_and_a_table_of_counts_as_prefect_artifacts(runs):
    from prefect.artifacts import Artifact

    _, _, second = runs
    summary, counts = Artifact.get("newsflow-summary"), Artifact.get("newsflow-counts")
    assert summary is not None and counts is not None
    assert f"# newsflow run {second.run_id}" in summary.data
    assert f"Report: `{second.report}`" in summary.data
    assert second.report in counts.description and second.data_docs in counts.description
    table = {row["what"]: row["count"] for row in json.loads(counts.data)}
    assert table["rows quarantine"] == 1 and table["pages not_article"] == second.statuses["not_article"]


def test_the_report_says_when_the_files_were_last_verified_and_what_that_found():
    assert verified_text(None) == "files never verified (run `newsflow verify`)"
    clean = {"checked_at": "2026-12-07T05:30:00+00:00", "files_checked": 26, "damaged": 0}
    assert verified_text(clean) == "files last verified 2026-12-07 14:30 KST: 26 files, every file as written"
    assert verified_text({**clean, "damaged": 2}).endswith("26 files, 2 damaged files")

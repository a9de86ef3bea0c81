"""The run report and the Data Docs, checked against the warehouse: as written, and as a real browser shows it.

Three runs into one warehouse: the example pages, a page with a reading out of range (one row quarantined), and
the example pages again (nothing new). The browser test needs Debian's chromium (`.ci/run` installs it); without
it the test skips, unless NEWSFLOW_REQUIRE_BROWSER=1 (set by `.ci/run`) makes that a failure."""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from datetime import timedelta
from pathlib import Path

import lxml.html
import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.flows.ingest import ingest
from newsflow.flows.prefect_api import artifact_key
from newsflow.report.history import Anomaly, new_pages, validated_rows
from newsflow.report.run_report import (
    LATEST_WEATHER_SQL,
    gather,
    prune_reports,
    render_html,
    render_markdown,
    verified_text,
)
from newsflow.warehouse.catalog import query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e
HOT_PAGE = "2024년 07월 01일 월요일\n• 서울 99℃\n• 부산 25℃\n경제 전체기사\n"  # one reading out of range
OUT_OF_RANGE = "expect_column_values_to_be_between(temperature_c)"
NOTHING_NEW = "Nothing new: {} pages seen, all already ingested; nothing validated."


@pytest.fixture(scope="module")
def runs(prefect_harness, tmp_path_factory):
    """Three runs into one warehouse: the example pages, a page with a reading out of range, the examples again."""
    root = tmp_path_factory.mktemp("reported")
    first = ingest([str(EXAMPLES)], warehouse=str(root / "wh"), batch_size=8)
    extra = root / "extra"
    extra.mkdir()
    (extra / "hot.txt").write_text(HOT_PAGE, encoding="utf-8")
    second = ingest([str(extra)], warehouse=str(root / "wh"))
    third = ingest([str(EXAMPLES)], warehouse=str(root / "wh"))
    return Warehouse.at(root / "wh"), first, second, third


def page_of(path: Path):
    return lxml.html.parse(str(path)).getroot()


def meta(page, name: str) -> str:
    return page.xpath(f"//meta[@name='newsflow-{name}']/@content")[0]


def figures(page) -> dict[str, int]:
    return {card.get("data-figure"): int(card.findtext("b")) for card in page.xpath("//div[@class='card']")}


def table_rows(page, table_id: str) -> list[list[str]]:
    return [
        [" ".join(td.text_content().split()) for td in tr.findall("td")]
        for tr in page.get_element_by_id(table_id).iter("tr")
    ][1:]


def marks(page, figure_id: str, role: str) -> list[str]:
    """The aria-labels vega gives each mark of a role (bar, point, ...) of an inline SVG chart."""
    return page.xpath(f"//figure[@id='{figure_id}']//*[@aria-roledescription='{role}']/@aria-label")


def test_each_run_writes_its_report_and_data_docs(runs):
    store, first, second, third = runs
    assert len({first.report, second.report, third.report}) == 3
    reports = store.reports_dir
    assert {p.name for p in reports.iterdir()} >= {
        f"run-{r.run_id}.{suffix}" for r in (first, second, third) for suffix in ("html", "md")
    } | {"latest.html", "latest.md", "latest-with-data.html", "latest-with-data.md", "data-dictionary.html"}
    docs = store.data_docs_dir
    assert second.data_docs == str(docs / "index.html") and (docs / "index.html").exists()
    assert {p.name for p in (docs / "expectations").glob("*.html")} >= {
        "pages.html", "articles.html", "entities.html", "weather_snapshots.html"
    }  # fmt: skip
    validated = list((docs / "validations" / "weather_snapshots").glob(f"{second.run_id}/*/*.html"))
    assert validated and "temperature_c" in validated[0].read_text(encoding="utf-8")


def test_a_run_with_nothing_new_says_so_and_leaves_the_report_with_data_alone(runs):
    store, _, second, third = runs
    reports = store.reports_dir
    latest, with_data = reports / "latest.html", reports / "latest-with-data.html"
    assert latest.read_bytes() == Path(third.report).read_bytes()
    assert with_data.read_bytes() == (reports / f"run-{second.run_id}.html").read_bytes()  # the second run's page
    assert (reports / "latest-with-data.md").read_bytes() == (reports / f"run-{second.run_id}.md").read_bytes()

    page = page_of(latest)
    run = query(store, "SELECT * FROM runs WHERE run_id = $r", {"r": third.run_id}).row(0, named=True)
    assert run["pages_seen"] == run["pages_skipped"] == 26
    assert meta(page, "run-id") == third.run_id and meta(page, "validated") == "no"
    verdict = " ".join(page.get_element_by_id("verdict").text_content().split())
    assert verdict.startswith(NOTHING_NEW.format(26))
    assert "every expectation passed" not in page.text_content()
    started = query(store, "SELECT started_at FROM runs WHERE run_id = $r", {"r": second.run_id}).item()
    assert f"started {started:%Y-%m-%d %H:%M} KST (run id {second.run_id}): its report." in verdict
    assert page.xpath("//div[@id='verdict']//a/@href") == ["latest-with-data.html"]
    assert figures(page) == {"seen": 26, "skipped": 26, "pages": 0}
    assert not page.xpath("//*[@id='expectations' or @id='null-rates' or @id='failures']")  # nothing validated
    markdown = (reports / "latest.md").read_text(encoding="utf-8")
    assert f"**{NOTHING_NEW.format(26)}**" in markdown
    assert f"Latest run that validated pages: `{reports}/latest-with-data.html` (run `{second.run_id}`" in markdown

    shown = page_of(with_data)  # and it says it passed what it validated
    assert meta(shown, "run-id") == second.run_id and meta(shown, "validated") == "yes"
    assert shown.get_element_by_id("verdict").text_content() == "1 new page validated: 1 expectation failed"


def test_before_any_run_validated_pages_nothing_points_to_a_report_with_data(prefect_harness, tmp_path):
    (tmp_path / "none").mkdir()
    done = ingest([str(tmp_path / "none")], warehouse=str(tmp_path / "wh"))
    reports = Warehouse.at(tmp_path / "wh").reports_dir
    assert not (reports / "latest-with-data.html").exists()
    page = page_of(reports / "latest.html")
    assert meta(page, "run-id") == done.run_id
    verdict = " ".join(page.get_element_by_id("verdict").text_content().split())
    assert verdict == "Nothing new: no pages found in the sources; nothing validated. No run has validated pages yet."
    assert "latest-with-data.html" not in page.xpath("//a/@href")
    assert "latest-with-data.html" not in (reports / "data-dictionary.html").read_text(encoding="utf-8")
    assert (
        (reports / "latest.md")
        .read_text(encoding="utf-8")
        .endswith(
            "**Nothing new: no pages found in the sources; nothing validated.**\nNo run has validated pages yet.\n"
        )
    )


def test_every_page_links_to_both_pointers_and_the_data_dictionary(runs):
    store, *_ = runs
    reports = store.reports_dir
    for name in ["latest.html", "latest-with-data.html", "data-dictionary.html"]:
        links = page_of(reports / name).xpath("//nav[@class='pointers']/a/@href")
        assert {"latest.html", "latest-with-data.html"} <= set(links), name
        assert name == "data-dictionary.html" or "data-dictionary.html" in links
    dictionary = page_of(reports / "data-dictionary.html")
    assert dictionary.findtext(".//h1") == "Data dictionary"
    assert {h.get("id") for h in dictionary.xpath("//h3")} >= {"pages", "articles", "quarantine", "runs", "stations"}
    assert dictionary.xpath("//a[@href='#articles']")  # the tables' list links to each table's section
    views = dictionary.text_content()
    assert "weather_readings" in views and "One logical reading per (site, capture date, station)" in views
    assert "<!--" not in (reports / "data-dictionary.html").read_text(encoding="utf-8")


def test_the_report_shows_what_the_warehouse_holds(runs):
    store, _, second, _ = runs
    page = page_of(Path(second.report))
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
    nulls = {(t, c): (int(rows), int(n)) for t, c, rows, n, _, _ in table_rows(page, "null-rates")}
    assert nulls[("weather_snapshots", "temperature_c")] == (1, 0)
    assert nulls[("weather_snapshots", "condition")] == (1, 1)
    assert nulls[("quarantine", "row")] == (1, 0)
    expectations = table_rows(page, "expectations")
    assert expectations[0] == ["weather_snapshots", OUT_OF_RANGE, "critical", "failed", "1"]
    assert {row[3] for row in expectations[1:]} == {"passed"}


def test_a_failed_expectation_links_to_its_quarantined_rows(runs):
    store, _, second, _ = runs
    page = page_of(Path(second.report))
    (failure,) = page.xpath("//section[@class='failure']")
    assert (failure.get("data-table"), failure.get("data-expectation")) == ("weather_snapshots", OUT_OF_RANGE)
    command = failure.findtext(".//pre/code")
    program, verb, sql, option, warehouse = shlex.split(command)
    assert (program, verb, option, warehouse) == ("newsflow", "sql", "--warehouse", store.location)
    assert f"run_id = '{second.run_id}'" in sql and f"list_contains(failed_expectations, '{OUT_OF_RANGE}')" in sql
    found = query(store, sql)
    expected = query(store, "SELECT row_key FROM quarantine WHERE run_id = $r ORDER BY row_key", {"r": second.run_id})
    assert found["row_key"].to_list() == expected["row_key"].to_list() and found.height == 1
    assert json.loads(found["row"][0])["temperature_c"] == 99.0
    samples = [[td.text_content() for td in tr.findall("td")] for tr in failure.xpath(".//table//tr")[1:]]
    assert samples == [[found["row_key"][0], OUT_OF_RANGE]]
    markdown = Path(second.report).with_suffix(".md").read_text(encoding="utf-8")
    assert f"```sh\n{command}\n```" in markdown  # the same line in the Prefect artifact


def test_history_lists_the_runs_in_korea_time_newest_first(runs):
    store, first, second, third = runs
    page = page_of(Path(third.report))
    lines = page.xpath("//table[@id='history']/tbody/tr")
    assert [tr.get("data-run-id") for tr in lines] == [third.run_id, second.run_id, first.run_id]
    assert "current" in lines[0].get("class")
    started = query(store, "SELECT run_id, started_at FROM runs ORDER BY started_at DESC")
    for tr, (run_id, when) in zip(lines, started.iter_rows(), strict=True):
        cell = tr.findall("td")[0]
        assert cell.text_content().startswith(f"{when:%Y-%m-%d %H:%M} KST")  # KST first, the run id below it
        assert cell.xpath(".//a/@href") == [f"run-{run_id}.html"] and cell.findtext(".//a") == run_id
    cells = [" ".join(td.text_content().split()) for td in lines[1].findall("td")]
    assert cells[1:10] == ["1 new page", "1", "1", "0", "0", "0", "1", "1", "no"]


def test_trend_and_weather_charts_are_inline_svg_of_the_warehouse_figures(runs):
    store, first, _, third = runs
    page = page_of(Path(third.report))
    assert not page.xpath("//script")  # no script: the charts are drawn already
    landed = marks(page, "chart-rows", "point")
    run = query(store, "SELECT * FROM runs WHERE run_id = $r", {"r": first.run_id}).row(0, named=True)
    assert f"rows landed: {run['articles_rows']}; table: articles" in " | ".join(landed)
    assert f"rows landed: {run['weather_rows']}; table: weather" in " | ".join(landed)
    assert len(landed) == 3 * 3  # three tables, three runs
    rates = []
    for label in marks(page, "chart-rates", "point"):
        share, rate = re.search(r"share: ([\d.]+)%; rate: (.+)$", label).groups()
        rates.append((round(float(share) / 100, 4), rate))
    expected = []  # the two runs that validated pages
    for r in query(store, "SELECT * FROM runs WHERE pages_seen > pages_skipped").iter_rows(named=True):
        expected.append((round(r["pages_rejected"] / new_pages(r), 4), "rejected pages"))
        expected.append((round(r["quarantine_rows"] / validated_rows(r), 4), "quarantined rows"))
    assert sorted(rates) == sorted(expected) and len(rates) == 4
    assert (0.3333, "quarantined rows") in rates  # the second run: 1 of its 3 rows (a page, 2 readings)

    latest = query(store, LATEST_WEATHER_SQL)
    newest = latest["capture_date"].max()
    assert (newest - latest["capture_date"].min()).days < 7  # one recent week, not readings 18 months apart
    title = page.xpath("//figure[@id='chart-weather']//*[@aria-roledescription='title']")[0].text_content()
    assert title.startswith("Latest temperature by station, captured") and str(newest) in title
    bars = marks(page, "chart-weather", "bar")
    dated = latest["capture_date"].n_unique() > 1
    assert [re.search(r"label: ([^;]+)", b)[1] for b in bars] == [
        f"{s} ({d:%m-%d})" if dated else s for s, d in latest.select("station", "capture_date").iter_rows()
    ]
    assert [float(re.search(r"temperature \(℃\): ([^;]+)", b)[1].replace("−", "-")) for b in bars] == latest[
        "temperature_c"
    ].to_list()
    assert all("99" not in b for b in bars)  # the quarantined reading is not shown


def test_the_anomaly_flag_shows_in_the_page_and_the_markdown(runs):
    store, _, second, _ = runs
    data = gather(store, second.run_id, {})
    assert data.anomalies == {}  # one earlier run with articles: nothing to compare with
    data.anomalies = {second.run_id: Anomaly(second.run_id, articles=0, median=18.0, compared=3)}
    text = "row-count anomaly: 0 articles landed, 0% of the median 18 of the last 3 runs that landed any"
    page = lxml.html.fromstring(render_html(data))
    assert " ".join(page.get_element_by_id("anomaly").text_content().split()).startswith(f"⚠ R{text[1:]}")
    assert text in page.xpath(f"//tr[@data-run-id='{second.run_id}']")[0].text_content()
    assert f"**Warning, {text}" in render_markdown(data)


def test_a_run_that_landed_no_page_reports_no_rows_without_scanning_the_tables(runs):
    store, _, second, third = runs
    landed = gather(store, second.run_id, {})
    nothing = gather(store, third.run_id, {})
    assert not nothing.validated and nothing.statuses == [] and nothing.quarantine == []
    assert {(r["rows"], r["nulls"], r["null_rate"]) for r in nothing.null_rates} == {(0, 0, 0.0)}
    assert nothing.with_data is not None and nothing.with_data.run_id == second.run_id
    assert landed.with_data is not None and landed.with_data.run_id == second.run_id
    assert nothing.weather == landed.weather != []
    ages = {(f.table, f.what): f for f in nothing.freshness}
    newest = query(store, "SELECT max(capture_date) FROM weather_snapshots").item()
    assert ages[("weather_snapshots", "newest capture_date")].newest == newest
    assert ages[("pages", "last ingest (newest ingested_at)")].age in {"just now", "1 min ago", "2 min ago"}


def test_old_run_reports_are_deleted_but_not_those_the_pointers_show(runs):
    store, first, second, third = runs
    reports = store.reports_dir
    old = time.time() - 400 * 86400
    stray = reports / "run-19990101T000000-gone.html"  # a run the runs table does not know: aged by its mtime
    stray.write_text("old", encoding="utf-8")
    os.utime(stray, (old, old))
    os.utime(reports / f"run-{first.run_id}.html", (old, old))  # started today, by the runs table
    removed = prune_reports(store, keep_days=90, protected={third.run_id, second.run_id})
    assert removed == [stray.name] and not stray.exists()
    assert (reports / f"run-{first.run_id}.html").exists()
    # a year on, every run is past keeping but the two the pointers show
    later = query(store, "SELECT max(started_at) FROM runs").item() + timedelta(days=365)
    removed = prune_reports(store, keep_days=90, protected={third.run_id, second.run_id}, now=later)
    assert sorted(removed) == [f"run-{first.run_id}.html", f"run-{first.run_id}.md"]
    assert {p.name for p in reports.glob("run-*")} == {
        f"run-{r.run_id}.{s}" for r in (second, third) for s in ("html", "md")
    }


def test_report_prints_where_both_pages_are_and_opens_them(runs, monkeypatch):
    store, *_ = runs
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    result = CliRunner().invoke(app, ["report", "--warehouse", str(store.root), "--open"])
    assert result.exit_code == 0, result.output
    assert str(store.reports_dir / "latest.html") in result.output
    assert f"latest run with data: {store.reports_dir / 'latest-with-data.html'}" in result.output
    assert f"data dictionary:      {store.reports_dir / 'data-dictionary.html'}" in result.output
    assert str(store.data_docs_dir / "index.html") in result.output
    assert opened == [(store.reports_dir / "latest.html").as_uri(), (store.data_docs_dir / "index.html").as_uri()]


# Added to a copy of the page (the report itself has no script): what the browser laid out, as attributes.
MEASURE = """<script>
for (const f of document.querySelectorAll('figure.chart')) {
  const svg = f.querySelector('svg'), box = svg ? svg.getBoundingClientRect() : null;
  f.setAttribute('data-drawn', box ? Math.round(box.width) + 'x' + Math.round(box.height) : 'none');
  f.setAttribute('data-bars', [...f.querySelectorAll('[aria-roledescription=bar]')]
    .filter(b => b.getBoundingClientRect().height > 0).length);
}
for (const t of document.querySelectorAll('table'))
  t.setAttribute('data-drawn', Math.round(t.getBoundingClientRect().height));
document.body.setAttribute('data-measured', 'yes');
</script></body>"""


def test_a_real_browser_draws_the_charts_and_tables(runs, browser, tmp_path):
    store, *_ = runs
    html = (store.reports_dir / "latest-with-data.html").read_text(encoding="utf-8")
    copy = tmp_path / "measured.html"
    copy.write_text(html.replace("</body>", MEASURE), encoding="utf-8")
    dom = lxml.html.fromstring(browser("--dump-dom", copy.as_uri(), profile=tmp_path / "profile").stdout)
    assert dom.find("body").get("data-measured") == "yes"
    drawn = {f.get("id"): f.get("data-drawn") for f in dom.xpath("//figure")}
    assert set(drawn) == {"chart-rows", "chart-rates", "chart-weather", "chart-weather-map"}
    for name, size in drawn.items():
        width, height = map(int, size.split("x"))
        assert width > 300 and height > 150, (name, size)
    latest = query(store, LATEST_WEATHER_SQL)
    assert int(dom.get_element_by_id("chart-weather").get("data-bars")) == latest.height > 0
    for table in ["freshness", "pages-by-status", "history", "expectations", "null-rates"]:
        assert int(dom.get_element_by_id(table).get("data-drawn")) > 40, table
    assert figures(dom)["quarantine"] == 1
    shot = tmp_path / "report.png"
    browser(f"--screenshot={shot}", "--window-size=1280,1800", (store.reports_dir / "latest.html").as_uri(),
            profile=tmp_path / "profile")  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_each_run_publishes_a_summary_and_a_table_of_counts_as_prefect_artifacts(runs):
    from prefect.artifacts import Artifact

    store, _, _, third = runs
    summary = Artifact.get(artifact_key("summary", store.location))
    counts = Artifact.get(artifact_key("counts", store.location))
    assert summary is not None and counts is not None
    assert f"# newsflow run {third.run_id}" in summary.data
    assert f"Report: `{third.report}`" in summary.data
    assert f"**{NOTHING_NEW.format(26)}**" in summary.data
    assert third.report in counts.description


def test_the_report_says_when_the_files_were_last_verified_and_what_that_found():
    assert verified_text(None) == "files never verified (run `newsflow verify`)"
    clean = {"checked_at": "2026-12-07T05:30:00+00:00", "files_checked": 26, "damaged": 0}
    assert verified_text(clean) == "files last verified 2026-12-07 14:30 KST: 26 files, every file as written"
    assert verified_text({**clean, "damaged": 2}).endswith("26 files, 2 damaged files")

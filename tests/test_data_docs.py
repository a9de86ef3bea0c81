"""The GX Data Docs of real runs open offline: every script, stylesheet and image is a file beside the pages, and a
browser with no network draws the index's table of validation results and the result pages' expectation tables,
with the run id as run name and the table names as data assets.

The browser test needs Debian's chromium (`.ci/run` installs it); without it the test skips, unless
NEWSFLOW_REQUIRE_BROWSER=1 (set by `.ci/run`) makes that a failure. Its screenshots go to the test's temporary
folder, and also to the folder NEWSFLOW_SCREENSHOTS names, if set."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from pathlib import Path

import lxml.html
import pytest

from newsflow.expectations import load_suite
from newsflow.expectations.data_docs import VENDOR, make_offline
from newsflow.flows.ingest import ingest
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES
from tests.test_report import HOT_PAGE

pytestmark = pytest.mark.e2e
TABLES = ("articles", "entities", "pages", "weather_snapshots")
# a browser with no network: names resolve nowhere, anything else would go to a closed port (file:// is not affected)
OFFLINE = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--virtual-time-budget=5000",  # let the pages' scripts run to their end before the DOM is read
]
# how GX's renderer words each expectation type of the suites in its result pages
WORDING = {
    "expect_column_values_to_not_be_null": "values must never be null",
    "expect_column_values_to_be_unique": "values must be unique",
    "expect_column_values_to_be_in_set": "values must belong to this set",
    "expect_column_values_to_be_between": "values must be greater than or equal to",
    "expect_column_value_lengths_to_be_between": "characters long",
    "expect_column_pair_values_a_to_be_greater_than_b": "must always be greater than or equal to those in",
    "expect_column_values_to_match_regex": "values must match this regular expression",
}
LOADED = re.compile(
    r"<script\b[^>]*\bsrc=\"(?P<script>[^\"]+)\"|<link\b[^>]*\bhref=\"(?P<link>[^\"]+)\"|<img\b[^>]*\bsrc=\"(?P<img>[^\"]+)\""
    r"|url\(['\"]?(?P<css>[^'\")]+)"
)


@pytest.fixture(scope="module")
def docs(prefect_harness, tmp_path_factory):
    """A run of the example pages and a page with a reading out of range (its weather_snapshots batch fails).
    Returns the Data Docs folder and the run's summary."""
    root = tmp_path_factory.mktemp("docs")
    extra = root / "extra"
    extra.mkdir()
    (extra / "hot.txt").write_text(HOT_PAGE, encoding="utf-8")
    run = ingest([str(EXAMPLES), str(extra)], warehouse=str(root / "wh"), batch_size=8)
    folder = Warehouse.at(root / "wh").data_docs_dir
    assert run.data_docs == str(folder / "index.html") and run.quarantined == 1
    return folder, run


def result_page(folder: Path, table: str, run_id: str) -> Path:
    (page,) = (folder / "validations" / table / run_id).glob(f"*/{table}.html")
    return page


def words(element) -> str:
    """The text of an element, its pieces (table cells too) separated by single spaces."""
    return " ".join(" ".join(element.itertext()).split())


def references(page: Path) -> list[str]:
    """What a page loads: scripts, stylesheets and icons, images, CSS url()s (not the links a reader may follow)."""
    text = page.read_text(encoding="utf-8")
    return [next(v for v in m.groupdict().values() if v) for m in LOADED.finditer(text)]


def test_every_page_loads_only_files_beside_it(docs):
    folder, run = docs
    pages = sorted(folder.rglob("*.html"))
    results = {result_page(folder, table, run.run_id) for table in TABLES}
    suites = {folder / "expectations" / f"{table}.html" for table in TABLES}
    assert set(pages) == {folder / "index.html", *suites, *results}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.findall(r"<script\b[^>]*\bsrc=\"https?://", text), page
        assert not re.findall(r"<link\b[^>]*\bhref=\"https?://", text), page
        assert not re.findall(r"<img\b[^>]*\bsrc=\"https?://", text), page
        assert not re.findall(r"url\(['\"]?https?://", text), page
        for ref in references(page):
            path = ref.split("?")[0]
            target = posixpath.normpath(posixpath.join(page.parent.relative_to(folder).as_posix(), path))
            assert (folder / target).is_file(), f"{page.relative_to(folder)} loads {ref}, which is not in the docs"
    # Font Awesome's stylesheet loads its fonts from beside it
    fonts = re.findall(r"url\(([^)]+)\)", (folder / VENDOR / "font-awesome/css/all.min.css").read_text("utf-8"))
    assert fonts and all((folder / VENDOR / "font-awesome/css" / f.strip("'\"")).resolve().is_file() for f in fonts)
    for licence in ("bootstrap-table/LICENSE", "bootstrap-dark/LICENSE", "font-awesome/LICENSE.txt", "vega/LICENSE"):
        assert (folder / VENDOR / licence).is_file()


def test_results_carry_the_run_id_and_the_table_as_data_asset(docs):
    folder, run = docs
    for table in TABLES:
        text = words(lxml.html.parse(result_page(folder, table, run.run_id)).getroot())
        assert f"Run Name {run.run_id}" in text and "__none__" not in text
        assert f"Data asset: {table}" in text


def test_cdn_references_become_the_copies_beside_the_page_and_unknown_ones_are_reported(tmp_path):
    page = tmp_path / "expectations" / "suite.html"
    page.parent.mkdir()
    page.write_text(
        '<link rel="stylesheet" href="https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css">'
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js" integrity="sha384-x" crossorigin="anonymous">'
        "</script>"
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"></script>'
        '<script src="https://example.org/unknown.js"></script>'
        '<link rel="shortcut icon" href="../../static/images/favicon.ico" type="image/x-icon"/>',
        encoding="utf-8",
    )
    assert make_offline(tmp_path) == ["https://example.org/unknown.js"]
    assert (tmp_path / VENDOR / "jquery/jquery.min.js").is_file()
    assert page.read_text(encoding="utf-8") == (
        f'<link rel="stylesheet" href="../{VENDOR}/font-awesome/css/all.min.css">'
        f'<script src="../{VENDOR}/jquery/jquery.min.js"></script>'  # no integrity or crossorigin for a local file
        # no Popper: Bootstrap's bundle has it
        '<script src="https://example.org/unknown.js"></script>'
        '<link rel="shortcut icon" href="../static/images/favicon.ico" type="image/x-icon"/>'  # at the right depth
    )


def screenshot(browser, url: str, shot: Path, profile: Path) -> list[Path]:
    """A screenshot of the page at `url` into `shot`, and a copy in NEWSFLOW_SCREENSHOTS if set: the files."""
    browser(*OFFLINE, f"--screenshot={shot}", "--window-size=1280,2000", url, profile=profile)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if not os.environ.get("NEWSFLOW_SCREENSHOTS"):
        return [shot]
    keep = Path(os.environ["NEWSFLOW_SCREENSHOTS"])
    keep.mkdir(parents=True, exist_ok=True)
    return [shot, Path(shutil.copy(shot, keep / shot.name))]


def sections(dom) -> dict[str, list[str]]:
    """A result page's sections (Overview, Table-Level Expectations, a column each): the text of their table rows."""
    found = {}
    for section in dom.xpath("//div[contains(concat(' ', @class, ' '), ' ge-section ')]"):
        heading = section.xpath(".//h3|.//h4|.//h5|.//h6")[0].text_content().strip()
        rows = section.xpath(".//table[contains(@class, 'table-hover')]/tbody/tr")
        found[heading] = [" ".join(row.text_content().split()) for row in rows]
    return found


def test_a_browser_without_network_draws_the_index_and_a_result_page(docs, browser, tmp_path, capsys):
    folder, run = docs
    profile = tmp_path / "profile"

    index = lxml.html.fromstring(
        browser(*OFFLINE, "--dump-dom", (folder / "index.html").as_uri(), profile=profile).stdout
    )
    (results,) = index.xpath("//table[contains(@class, 'ge-index-page-validation-results-table')]")
    assert results.xpath("ancestor::div[contains(@class, 'bootstrap-table')]")  # bootstrap-table's script ran
    fields = [th.get("data-field") for th in results.xpath("./thead/tr/th")]
    rows = [
        (dict(zip(fields, (" ".join(td.text_content().split()) for td in tr.findall("td")), strict=True)), tr)
        for tr in results.xpath("./tbody/tr")
    ]
    listed = sorted((row["run_name"], row["asset_name"], row["expectation_suite_name"]) for row, _ in rows)
    assert listed == [(run.run_id, table, table) for table in TABLES]
    for _, tr in rows:  # each row opens its result page
        assert (folder / tr.get("data-href")).is_file()
    failed = [
        (row["run_name"], row["asset_name"]) for row, tr in rows if tr.xpath(".//i[contains(@class, 'fa-times')]")
    ]
    assert failed == [(run.run_id, "weather_snapshots")]  # the out-of-range reading
    shown = [words(e) for e in index.xpath("//*[contains(@class, 'pagination-info')]")]
    assert "Showing 1 to 4 of 4 rows" in shown

    page = result_page(folder, "articles", run.run_id)
    dom = lxml.html.fromstring(browser(*OFFLINE, "--dump-dom", page.as_uri(), profile=profile).stdout)
    assert dom.xpath("//div[contains(@class, 'bootstrap-table')]")  # the expectation tables were drawn by its script
    text = words(dom)
    assert f"Run Name {run.run_id}" in text and "Data asset: articles" in text and "Status: Succeeded" in text
    drawn = sections(dom)
    suite = load_suite("articles")["expectations"]
    for item in suite:
        kwargs = item["kwargs"]
        if "column_A" in kwargs:
            heading = "Table-Level Expectations"
        else:
            heading = f"{kwargs['column']} in {item['value_set_of']}" if "value_set_of" in item else kwargs["column"]
        assert any(WORDING[item["type"]] in row for row in drawn[heading]), (item, drawn.get(heading))
    assert sum(len(rows) for heading, rows in drawn.items() if heading != "Overview") == len(suite)

    shots = [
        *screenshot(browser, (folder / "index.html").as_uri(), tmp_path / "data-docs-index.png", profile),
        *screenshot(browser, page.as_uri(), tmp_path / "data-docs-articles.png", profile),
    ]
    with capsys.disabled():
        print("\nData Docs screenshots:", *shots, sep="\n  ")

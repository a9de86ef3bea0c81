"""End to end: the real Prefect flow on the example pages into a temporary warehouse, checked through DuckDB."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from newsflow.core.schema import TABLES
from newsflow.flows.ingest import ingest
from newsflow.warehouse.catalog import DERIVED_VIEWS, query
from newsflow.warehouse.lake import attach_sql
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES, EXPECTED, aged

pytestmark = pytest.mark.e2e
TABLE_NAMES = ("pages", "articles", "entities", "weather_snapshots", "quarantine", "runs")


def counts(store: Warehouse) -> dict[str, int]:
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in TABLE_NAMES)
    return dict(query(store, sql).rows())


@pytest.fixture(scope="module")
def store(prefect_harness, tmp_path_factory) -> Warehouse:
    root = tmp_path_factory.mktemp("warehouse")
    summary = ingest([str(EXAMPLES)], warehouse=str(root), batch_size=4)
    assert summary.pages_seen == len(EXPECTED)
    return Warehouse.at(root)


def test_every_page_lands_in_the_ledger_with_a_status(store):
    got = dict(query(store, "SELECT status, count(*) FROM pages GROUP BY status").rows())
    assert got == dict(Counter(page["status"] for page in EXPECTED.values()))
    assert query(store, "SELECT count(*) FROM pages WHERE reason IS NULL OR reason = ''").item() == 0
    rows = query(store, "SELECT regexp_extract(source, '[^/]+$'), status, reason FROM pages").rows()
    assert {name: status for name, status, _ in rows} == {name: page["status"] for name, page in EXPECTED.items()}
    reasons = {name: reason for name, _, reason in rows}
    assert reasons["08_empty.txt"] == "empty file"
    assert reasons["09_binary.txt"] == "binary content, not text"
    assert reasons["10_biz_economy_copy.txt"].startswith("same bytes as page ")
    assert reasons["11_truncated.txt"].startswith("article header but no body paragraphs")
    assert reasons["15_search_results.txt"] == "not an article: search results page"
    assert reasons["18_mojibake.txt"].endswith("CP949 mojibake repaired (read as latin-1)")


def test_tables_hold_the_parsed_values(store):
    articles = sum(page["status"] == "article" for page in EXPECTED.values())
    readings = sum(len(page.get("weather", [])) for page in EXPECTED.values())
    got = counts(store)
    assert (got["pages"], got["articles"], got["weather_snapshots"]) == (len(EXPECTED), articles, readings)
    assert (got["quarantine"], got["runs"]) == (0, 1)
    row = query(
        store,
        """
        SELECT a.section, a.subsection, strftime(a.registered_at, '%Y-%m-%d %H:%M %z') AS registered,
               a.reporters[1].name AS reporter, a.paragraph_count, a.captions[1].credit AS credit, p.encoding
        FROM articles a JOIN pages p USING (page_id) WHERE p.source LIKE '%04_biz_cp949.txt'
    """,
    ).row(0, named=True)
    assert row == {
        "section": "문화",
        "subsection": "공연",
        "registered": "2023-11-08 14:30 +09",
        "reporter": "문세영",
        "paragraph_count": 4,
        "credit": "새벽아트홀",
        "encoding": "cp949",
    }
    wire = query(
        store,
        """
        SELECT station, condition, temperature_c FROM weather_snapshots w JOIN pages p USING (page_id)
        WHERE p.source LIKE '%05_wire_agency.txt' ORDER BY position
    """,
    )
    assert wire.row(0) == ("동두천", "흐림", 2.4)
    assert ("고창", "맑음", None) in wire.rows()


def test_every_row_carries_the_run_id(store):
    run_id = query(store, "SELECT run_id FROM runs").item()
    for table in TABLE_NAMES:
        assert query(store, f"SELECT count(*) FROM {table} WHERE run_id IS DISTINCT FROM '{run_id}'").item() == 0


def test_the_warehouse_opens_in_a_plain_duckdb_client(store):
    with duckdb.connect() as con:
        con.execute(attach_sql(store, alias="news"))
        articles = sum(page["status"] == "article" for page in EXPECTED.values())
        assert con.execute("SELECT count(*) FROM news.articles").fetchone() == (articles,)
        views = {
            r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = 'news'").fetchall()
        }
        assert views == set(TABLES) | set(DERIVED_VIEWS) | {"article_versions"}  # TABLES: stamps and runs too


def test_a_second_run_on_the_same_source_adds_only_a_runs_row(store):
    before = counts(store)
    summary = ingest([str(EXAMPLES)], warehouse=str(store.root))
    assert summary.pages_skipped == len(EXPECTED)
    after = counts(store)
    assert after == {**before, "runs": before["runs"] + 1}
    last = query(store, "SELECT pages_seen, pages_skipped, pages_article FROM runs ORDER BY started_at DESC LIMIT 1")
    assert last.row(0) == (len(EXPECTED), len(EXPECTED), 0)


def test_rows_failing_a_critical_expectation_land_in_quarantine(prefect_harness, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "list.txt").write_text(
        "2024년 07월 01일 월요일\n• 서울 99℃\n• 부산 25℃\n경제 전체기사\n", encoding="utf-8"
    )
    summary = ingest([str(pages)], warehouse=str(tmp_path / "wh"))
    assert (summary.quarantined, summary.validation_success) == (1, False)
    store = Warehouse.at(tmp_path / "wh")
    assert query(store, "SELECT station, temperature_c FROM weather_snapshots").rows() == [("부산", 25.0)]
    row = query(store, "SELECT table_name, failed_expectations, row ->> 'station' AS station FROM quarantine")
    assert row.rows() == [("weather_snapshots", ["expect_column_values_to_be_between(temperature_c)"], "서울")]
    assert "expect_column_values_to_be_between(temperature_c)" in Path(summary.report).read_text(encoding="utf-8")


def test_one_weather_reading_per_site_capture_date_and_station_with_its_pages(store):
    # 01 and 10 are the same bytes (10 is a duplicate and keeps no readings); 15 is the same site and day as 01
    got = query(
        store,
        """
        SELECT temperature_c, pages, len(page_ids) AS lineage, region, round(latitude, 1) AS lat
        FROM weather_readings WHERE site = 'kr-business-daily' AND capture_date = DATE '2024-07-02' AND station = '서울'
    """,
    )
    assert got.rows() == [(27.0, 2, 2, "서울특별시", 37.6)]
    page_rows = query(store, "SELECT count(*) FROM weather_snapshots").item()
    logical = query(store, "SELECT sum(pages) FROM weather_readings").item()
    assert logical == page_rows  # every page row is behind exactly one logical reading
    assert query(store, "SELECT count(*) FROM weather_readings WHERE latitude IS NULL").item() == 0


def test_person_roles_lists_who_held_which_title_where(store):
    got = query(
        store,
        """
        SELECT person, person_org, person_title, strftime(registered_at, '%Y-%m-%d %H:%M') AS registered
        FROM person_roles WHERE person = '박서진'
    """,
    )
    assert got.rows() == [("박서진", "한빛은행", "행장", "2024-06-27 09:41")]


def test_tables_people_query_by_time_are_partitioned_by_it(store):
    """DuckLake partitions articles by month of registration, weather by month of capture (UTC): one folder each,
    every file holding only its own month's rows."""
    utc = "timezone('UTC', registered_at)"  # the month DuckLake's writer (on UTC) took
    for table, column in (("articles", utc), ("weather_snapshots", "capture_date")):
        files = [Path(path) for path, _ in store.files(table)]
        folders = {(f.parent.parent.name, f.parent.name) for f in files}
        months = query(
            store,
            f"SELECT DISTINCT 'year=' || year({column}) AS y, 'month=' || month({column}) AS m FROM {table}",
        )
        assert folders == set(months.rows()), table
        for file in files:
            year, month = (int(part.split("=")[1]) for part in (file.parent.parent.name, file.parent.name))
            found = query(  # `newsflow sql` reads the lake's files only through its read-only file system
                store,
                f"SELECT DISTINCT year({column}), month({column}) FROM read_parquet('newsflowread://{file}')",
            )
            assert found.rows() == [(year, month)]


def test_settled_batches_are_validated_and_landed_together_and_land_the_same_rows(
    prefect_harness, tmp_path, monkeypatch
):
    import newsflow.flows.ingest
    from newsflow.expectations import Validator

    pages = tmp_path / "pages"
    shutil.copytree(EXAMPLES, pages)
    (pages / "zz_list.txt").write_text("2024년 07월 01일 월요일\n• 서울 99℃\n경제 전체기사\n", encoding="utf-8")
    aged(pages / "zz_list.txt")  # stamped by both runs
    validated, validate = [], Validator.validate  # pages per validation of the pages table

    def counted(self, table, frame, related=None):
        if table.name == "pages":
            validated.append(frame.height)
        return validate(self, table, frame, related)

    monkeypatch.setattr(Validator, "validate", counted)
    together = ingest([str(pages)], warehouse=str(tmp_path / "together"), batch_size=4)
    monkeypatch.setattr(newsflow.flows.ingest, "VALIDATE_PAGES", 8)
    in_groups = ingest([str(pages)], warehouse=str(tmp_path / "groups"), batch_size=4)
    # 27 pages in batches of 4: all at the end; then a group every 2 batches (8 pages), and the last batch's 3
    assert validated == [27, 8, 8, 8, 3]
    assert (together.quarantined, in_groups.quarantined) == (1, 1)
    assert (together.statuses, together.rows) == (in_groups.statuses, in_groups.rows)
    for table in ("pages", "articles", "entities", "weather_snapshots", "quarantine"):
        rows = [
            query(Warehouse.at(tmp_path / name), f"SELECT * EXCLUDE (run_id) FROM {table}")
            for name in ("together", "groups")
        ]
        rows = [sorted(map(repr, frame.drop("ingested_at", strict=False).rows())) for frame in rows]
        assert rows[0] == rows[1], table

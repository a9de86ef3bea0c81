"""What analysts use first: the derived views, the canned queries in warehouse/queries/ run with `newsflow sql -f`,
and a `newsflow sql` that cannot change the warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.cli.output import EXIT_USAGE
from newsflow.flows.ingest import ingest
from newsflow.warehouse.catalog import DERIVED_VIEWS, query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e
QUERIES = Path(__file__).resolve().parent.parent / "warehouse" / "queries"
HOT_PAGE = "2024년 07월 01일 월요일\n• 서울 99℃\n• 부산 25℃\n경제 전체기사\n"


@pytest.fixture(scope="module")
def store(prefect_harness, tmp_path_factory) -> Warehouse:
    """The example pages, then a page with one reading out of range (so quarantine has a row)."""
    root = tmp_path_factory.mktemp("analysis")
    ingest([str(EXAMPLES)], warehouse=str(root / "wh"))
    (root / "extra").mkdir()
    (root / "extra" / "hot.txt").write_text(HOT_PAGE, encoding="utf-8")
    ingest([str(root / "extra")], warehouse=str(root / "wh"))
    return Warehouse.at(root / "wh")


def sql(store: Warehouse, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sql", *args, "--warehouse", str(store.root)])
    return result.exit_code, result.output


def canned(store: Warehouse, name: str) -> list[dict]:
    code, output = sql(store, "-f", str(QUERIES / f"{name}.sql"), "--format", "json")
    assert code == 0, output
    return json.loads(output)


def test_every_canned_query_has_a_comment_saying_what_it_answers():
    names = sorted(p.stem for p in QUERIES.glob("*.sql"))
    assert names == ["organisations_together", "quarantine_by_reason", "temperatures_by_station", "top_people_by_month"]
    for path in QUERIES.glob("*.sql"):
        assert path.read_text(encoding="utf-8").startswith("-- "), path


def test_top_people_by_month(store):
    rows = canned(store, "top_people_by_month")
    june = [(r["person"], r["articles"], r["mentions"], r["titles"]) for r in rows if r["month"] == "2024-06"]
    assert ("박서진", 1, 2, "행장") in june  # 박서진 행장 ... 박 행장: one person, two mentions
    assert "박" not in {person for person, *_ in june}  # 박 행장 was merged into 박서진
    assert ("김", 1, 1, None) in [(r["person"], r["articles"], r["mentions"], r["titles"]) for r in rows]  # 김모(38)씨
    assert max(sum(1 for r in rows if r["month"] == m) for m in {r["month"] for r in rows}) <= 10


def test_organisations_mentioned_together(store):
    rows = canned(store, "organisations_together")
    pairs = {(r["organisation_a"], r["organisation_b"]): r["articles"] for r in rows}
    assert pairs[("가람항공", "국토교통부")] == 1
    assert all(a < b for a, b in pairs)
    assert (
        len(pairs)
        == query(
            store,
            "SELECT count(DISTINCT (entity_a, entity_b)) FROM entity_pairs"
            " WHERE type_a = 'organisation' AND type_b = 'organisation'",
        ).item()
    )


def test_temperatures_by_station_over_capture_dates(store):
    rows = canned(store, "temperatures_by_station")
    seoul = {r["capture_date"]: (r["temperature_c"], r["pages"]) for r in rows if r["station"] == "서울"}
    assert seoul["2024-07-02"] == (27.0, 2)  # 01 and 03 are the same site's widget that day
    assert seoul["2024-05-18"] == (18.0, 3)
    assert "2024-07-01" not in seoul  # the 99 ℃ reading went to quarantine
    assert rows[0]["station"] == "철원"  # north to south
    assert len({(r["station"], r["capture_date"]) for r in rows}) == len(rows)


def test_quarantine_by_reason(store):
    assert canned(store, "quarantine_by_reason") == [
        {
            "table_name": "weather_snapshots",
            "expectation": "expect_column_values_to_be_between(temperature_c)",
            "rows": 1,
            "runs": 1,
            "last_seen": canned(store, "quarantine_by_reason")[0]["last_seen"],
        }
    ]


def test_the_analyst_views_agree_with_the_tables(store):
    assert set(DERIVED_VIEWS) >= {"article_entities", "person_roles", "weather_daily", "entity_pairs"}
    assert (
        query(store, "SELECT count(*) FROM article_entities").item()
        == query(store, "SELECT count(*) FROM entities").item()
    )
    expected_pairs = query(
        store, "SELECT sum(n * (n - 1) // 2) FROM (SELECT count(*) AS n FROM entities GROUP BY article_id)"
    )
    assert query(store, "SELECT count(*) FROM entity_pairs").item() == expected_pairs.item()
    sections = query(store, "SELECT DISTINCT section FROM article_entities WHERE canonical = '박서진'")
    assert sections["section"].to_list() == ["경제"]


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("DROP VIEW articles", "DROP"),
        ("COPY (SELECT * FROM articles) TO '{out}'", "COPY"),
        ("ATTACH '{out}' AS other", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("SELECT 1; DROP VIEW pages", "DROP"),
    ],
)
def test_sql_refuses_anything_but_reading(store, tmp_path, statement, kind):
    out = tmp_path / "out.csv"
    before = query(store, "SELECT count(*) FROM articles").item()
    code, output = sql(store, statement.format(out=out))
    assert code == EXIT_USAGE
    assert f"a {kind} statement" in output and "is refused" in output
    assert not out.exists()
    assert query(store, "SELECT count(*) FROM articles").item() == before


def test_sql_reads_in_every_format(store):
    code, output = sql(store, "SELECT count(*) AS n FROM pages WHERE status = 'article'", "--format", "csv")
    assert (code, output) == (0, "n\n18\n")
    code, output = sql(store, "DESCRIBE articles", "--format", "json")
    assert code == 0 and "registered_at" in {c["column_name"] for c in json.loads(output)}

"""The Great Expectations suites and the split of rows into landed and quarantined."""

from __future__ import annotations

import json

import polars as pl
import pytest

from expectations import ORPHANED, SUITE_DIR, Validation, Validator, load_suite, quarantine_orphans
from newsflow.schema import ENTITIES, QUARANTINE, TABLES, WEATHER_SNAPSHOTS


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_table_has_a_readable_suite_on_its_own_columns(table):
    suite = load_suite(table)
    assert suite["name"] == table
    columns = set(TABLES[table].column_names)
    for item in suite["expectations"]:
        assert item["kwargs"].get("column", "run_id") in columns, item
        assert item["severity"] in ("critical", "warning")


LANDING_COLUMNS = {"run_id", "ingested_at"}  # stamped on the rows after validation


@pytest.mark.parametrize("table", ["pages", "articles", "entities", "weather_snapshots"])
def test_every_column_the_schema_declares_required_is_checked_not_null(table):
    required = {c.name for c in TABLES[table].columns if not c.nullable} - LANDING_COLUMNS
    checked = {
        i["kwargs"]["column"]
        for i in load_suite(table)["expectations"]
        if i["type"] == "expect_column_values_to_not_be_null" and i["severity"] == "critical"
    }
    assert required <= checked


def weather_rows(temperatures: list[float | None], stations: list[str] | None = None) -> pl.DataFrame:
    n = len(temperatures)
    return WEATHER_SNAPSHOTS.conform(
        pl.DataFrame(
            {
                "page_id": [f"p{i}" for i in range(n)],
                "position": list(range(n)),
                "city": ["서울"] * n,
                "station": stations or ["서울"] * n,
                "temperature_c": temperatures,
                "capture_date": [None] * n,
            },
            schema_overrides={"temperature_c": pl.Float64, "capture_date": pl.Date},
        )
    ).drop("run_id")


def test_every_failing_row_goes_to_quarantine_not_only_the_first_200(validator):
    rows = weather_rows([99.0] * 250 + [20.5] * 10)
    got = validator.validate(WEATHER_SNAPSHOTS, rows)
    assert (got.valid.height, got.quarantine.height) == (10, 250)
    first = got.quarantine.row(0, named=True)
    assert first["failed_expectations"] == ["expect_column_values_to_be_between(temperature_c)"]
    assert first["row_key"] == "p0|0"
    assert json.loads(first["row"])["temperature_c"] == 99.0
    assert not got.success


def test_warnings_are_reported_but_keep_the_row(validator):
    got = validator.validate(WEATHER_SNAPSHOTS, weather_rows([1.0, 2.0], stations=["서울", "Seoul"]))
    assert got.valid.height == 2 and got.quarantine.is_empty()
    failed = {r.expectation: (r.severity, r.failed_rows) for r in got.results if not r.success}
    assert failed["expect_column_values_to_match_regex(station)"] == ("warning", 1)


def test_suites_are_plain_json_files():
    assert sorted(p.stem for p in SUITE_DIR.glob("*.json")) == sorted(TABLES)


def test_entities_of_a_quarantined_article_follow_it_into_quarantine():
    entities = ENTITIES.conform(
        pl.DataFrame(
            {
                "article_id": ["bad", "good"],
                "entity_type": ["person", "person"],
                "canonical": ["가", "나"],
                "text": ["가", "나"],
                "mention_count": [1, 1],
            }
        )
    ).drop("run_id")
    child = Validation("entities", entities, QUARANTINE.empty().drop("run_id"), ())
    articles_quarantined = pl.DataFrame({"row": ['{"article_id": "bad", "page_id": "p"}']})
    got = quarantine_orphans(child, ENTITIES, articles_quarantined)
    assert got.valid["article_id"].to_list() == ["good"]
    assert got.quarantine.select("table_name", "row_key", "failed_expectations").rows() == [
        ("entities", "bad|person|가", [ORPHANED])
    ]

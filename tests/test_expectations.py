"""The Great Expectations suites and the split of rows into landed and quarantined."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from newsflow.core.schema import ARTICLES, ENTITIES, PAGES, TABLES, WEATHER_SNAPSHOTS
from newsflow.expectations import SUITE_DIR, Validator, derived_columns, load_suite
from newsflow.profiles import load_stations

KST = ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(references={"stations": load_stations()})


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_table_has_a_readable_suite_on_its_own_columns(table):
    suite = load_suite(table)
    assert suite["name"] == table
    columns = set(TABLES[table].column_names) | set(derived_columns(table))
    for item in suite["expectations"]:
        kwargs = item["kwargs"]
        used = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *kwargs.get("column_list", [])]
        assert {c for c in used if c} <= columns, item
        assert item["severity"] in ("critical", "warning")
        if "value_set_of" in item:
            other, _, column = item["value_set_of"].partition(".")
            assert other == "stations" or column in TABLES[other].column_names, item


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


def pages(ids: list[str]) -> pl.DataFrame:
    return PAGES.conform(
        pl.DataFrame(
            {
                "page_id": ids,
                "content_hash": ["0" * 64] * len(ids),
                "source": [f"{i}.txt" for i in ids],
                "size_bytes": [10] * len(ids),
                "status": ["article"] * len(ids),
                "reason": ["parsed"] * len(ids),
            }
        )
    ).drop("run_id")


def weather_rows(
    temperatures: list[float | None], stations: list[str] | None = None, page_ids: list[str] | None = None
) -> pl.DataFrame:
    n = len(temperatures)
    return WEATHER_SNAPSHOTS.conform(
        pl.DataFrame(
            {
                "page_id": page_ids or [f"{i:016x}" for i in range(n)],
                "position": list(range(n)),
                "city": ["서울"] * n,
                "station": stations or ["서울"] * n,
                "temperature_c": temperatures,
                "capture_date": [date(2024, 5, 1)] * n,
            },
            schema_overrides={"temperature_c": pl.Float64, "capture_date": pl.Date},
        )
    ).drop("run_id")


def known_pages(rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {"pages": pages(rows["page_id"].unique().to_list())}


def test_every_failing_row_goes_to_quarantine_not_only_the_first_200(validator):
    rows = weather_rows([99.0] * 250 + [20.5] * 10)
    got = validator.validate(WEATHER_SNAPSHOTS, rows, related=known_pages(rows))
    assert (got.valid.height, got.quarantine.height) == (10, 250)
    first = got.quarantine.row(0, named=True)
    assert first["failed_expectations"] == ["expect_column_values_to_be_between(temperature_c)"]
    assert first["row_key"] == f"{0:016x}|0"
    assert json.loads(first["row"])["temperature_c"] == 99.0
    assert not got.success


def test_warnings_are_reported_but_keep_the_row(validator):
    rows = weather_rows([1.0, 2.0], stations=["서울", "Seoul"])
    got = validator.validate(WEATHER_SNAPSHOTS, rows, related=known_pages(rows))
    assert got.valid.height == 2 and got.quarantine.is_empty()
    failed = {r.expectation: (r.severity, r.failed_rows) for r in got.results if not r.success}
    assert failed == {
        "expect_column_values_to_match_regex(station)": ("warning", 1),
        "expect_column_values_to_be_in_set(station)": ("warning", 1),
    }


def articles(**columns: list) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "article_id": [f"a{i}" for i in range(n)],
        "page_id": [f"{i:016x}" for i in range(n)],
        "site": ["kr-business-daily"] * n,
        "title": ["제목입니다"] * n,
        "paragraph_count": [3] * n,
        "char_count": [500] * n,
        "section": ["산업"] * n,
        "registered_at": [datetime(2024, 5, 1, 9, 0, tzinfo=KST)] * n,
        "capture_date": [date(2024, 5, 1)] * n,
    }
    return ARTICLES.conform(pl.DataFrame({**base, **columns})).drop("run_id")


def entity_rows(article_ids: list[str], canonicals: list[str] | None = None) -> pl.DataFrame:
    n = len(article_ids)
    names = canonicals or [f"이름{i}" for i in range(n)]
    return ENTITIES.conform(
        pl.DataFrame(
            {
                "article_id": article_ids,
                "page_id": [f"{int(a[1:]):016x}" for a in article_ids],  # the page of articles(): a<i> is on page i
                "entity_type": ["person"] * n,
                "canonical": names,
                "text": names,
                "mention_count": [1] * n,
            }
        )
    ).drop("run_id")


def quarantined(validation) -> list[tuple[str, list[str]]]:
    return validation.quarantine.select("row_key", "failed_expectations").rows()


def test_an_article_registered_before_1990_or_after_its_capture_is_quarantined(validator):
    rows = articles(
        registered_at=[
            datetime(2024, 5, 1, 9, 0, tzinfo=KST),
            datetime(1985, 3, 1, 9, 0, tzinfo=KST),
            datetime(2024, 5, 2, 23, 59, tzinfo=KST),  # within a day of the end of the capture date
            datetime(2024, 5, 3, 0, 1, tzinfo=KST),  # more than a day after it
        ]
    )
    got = validator.validate(ARTICLES, rows, related=known_pages(rows))
    assert quarantined(got) == [
        ("a1", ["expect_column_values_to_be_between(registered_at)"]),
        ("a3", ["expect_column_pair_values_a_to_be_greater_than_b(registered_at_limit,registered_at)"]),
    ]


def test_relationships_send_rows_without_their_parent_to_quarantine(validator):
    rows = articles(title=["첫째 기사", "둘째 기사"])
    got = validator.validate(ARTICLES, rows, related={"pages": pages([f"{0:016x}"])})
    assert quarantined(got) == [("a1", ["expect_column_values_to_be_in_set(page_id)"])]
    entities = validator.validate(ENTITIES, entity_rows(["a0", "a1"]), related={"articles": got.valid})
    assert quarantined(entities) == [(f"{1:016x}|person|이름1", ["expect_column_values_to_be_in_set(page_id)"])]
    weather = weather_rows([1.0, 2.0], page_ids=[f"{0:016x}", "ffffffffffffffff"])
    got = validator.validate(WEATHER_SNAPSHOTS, weather, related={"pages": pages([f"{0:016x}"])})
    assert quarantined(got) == [("ffffffffffffffff|1", ["expect_column_values_to_be_in_set(page_id)"])]


def test_keys_must_be_unique_and_values_accepted(validator):
    entities = validator.validate(
        ENTITIES, entity_rows(["a0", "a0"], ["홍길동", "홍길동"]), related={"articles": articles(title=["첫째 기사"])}
    )
    assert {e for _, failed in quarantined(entities) for e in failed} == {
        "expect_compound_columns_to_be_unique(page_id,entity_type,canonical)"
    }
    bad_status = pages(["00000000000000aa"]).with_columns(status=pl.lit("lost"))
    assert quarantined(validator.validate(PAGES, bad_status)) == [
        ("00000000000000aa", ["expect_column_values_to_be_in_set(status)"])
    ]


def test_a_widget_of_more_than_60_readings_is_quarantined_whole(validator):
    rows = weather_rows([10.0] * 61, page_ids=["00000000000000bb"] * 61)
    got = validator.validate(WEATHER_SNAPSHOTS, rows, related=known_pages(rows))
    assert got.valid.is_empty() and got.quarantine.height == 61
    assert set(got.quarantine["failed_expectations"].explode()) == {
        "expect_column_values_to_be_between(widget_readings)"
    }


def test_reporter_names_are_checked_for_their_form(validator):
    reporters = [[{"name": "김기자", "email": None}], [{"name": "기자 김철수 입니다", "email": None}]]
    rows = articles(title=["첫째 기사", "둘째 기사"]).with_columns(
        reporters=pl.Series(reporters, dtype=ARTICLES.schema["reporters"])
    )
    got = validator.validate(ARTICLES, rows, related=known_pages(rows))
    failed = {r.expectation: (r.severity, r.failed_rows) for r in got.results if not r.success}
    assert failed == {"expect_column_values_to_match_regex(reporter_names)": ("warning", 1)}
    assert got.valid.height == 2


def test_a_suite_that_needs_another_table_says_which(validator):
    with pytest.raises(ValueError, match="pass the pages table"):
        validator.validate(ARTICLES, articles(title=["첫째 기사"]))


def test_suites_are_plain_json_files():
    assert sorted(p.stem for p in SUITE_DIR.glob("*.json")) == sorted(TABLES)

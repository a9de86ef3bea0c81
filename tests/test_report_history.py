"""The pure parts of the run report on small frames: history folding, the anomaly flag, freshness in words,
retention, and the query that lists a failed expectation's quarantined rows."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from newsflow.core.schema import PAGE_STATUSES
from newsflow.report.history import (
    Anomaly,
    age_words,
    article_anomalies,
    expired_reports,
    fold_history,
    freshness,
    kst,
    nothing_new_text,
    quarantine_sql,
    sql_command,
    validated_rows,
)
from newsflow.report.run_report import prune_reports
from newsflow.warehouse.storage import Warehouse

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 15:00 KST


def run(run_id: str, started: datetime, seen: int = 10, skipped: int = 0, articles: int = 0, **counts) -> dict:
    row = {
        "run_id": run_id,
        "started_at": started,
        "pages_seen": seen,
        "pages_skipped": skipped,
        **{f"pages_{s}": 0 for s in PAGE_STATUSES},
        "articles_rows": articles,
        "entities_rows": 0,
        "weather_rows": 0,
        "quarantine_rows": 0,
    }
    return row | counts


def frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema_overrides={"started_at": pl.Datetime("us", "UTC")})


def utc_of_kst(hour: int, minute: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) - timedelta(hours=9)


# --- history ---------------------------------------------------------------------------------------------------


def test_consecutive_runs_with_nothing_new_fold_into_one_line_in_korea_time():
    landed = run("r-landed", utc_of_kst(7, 0), seen=30, skipped=0, articles=12)
    empty = [
        run(f"r-empty-{i:02d}", utc_of_kst(8, 0) + timedelta(minutes=30 * i), seen=30, skipped=30) for i in range(12)
    ]
    newest = run("r-new", utc_of_kst(14, 30), seen=31, skipped=30, articles=1)
    lines = fold_history(frame(landed, *empty, newest), current="r-new")
    assert [len(line.runs) for line in lines] == [1, 12, 1]
    assert [line.current for line in lines] == [True, False, False]
    folded = lines[1]
    assert folded.folded and folded.nothing_new
    assert folded.label == "12 runs with nothing new, 2026-12-07 08:00–13:30 KST"
    assert [r["run_id"] for r in folded.runs] == [f"r-empty-{i:02d}" for i in reversed(range(12))]  # newest first
    assert lines[0].when == "2026-12-07 14:30 KST" and lines[0].label == "1 new page"
    assert lines[2].when == "2026-12-07 07:00 KST" and lines[2].label == "30 new pages"


def test_a_lone_empty_run_and_the_current_run_are_never_folded():
    rows = [
        run("a", utc_of_kst(8), articles=5),
        run("b", utc_of_kst(9), seen=10, skipped=10),  # alone between two runs with new pages
        run("c", utc_of_kst(10), articles=5),
        run("d", utc_of_kst(11), seen=10, skipped=10),
        run("e", utc_of_kst(12), seen=10, skipped=10),
        run("f", utc_of_kst(13), seen=10, skipped=10),  # the current run, with nothing new
    ]
    lines = fold_history(frame(*rows), current="f", pages=["c", "f"])
    assert [[r["run_id"] for r in line.runs] for line in lines] == [["f"], ["e", "d"], ["c"], ["b"], ["a"]]
    assert lines[0].current and lines[0].label == "nothing new: 10 pages seen, all already ingested; nothing validated"
    assert lines[3].nothing_new and not lines[3].folded
    assert [line.page for line in lines] == ["run-f.html", None, "run-c.html", None, None]  # kept reports are linked


def test_a_fold_across_midnight_names_both_days():
    rows = [run(f"n{i}", utc_of_kst(23, day=6) + timedelta(hours=i), seen=3, skipped=3) for i in range(3)]
    (line,) = fold_history(frame(*rows))
    assert line.label == "3 runs with nothing new, 2026-12-06 23:00 – 2026-12-07 01:00 KST"


def test_nothing_new_says_how_many_pages_were_seen():
    assert nothing_new_text({"pages_seen": 26, "pages_skipped": 26}) == (
        "nothing new: 26 pages seen, all already ingested; nothing validated"
    )
    assert nothing_new_text({"pages_seen": 0, "pages_skipped": 0}) == (
        "nothing new: no pages found in the sources; nothing validated"
    )


def test_rows_validated_count_pages_landed_and_quarantined_rows():
    assert validated_rows(run("x", NOW, pages_article=3, pages_rejected=1, articles=3, quarantine_rows=2)) == 9


# --- anomaly -----------------------------------------------------------------------------------------------------


def test_a_run_far_below_the_median_of_the_runs_that_landed_articles_is_flagged():
    counts = [40, 0, 50, 60, 10]  # the 0: new pages, no articles; it does not count in the median
    rows = [run(f"r{i}", NOW + timedelta(hours=i), articles=n) for i, n in enumerate(counts)]
    found = article_anomalies(frame(*rows))
    assert found == {
        "r4": Anomaly("r4", articles=10, median=50.0, compared=3),
        # r1 had only one run to compare with: never flagged
    }
    assert found["r4"].text == (
        "row-count anomaly: 10 articles landed, 20% of the median 50 of the last 3 runs that landed any "
        "(flagged below 50%)"
    )


def test_no_flag_with_fewer_than_three_runs_to_compare_nor_for_a_run_with_nothing_new():
    two = [run("a", NOW, articles=40), run("b", NOW + timedelta(hours=1), articles=50)]
    late = run("c", NOW + timedelta(hours=2), articles=1)
    assert article_anomalies(frame(*two, late)) == {}
    three = [*two, run("c", NOW + timedelta(hours=2), articles=60)]
    nothing = run("d", NOW + timedelta(hours=3), seen=10, skipped=10)  # landed nothing, but found nothing new
    assert article_anomalies(frame(*three, nothing)) == {}
    at_half = run("e", NOW + timedelta(hours=4), articles=25)  # 25 = 50% of the median 50: not below it
    assert article_anomalies(frame(*three, at_half)) == {}


def test_the_median_is_of_the_last_ten_runs_that_landed_any():
    old = [run(f"old{i}", NOW + timedelta(hours=i), articles=1000) for i in range(5)]
    recent = [run(f"new{i}", NOW + timedelta(hours=10 + i), articles=20) for i in range(10)]
    low = run("low", NOW + timedelta(hours=30), articles=9)
    found = article_anomalies(frame(*old, *recent, low))
    assert found["low"] == Anomaly("low", 9, 20.0, 10)  # the five runs of 1000 have left the window
    # the drop itself is flagged until the runs of 20 are half the window: median 1000, then (20 + 1000) / 2
    assert sorted(found) == ["low", "new0", "new1", "new2", "new3", "new4", "new5"]
    assert (found["new4"].median, found["new5"].median) == (1000.0, 510.0)


# --- freshness -----------------------------------------------------------------------------------------------


def test_ages_in_words():
    assert age_words(NOW - timedelta(seconds=20), NOW) == "just now"
    assert age_words(NOW - timedelta(minutes=12, seconds=30), NOW) == "12 min ago"
    assert age_words(NOW - timedelta(hours=3, minutes=59), NOW) == "3 h ago"
    assert age_words(NOW - timedelta(hours=47), NOW) == "47 h ago"
    assert age_words(NOW - timedelta(days=5, hours=2), NOW) == "5 days ago"
    assert age_words(NOW + timedelta(hours=3), NOW) == "in 3 h"
    assert age_words(None, NOW) == "no rows yet"
    # a date is a day in Korea time: NOW is 2026-12-07 15:00 KST
    assert age_words(date(2026, 12, 7), NOW) == "today"
    assert age_words(date(2026, 12, 6), NOW) == "yesterday"
    assert age_words(date(2025, 12, 20), NOW) == "352 days ago"


def test_freshness_of_each_table():
    rows = freshness(
        {
            "pages_ingested": NOW - timedelta(hours=3),
            "articles_registered": NOW - timedelta(days=2, hours=1),
            "articles_landed": NOW - timedelta(hours=3),
            "entities_landed": None,
            "weather_captured": date(2026, 12, 6),
            "weather_landed": NOW - timedelta(hours=3),
        },
        NOW,
    )
    shown = [(f.table, f.what, f.shown, f.age) for f in rows]
    assert shown == [
        ("pages", "last ingest (newest ingested_at)", "2026-12-07 12:00 KST", "3 h ago"),
        ("articles", "newest registered_at", "2026-12-05 14:00 KST", "2 days ago"),
        ("articles", "last landed (run finished)", "2026-12-07 12:00 KST", "3 h ago"),
        ("entities", "last landed (run finished)", "–", "no rows yet"),
        ("weather_snapshots", "newest capture_date", "2026-12-06", "yesterday"),
        ("weather_snapshots", "last landed (run finished)", "2026-12-07 12:00 KST", "3 h ago"),
    ]
    assert kst(datetime(2026, 12, 6, 23, 30)) == "2026-12-07 08:30 KST"  # a naive time is UTC


# --- retention -------------------------------------------------------------------------------------------------


def test_expired_reports_are_the_old_run_files_except_the_protected_ones():
    files = {
        "run-old.html": NOW - timedelta(days=91),
        "run-old.md": NOW - timedelta(days=91),
        "run-new.html": NOW - timedelta(days=89),
        "run-shown.html": NOW - timedelta(days=400),  # what latest-with-data.html shows
        "latest.html": NOW - timedelta(days=400),  # not a run report
        "run-x.html.tmp": NOW - timedelta(days=400),
    }
    assert expired_reports(files, NOW, 90, protected={"shown"}) == ["run-old.html", "run-old.md"]


def test_prune_deletes_old_run_reports_of_a_local_folder_by_their_modification_time(tmp_path):
    store = Warehouse.at(tmp_path / "wh")  # no catalog: every file is aged by its modification time
    reports = store.reports_dir
    reports.mkdir(parents=True)
    for name in ["run-old.html", "run-old.md", "run-new.html", "run-shown.html", "latest.html", "notes.txt"]:
        (reports / name).write_text(name, encoding="utf-8")
    then = time.time() - 100 * 86400
    for name in ["run-old.html", "run-old.md", "run-shown.html", "latest.html", "notes.txt"]:
        os.utime(reports / name, (then, then))
    removed = prune_reports(store, keep_days=90, protected={"shown"})
    assert sorted(removed) == ["run-old.html", "run-old.md"]
    assert sorted(p.name for p in reports.iterdir()) == [
        "latest.html", "notes.txt", "run-new.html", "run-shown.html"
    ]  # fmt: skip


# --- quarantined rows ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("expectation", ["expect_column_values_to_be_between(temperature_c)", "o'dd \"$x` \\"])
def test_the_sql_line_is_ready_to_copy_into_a_shell(expectation):
    sql = quarantine_sql("20261207T000000-abc", "weather_snapshots", expectation)
    doubled = expectation.replace("'", "''")
    assert f"list_contains(failed_expectations, '{doubled}')" in sql
    assert "run_id = '20261207T000000-abc' AND table_name = 'weather_snapshots'" in sql
    line = sql_command(sql, "/data/my lake")
    assert line.startswith('newsflow sql "SELECT row_key, failed_expectations, row FROM quarantine WHERE')
    assert shlex.split(line)[:2] == ["newsflow", "sql"]
    # what a POSIX shell passes to newsflow: the SQL and the warehouse, unchanged
    echoed = subprocess.run(
        ["bash", "-c", line.replace("newsflow sql", "printf '%s\\0'", 1)], capture_output=True, text=True, check=True
    )
    assert echoed.stdout.split("\0")[:-1] == [sql, "--warehouse", "/data/my lake"]

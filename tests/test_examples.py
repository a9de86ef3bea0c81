"""The parse of each bundled example page, checked against examples/expected.json."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from flows.sources import read_pages
from newsflow.profiles import load_rules
from transforms.pages import parse_pages

EXAMPLES = Path(__file__).parents[1] / "examples"
PAGES = EXAMPLES / "pages"
EXPECTED: dict[str, dict] = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
SEOUL = ZoneInfo("Asia/Seoul")

# pages whose every field is known (a page repaired with losses only states what survives)
ARTICLES = [name for name, exp in EXPECTED.items() if exp["status"] == "article" and "body_first" in exp]
WITH_WIDGET = [name for name, exp in EXPECTED.items() if "weather" in exp]
TRUNCATED = "11_truncated.txt"
HEADER_FIELDS = ("section", "subsection", "title", "registered_at", "updated_at")
FURNITURE_LINES = ("ad", "공유", "댓글", "좋아요", "공유하기", "기사 전체 보기")  # whole paragraphs
FURNITURE_TEXT = ("Copyright", "저작권자", "무단 전재", "무단전재")  # anywhere in a paragraph


def by_name(names: list[str]):
    return pytest.mark.parametrize("name", names, ids=names)


def seoul_minute(ts) -> str | None:
    return None if ts is None else ts.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M")


def widget_in_file(name: str) -> tuple[date, list[tuple]]:
    """Capture date and (condition, station, temperature) readings read straight from a page's text."""
    text = (PAGES / name).read_text(encoding="utf-8")
    y, m, d = re.search(r"^(\d{4})년 (\d{2})월 (\d{2})일", text, re.M).groups()
    found = re.findall(r"^\s*•\s*(\S+)\s+(-?\d+)℃$", text, re.M)
    return date(int(y), int(m), int(d)), [(None, station, float(t)) for station, t in found]


@pytest.fixture(scope="module")
def parsed():
    paths = sorted(str(p) for p in PAGES.iterdir() if p.is_file())
    return parse_pages(read_pages(paths), load_rules())


@pytest.fixture(scope="module")
def names(parsed) -> dict[str, str]:
    """page_id -> file name."""
    return {pid: Path(source).name for pid, source in parsed.pages.select("page_id", "source").iter_rows()}


@pytest.fixture(scope="module")
def ledger(parsed, names) -> dict[str, dict]:
    return {names[row["page_id"]]: row for row in parsed.pages.iter_rows(named=True)}


@pytest.fixture(scope="module")
def articles(parsed, names) -> dict[str, dict]:
    return {names[row["page_id"]]: row for row in parsed.articles.iter_rows(named=True)}


@pytest.fixture(scope="module")
def weather(parsed, names) -> dict[str, list[dict]]:
    """file name -> its widget readings in page order."""
    rows: dict[str, list[dict]] = {}
    for row in parsed.weather.sort("page_id", "position").iter_rows(named=True):
        rows.setdefault(names[row["page_id"]], []).append(row)
    return rows


def readings(rows: list[dict]) -> list[tuple]:
    return [(r["condition"], r["city"], r["temperature_c"]) for r in rows]


def test_every_page_is_in_the_ledger_once_with_a_reason(parsed):
    files = sorted(p.name for p in PAGES.iterdir() if p.is_file())
    listed = sorted(Path(s).name for s in parsed.pages["source"])
    assert listed == files
    assert all(reason for reason in parsed.pages["reason"])


@by_name(list(EXPECTED))
def test_status(ledger, name):
    assert ledger[name]["status"] == EXPECTED[name]["status"]


@by_name(ARTICLES)
def test_header(articles, name):
    article = articles[name]
    got = {
        "section": article["section"],
        "subsection": article["subsection"],
        "title": article["title"],
        "registered_at": seoul_minute(article["registered_at"]),
        "updated_at": seoul_minute(article["updated_at"]),
    }
    assert got == {field: EXPECTED[name][field] for field in HEADER_FIELDS}


@by_name(ARTICLES)
def test_reporters_and_emails(articles, name):
    reporters = articles[name]["reporters"]
    assert [r["name"] for r in reporters] == EXPECTED[name]["reporters"]
    assert [r["email"] for r in reporters if r["email"]] == EXPECTED[name]["emails"]


@by_name(ARTICLES)
def test_subtitles(articles, name):
    assert articles[name]["subtitles"] == EXPECTED[name]["subtitles"]


@by_name(ARTICLES)
def test_captions(articles, name):
    assert articles[name]["captions"] == EXPECTED[name]["captions"]


@by_name(ARTICLES)
def test_body(articles, name):
    exp = EXPECTED[name]
    body = articles[name]["body"]
    assert len(body) == exp["body_count"]
    assert body[0] == exp["body_first"]
    assert body[-1] == exp["body_last"]
    not_body = [exp["title"], *exp["subtitles"], *(c["text"] for c in exp["captions"])]
    leaks = [p for p in body if p in FURNITURE_LINES or any(s in p for s in (*FURNITURE_TEXT, *not_body))]
    assert leaks == []


@by_name(WITH_WIDGET)
def test_capture_date_and_weather(articles, weather, name):
    exp = EXPECTED[name]
    rows = weather.get(name, [])
    assert readings(rows) == [tuple(r) for r in exp["weather"]]
    dates = {r["capture_date"] for r in rows}
    if name in articles:
        dates.add(articles[name]["capture_date"])
    assert {d.isoformat() for d in dates} == {exp["capture_date"]}


def test_truncated_page_keeps_its_widget(weather):
    capture_date, expected_readings = widget_in_file(TRUNCATED)
    rows = weather.get(TRUNCATED, [])
    assert len(expected_readings) == 3
    assert readings(rows) == expected_readings
    assert {r["capture_date"] for r in rows} == {capture_date}


def test_lossy_mojibake_is_repaired_as_far_as_it_goes_and_flagged(parsed, articles):
    page = parsed.pages.filter(pl.col("source").str.ends_with("20_mojibake_lossy.txt")).row(0, named=True)
    assert page["status"] == "article" and page["encoding"] == "cp949"
    assert "CP949 mojibake repaired with losses" in page["reason"]
    article = articles["20_mojibake_lossy.txt"]
    assert article["title"].startswith("한빛카드 간편결제 가입자 500만명 돌파")
    assert (article["section"], [r["name"] for r in article["reporters"]], article["paragraph_count"]) == (
        "경제",
        ["노가윤"],
        3,
    )
    assert any("\ufffd" in p for p in article["body"])  # the lost bytes stay visible, never silently guessed

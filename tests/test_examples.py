"""What `newsflow extract --json` makes of each bundled example page, checked against examples/expected.json."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from newsflow.cli import app

EXAMPLES = Path(__file__).parents[1] / "examples"
PAGES = EXAMPLES / "pages"
EXPECTED: dict[str, dict] = json.loads((EXAMPLES / "expected.json").read_text(encoding="utf-8"))
SEOUL = ZoneInfo("Asia/Seoul")

# pages whose every field is known (a page repaired with losses only states what survives)
ARTICLES = [name for name, exp in EXPECTED.items() if exp["status"] == "article" and "body_first" in exp]
WITH_WIDGET = [name for name, exp in EXPECTED.items() if "weather" in exp]
TRUNCATED = "11_truncated.txt"
HEADER_FIELDS = ("section", "subsection", "title", "registered_at", "approved_at", "updated_at")
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


TIMES = ("registered_at", "approved_at", "updated_at")


def typed(row: dict) -> dict:
    """A JSON record's times and dates back as Python objects."""
    row = dict(row)
    for field in TIMES:
        if row.get(field):
            row[field] = datetime.fromisoformat(row[field])
    if row.get("capture_date"):
        row["capture_date"] = date.fromisoformat(row["capture_date"])
    return row


@pytest.fixture(scope="module")
def records() -> dict[str, dict]:
    """file name -> what `newsflow extract --json` prints for it, all pages in one call (duplicates need both)."""
    paths = sorted(str(p) for p in PAGES.iterdir() if p.is_file())
    result = CliRunner().invoke(app, ["extract", *paths, "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    found = [json.loads(line) for line in result.output.splitlines()]
    assert sorted(Path(r["page"]["source"]).name for r in found) == sorted(Path(p).name for p in paths)
    return {Path(r["page"]["source"]).name: r for r in found}


@pytest.fixture(scope="module")
def ledger(records) -> dict[str, dict]:
    return {name: r["page"] for name, r in records.items()}


@pytest.fixture(scope="module")
def articles(records) -> dict[str, dict]:
    return {name: typed(r["article"]) for name, r in records.items() if r["article"]}


@pytest.fixture(scope="module")
def weather(records) -> dict[str, list[dict]]:
    """file name -> its widget readings in page order."""
    return {name: [typed(w) for w in r["weather"]] for name, r in records.items() if r["weather"]}


def readings(rows: list[dict]) -> list[tuple]:
    return [(r["condition"], r["city"], r["temperature_c"]) for r in rows]


def test_every_page_is_in_the_ledger_once_with_a_reason(ledger):
    files = sorted(p.name for p in PAGES.iterdir() if p.is_file())
    listed = sorted(ledger)
    assert listed == files
    assert all(page["reason"] for page in ledger.values())


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
        "approved_at": seoul_minute(article["approved_at"]),
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


def test_lossy_mojibake_is_repaired_as_far_as_it_goes_and_flagged(ledger, articles):
    page = ledger["20_mojibake_lossy.txt"]
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

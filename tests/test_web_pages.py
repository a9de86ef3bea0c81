"""Pages in the shapes real outlets publish that no layout profile of ours was written for: every field comes from
the metadata first and the visible text second, and no article is dropped for a missing field.

The pages (tests/fixtures/web/*.html) are our own writing; expected.json says what each must give."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsflow.drafting.rules import load_rules
from newsflow.sources.pages import read_pages
from newsflow.transforms.pages import parse_pages

WEB = Path(__file__).parent / "fixtures" / "web"
EXPECTED: dict[str, dict[str, Any]] = json.loads((WEB / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def parsed() -> dict[str, dict[str, Any]]:
    """File name -> {"page": ledger row, "article": article row or None}, all pages parsed in one batch."""
    result = parse_pages(read_pages([str(WEB / name) for name in EXPECTED]), load_rules())
    articles = {row["page_id"]: row for row in result.articles.to_dicts()}
    return {
        Path(page["source"]).name: {"page": page, "article": articles.get(page["page_id"])}
        for page in result.pages.to_dicts()
    }


def _minute(stamp: Any) -> str | None:
    return stamp.strftime("%Y-%m-%d %H:%M") if stamp else None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_status(parsed, name):
    expected, got = EXPECTED[name], parsed[name]
    assert got["page"]["status"] == expected["status"], got["page"]["reason"]


ARTICLES = sorted(name for name, e in EXPECTED.items() if e["status"] == "article")


@pytest.mark.parametrize("name", ARTICLES)
def test_title_and_times(parsed, name):
    expected, article = EXPECTED[name], parsed[name]["article"]
    assert article["title"] == expected["title"]
    assert _minute(article["registered_at"]) == expected["registered_at"]
    assert _minute(article["updated_at"]) == expected["updated_at"]
    if article["registered_at"] is not None:
        assert str(article["registered_at"].tzinfo) == "Asia/Seoul"


@pytest.mark.parametrize("name", ARTICLES)
def test_reporters(parsed, name):
    expected, article = EXPECTED[name], parsed[name]["article"]
    assert [r["name"] for r in article["reporters"]] == expected["reporters"]
    assert [r["email"] for r in article["reporters"]] == expected["emails"]


@pytest.mark.parametrize("name", ARTICLES)
def test_site_and_section(parsed, name):
    expected, article = EXPECTED[name], parsed[name]["article"]
    assert (article["site"], article["site_name"], article["section"]) == (
        expected["site"],
        expected["site_name"],
        expected["section"],
    )


@pytest.mark.parametrize("name", ARTICLES)
def test_body(parsed, name):
    expected, body = EXPECTED[name], parsed[name]["article"]["body"]
    assert body[0] == expected["body_first"]
    assert body[-1] == expected["body_last"]
    text = "\n".join(body)
    for furniture in expected.get("body_excludes", []):
        assert furniture not in text
    for paragraph in expected.get("body_once", []):
        assert body.count(paragraph) == 1, paragraph
    assert len(body) == len(set(body)), "a paragraph twice"


def test_a_missing_field_is_null_with_a_note_on_the_page(parsed):
    """An article without a time, byline or section lands with the field empty and the page's reason saying so."""
    missing = {name: e for name, e in EXPECTED.items() if e["status"] == "article" and e["registered_at"] is None}
    assert missing, "the fixtures hold an article without any time"
    for name in missing:
        page, article = parsed[name]["page"], parsed[name]["article"]
        assert article["registered_at"] is None
        assert "no registration time found, left null" in page["reason"]
    for name, expected in EXPECTED.items():
        if expected["status"] == "article" and not expected["reporters"]:
            assert "no byline found" in parsed[name]["page"]["reason"]
        if expected["status"] == "article" and expected["section"] is None:
            assert "no section found" in parsed[name]["page"]["reason"]

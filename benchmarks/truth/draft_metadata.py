"""Drafting aid for benchmarks/truth/extraction-metadata.json: what a benchmark page states about its headline,
publication time and authors, gathered from every place it says so, for a person to check against the page.

    .venv/bin/python benchmarks/truth/draft_metadata.py [--data PATH] [--ids ID_PREFIX ...] > review.txt

For each page it prints the <h1> texts, the <title>, JSON-LD (headline, datePublished, dateModified, author),
the date and author <meta> tags, the <time> elements, and the visible text (resiliparse, as a browser lays it
out) around the first <h1>, where bylines and datelines usually are, plus visible lines anywhere on the page that
look like a byline or a dateline. It decides nothing: the truth file is written by hand from its output.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
from resiliparse.extract.html2text import extract_plain_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from extraction import default_data_dir, load_benchmark

DATE_META = re.compile(r"(publish|pub_?date|date|time|created|modified|updated|issued)", re.I)
AUTHOR_META = re.compile(r"(author|byl|creator|byline)", re.I)
LOOKS_DATED = re.compile(
    r"\b(19|20)\d\d\b.*\d{1,2}:\d\d|\d{1,2}:\d\d.*\b(19|20)\d\d\b|\b(updated|published|posted)\b|입력|등록|기사입력",
    re.I,
)
LOOKS_BYLINE = re.compile(r"^\s*(by|written by|von|por|di|oleh|автор)\b|기자|\bstaff writer\b", re.I)


def squash(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def json_ld_objects(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON object in the page's JSON-LD scripts, @graph and lists flattened."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content(), strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                stack.extend(v for k, v in item.items() if k == "@graph")


def ld_summary(tree: lxml.html.HtmlElement) -> list[str]:
    """One line per JSON-LD object that has a headline, a date or an author."""
    lines = []
    for item in json_ld_objects(tree):
        fields = {k: item.get(k) for k in ("@type", "headline", "datePublished", "dateModified", "author")}
        if any(fields[k] for k in ("headline", "datePublished", "author")):
            lines.append(json.dumps(fields, ensure_ascii=False)[:600])
    return lines


def meta_summary(tree: lxml.html.HtmlElement) -> list[str]:
    """Date and author <meta> tags, name=content."""
    lines = []
    for meta in tree.xpath("//meta[@content]"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if key and (DATE_META.search(key) or AUTHOR_META.search(key)) and not key.startswith("og:image"):
            lines.append(f"{key} = {squash(meta.get('content'))[:200]}")
    return lines


def time_elements(tree: lxml.html.HtmlElement) -> list[str]:
    return [f"<time datetime={t.get('datetime')!r}> {squash(t.text_content())[:80]}" for t in tree.xpath("//time")][:8]


def visible_window(text: str, h1: str, before: int = 3, after: int = 14) -> list[str]:
    """The visible lines around the first line that holds the h1 text (or its first 30 characters)."""
    lines = [squash(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    probe = h1[:30]
    at = next((i for i, line in enumerate(lines) if probe and probe in line), None)
    if at is None:
        return ["(h1 not found in the visible text)"]
    return [
        ("> " if i == at else "  ") + lines[i][:160] for i in range(max(0, at - before), min(len(lines), at + after))
    ]


def hints(text: str) -> list[str]:
    lines = [squash(line) for line in text.splitlines()]
    found = [
        line[:200]
        for line in lines
        if line and len(line) < 200 and (LOOKS_DATED.search(line) or LOOKS_BYLINE.search(line))
    ]
    return found[:14]


def review(page_id: str, url: str, html: str) -> str:
    """The review block of one page."""
    tree = lxml.html.fromstring(html)
    h1s = [squash(h.text_content()) for h in tree.xpath("//h1")]
    visible = extract_plain_text(html, main_content=False, alt_texts=False, noscript=False, comments=False)
    out = [f"=== {page_id} {url}", f"h1: {json.dumps(h1s, ensure_ascii=False)}"]
    out.append(f"title: {squash(tree.findtext('.//title'))}")
    out += [f"ld: {line}" for line in ld_summary(tree)]
    out += [f"meta: {line}" for line in meta_summary(tree)]
    out += [f"time: {line}" for line in time_elements(tree)]
    out += ["visible:", *visible_window(visible, h1s[0] if h1s else "")]
    out += [f"hint: {line}" for line in hints(visible)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--ids", nargs="*", default=None, help="only pages whose id starts with one of these")
    args = parser.parse_args(argv)
    for page in load_benchmark(args.data):
        if args.ids and not any(page.id.startswith(prefix) for prefix in args.ids):
            continue
        html = gzip.decompress(page.path.read_bytes()).decode("utf-8", errors="replace")
        print(review(page.id, page.url, html), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""HTML pages -> what the text parser needs: the visible text (for the layout rules and the weather widget) and
the page's own metadata (JSON-LD NewsArticle, meta tags), both read off one resiliparse (lexbor) parse; and, for
pages whose layout's rules do not give the body, the article body as trafilatura extracts it from its own lxml
tree."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import polars as pl
from lxml import html as lxml_html
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from transforms.articles import classify_by_layout
from transforms.layouts import Layout

HTML_START = r"(?is)^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<head|<meta|<body)"
ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting"}
# what a browser shows: list items with a `•` bullet (widget readings), figure captions but not images' alt texts
# (with alt texts off resiliparse drops whole <figure>s, so they are on and <img> is skipped), no <title>, no form
# fields (buttons), no <noscript>
_AS_SHOWN = {"preserve_formatting": True, "list_bullets": True, "alt_texts": True, "skip_elements": ["img", "title"]}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

HTML_FIELDS = pl.Struct(
    {
        "visible_text": pl.String,
        "meta_title": pl.String,
        "meta_published": pl.String,
        "meta_modified": pl.String,
        "meta_section": pl.String,
        "meta_authors": pl.List(pl.String),
        "meta_url": pl.String,
        "meta_is_article": pl.Boolean,
    }
)


def is_html(text: pl.Expr) -> pl.Expr:
    """True where the page text is HTML markup (by content, never by file name)."""
    return text.str.contains(HTML_START)


def visible_text(tree: HTMLTree) -> str:
    """The page (a resiliparse tree) as a browser shows it, one block per line (list items indented: the page's
    `clean_text` takes indentation off every line); list items keep a `•` bullet (widget readings); no control
    characters."""
    return _CONTROL.sub("", extract_plain_text(tree, **_AS_SHOWN))


@lru_cache(maxsize=1)
def _body_extractor() -> Any:
    """trafilatura's options, built once: building them per page reads its config file's settings each time."""
    from trafilatura.settings import Extractor

    return Extractor(output_format="python", fast=True, comments=False, tables=False, with_metadata=False)


def parse(document: str) -> Any:
    """The page's lxml tree, for the body extractor: as trafilatura parses it (its markup repairs; comments and
    processing instructions left out), or as a whole document where trafilatura takes the markup for a fragment;
    None when neither can parse it."""
    from trafilatura.utils import load_html

    tree = load_html(document)
    if tree is not None and tree.tag == "html":
        return tree
    try:
        return lxml_html.document_fromstring(document)
    except (ValueError, lxml_html.etree.ParserError):
        return None


def body_paragraphs(tree: Any) -> list[str]:
    """The article body as trafilatura finds it, one paragraph per item (no comments, no tables). trafilatura
    prunes the tree it is given: read everything else off the tree first."""
    import trafilatura

    found = trafilatura.bare_extraction(tree, options=_body_extractor())
    text = getattr(found, "text", None) or ""
    return [line.strip() for line in text.split("\n") if line.strip()]


def _json_ld_articles(tree: HTMLTree) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for script in tree.document.query_selector_all('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        items = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        for item in items:
            kinds = item.get("@type") if isinstance(item, dict) else None
            kinds = set(kinds) if isinstance(kinds, list) else {kinds}
            if kinds & ARTICLE_TYPES:
                found.append(item)
    return found


def _authors(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    names = [v.get("name") if isinstance(v, dict) else v for v in values if v]
    return [n.strip() for n in names if isinstance(n, str) and n.strip()]


def metadata(tree: HTMLTree) -> dict[str, Any]:
    """The article's own statements about itself: JSON-LD NewsArticle first, then Open Graph / article meta."""
    document = tree.document

    def meta(*names: str) -> str | None:
        for name in names:
            hits = document.query_selector_all(f'meta[property="{name}"], meta[name="{name}"]')
            contents = [content for hit in hits if (content := hit.getattr("content")) is not None]
            if contents and contents[0].strip():
                return contents[0].strip()
        return None

    ld = next(iter(_json_ld_articles(tree)), {})
    links = document.query_selector_all('link[rel="canonical"]')
    canonical = [href for link in links if (href := link.getattr("href")) is not None]
    section = ld.get("articleSection")
    return {
        "meta_title": ld.get("headline") or meta("og:title", "twitter:title"),
        "meta_published": ld.get("datePublished") or meta("article:published_time", "pubdate", "date"),
        "meta_modified": ld.get("dateModified") or meta("article:modified_time", "og:updated_time"),
        "meta_section": (section[0] if isinstance(section, list) and section else section) or meta("article:section"),
        "meta_authors": _authors(ld.get("author")) or _authors(meta("article:author", "author")),
        "meta_url": ld.get("url") or meta("og:url") or (canonical[0] if canonical else None),
        "meta_is_article": bool(ld) or meta("og:type") == "article",
    }


def html_fields(document: str) -> dict[str, Any]:
    """The visible text and the metadata of one HTML page (see HTML_FIELDS), read off one parse (lexbor's, which
    takes any markup: a fragment is read as a document's body)."""
    tree = HTMLTree.parse(document)
    return {"visible_text": visible_text(tree), **metadata(tree)}


def extracted_body(document: str) -> list[str]:
    """The article body of one HTML page as trafilatura extracts it (see body_paragraphs); [] when the page
    cannot be parsed. The page is parsed again: the extractor runs only on the pages that need it."""
    tree = parse(document)
    return [] if tree is None else body_paragraphs(tree)


def html_pages(pages: pl.DataFrame) -> pl.DataFrame:
    """page_id, html (the document) and the HTML_FIELDS columns for the pages (page_id, text) whose text is
    HTML. One Python call per HTML page: the HTML parsers work on documents, not on columns."""
    found = pages.filter(is_html(pl.col("text"))).select(
        "page_id", html="text", fields=pl.col("text").map_elements(html_fields, return_dtype=HTML_FIELDS)
    )
    if not found.height:
        return pl.DataFrame(schema={"page_id": pl.String, "html": pl.String, **HTML_FIELDS.to_schema()})
    return found.unnest("fields")


def html_bodies(html: pl.DataFrame, layouts: Sequence[Layout], header: pl.DataFrame | None = None) -> pl.DataFrame:
    """page_id -> body: the extractor's paragraphs with the layout's rules applied on top (captions, bylines,
    page furniture and everything from a copyright footer on dropped; a byline prefix cut off a paragraph).

    html: page_id, layout, html_body (list of paragraphs), title (may be null: a paragraph equal to it is dropped).
    header: page_id, line: the visible lines down to the article header; the extractor sometimes starts above
    the article (capture date, section, time lines) and those lines are dropped.
    """
    lines = (
        html.select("page_id", "layout", "title", line=pl.col("html_body"))
        .explode("line")
        .drop_nulls("line")
        .with_columns(line_no=pl.int_range(pl.len(), dtype=pl.Int32).over("page_id"))
    )
    classified = classify_by_layout(lines, layouts)
    if classified is None:
        return pl.DataFrame(schema={"page_id": pl.String, "body": pl.List(pl.String)})
    classified = classified.sort("page_id", "line_no")
    if header is not None:
        classified = classified.join(header.select("page_id", "line").unique(), on=["page_id", "line"], how="anti")
    ended = (pl.col("is_end").cum_sum().over("page_id")) > 0
    byline_only = pl.col("byline_names").is_not_null() & (pl.col("byline_rest").fill_null("") == "")
    is_caption = pl.col("caption_text").is_not_null() | pl.col("caption_credit").is_not_null()
    caption_only = is_caption & (pl.col("caption_rest").fill_null("") == "")
    keep = (
        ~ended
        & ~pl.col("is_furniture")
        & ~caption_only
        & ~byline_only
        & ~pl.col("is_registered")
        & pl.col("updated_at").is_null()
        & (pl.col("line") != pl.col("title").fill_null(""))
    )
    return (
        html.select("page_id")
        .join(
            classified.filter(keep)
            .group_by("page_id", maintain_order=True)
            .agg(
                body=pl.coalesce(
                    pl.col("byline_rest").replace("", None), pl.col("caption_rest").replace("", None), "line"
                )
            ),
            on="page_id",
            how="left",
        )
        .with_columns(pl.col("body").fill_null([]))
    )

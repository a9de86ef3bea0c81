"""Raw pages (decoded text) -> ledger rows, articles and weather readings: the parse stage, pure."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from newsflow.schema import ARTICLES, PAGES, WEATHER_SNAPSHOTS
from transforms.articles import parse_articles
from transforms.layouts import Layout, layout_of_pages
from transforms.lines import clean_text, page_lines
from transforms.weather import capture_dates, weather_readings


@dataclass(frozen=True)
class Parsed:
    """What the parse stage makes of a batch of pages (run_id and timestamps are added when landing)."""

    pages: pl.DataFrame
    articles: pl.DataFrame
    weather: pl.DataFrame


def short_hash(values: pl.Expr) -> pl.Expr:
    """16 hex digits of SHA-256 of each string: ids stable across runs, machines and library versions."""
    return values.map_batches(
        lambda s: pl.Series([None if v is None else hashlib.sha256(v.encode()).hexdigest()[:16] for v in s]),
        return_dtype=pl.String,
    )


def article_ids(articles: pl.DataFrame) -> pl.Expr:
    """Stable article id: the site with the URL when known, else with the title and registration time."""
    identity = pl.coalesce(
        pl.concat_str([pl.col("site"), pl.col("url")], separator="|"),
        pl.concat_str(
            [pl.col("site"), pl.col("title"), pl.col("registered_at").dt.strftime("%Y-%m-%dT%H:%M%z")],
            separator="|",
            ignore_nulls=True,
        ),
    )
    return short_hash(identity)


def _first_seen(key: str) -> pl.Expr:
    """The page_id that first had this key: an earlier run's (column known_<key>_page) or an earlier page here."""
    earlier_here = pl.col("page_id").first().over(key, order_by="source")
    return pl.coalesce(pl.col(f"known_{key}_page"), earlier_here)


def parse_pages(raw: pl.DataFrame, layouts: Sequence[Layout], known: pl.DataFrame | None = None) -> Parsed:
    """Parse a batch of raw pages.

    raw: page_id, content_hash, source, size_bytes, encoding, text (null when the bytes could not be read as
    text), read_reason (why not) and read_error (the file itself could not be read).
    known: page_id, content_hash, article_id of pages already in the warehouse, so a page or article seen in an
    earlier run becomes a duplicate, not a second row.
    """
    known = (
        known
        if known is not None
        else pl.DataFrame(schema={"page_id": pl.String, "content_hash": pl.String, "article_id": pl.String})
    )
    if "read_error" not in raw.columns:
        raw = raw.with_columns(read_error=pl.lit(False))
    pages = raw.with_columns(text=clean_text(pl.col("text")))
    pages = pages.with_columns(
        layout=pl.when(pl.col("text").is_not_null()).then(layout_of_pages(pl.col("text"), layouts))
    )
    readable = pages.filter(pl.col("text").is_not_null())
    lines = page_lines(readable).join(readable.select("page_id", "layout"), on="page_id")
    articles = parse_articles(lines, layouts)
    if articles.is_empty():
        articles = (
            ARTICLES.empty()
            .drop("run_id", "article_id", "capture_date")
            .with_columns(header_line=pl.lit(None, pl.Int32))
        )
    dates = capture_dates(lines)
    articles = articles.join(dates, on="page_id", how="left").with_columns(url=pl.lit(None, pl.String))
    articles = articles.with_columns(article_id=article_ids(articles))

    known_hash = known.select("content_hash", known_content_hash_page="page_id").unique("content_hash")
    known_article = known.drop_nulls("article_id").select(article_key="article_id", known_article_key_page="page_id")
    complete = (pl.col("title").fill_null("") != "") & (pl.col("paragraph_count").fill_null(0) > 0)
    ledger = (
        pages.join(articles.select("page_id", "article_id", "title", "paragraph_count"), on="page_id", how="left")
        # only complete articles count as the original of a duplicate: a truncated copy never hides the full one
        .with_columns(article_key=pl.when(complete).then("article_id"))
        .join(known_hash, on="content_hash", how="left")
        .join(known_article.unique("article_key"), on="article_key", how="left")
        .with_columns(
            hash_first=_first_seen("content_hash"),
            article_first=pl.when(pl.col("article_key").is_not_null()).then(_first_seen("article_key")),
        )
        .with_columns(_status_and_reason())
        .unnest("outcome")
    )
    ok_articles = ledger.filter(pl.col("status") == "article").select("page_id")
    kept_weather = ledger.filter(pl.col("status").is_in(["article", "not_article", "rejected"])).select("page_id")
    header = articles.select("page_id", line_no="header_line")
    weather = (
        weather_readings(lines.join(kept_weather, on="page_id"), before_line=header)
        .join(dates, on="page_id", how="left")
        .join(pages.select("page_id", "layout"), on="page_id", how="left")
        .join(articles.select("page_id", "site"), on="page_id", how="left")
        .with_columns(site=pl.coalesce("site", "layout"))
    )
    return Parsed(
        pages=PAGES.conform(ledger).drop("run_id", "ingested_at"),
        articles=ARTICLES.conform(articles.join(ok_articles, on="page_id")).drop("run_id"),
        weather=WEATHER_SNAPSHOTS.conform(weather).drop("run_id"),
    )


def _status_and_reason() -> pl.Expr:
    """A struct (status, reason) per page, by the first rule that applies."""
    layout = pl.col("layout")

    def outcome(status: str, reason: pl.Expr | str) -> pl.Expr:
        reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
        return pl.struct(status=pl.lit(status), reason=reason_expr)

    return (
        pl.when(pl.col("read_error").fill_null(False))
        .then(outcome("error", pl.col("read_reason")))
        .when(pl.col("text").is_null())  # empty or binary: its own reason, even when another file is the same
        .then(outcome("rejected", pl.col("read_reason").fill_null("unreadable")))
        .when(pl.col("hash_first") != pl.col("page_id"))
        .then(outcome("duplicate", pl.format("same bytes as page {}", pl.col("hash_first"))))
        .when(pl.col("article_id").is_null())
        .then(outcome("not_article", pl.format("no article header (registration time) for layout {}", layout)))
        .when(pl.col("title").fill_null("") == "")
        .then(outcome("rejected", pl.format("article header without a title (layout {})", layout)))
        .when(pl.col("paragraph_count").fill_null(0) == 0)
        .then(outcome("rejected", pl.format("article header but no body paragraphs: truncated? (layout {})", layout)))
        .when(pl.col("article_first") != pl.col("page_id"))
        .then(outcome("duplicate", pl.format("same article as page {}", pl.col("article_first"))))
        .otherwise(outcome("article", pl.format("parsed with layout {}", layout)))
        .alias("outcome")
    )


def rejected_by_validation(pages: pl.DataFrame, quarantined_articles: pl.DataFrame) -> pl.DataFrame:
    """Ledger rows where a page whose article row went to quarantine becomes `rejected`, the reason naming the
    expectations it failed. quarantined_articles: quarantine rows of the articles table (row holds page_id)."""
    failed = quarantined_articles.select(
        page_id=pl.col("row").str.json_path_match("$.page_id"),
        why=pl.format("article row quarantined: {}", pl.col("failed_expectations").list.join(", ")),
    )
    return (
        pages.join(failed, on="page_id", how="left")
        .with_columns(
            status=pl.when(pl.col("why").is_not_null()).then(pl.lit("rejected")).otherwise("status"),
            reason=pl.coalesce("why", "reason"),
        )
        .drop("why")
    )

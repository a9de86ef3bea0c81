"""Raw pages (decoded text) -> ledger rows, articles and weather readings: the parse stage, pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import polars as pl
import polars.selectors as cs

from newsflow.core.constants import SEOUL
from newsflow.core.schema import ARTICLES, PAGES, WEATHER_SNAPSHOTS, UtcTimestamp, version_keys
from newsflow.transforms.articles import classify_by_layout, parse_articles
from newsflow.transforms.html import (
    BYLINES,
    byline_reporters,
    extracted_body,
    has_paragraphs,
    html_bodies,
    html_pages,
    is_crumb_root,
    is_real_body,
    valid_section,
)
from newsflow.transforms.layouts import Layout, layout_of_pages
from newsflow.transforms.lines import clean_text, page_lines
from newsflow.transforms.metadata import MIN_TITLE, guessed_time, registered_domain
from newsflow.transforms.timestamps import iso_groups, iso_timestamp, timestamp_from_groups
from newsflow.transforms.weather import capture_dates, weather_readings


@dataclass(frozen=True)
class ParseRules:
    """Everything parsing needs besides the pages, all of it data: layouts, the station table and the kinds of
    page that are not articles."""

    layouts: tuple[Layout, ...]
    stations: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"name": pl.String, "station": pl.String})
    )
    page_kinds: tuple[tuple[str, str], ...] = ()  # (kind, regex on the page text)

    @property
    def sites(self) -> dict[str, str]:
        """Layout name -> the site it stands for."""
        return {layout.name: layout.site for layout in self.layouts}


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


@dataclass(frozen=True)
class Draft:
    """A batch of pages parsed but not yet settled against the pages landed before it: every candidate article
    and reading, whatever the page's status will be. What `settle` needs, and nothing bulky (no page text)."""

    pages: pl.DataFrame  # ledger inputs: raw columns less text, has_text, layout, is_html, page_kind
    articles: pl.DataFrame  # candidate articles, with article_id and the header's registered_line
    weather: pl.DataFrame  # readings of every readable page


def parse_pages(raw: pl.DataFrame, rules: ParseRules, known: pl.DataFrame | None = None) -> Parsed:
    """Parse a batch of raw pages: `settle(draft(raw, rules), known)`.

    raw: page_id, content_hash, source, size_bytes, encoding, text (null when the bytes could not be read as
    text), read_reason (why not, or a note on how the text was recovered), read_error (the file itself
    could not be read), url and captured_at (where and when the page was captured, when known: WARC records,
    fetched URLs). An article without a canonical URL of its own takes the page's url; articles and weather
    readings take the Korea-time date of captured_at as capture date, else the page header's.
    known: page_id, content_hash, article_id and version_key of pages already in the warehouse, so a page or an
    article version seen in an earlier run becomes a duplicate, not a second row, while a later version of a
    known article lands (its reason says so).
    """
    return settle(draft(raw, rules), known)


def draft(raw: pl.DataFrame, rules: ParseRules) -> Draft:
    """The expensive, order-free part of parsing: page text to candidate articles and readings. It does not
    depend on what landed before, so batches can be drafted anywhere, in any order, and settled in order."""
    pages = _readable_pages(raw, rules)
    readable = pages.filter(pl.col("text").is_not_null())
    lines = page_lines(readable).join(readable.select("page_id", "layout"), on="page_id")
    dates = _capture_dates(pages, lines)
    articles = (
        _articles(lines, pages, rules)
        .join(dates, on="page_id", how="left")
        .join(pages.select("page_id", page_url="url"), on="page_id", how="left")
        .with_columns(url=pl.coalesce("url", "page_url"))
        .drop("page_url")
    )
    articles = never_midnight(articles, readable).with_columns(
        site=_site(), site_name=pl.col("site_name").cast(pl.String)
    )
    articles = articles.with_columns(article_id=article_ids(articles))
    weather = (
        weather_readings(
            lines,
            before_line=articles.select("page_id", line_no="header_line").drop_nulls(),
            stations=rules.stations,
        )
        .join(dates, on="page_id", how="left")
        .join(pages.select("page_id", "layout"), on="page_id", how="left")
        .join(articles.select("page_id", "site"), on="page_id", how="left")
        .with_columns(site=pl.coalesce("site", pl.col("layout").replace_strict(rules.sites, default=None)))
    )
    raw_columns = [c for c in dict.fromkeys([*raw.columns, "read_error", "url", "captured_at"]) if c != "text"]
    ledger_inputs = pages.select(*raw_columns, "layout", "is_html", "page_kind", has_text=pl.col("text").is_not_null())
    return Draft(pages=ledger_inputs, articles=articles, weather=weather)


def settle(drafted: Draft, known: pl.DataFrame | None = None) -> Parsed:
    """Each page's status and reason against the pages landed before it (`known`, see parse_pages), and the
    articles and readings of the pages that keep them. Cheap: joins only."""
    known = known if known is not None else pl.DataFrame(schema=KNOWN_SCHEMA)
    ledger = _ledger(drafted.pages, drafted.articles, known)
    ok_articles = ledger.filter(pl.col("status") == "article").select("page_id")
    kept_weather = ledger.filter(pl.col("status").is_in(["article", "not_article", "rejected"])).select("page_id")
    return Parsed(
        pages=PAGES.conform(ledger).drop("run_id", "ingested_at"),
        articles=ARTICLES.conform(drafted.articles.join(ok_articles, on="page_id")).drop("run_id"),
        weather=WEATHER_SNAPSHOTS.conform(drafted.weather.join(kept_weather, on="page_id")).drop("run_id"),
    )


KNOWN_SCHEMA = {"page_id": pl.String, "content_hash": pl.String, "article_id": pl.String, "version_key": pl.String}


def _site() -> pl.Expr:
    """A stable key for the site: the registered domain of the article's URL (`kbs.co.kr`), else the layout's
    site, else the outlet's display name; `unknown` only when the page says none of these."""
    domain = pl.col("url").map_elements(registered_domain, return_dtype=pl.String)
    layout_site = pl.when(pl.col("site") != "unknown").then("site")
    return pl.coalesce(domain, layout_site, pl.col("site_name"), pl.lit("unknown"))


def _capture_dates(pages: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """page_id -> capture_date: the Korea-time date of the page's captured_at (a WARC date, a fetch time) when
    it has one, else the date its header line shows."""
    captured = pages.select(
        "page_id", captured=pl.col("captured_at").dt.convert_time_zone(SEOUL).dt.date()
    ).drop_nulls()
    return (
        capture_dates(lines)
        .join(captured, on="page_id", how="full", coalesce=True)
        .select("page_id", capture_date=pl.coalesce("captured", "capture_date"))
    )


def _readable_pages(raw: pl.DataFrame, rules: ParseRules) -> pl.DataFrame:
    """Raw pages with clean text (an HTML page's visible text), their HTML fields and their layout."""
    defaults = {"read_error": pl.lit(False), "url": pl.lit(None, pl.String), "captured_at": pl.lit(None, UtcTimestamp)}
    raw = raw.with_columns(**{name: value for name, value in defaults.items() if name not in raw.columns})
    pages = raw.with_columns(text=clean_text(pl.col("text")))
    html = html_pages(pages.filter(pl.col("text").is_not_null()).select("page_id", "text"))
    pages = pages.join(html, on="page_id", how="left").with_columns(
        is_html=pl.col("visible_text").is_not_null(),
        text=pl.coalesce(clean_text(pl.col("visible_text")), "text"),
    )
    return pages.with_columns(
        layout=pl.when(pl.col("text").is_not_null()).then(layout_of_pages(pl.col("text"), rules.layouts)),
        page_kind=_page_kind(pl.col("text"), rules.page_kinds),
    )


def _page_kind(text: pl.Expr, kinds: tuple[tuple[str, str], ...]) -> pl.Expr:
    """The first kind of non-article page whose pattern the text matches (null: none)."""
    expr: pl.Expr = pl.lit(None, pl.String)
    for kind, pattern in reversed(kinds):
        expr = pl.when(text.str.contains(pattern)).then(pl.lit(kind)).otherwise(expr)
    return expr


def html_article_bodies(raw: pl.DataFrame, rules: ParseRules) -> pl.DataFrame:
    """page_id -> body of every HTML page among `raw`, exactly as parse_pages would land it (whether or not the
    page turns out to be an article): what benchmarks/extraction.py scores."""
    pages = _readable_pages(raw, rules)
    readable = pages.filter(pl.col("text").is_not_null())
    lines = page_lines(readable).join(readable.select("page_id", "layout"), on="page_id")
    return _html_bodies(pages.filter("is_html"), lines, _text_articles(lines, rules), rules)


def _text_articles(lines: pl.DataFrame, rules: ParseRules) -> pl.DataFrame:
    articles = parse_articles(lines, rules.layouts)
    if articles.is_empty():
        return (
            ARTICLES.empty()
            .drop("run_id", "article_id", "capture_date")
            .with_columns(
                header_line=pl.lit(None, pl.Int32),
                registered_line=pl.lit(None, pl.String),
                registered_has_time=pl.lit(None, pl.Boolean),
            )
        )
    return articles


def _html_bodies(html: pl.DataFrame, lines: pl.DataFrame, articles: pl.DataFrame, rules: ParseRules) -> pl.DataFrame:
    """page_id -> body for HTML pages. Where the page's layout gives HTML bodies by its rules (`html_body =
    "layout"`) and they found one on the visible text, that body, as on a text page; elsewhere (unknown sites,
    or no body by the rules) the extractor's paragraphs less the visible header and the title."""
    by_rules = [layout.name for layout in rules.layouts if layout.html_body == "layout"]
    ruled = (
        html.filter(pl.col("layout").is_in(by_rules))
        .select("page_id")
        .join(articles.filter(pl.col("body").list.len() > 0).select("page_id", "body"), on="page_id")
        .with_columns(
            byline_reporters=pl.lit([], BYLINES),
            deck=pl.lit([], pl.List(pl.String)),
            lone_emails=pl.lit([], pl.List(pl.String)),
        )
    )
    extract = html.join(ruled, on="page_id", how="anti")
    if extract.is_empty():
        return ruled
    header = (
        lines.join(articles.select("page_id", "header_line"), on="page_id")
        .filter(pl.col("line_no") <= pl.col("header_line"))
        .with_columns(pl.col("line").str.replace(r"^(?:•\s*)+", ""))  # a menu's items, as the extractor gives them
    )
    titled = (
        extract.join(articles.select("page_id", "title"), on="page_id", how="left")
        .with_columns(extracted=pl.col("html").map_elements(extracted_body, return_dtype=pl.List(pl.String)))
        .select(
            "page_id",
            "layout",
            # a JS-rendered page's markup holds a placeholder: its article is the embedded one
            html_body=pl.when(~is_real_body(pl.col("extracted")) & is_real_body(pl.col("meta_body")))
            .then("meta_body")
            .otherwise("extracted"),
            titles=pl.concat_list(pl.col("meta_title").str.strip_chars(), pl.col("title")).list.drop_nulls(),
        )
    )
    return pl.concat([ruled, html_bodies(titled, rules.layouts, header)], how="diagonal_relaxed")


def _articles(lines: pl.DataFrame, pages: pl.DataFrame, rules: ParseRules) -> pl.DataFrame:
    """Article rows from the text layouts; for HTML pages the body comes from the extractor and the page's own
    metadata comes first (see _html_articles)."""
    articles = _text_articles(lines, rules)
    html = pages.filter("is_html")
    if html.is_empty():
        return articles.with_columns(
            url=pl.lit(None, pl.String), site_name=pl.lit(None, pl.String), section=valid_section(pl.col("section"))
        )
    return pl.concat(
        [
            articles.join(html.select("page_id"), on="page_id", how="anti").with_columns(
                site_name=pl.lit(None, pl.String), section=valid_section(pl.col("section"))
            ),
            _html_articles(lines, html, articles, rules),
        ],
        how="diagonal_relaxed",
    )


def _html_articles(lines: pl.DataFrame, html: pl.DataFrame, articles: pl.DataFrame, rules: ParseRules) -> pl.DataFrame:
    """Article rows of HTML pages (see _html_candidates for which pages are articles). Fields come from the
    metadata first (see html_fields and _metadata_first), the visible text confirming and completing them; a
    missing field stays null."""
    candidates = _html_candidates(html, articles)
    bodies = _html_bodies(html.join(candidates.select("page_id"), on="page_id", how="semi"), lines, articles, rules)
    bodies = bodies.join(_visible_bylines(lines, candidates, bodies, rules), on="page_id", how="left")
    merged = (
        candidates.join(html.select("page_id", "html", "layout", cs.starts_with("meta_")), on="page_id", how="left")
        .join(bodies.rename({"body": "html_clean_body"}), on="page_id", how="left")
        # an article by its look alone needs a body of real paragraphs: else it is some other page
        .filter(~pl.col("by_look") | is_real_body(pl.col("html_clean_body")))
        .with_columns(
            meta_published=iso_groups(pl.col("meta_published")), meta_modified=iso_groups(pl.col("meta_modified"))
        )
    )
    scratch = ("html", "html_clean_body", "by_look", "byline_reporters", "visible_bylines", "deck", "lone_emails")
    return (
        merged.with_columns(**_metadata_first(rules))
        .with_columns(
            paragraph_count=pl.col("body").list.len().cast(pl.Int32),
            char_count=pl.col("body").list.eval(pl.element().str.len_chars()).list.sum().cast(pl.Int32),
        )
        .pipe(_last_resort_times)
        .pipe(_reporter_emails)
        .drop(*scratch, cs.starts_with("meta_"))
    )


def _html_candidates(html: pl.DataFrame, articles: pl.DataFrame) -> pl.DataFrame:
    """The HTML pages that are articles by what they are, with by_look: their layout found an article header on
    their visible text, or their metadata says so (JSON-LD article, og:type article, an embedded article), or
    (by_look) with no kind of list page about them they have a headline and lines of paragraph length, to be
    confirmed by their body (is_real_body)."""
    by_text = articles.join(html.select("page_id"), on="page_id", how="semi")
    others = html.join(by_text.select("page_id"), on="page_id", how="anti")
    by_meta = others.filter(pl.col("meta_is_article") & pl.col("meta_title").is_not_null())
    by_look = others.join(by_meta.select("page_id"), on="page_id", how="anti").filter(
        pl.col("page_kind").is_null()
        & (pl.col("meta_title").str.len_chars() >= MIN_TITLE)  # a headline, not a section's name
        & has_paragraphs(pl.col("text"))
    )
    return pl.concat(
        [by_text, by_meta.select("page_id", by_look=pl.lit(False)), by_look.select("page_id", by_look=pl.lit(True))],
        how="diagonal_relaxed",
    ).with_columns(pl.col("by_look").fill_null(False))


def _metadata_first(rules: ParseRules) -> dict[str, pl.Expr]:
    """An HTML article's fields: the page's metadata first, then its visible text (the layout's columns), then
    the bylines among the body's and the page's lines."""
    crumbs = pl.col("meta_breadcrumb").list.eval(pl.element().filter(~is_crumb_root(pl.element()))).list.first()
    return {
        "site": pl.coalesce(pl.col("site"), pl.col("layout").replace_strict(rules.sites, default="unknown")),
        "title": pl.coalesce(
            pl.col("meta_title").str.strip_chars().replace("", None), pl.col("title").replace("", None)
        ),
        "body": pl.when(pl.col("html_clean_body").list.len() > 0).then("html_clean_body").otherwise("body"),
        **_registration_time(),
        "updated_at": pl.coalesce("updated_at", iso_timestamp(pl.col("meta_modified"))),
        "section": pl.coalesce(*(valid_section(c) for c in (pl.col("meta_section"), crumbs, pl.col("section")))),
        "url": pl.col("meta_url"),
        "site_name": pl.col("meta_site_name"),
        "reporters": pl.when(pl.col("reporters").list.len() > 0)
        .then("reporters")
        .when(pl.col("meta_authors").list.len() > 0)
        .then("meta_authors")
        .when(pl.col("byline_reporters").list.len() > 0)
        .then("byline_reporters")
        .otherwise(pl.col("visible_bylines").fill_null([])),
        "subtitles": pl.when(pl.col("subtitles").list.len() > 0).then("subtitles").otherwise("deck"),
        "captions": pl.col("captions").fill_null([]),
    }


def _visible_bylines(
    lines: pl.DataFrame, candidates: pl.DataFrame, bodies: pl.DataFrame, rules: ParseRules
) -> pl.DataFrame:
    """page_id -> visible_bylines: reporters of the byline lines of the visible text (the extractor leaves byline
    paragraphs out), for the pages whose layout and body gave none."""
    wanted = candidates.filter(pl.col("reporters").list.len().fill_null(0) == 0).join(
        bodies.filter(pl.col("byline_reporters").list.len() == 0), on="page_id", how="semi"
    )
    classified = classify_by_layout(lines.join(wanted.select("page_id"), on="page_id", how="semi"), rules.layouts)
    if classified is None:
        return pl.DataFrame(schema={"page_id": pl.String, "visible_bylines": BYLINES})
    return byline_reporters(classified).rename({"byline_reporters": "visible_bylines"})


def _reporter_emails(articles: pl.DataFrame) -> pl.DataFrame:
    """Reporters without an email take the one another source prints beside the same name (a byline, the
    metadata), and a lone reporter the one email printed alone on a line of the body."""
    reporters = (
        articles.select("page_id", "lone_emails", reporter="reporters")
        .with_row_index("row")
        .explode("reporter")
        .unnest("reporter")
        .with_columns(count=pl.len().over("row"))
    )
    bylines = pl.concat(
        [
            articles.select("page_id", byline=source).explode("byline").unnest("byline")
            for source in ("byline_reporters", "meta_authors", pl.col("visible_bylines").fill_null([]))
        ]
    )
    bylines = bylines.drop_nulls("email").unique(["page_id", "name"], keep="first", maintain_order=True)
    bylines = bylines.rename({"email": "byline_email"})
    lone = pl.when((pl.col("count") == 1) & (pl.col("lone_emails").list.len() == 1)).then(
        pl.col("lone_emails").list.first()
    )
    filled = (
        reporters.join(bylines, on=["page_id", "name"], how="left")
        .with_columns(email=pl.coalesce("email", "byline_email", lone))
        .group_by("row", maintain_order=True)
        .agg(reporters=pl.struct("name", "email").filter(pl.col("name").is_not_null()))
    )
    joined = articles.with_row_index("row").drop("reporters").join(filled, on="row", how="left").drop("row")
    return joined.with_columns(pl.col("reporters").fill_null([]))


def _last_resort_times(articles: pl.DataFrame) -> pl.DataFrame:
    """registered_at from htmldate where neither the visible text nor the metadata gave one: only those pages pay
    for it. The page's reason says where the time came from."""
    missing = articles.filter(pl.col("registered_at").is_null())
    if missing.is_empty():
        return articles.with_columns(time_guessed=pl.lit(False))
    guessed = missing.select(
        "page_id", guess=iso_groups(pl.col("html").map_elements(guessed_time, return_dtype=pl.String))
    ).select(
        "page_id", guess=iso_timestamp(pl.col("guess")), guess_has_time=pl.col("guess").struct.field("H").is_not_null()
    )
    return (
        articles.join(guessed, on="page_id", how="left")
        .with_columns(
            time_guessed=pl.col("guess").is_not_null(),
            registered_at=pl.coalesce("registered_at", "guess"),
            registered_has_time=pl.coalesce("registered_has_time", "guess_has_time"),
        )
        .drop("guess", "guess_has_time")
    )


def _registration_time() -> dict[str, pl.Expr]:
    """registered_at and registered_has_time (whether its source gave a time of day): the visible registration
    time first; the metadata's where the page shows none, or shows only a date the metadata gives a time for."""
    meta = iso_timestamp(pl.col("meta_published"))
    meta_has_time = pl.col("meta_published").struct.field("H").is_not_null()
    visible = pl.col("registered_at")
    date_only = ~pl.col("registered_has_time").fill_null(True)
    better = meta.is_not_null() & meta_has_time & date_only & (meta.dt.date() == visible.dt.date())
    use_meta = visible.is_null() | better
    return {
        "registered_at": pl.when(use_meta).then(meta).otherwise(visible),
        "registered_has_time": pl.when(use_meta).then(meta_has_time).otherwise(pl.col("registered_has_time")),
    }


DATE_TIME = (
    r"(?P<y>\d{4})\s*[./-]\s*(?P<m>\d{1,2})\s*[./-]\s*(?P<d>\d{1,2})\.?\s*(?:\([^)\d]{1,3}\)\s*)?[\[(]?\s*"
    r"(?:(?P<ampm>오전|오후|AM|PM)\s*)?(?P<H>\d{1,2}):(?P<M>\d{2})"
)


def never_midnight(articles: pl.DataFrame, pages: pl.DataFrame) -> pl.DataFrame:
    """Articles whose registration time came as a date alone (midnight) take the first time of day their page
    prints on that same date (`2024.08.29 14:05` in a header the layout does not label): never midnight when
    the page has a time. pages: page_id, text."""
    dated = articles.filter(~pl.col("registered_has_time").fill_null(True) & pl.col("registered_at").is_not_null())
    if dated.is_empty():
        return articles
    found = (
        dated.select("page_id", "registered_at")
        .join(pages.select("page_id", stamp=pl.col("text").str.extract_all(DATE_TIME)), on="page_id")
        .explode("stamp")
        .with_columns(stamp=timestamp_from_groups(pl.col("stamp").str.extract_groups(DATE_TIME)))
        .filter(pl.col("stamp").dt.date() == pl.col("registered_at").dt.date())
        .group_by("page_id", maintain_order=True)
        .agg(stamp=pl.col("stamp").first())
    )
    return (
        articles.join(found, on="page_id", how="left")
        .with_columns(
            registered_at=pl.coalesce("stamp", "registered_at"),
            registered_has_time=pl.col("registered_has_time") | pl.col("stamp").is_not_null(),
        )
        .drop("stamp")
    )


def _ledger(pages: pl.DataFrame, articles: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Pages with their status and reason."""
    known_hash = known.select("content_hash", known_content_hash_page="page_id").unique("content_hash")
    known_version = known.drop_nulls("version_key").select(article_key="version_key", known_article_key_page="page_id")
    known_articles = known.drop_nulls("article_id").select("article_id", known_before=pl.lit(True)).unique()
    complete = (pl.col("title").fill_null("") != "") & (pl.col("paragraph_count").fill_null(0) > 0)
    heads = articles.select(
        "page_id", "article_id", "title", "paragraph_count", "registered_at", "registered_line", "section",
        time_guessed=pl.col("time_guessed").fill_null(False) if "time_guessed" in articles.columns else pl.lit(False),
        bylined=pl.col("reporters").list.len() > 0, version_key=version_keys(),
    )  # fmt: skip
    return (
        pages.join(heads, on="page_id", how="left")
        # only complete articles count as the original of a duplicate: a truncated copy never hides the full one
        .with_columns(article_key=pl.when(complete).then("version_key"))
        .join(known_hash, on="content_hash", how="left")
        .join(known_version.unique("article_key"), on="article_key", how="left")
        .join(known_articles, on="article_id", how="left")
        .with_columns(
            hash_first=_first_seen("content_hash"),
            article_first=pl.when(pl.col("article_key").is_not_null()).then(_first_seen("article_key")),
        )
        .with_columns(_status_and_reason())
        .unnest("outcome")
    )


def _missing_field_notes() -> list[pl.Expr]:
    """Notes for an article that lands without a field it should have (each also counted by a warning
    expectation), and for a time only htmldate found."""
    article = pl.col("article_id").is_not_null()
    no_time = pl.col("registered_at").is_null() & pl.col("registered_line").is_null()
    return [
        pl.when(article & no_time).then(pl.lit("no registration time found, left null")),
        pl.when(article & pl.col("time_guessed")).then(pl.lit("registration time guessed by htmldate")),
        pl.when(article & ~pl.col("bylined")).then(pl.lit("no byline found")),
        pl.when(article & pl.col("section").is_null()).then(pl.lit("no section found")),
    ]


def _status_and_reason() -> pl.Expr:
    """A struct (status, reason) per page, by the first rule that applies; notes on recovered text and
    unreadable times are appended to the reason."""
    layout = pl.format(
        "layout {}{}", pl.col("layout"), pl.when(pl.col("is_html")).then(pl.lit(", HTML")).otherwise(pl.lit(""))
    )
    notes = pl.concat_str(
        [
            pl.when(pl.col("has_text")).then(pl.col("read_reason")),
            pl.when(pl.col("registered_at").is_null() & pl.col("registered_line").is_not_null()).then(
                pl.format("time not understood, left null: '{}'", pl.col("registered_line"))
            ),
            *_missing_field_notes(),
        ],
        separator="; ",
        ignore_nulls=True,
    )

    def outcome(status: str, reason: pl.Expr | str) -> pl.Expr:
        reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
        noted = pl.when(notes != "").then(pl.concat_str([reason_expr, notes], separator="; ")).otherwise(reason_expr)
        return pl.struct(status=pl.lit(status), reason=noted)

    not_article = pl.coalesce(
        pl.format("not an article: {}", pl.col("page_kind")),
        pl.when(pl.col("is_html"))
        .then(pl.format("no article header, article metadata or body of paragraphs ({})", layout))
        .otherwise(pl.format("no article header (registration time) for {}", layout)),
    )
    return (
        pl.when(pl.col("read_error").fill_null(False))
        .then(outcome("error", pl.col("read_reason")))
        .when(~pl.col("has_text"))  # empty or binary: its own reason, even when another file is the same
        .then(outcome("rejected", pl.col("read_reason").fill_null("unreadable")))
        .when(pl.col("hash_first") != pl.col("page_id"))
        .then(outcome("duplicate", pl.format("same bytes as page {}", pl.col("hash_first"))))
        .when(pl.col("article_id").is_null())
        .then(outcome("not_article", not_article))
        .when(pl.col("title").fill_null("") == "")
        .then(outcome("rejected", pl.format("article header without a title ({})", layout)))
        .when(pl.col("paragraph_count").fill_null(0) == 0)
        .then(outcome("rejected", pl.format("article header but no body paragraphs: truncated? ({})", layout)))
        .when(pl.col("article_first") != pl.col("page_id"))
        .then(outcome("duplicate", pl.format("same article as page {}", pl.col("article_first"))))
        .when(pl.col("known_before").fill_null(False))
        .then(outcome("article", pl.format("parsed with {}; a new version of an article already landed", layout)))
        .otherwise(outcome("article", pl.format("parsed with {}", layout)))
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

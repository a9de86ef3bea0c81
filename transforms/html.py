"""HTML pages -> what the text parser needs: the visible text (for the layout rules and the weather widget) and
the page's own metadata (JSON-LD NewsArticle, meta tags), both read off one resiliparse (lexbor) parse; and, for
pages whose layout's rules do not give the body, the article body as trafilatura extracts it from its own lxml
tree."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import polars as pl
from lxml import html as lxml_html
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from newsflow.core.schema import Reporter
from newsflow.transforms.articles import bylined_reporters, classify_by_layout
from newsflow.transforms.embedded import MARKERS, embedded_article
from newsflow.transforms.layouts import Layout
from newsflow.transforms.metadata import page_metadata

# HTML by its content, as browsers sniff it (WHATWG MIME sniffing): after white space, byte-order marks, comments
# and an XML declaration, the page opens with one of the tags that only HTML opens with
HTML_START = (
    r"(?is)^[\s\ufeff]*(?:<!--.*?-->[\s\ufeff]*|<\?xml[^>]*>\s*)*"
    r"(?:<!doctype\s+html|<(?:html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p|meta|link)[\s>/])"
)
# what a browser shows: list items with a `•` bullet (widget readings), figure captions but not images' alt texts
# (with alt texts off resiliparse drops whole <figure>s, so they are on and <img> is skipped), no <title>, no form
# fields (buttons), no <noscript>
_AS_SHOWN = {"preserve_formatting": True, "list_bullets": True, "alt_texts": True, "skip_elements": ["img", "title"]}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

BYLINES = pl.List(Reporter)
BLOB_MARKERS = tuple(m for m in MARKERS if m != '"props"')  # __NEXT_DATA__ names the script of a bare JSON blob
EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
MIN_BODY, MENU_LINE, MENU_LINES = 250, 30, 10  # characters, characters, lines (see looks_like_a_menu)
LIST_ITEM = r"^[-•·*▶▷]\s"  # a line the extractor gives for a list item
HEADLINE_ITEM = 40  # characters of a list item that is a headline with its lead, as section pages list them
PARAGRAPH, MIN_ARTICLE = 50, 200  # characters: a Korean paragraph of 50 reads as one of 90 or more in English
BODY_PART_XPATH = "//div[contains(@class, 'body') or contains(@class, 'article-content')]"
BODY_PART_CHARS = 400  # characters a container of the story holds at least: less is a card or a teaser
TITLE_WITHIN = 20  # a headline among the extractor's first lines: what comes before it is the page's header
DECK_CHARS = 60  # a deck line is a short headline-like line; longer ones are paragraphs without a full stop
DECK_LINES = 3  # more lines before the first sentence: the body is a list, not a deck over paragraphs
HTML_FIELDS = pl.Struct(
    {
        "visible_text": pl.String,
        "meta_title": pl.String,
        "meta_published": pl.String,
        "meta_modified": pl.String,
        "meta_section": pl.String,
        "meta_breadcrumb": pl.List(pl.String),
        "meta_authors": pl.List(Reporter),
        "meta_url": pl.String,
        "meta_site_name": pl.String,
        "meta_is_article": pl.Boolean,
        "meta_body": pl.List(pl.String),
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


@lru_cache(maxsize=2)
def _body_extractor(fast: bool = True) -> Any:
    """trafilatura's options, built once: building them per page reads its config file's settings each time.
    fast: its own algorithm alone; else also its fallbacks (readability, jusText), which extract the page again."""
    from trafilatura.settings import Extractor

    return Extractor(output_format="python", fast=fast, comments=False, tables=False, with_metadata=False)


def parse(document: str) -> Any:
    """The page's lxml tree, for the body extractor: as trafilatura parses it (its markup repairs; comments and
    processing instructions left out), or as a whole document where trafilatura takes the markup for a fragment;
    None when neither can parse it."""
    from trafilatura.utils import load_html

    tree = load_html(document)
    if tree is None or tree.tag != "html":
        try:
            tree = lxml_html.document_fromstring(document)
        except (ValueError, lxml_html.etree.ParserError):
            return None
    return joined_body_parts(tree)


def joined_body_parts(tree: Any) -> Any:
    """The tree with an article body the page splits into several containers of one class (the story, an ad
    rail, the story again) joined into the first of them: the extractor keeps one container."""
    parts: dict[str, list[Any]] = {}
    for node in tree.xpath(BODY_PART_XPATH):
        if len(node.text_content()) >= BODY_PART_CHARS:
            parts.setdefault(node.get("class"), []).append(node)
    for first, *rest in (nodes for nodes in parts.values() if len(nodes) > 1):
        if any(first in node.iterancestors() or node in first.iterancestors() for node in rest):
            continue  # nested: one container, not parts
        for node in rest:
            first.extend(list(node))
            node.getparent().remove(node)
    return tree


def body_paragraphs(tree: Any, fast: bool = True) -> list[str]:
    """The article body as trafilatura finds it, one paragraph per item (no comments, no tables). trafilatura
    prunes the tree it is given: read everything else off the tree first."""
    import trafilatura

    found = trafilatura.bare_extraction(tree, options=_body_extractor(fast))
    text = getattr(found, "text", None) or ""
    return [line.strip() for line in text.split("\n") if line.strip()]


def looks_like_a_menu(paragraphs: list[str]) -> bool:
    """True where an extracted body reads as navigation, not an article: little text, or mostly short lines."""
    lengths = [len(p) for p in paragraphs]
    short = sum(n < MENU_LINE for n in lengths)
    return sum(lengths) < MIN_BODY or (len(lengths) >= MENU_LINES and short > len(lengths) / 2)


def html_fields(document: str) -> dict[str, Any]:
    """The visible text and the metadata of one HTML page (see HTML_FIELDS), read off one parse (lexbor's, which
    takes any markup: a fragment is read as a document's body)."""
    tree = HTMLTree.parse(document)
    blob = any(marker in document for marker in BLOB_MARKERS)  # a page without one has no script worth reading
    embedded = embedded_article([s.text for s in tree.document.query_selector_all("script").values()]) if blob else None
    return {"visible_text": visible_text(tree), **page_metadata(tree, embedded)}


def extracted_body(document: str) -> list[str]:
    """The article body of one HTML page as trafilatura extracts it (see body_paragraphs); [] when the page
    cannot be parsed. The page is parsed again: the extractor runs only on the pages that need it."""
    tree = parse(document)
    if tree is None:
        return []
    found = body_paragraphs(tree)
    if looks_like_a_menu(found) and (again := parse(document)) is not None:
        return body_paragraphs(again, fast=False)  # the fallbacks' turn, on the pages the fast path misreads
    return found


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
    """page_id -> body, byline_reporters: the extractor's paragraphs with the layout's rules applied on top
    (captions, bylines, page furniture and everything from a copyright footer on dropped; a byline prefix cut off a
    paragraph; a paragraph printed twice kept once), and the reporters {name, email} of the bylines among them.

    html: page_id, layout, html_body (list of paragraphs), titles (list: a paragraph equal to one is dropped).
    header: page_id, line: the visible lines down to the article header; the extractor sometimes starts above
    the article (capture date, section, time lines) and those lines are dropped.
    """
    lines = (
        html.select("page_id", "layout", "titles", line=pl.col("html_body"))
        .explode("line")
        .drop_nulls("line")
        .with_columns(line_no=pl.int_range(pl.len(), dtype=pl.Int32).over("page_id"))
    )
    classified = classify_by_layout(lines, layouts)
    if classified is None:
        return pl.DataFrame(
            schema={
                "page_id": pl.String, "body": pl.List(pl.String), "deck": pl.List(pl.String),
                "lone_emails": pl.List(pl.String), "byline_reporters": BYLINES,
            }
        )  # fmt: skip
    # the extractor sometimes starts above the article (a menu, the section): nothing above the headline is body
    title_at = pl.when(pl.col("titles").list.contains(pl.col("line"))).then(pl.col("line_no")).min().over("page_id")
    classified = classified.sort("page_id", "line_no").filter(
        pl.col("line_no") > pl.when(title_at < TITLE_WITHIN).then(title_at).otherwise(-1)
    )
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
        & ~pl.col("titles").list.contains(pl.col("line")).fill_null(False)
    )
    paragraph = pl.coalesce(pl.col("byline_rest").replace("", None), pl.col("caption_rest").replace("", None), "line")
    # up to DECK_LINES short lines above the first sentence are the deck (subtitles, a programme's name), not the body
    deck_like = ~is_sentence(pl.col("paragraph")) & (pl.col("paragraph").str.len_chars() <= DECK_CHARS)
    first_sentence = pl.when(~deck_like).then(pl.col("position")).min().over("page_id")
    kept = (
        classified.filter(keep)
        .with_columns(paragraph=paragraph)
        .unique(["page_id", "paragraph"], keep="first", maintain_order=True)
        .with_columns(position=pl.int_range(pl.len()).over("page_id"))
        .with_columns(in_deck=(pl.col("position") < first_sentence) & (first_sentence <= DECK_LINES))
    )
    listed = pl.col("paragraph").str.contains(LIST_ITEM)  # above the story: links to other stories, no deck
    parts = kept.group_by("page_id", maintain_order=True).agg(
        body=pl.col("paragraph").filter(~pl.col("in_deck")),
        deck=pl.col("paragraph").filter(pl.col("in_deck") & ~listed),
    )
    lone_emails = (
        classified.filter(~ended & pl.col("line").str.contains(f"^{EMAIL}$"))
        .group_by("page_id", maintain_order=True)
        .agg(lone_emails="line")
    )
    return (
        html.select("page_id")
        .join(parts, on="page_id", how="left")
        .join(byline_reporters(classified.filter(~ended)), on="page_id", how="left")
        .join(lone_emails, on="page_id", how="left")
        .with_columns(pl.col("body", "deck", "lone_emails").fill_null([]), pl.col("byline_reporters").fill_null([]))
    )


def is_sentence(line: pl.Expr) -> pl.Expr:
    """True where a line ends as a sentence does (a full stop, a quote, a Korean sentence ending), as a body
    paragraph does and a deck or a programme's name does not."""
    return line.str.contains(r"(?:[.!?。…\"”'’)\]]|[다요죠까음함임])\s*$")


def byline_reporters(classified: pl.DataFrame) -> pl.DataFrame:
    """page_id -> byline_reporters: the reporters of the byline lines among classified lines (see
    newsflow.transforms.articles.bylined_reporters)."""
    return bylined_reporters(classified).rename({"reporters": "byline_reporters"})


def has_paragraphs(text: pl.Expr) -> pl.Expr:
    """True where the visible text has at least two lines as long as a real paragraph (PARAGRAPH characters)."""
    return text.str.count_matches(rf"(?m)^[^\n]{{{PARAGRAPH},}}$") >= 2


def is_real_body(body: pl.Expr) -> pl.Expr:
    """True where a list of paragraphs reads as an article's body: MIN_ARTICLE characters or more, one paragraph
    of PARAGRAPH, and not mostly list items."""
    lengths = body.list.eval(pl.element().str.len_chars())
    item = pl.element().str.contains(LIST_ITEM) & (pl.element().str.len_chars() >= HEADLINE_ITEM)
    items = body.list.eval(item.cast(pl.Int32)).list.sum().fill_null(0)
    long_enough = (lengths.list.sum().fill_null(0) >= MIN_ARTICLE) & (lengths.list.max().fill_null(0) >= PARAGRAPH)
    return long_enough & (items * 2 <= body.list.len())  # a list of headlines with their leads: a section page


CRUMB_ROOTS = ("홈", "Home", "HOME", "home", "메인", "뉴스", "News", "NEWS", "전체", "전체기사")
NOT_SECTIONS = (
    "상세페이지",
    "본문 영역",
    "본문영역",
    "본문",
    "기사본문",
    "기사 본문",
    "기사보기",
    "뉴스홈",
    "기사",
    "뉴스",
)


def is_crumb_root(crumb: pl.Expr) -> pl.Expr:
    """A breadcrumb's root (홈, Home, 뉴스): where every path starts, no section."""
    return crumb.str.strip_chars().is_in(CRUMB_ROOTS)


def valid_section(section: pl.Expr) -> pl.Expr:
    """The section, or null where the value is no section: a screen-reader heading (상세페이지, 본문 영역), an
    English slug (`society`, `news_politics`), a brand before a word (`iMBC 연예`, `가람TV 연예`), too long."""
    value = section.str.strip_chars()
    slug = value.str.contains(r"^[a-z0-9_./-]+$")
    brand = value.str.contains(r"^\S*[A-Za-z]\S*\s+\S")
    no_word = ~value.str.contains(r"[가-힣A-Za-z]")  # a bullet, a separator
    bad = value.is_in(NOT_SECTIONS) | slug | brand | no_word | (value.str.len_chars() > 20)
    return pl.when(~bad).then(value)

"""The article of a JS-rendered news page, read from the state blob its <script> elements embed (Arc XP, Next.js,
window.__INITIAL_STATE__ and kin, Chartbeat's authors) where the markup's article body is empty.

Pure: texts in, a dict out, no IO. Scripts without one of the blob markers cost one substring scan each, since this
runs on every page. Bad input never raises: a blob that does not parse, or holds no article, counts as absent.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import chompjs

MARKERS = (
    "Fusion.globalContent",
    "__NEXT_DATA__",
    '"props"',
    "__INITIAL_STATE__",
    "__PRELOADED_STATE__",
    "__NUXT__",
    "_sf_async_config",
)
STATE_NAMES = ("__NEXT_DATA__", "__INITIAL_STATE__", "__PRELOADED_STATE__", "__NUXT__")
TITLE_KEYS = ("headline", "title", "subject", "articleTitle", "newsTitle")
BODY_KEYS = ("body", "content", "articleBody", "contents", "text", "html", "content_elements")
PUBLISHED_KEYS = (
    "datePublished",
    "publishedAt",
    "published_at",
    "firstPublishedAt",
    "first_publish_date",
    "publishDate",
    "publish_date",
    "regDate",
    "reg_date",
    "createdAt",
    "created_at",
    "display_date",
    "date",
)
MODIFIED_KEYS = ("dateModified", "updatedAt", "updated_at", "modifiedAt", "modDate", "last_updated_date")
AUTHOR_KEYS = ("author", "authors", "reporter", "reporters", "writer", "writers", "byline", "credits")
NAME_KEYS = ("name", "reporterName", "writerName")
EMAIL_KEYS = ("email", "mail", "reporterEmail", "writerEmail")
SECTION_KEYS = ("section", "sectionName", "section_name", "categoryName", "category", "articleSection")
KEPT_TYPES = frozenset({"text", "header", "paragraph", "p"})  # content elements of other types are media, ads, links
MISSING = frozenset({"", "undefined", "null", "void 0"})  # what chompjs makes of JS's empty values
MAX_DEPTH = 12
EPOCH = datetime(1970, 1, 1)  # naive: the ISO string gets a Z for UTC
MAX_NODES = 50_000

_ASSIGNMENT = {name: re.compile(rf"{name}\s*=\s*") for name in (*STATE_NAMES, r"Fusion\.globalContent")}
_NUXT_FUNCTION = re.compile(r"\(\s*function\s*\(([\w$,\s]*)\)\s*\{")
_CHARTBEAT_AUTHORS = re.compile(r"""(?:_sf_async_config\.authors\s*=|\bauthors\s*:)\s*(['"])(.*?)\1""", re.S)
_BLOCK_BREAK = re.compile(r"</?(?:p|div|h[1-6]|li|blockquote)\b[^>]*>|(?:<br\s*/?>\s*){2,}", re.I)
_INLINE_TAG = re.compile(
    r"</?(?:a|b|i|u|s|q|em|strong|span|font|mark|small|sub|sup|abbr|cite|code|strike)\b[^>]*>", re.I
)
_TAG = re.compile(r"<[^>]*>")
_FIGURE = re.compile(r"<(figure|figcaption)\b.*?</\1\s*>", re.I | re.S)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_SPACES = re.compile(r"\s+")
_DECODER = json.JSONDecoder()


def embedded_article(scripts: Sequence[str]) -> dict[str, Any] | None:
    """The article a JS-rendered page carries in an embedded state blob, from the texts of the page's <script>
    elements (in document order): {"title": str|None, "body": list[str] (paragraphs, plain text, HTML tags
    stripped and entities decoded), "published": str|None, "modified": str|None, "authors": list[str]};
    None when no script holds one. The first article with a body wins, else the first with a title; Chartbeat's
    authors fill in an article without any, or make one of their own (no title, empty body) when that is all."""
    found: list[dict[str, Any]] = []
    chartbeat: list[str] = []
    for text in scripts:
        if not isinstance(text, str) or not any(marker in text for marker in MARKERS):
            continue
        if article := _script_article(text):
            found.append(article)
        chartbeat = chartbeat or _chartbeat_authors(text)
    article = next((a for a in found if a["body"]), found[0] if found else None)
    if article is None:
        return _article(None, [], None, None, chartbeat) if chartbeat else None
    if not article["authors"]:
        article["authors"] = chartbeat
    return article


def _script_article(text: str) -> dict[str, Any] | None:
    """The article of one script's blob; None without one or when it does not parse."""
    try:
        if "Fusion.globalContent" in text:
            return _arc_article(_assigned_value(text, r"Fusion\.globalContent"))
        if text.lstrip().startswith("{") and '"props"' in text:  # <script id="__NEXT_DATA__"> holds bare JSON
            return _state_article(_json_object(text, text.find("{")))
        for name in STATE_NAMES:
            if name in text and (article := _state_article(_assigned_value(text, name))):
                return article
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, OverflowError):
        return None  # chompjs raises ValueError on most bad input; the rest guard the odd corner of the others
    return None


def _article(
    title: str | None,
    body: list[str],
    published: str | None,
    modified: str | None,
    authors: list[str],
    section: str | None = None,
) -> dict[str, Any]:
    return {
        "title": title, "body": body, "published": published, "modified": modified, "authors": authors,
        "section": section,
    }  # fmt: skip


def _section(node: dict[str, Any]) -> str | None:
    """The section a state names: Arc's taxonomy.primary_section.name, else a section-ish key's text (or name)."""
    taxonomy = node.get("taxonomy")
    primary = taxonomy.get("primary_section") if isinstance(taxonomy, dict) else None
    for value in (primary, *(node.get(key) for key in SECTION_KEYS)):
        value = value.get("name") if isinstance(value, dict) else value
        if isinstance(value, str) and (text := _plain(value)):
            return text
    return None


# ---- reading the blobs


def _assigned_value(text: str, name: str) -> Any:
    """The value a script assigns to NAME (`NAME = {...}`, `NAME = JSON.parse("...")`, Nuxt's IIFE); None if none."""
    match = _ASSIGNMENT[name].search(text)
    if match is None:
        return None
    start = match.end()
    if text.startswith("JSON.parse(", start):
        literal, _ = _DECODER.raw_decode(text, start + len("JSON.parse("))  # a double-quoted JS string is JSON
        return _json_object(literal, literal.find("{")) if isinstance(literal, str) else None
    if text.startswith("(", start):
        return _nuxt_function_value(text, start)
    return _js_object(text, start) if text.startswith("{", start) else None


def _json_object(text: str, start: int) -> Any:
    """The JSON value at START; a JS object literal there when it is not JSON; None when START is -1."""
    if start < 0:
        return None
    try:
        return _DECODER.raw_decode(text, start)[0]
    except ValueError:
        return _js_object(text, start)


def _js_object(text: str, start: int) -> Any:
    """The JSON or JS object literal at START (chompjs takes undefined, quotes of both kinds, bare keys, trailing
    commas, and stops at the literal's end)."""
    try:
        return _DECODER.raw_decode(text, start)[0]
    except ValueError:
        return chompjs.parse_js_object(text[start:])


def _nuxt_function_value(text: str, start: int) -> Any:
    """What Nuxt 2's `(function(a,b){return {...}}("x",1))` returns, its parameters replaced by the arguments."""
    function = _NUXT_FUNCTION.match(text, start)
    returned = text.find("return", start)
    if function is None or returned < 0:
        return None
    value = chompjs.parse_js_object(text[text.find("{", returned) :])
    params = [p.strip() for p in function.group(1).split(",") if p.strip()]
    end = text.rfind("))")
    call = text.rfind("}(", start, end)
    if not params or call < 0 or end < 0:
        return value
    args = chompjs.parse_js_object("[" + text[call + 2 : end] + "]")
    return _substituted(value, dict(zip(params, args, strict=False)), 0)


def _substituted(value: Any, names: dict[str, Any], depth: int) -> Any:
    """VALUE with every string that is one of NAMES (chompjs reads a bare identifier as its name) replaced."""
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {key: _substituted(item, names, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_substituted(item, names, depth + 1) for item in value]
    return value


def _chartbeat_authors(text: str) -> list[str]:
    """Authors from Chartbeat's `_sf_async_config.authors = '이름1,이름2'` (or `authors: '...'` in its config)."""
    if "_sf_async_config" not in text or not (match := _CHARTBEAT_AUTHORS.search(text)):
        return []
    return _unique(name.strip() for name in match.group(2).split(","))


# ---- Arc XP


def _arc_article(content: Any) -> dict[str, Any] | None:
    """The story of Arc XP's Fusion.globalContent; None when it has neither a headline nor text."""
    if not isinstance(content, dict):
        return None
    headlines = content.get("headlines")
    title = _plain(headlines.get("basic")) if isinstance(headlines, dict) else None
    body = _paragraphs(content.get("content_elements"), 0)
    if not title and not body:
        return None
    published = _first_date(content, ("first_publish_date", "publish_date", "display_date"))
    modified = _first_date(content, ("last_updated_date",))
    return _article(title or None, body, published, modified, _authors(content), _section(content))


# ---- any other state blob: the dict that looks most like an article


def _state_article(state: Any) -> dict[str, Any] | None:
    """The article in a parsed state object: of the dicts with a title and a body, the one with the longest body."""
    best: tuple[int, str, list[str], dict[str, Any]] | None = None
    for node in _dicts(state):
        title = _title(node)
        if not title:
            continue
        body = max((_paragraphs(node.get(key), 0) for key in BODY_KEYS), key=_size)
        if body and (best is None or _size(body) > best[0]):
            best = (_size(body), title, body, node)
    if best is None:
        return None
    _, title, body, node = best
    published, modified = _first_date(node, PUBLISHED_KEYS), _first_date(node, MODIFIED_KEYS)
    return _article(title, body, published, modified, _authors(node), _section(node))


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    """The dicts nested in VALUE, itself included, down to MAX_DEPTH and up to MAX_NODES nodes visited."""
    stack = [(value, 0)]
    visited = 0
    while stack and visited < MAX_NODES:
        node, depth = stack.pop()
        visited += 1
        if depth > MAX_DEPTH:
            continue
        if isinstance(node, dict):
            yield node
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        stack.extend((child, depth + 1) for child in reversed(list(children)) if isinstance(child, dict | list))


def _title(node: dict[str, Any]) -> str | None:
    """The first title-ish key's text; Arc's headlines.basic for an Arc story nested in another blob."""
    for key in TITLE_KEYS:
        if title := _plain(node.get(key)):
            return title
    headlines = node.get("headlines")
    return _plain(headlines.get("basic")) if isinstance(headlines, dict) else None


def _size(paragraphs: list[str]) -> int:
    return sum(len(paragraph) for paragraph in paragraphs)


# ---- fields


def _paragraphs(value: Any, depth: int) -> list[str]:
    """Plain-text paragraphs of a body: an HTML or plain string, a list of strings or content elements, or a dict
    with a body-ish key (e.g. {"html": "..."})."""
    if depth > MAX_DEPTH:
        return []
    if isinstance(value, str):
        return _text_paragraphs(value)
    if isinstance(value, list):
        return [p for item in value for p in _paragraphs(item, depth + 1)]
    if isinstance(value, dict) and _kept(value):
        key = next((k for k in (*BODY_KEYS, "value") if k in value), None)
        return _paragraphs(value[key], depth + 1) if key else []
    return []


def _kept(element: dict[str, Any]) -> bool:
    """Whether a content element is text: untyped, or of a text type (not an image, ad, embed or link)."""
    kind = element.get("type", "text")
    return isinstance(kind, str) and kind in KEPT_TYPES


def _text_paragraphs(text: str) -> list[str]:
    """An HTML string's <p> / <br><br> blocks, or a plain string's lines, as plain text without empty ones."""
    if not _HTML_TAG.search(text):
        return [p for line in text.splitlines() if (p := _plain(line))]
    blocks = _BLOCK_BREAK.split(_FIGURE.sub(" ", text))  # a photo's caption is no paragraph of the story
    return [p for block in blocks if (p := _plain(block))]


def _plain(value: Any) -> str | None:
    """A string without tags (inline ones glue, others part words), entities decoded and spaces collapsed; None
    for a non-string or empty value."""
    if not isinstance(value, str):
        return None
    text = _SPACES.sub(" ", html.unescape(_TAG.sub(" ", _INLINE_TAG.sub("", value)))).strip()
    return None if text in MISSING else text


def _first_date(node: dict[str, Any], keys: Sequence[str]) -> str | None:
    """The first of KEYS holding a date: a string as found, epoch milliseconds (or seconds) as ISO 8601 UTC."""
    for key in keys:
        value = node.get(key)
        if isinstance(value, str) and value.strip() not in MISSING:
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool) and (iso := _epoch_iso(value)):
            return iso
    return None


def _epoch_iso(value: float) -> str | None:
    """Positive epoch milliseconds (or seconds, below 10^11: before 1973 as milliseconds) as ISO 8601 UTC with a Z."""
    if not value > 0:
        return None
    milliseconds = value if value >= 1e11 else value * 1000
    try:
        moment = EPOCH + timedelta(milliseconds=milliseconds)
    except (OverflowError, ValueError):
        return None
    timespec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=timespec) + "Z"


def _authors(node: dict[str, Any]) -> list[str]:
    """Names under the first author-ish key that has any, as found (cleaning them is done elsewhere)."""
    for key in AUTHOR_KEYS:
        if names := _unique(_names(node.get(key), 0)):
            return names
    return []


def _names(value: Any, depth: int) -> Iterator[str]:
    """A string, a dict with name / reporterName / writerName (or Arc's credits {"by": [...]}), or a list of those."""
    if depth > 4:
        return
    if isinstance(value, str):
        yield value.strip()
    elif isinstance(value, list):
        for item in value:
            yield from _names(item, depth + 1)
    elif isinstance(value, dict):
        name = next((value[key] for key in NAME_KEYS if isinstance(value.get(key), str) and value[key].strip()), None)
        email = next((value[key] for key in EMAIL_KEYS if isinstance(value.get(key), str) and "@" in value[key]), None)
        if name is not None and email is not None:
            name = f"{name} ({email.strip()})"  # as a byline prints it: the reporters' reader splits it off
        yield from _names(name if name is not None else value.get("by"), depth + 1)


def _unique(names: Iterator[str] | Sequence[str]) -> list[str]:
    """NAMES in order without repeats or empties."""
    return list(dict.fromkeys(name for name in names if name and name not in MISSING))

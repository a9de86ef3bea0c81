"""What an HTML page states about its article in markup made for machines: JSON-LD (read leniently), microdata,
Open Graph and article meta tags, `<time datetime>`, and the headings a reader sees; per page, off one parsed tree.

Every value is a candidate, in order of trust; the parse stage (newsflow.transforms.pages) weighs them against what the
visible text says. Times are returned as ISO 8601 strings (with the offset the page gives, if any)."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from resiliparse.parse.html import HTMLTree

from newsflow.transforms.timestamps import ISO_PATTERN

ARTICLE_TYPES = {
    t.lower()
    for t in (
        "NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
        "BackgroundNewsArticle", "ReviewNewsArticle", "BlogPosting", "LiveBlogPosting", "Report",
    )
}  # fmt: skip
PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "article:published", "datePublished",
    "pubdate", "publishdate", "publish-date", "publish_date", "parsely-pub-date", "sailthru.date",
    "dc.date.issued", "dcterms.created", "dc.date", "date",
)  # fmt: skip
MODIFIED_META = ("article:modified_time", "og:article:modified_time", "og:updated_time", "dateModified", "lastmod")
AUTHOR_META = ("article:author", "dable:author", "author", "byl", "parsely-author", "sailthru.author")
TITLE_META = ("og:title", "twitter:title", "title")
TIME_ATTRIBUTES = ("datetime", "data-published-time", "data-date-time", "data-published", "data-pubdate")
TIME_SELECTOR = ", ".join(f"[{a}]" for a in TIME_ATTRIBUTES)
BYLINE_SELECTOR = (
    'a[rel="author"], [class*="byline"], [class*="reporter"], [class*="writer"], [class*="journalist"], '
    '[class*="author-name"], [class*="authorName"], [class*="author"]'
)
_KOREAN_BYLINE = re.compile(r"^[가-힣]{2,4}$|기자|특파원|위원|칼럼니스트|평론가|앵커|PD")  # not `구독`, `전체기사`
MAX_BYLINE = 60  # characters: a longer element is a profile or a list, not a byline
CURRENT_SECTION_SELECTOR = '[aria-current="page"], nav li.on > a, [class*="gnb"] li.on > a, [class*="categor"]'
MAX_SECTION = 12  # characters: a longer current item or category is a headline or a tab, not a section
BREADCRUMB_SELECTOR = (
    '[class*="breadcrumb"], [id*="breadcrumb"], nav[aria-label*="readcrumb"], [class~="location"], [class~="path"], '
    '[class~="navi"], [class~="loc"]'
)
SITE_NAME_META = ("og:site_name", "application-name", "twitter:site")
META_NAMES = {
    name.lower()
    for name in (
        *PUBLISHED_META, *MODIFIED_META, *AUTHOR_META, *TITLE_META, *SITE_NAME_META,
        "og:type", "og:url", "og:locale", "article:section", "articleSection",
    )
}  # fmt: skip
# characters that look alike in headlines: the visible headline wins over a metadata title differing only here
LOOK_ALIKE = str.maketrans(
    {"″": '"', "“": '"', "”": '"', "„": '"', "‟": '"', "＂": '"', "‘": "'", "’": "'", "‚": "'", "‛": "'",
     "′": "'", "`": "'", "…": "...", "ㆍ": "·", "・": "·", "•": "·", "–": "-", "—": "-", "―": "-"}
)  # fmt: skip
# zones a non-ISO date string may name: offset in seconds east of UTC
ZONES = {
    "KST": 9 * 3600, "JST": 9 * 3600, "UTC": 0, "GMT": 0, "Z": 0, "IST": 5 * 3600 + 1800, "CET": 3600,
    "CEST": 7200, "BST": 3600, "EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
    "MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
}  # fmt: skip
_STRING_OR_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_ISO = re.compile(ISO_PATTERN)  # the shape newsflow.transforms.timestamps reads into a timestamp
_SPACES = re.compile(r"\s+")
AGREEING = 2  # sources that agree on the date: enough, the rest are not read
CHEAP = 3  # the first sources of a time that are read off what is parsed already
_UTC = re.compile(r"(?:Z|[+-]00:?00)$")
_ZONE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
TITLE_LABEL = 30  # characters a metadata title may add around the printed one: `Opinion | `, ` | Editorial`
SAME_HEADLINE = 0.6  # letter-pair Dice of an h1 and the metadata title above which they are one headline
HEADLINE_MARK = 12  # characters a printed headline may add to the metadata's: `[단독]`, `(종합2보)`
MIN_TITLE = 8  # characters: shorter, a page's title is the outlet's name or a label, not a headline


# --- JSON-LD ------------------------------------------------------------------------------------------------------


def lenient_json(text: str) -> Any:
    """JSON as pages really write it: raw control characters in strings, `//` and `/* */` comments, trailing
    commas, HTML comment wrappers; None when it still cannot be read."""
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    cleaned = _STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", text)
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", cleaned), strict=False)
    except ValueError:
        return None


def _ld_items(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON-LD node of a block: lists, `@graph` and `mainEntity` unfolded."""
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _ld_items(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage"):
            if isinstance(data.get(key), list | dict):
                yield from _ld_items(data[key], depth + 1)


def _types(item: dict[str, Any]) -> set[str]:
    kinds = item.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return {k.rsplit("/", 1)[-1].lower() for k in kinds if isinstance(k, str)}


def json_ld(tree: HTMLTree) -> list[dict[str, Any]]:
    """All JSON-LD nodes of the page, from every block, in document order."""
    nodes: list[dict[str, Any]] = []
    for script in tree.document.query_selector_all('script[type="application/ld+json"]').values():
        nodes.extend(_ld_items(lenient_json(script.text)))
    return nodes


def _text(value: Any) -> str | None:
    """A clean one-line string from a metadata value: entities decoded (twice: pages double-escape), spaces
    collapsed; None for empty values and non-strings."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    text = _SPACES.sub(" ", html.unescape(html.unescape(value))).strip()
    return text or None


def _names(value: Any, skip_types: set[str] = frozenset({"organization", "newsmediaorganization"})) -> list[str]:
    """Names of JSON-LD persons (or plain strings); organisations (the outlet) are not people."""
    values = value if isinstance(value, list) else [value]
    names = []
    for item in values:
        if isinstance(item, dict):
            if _types(item) & skip_types:
                continue
            email = item.get("email") if isinstance(item.get("email"), str) else None
            item = f"{item.get('name')} ({email})" if email and isinstance(item.get("name"), str) else item.get("name")
        if (name := _text(item)) is not None:
            names.append(name)
    return names


def _breadcrumb(nodes: Iterable[dict[str, Any]]) -> list[str]:
    for node in nodes:
        if "breadcrumblist" in _types(node) and isinstance(node.get("itemListElement"), list):
            items = [i for i in node["itemListElement"] if isinstance(i, dict)]
            items.sort(key=lambda i: i.get("position") if isinstance(i.get("position"), int) else 0)
            return [name for item in items if (name := _crumb_name(item))]
    return []


def _crumb_name(item: dict[str, Any]) -> str | None:
    inner = item.get("item")
    return _text(item.get("name") or (inner.get("name") if isinstance(inner, dict) else None))


# --- dates --------------------------------------------------------------------------------------------------------


def iso_time(value: Any) -> str | None:
    """A date or time as pages state it -> ISO 8601 (`2019-11-20T13:38:07+05:30`); ISO strings pass as they are
    (their offset, or none, kept); other shapes (`01:38:07 PM IST Nov 20, 2019`, `2023.04.07 19:13`) are read by
    dateutil with the common zone names; epoch milliseconds become UTC. None when it is no date."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    text = _text(value)
    if text is None:
        return None
    if _ISO.match(text):
        return text if 1990 <= int(text[:4]) <= 2100 else None  # `0001-01-01T00:00:00Z`: a CMS's empty value
    from dateutil import parser

    try:
        parsed = parser.parse(text.replace("/", "-"), tzinfos=ZONES, fuzzy=False)
    except (ValueError, OverflowError, parser.ParserError):
        return None
    if not 1990 <= parsed.year <= 2100:
        return None
    has_time = bool(re.search(r"\d:\d", text))
    return parsed.isoformat() if has_time else parsed.date().isoformat()


# --- the page's markup ----------------------------------------------------------------------------------------------


class Markup:
    """Look-ups on one parsed page: meta tags by name or property, microdata by itemprop."""

    def __init__(self, tree: HTMLTree) -> None:
        self.document = tree.document
        self._meta: dict[str, str] = {}
        for tag in self.document.query_selector_all("meta[content]").values():
            key = (tag.getattr("property") or tag.getattr("name") or tag.getattr("itemprop") or "").strip().lower()
            if key in META_NAMES and (content := tag.getattr("content").strip()):
                self._meta.setdefault(key, content)

    def meta(self, *names: str) -> str | None:
        """The first of the named meta tags that has content (names compared case-insensitively)."""
        return next((self._meta[n.lower()] for n in names if n.lower() in self._meta), None)

    def itemprop(self, name: str) -> str | None:
        """A microdata property's value: its content or datetime attribute, else its text."""
        for node in self.document.query_selector_all(f'[itemprop="{name}"]').values():
            if node.tag == "meta":
                continue  # read with the meta tags
            value = node.getattr("content") or node.getattr("datetime") or node.text
            if value and value.strip():
                return value.strip()
        return None

    def microdata_authors(self) -> list[str]:
        names = []
        for node in self.document.query_selector_all('[itemprop="author"]').values():
            inner = node.query_selector('[itemprop="name"]')
            value = (inner.getattr("content") or inner.text) if inner else (node.getattr("content") or node.text)
            if value and value.strip():
                names.append(value.strip())
        return names

    def time_element(self) -> str | None:
        """The first `<time datetime>` (or an element with a data attribute for the publication time, as portals
        write it) that holds a time of day: a date alone is too weak a hint."""
        for node in self.document.query_selector_all(TIME_SELECTOR).values():
            value = next((v.strip() for a in TIME_ATTRIBUTES if (v := node.getattr(a))), "")
            if re.search(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
                return value
        return None

    def headings(self) -> list[tuple[str, str]]:
        """(tag, text) of the page's h1 to h3 headings, in document order."""
        nodes = self.document.query_selector_all("h1, h2, h3").values()
        return [(node.tag, text) for node in nodes if (text := _text(node.text))]

    def breadcrumb(self) -> list[str]:
        """The words of a visible breadcrumb (`홈 > 사회 > 노동`), from an element named for one; else the section
        the page marks as the current one in its menu (`aria-current="page"`, `li.on` in the main menu) or names
        as the article's category."""
        for node in self.document.query_selector_all(BREADCRUMB_SELECTOR).values():
            parts = [_text(part) for part in re.split(r"[>›»/]|\s{2,}|\n", node.text or "")]
            words = [p for p in parts if p and len(p) <= 20]
            if 1 <= len(words) <= 5:
                return words
        for node in self.document.query_selector_all(CURRENT_SECTION_SELECTOR).values():
            if (text := _text(node.text)) and len(text) <= MAX_SECTION:
                return [text]
        return []

    def byline_elements(self) -> list[str]:
        """The text of the first short element the page marks as its byline (`rel=author`, a class naming the
        byline, reporter, writer or author), for the reporters' reader to take names from."""
        for node in self.document.query_selector_all(BYLINE_SELECTOR).values():
            text = _text(node.text)
            if text and len(text) <= MAX_BYLINE and (not re.search("[가-힣]", text) or _KOREAN_BYLINE.search(text)):
                return [text]
        return []

    def korean(self) -> bool:
        """Whether the page is in Korean: its declared language, else Hangul in its title."""
        root = self.document.query_selector("html")
        lang = ((root.getattr("lang") if root else None) or self.meta("og:locale") or "").lower()
        if lang:
            return lang.startswith("ko")
        title = self.document.query_selector("title")
        return bool(title and re.search("[가-힣]", title.text or ""))

    def canonical(self) -> str | None:
        for link in self.document.query_selector_all('link[rel="canonical"]').values():
            if href := (link.getattr("href") or "").strip():
                return href
        return None


# --- titles -------------------------------------------------------------------------------------------------------


def look_alike_key(text: str) -> str:
    """A headline with look-alike characters made one and spaces removed: two titles with the same key differ
    only in how they look."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text.translate(LOOK_ALIKE)).translate(LOOK_ALIKE))


_SUFFIX = re.compile(r"^(?P<title>.+?)\s*(?:\s[-–—|:·<｜│]\s?|\s?[|｜│]\s|::|\s-\s)\s*(?P<site>[^-–—|:<｜│]{1,30})$")


def strip_site_suffix(title: str, site_names: Iterable[str]) -> str:
    """The title without a trailing ` - 연합뉴스`, ` | KBS 뉴스`: a last segment that names the site (its display
    name, or a word of it) or looks like an outlet's name."""
    crumbs = title.split(" < ")  # `제목 < 사회 < 기사본문 - 한울신문`: a CMS's headline, section and page kind
    if len(crumbs) >= 3 or (len(crumbs) == 2 and "기사본문" in crumbs[1]):
        return crumbs[0].strip()
    match = _SUFFIX.match(title)
    if not match:
        return title
    site = match["site"].strip()
    keys = [look_alike_key(n).lower() for n in site_names if n]
    key = look_alike_key(site).lower()
    named = any(k and (k in key or key in k) for k in keys)
    outlet_like = re.search(
        r"(?i)(뉴스|일보|신문|방송|매일|경제|미디어|news|times|tv|daily|herald|media|\.co|\.com|\.kr)\s*$", site
    )
    return match["title"].strip() if named or outlet_like else title


def _too_short(title: str, site_names: list[str]) -> bool:
    return len(strip_site_suffix(title, site_names)) < MIN_TITLE or title in site_names


def headline(markup: Markup, ld_title: str | None, embedded_title: str | None, site_names: list[str]) -> str | None:
    """The article's headline: the first metadata title (JSON-LD, Open Graph, Twitter, microdata, an embedded
    state, `<title>`), entities decoded and the site's suffix cut off; the visible heading instead where it is the
    same headline as printed (see shown_headline)."""
    candidates = (lambda: ld_title, lambda: markup.meta(*TITLE_META), lambda: markup.itemprop("headline"))
    found = next((t for c in (*candidates, lambda: embedded_title) if (t := _text(c()))), None)
    shown = markup.document.query_selector("title")
    if found is None and shown is not None and (found := _text(shown.text)) and _too_short(found, site_names):
        return None  # `<title>한울신문</title>`: the outlet's name, not a headline
    if found is None:
        return None
    title = strip_site_suffix(found, site_names)
    shown = (text for tag, text in markup.headings() if shown_headline(text, title, found, fuzzy=tag == "h1"))
    return next(shown, title)


def shown_headline(heading: str, title: str, found: str, fuzzy: bool = False) -> bool:
    """Whether a visible heading is the metadata's headline as the page prints it: the same but for look-alike
    characters; the title with a short mark added (`[단독]`, `(종합)`) or the heading with a label or the site's
    name around it (`Opinion | ...`, `... | Editorial`); the whole of a title the metadata cut short (`…`); and,
    for the page's h1 (`fuzzy`), the same headline reworded a little (most of its letter pairs in common)."""
    key, keys = look_alike_key(heading), {look_alike_key(title), look_alike_key(found)}
    short = look_alike_key(title)
    if key in keys or (short.endswith("...") and len(short) > MIN_TITLE and key.startswith(short.rstrip("."))):
        return True
    if len(short) >= MIN_TITLE and short in key and len(key) <= len(short) + HEADLINE_MARK:
        return True
    if len(key) >= max(MIN_TITLE, len(short) // 2) and key in short and len(short) <= len(key) + TITLE_LABEL:
        return True
    return fuzzy and len(key) >= MIN_TITLE and _dice(key.lower(), short.lower()) >= SAME_HEADLINE


def _dice(a: str, b: str) -> float:
    """Dice coefficient of two strings' sets of letter pairs."""
    pairs_a, pairs_b = {a[i : i + 2] for i in range(len(a) - 1)}, {b[i : i + 2] for i in range(len(b) - 1)}
    return 2 * len(pairs_a & pairs_b) / (len(pairs_a) + len(pairs_b)) if pairs_a and pairs_b else 0.0


# --- reporters ----------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*")
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|<[^<>]*>|【[^】]*】")
_ROLE = re.compile(r"(?:(?:선임|수석|객원|인턴|전문|사진|영상|취재)?기자|특파원|논설위원|앵커|리포터|통신원)(?:\s.*)?$")
_NOT_A_NAME = re.compile(
    r"(?:뉴스|일보|방송|신문|경제|스포츠|닷컴|미디어|투데이|타임스|타임즈|저널|데일리|팀|부|국|센터|데스크)$"
)
_HANGUL_NAME = re.compile(r"[가-힣]{2,4}")
_OTHER_NAME = re.compile(r"[^\W\d_가-힣][^\W\d_]*\.?(?:[ '-][^\W\d_][^\W\d_]*\.?){0,4}")
_ROLE_WORDS = re.compile(
    r"(?i)\b(?:writer|reporter|editor|editors|correspondent|press|news|staff|contributor|columnist|desk|agency|media"
    r"|magazine|bureau|team|admin|analysis|business|international|online|digital|daily|times|post)\b|\.(?:com|net|org|co)\b"
)
_LEAD = re.compile(r"(?i)^(?:(?:analysis|text|story|report|words|photos?)\s+)?by\s+|^(?:текст|фото|texto|por)\s*:?\s+")
_SPLIT = re.compile(r"[,·/&;|]|\s및\s|\s+and\s+|\s+und\s+|\.\s+(?=[^\W\d_]+\s+[^\W\d_]+)")


def _person(piece: str) -> str | None:
    """A reporter's name from one byline piece: `이남경 MK스포츠 기자` -> 이남경, `By Jane Roe` -> Jane Roe,
    `TOM ROE` -> Tom Roe; None for a role, an outlet or a credential (`AP Sports Writer`, `CNN`, `MS`)."""
    piece = _LEAD.sub("", _ROLE.sub("", piece.strip()).strip(" =|-:/."))
    if re.search("[가-힣]", piece):
        names = [t for t in piece.split() if _HANGUL_NAME.fullmatch(t) and not _NOT_A_NAME.search(t)]
        return names[-1] if names else None
    if not _OTHER_NAME.fullmatch(piece) or _ROLE_WORDS.search(piece) or len(piece) > 40:
        return None
    if piece.isupper():
        if len(piece.replace(" ", "")) <= 5:
            return None  # an acronym: CNN, AP, RDN
        piece = piece.title()
    return piece


def reporters(values: Iterable[str]) -> list[dict[str, str | None]]:
    """Reporters {name, email} from author strings as pages state them (`한지우 기자 (jiwoo@x.kr)`, `A·B 기자`,
    `이남경 MK스포츠 기자`): names without 기자, outlet, email or brackets, each once; an email kept beside the
    name it was printed with."""
    found: dict[str, str | None] = {}
    for value in values:
        emails = _EMAIL.findall(value)
        text = _BRACKETS.sub(" ", _EMAIL.sub(" ", value))
        names = [n for piece in _SPLIT.split(text) if (n := _person(piece))]
        for i, name in enumerate(names):
            email = emails[i] if len(emails) == len(names) else None
            found[name] = found.get(name) or email
    return [{"name": name, "email": email} for name, email in found.items()]


# --- all of it ------------------------------------------------------------------------------------------------------


def page_metadata(tree: HTMLTree, embedded: dict[str, Any] | None = None) -> dict[str, Any]:
    """The article's own statements about itself, each field from its most trusted source: JSON-LD, then
    microdata, then meta tags, then an embedded state blob (`embedded`, see newsflow.transforms.embedded)."""
    markup, nodes, embedded = Markup(tree), json_ld(tree), embedded or {}
    article = next((n for n in nodes if _types(n) & ARTICLE_TYPES), {})
    publisher = article.get("publisher") if isinstance(article.get("publisher"), dict) else {}
    site_name = _text(markup.meta(*SITE_NAME_META[:2])) or _text(publisher.get("name"))
    names = [site_name or "", _text(publisher.get("name")) or ""]
    og_type = (markup.meta("og:type") or "").strip().lower()
    return {
        "meta_title": headline(markup, article.get("headline") or article.get("name"), embedded.get("title"), names),
        **_times(article, markup, embedded),
        "meta_section": (section := _section(article, markup, embedded)),
        "meta_breadcrumb": _breadcrumb(nodes) or ([] if section else markup.breadcrumb()),
        "meta_authors": [r for r in reporters(_author_fields(article, markup, embedded)) if r["name"] != site_name],
        "meta_url": _url(article.get("url")) or markup.canonical() or markup.meta("og:url"),
        "meta_site_name": site_name,
        "meta_is_article": bool(article) or og_type.startswith("article") or bool(embedded.get("body")),
        "meta_body": list(embedded.get("body") or []),
    }


def _times(article: dict[str, Any], markup: Markup, embedded: dict[str, Any]) -> dict[str, str | None]:
    """meta_published and meta_modified, each weighed across its sources (see _best_time): first those read off
    what is parsed already (JSON-LD, meta tags, the embedded state), then those the page is searched for."""
    published = (
        lambda: article.get("datePublished"), lambda: markup.meta(*PUBLISHED_META), lambda: embedded.get("published"),
        lambda: markup.itemprop("datePublished"), markup.time_element, lambda: article.get("dateCreated"),
    )  # fmt: skip
    modified = (
        lambda: article.get("dateModified"), lambda: markup.meta(*MODIFIED_META), lambda: embedded.get("modified"),
        lambda: markup.itemprop("dateModified"),
    )  # fmt: skip
    return {
        "meta_published": _best_time(published, markup.korean),
        "meta_modified": _best_time(modified, markup.korean),
    }


def _section(article: dict[str, Any], markup: Markup, embedded: dict[str, Any]) -> str | None:
    found = _text(article.get("articleSection")) or markup.meta("article:section", "articleSection")
    return _text(found or markup.itemprop("articleSection") or embedded.get("section"))


def _author_fields(article: dict[str, Any], markup: Markup, embedded: dict[str, Any]) -> list[str]:
    """The author strings of the first source that has any: JSON-LD persons, microdata, an author meta tag (not a
    profile URL or a handle), the embedded state, an element the page names for its byline."""
    tags = [a for name in AUTHOR_META if (a := markup.meta(name)) and not re.match(r"(?i)https?://|@", a)]
    found = _names(article.get("author")) or markup.microdata_authors() or tags[:1]
    return found or list(embedded.get("authors") or []) or markup.byline_elements()


def _best_time(sources: Sequence[Callable[[], Any]], korean: Callable[[], bool]) -> str | None:
    """Of the times the sources state (most trusted first, each read only when needed): the first one on the date
    most of them agree on (the reading ends where AGREEING sources agree, or where the first CHEAP sources agree
    among themselves); and where another source gives the same clock reading labelled UTC, that one (a CMS that
    stamps its local offset on a UTC clock is a known trap). A time without an offset is Korea time on a Korean
    page, else taken as UTC."""
    found: list[str] = []
    for number, source in enumerate(sources):
        if number == CHEAP and found and len({iso[:10] for iso in found}) == 1:
            break  # the sources read off what is parsed already agree: no need to search the page for more
        if (value := source()) is not None and (iso := iso_time(value)) is not None:
            found.append(iso)
            if sum(f[:10] == iso[:10] for f in found) >= AGREEING:
                break
    if not found:
        return None
    votes = Counter(iso[:10] for iso in found)
    best = next(iso for iso in found if votes[iso[:10]] == max(votes.values()))
    chosen = next((iso for iso in found if iso[:16] == best[:16] and _UTC.search(iso)), best)
    if _ZONE.search(chosen) or len(chosen) == len("YYYY-MM-DD") or korean():
        return chosen
    return f"{chosen}Z"


def _url(value: Any) -> str | None:
    value = value.get("@id") if isinstance(value, dict) else value
    text = _text(value)
    return text if text and re.match(r"(?i)https?://", text) else None


def registered_domain(url: str) -> str | None:
    """The registered domain of a URL (`https://news.kbs.co.kr/x` -> `kbs.co.kr`), by the public suffix list
    `tld` ships (no download); for a host under no known suffix (`www.outlet.example`), its last two labels."""
    from tld import get_fld

    found = get_fld(url, fail_silently=True, fix_protocol=True)
    if found:
        return found.lower()
    host = re.match(r"(?i)^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?([^/:?#]+)", url.strip())
    labels = host.group(1).lower().strip(".").split(".") if host else []
    return ".".join(labels[-2:]) if len(labels) >= 2 else None


def guessed_time(document: str) -> str | None:
    """The publication time htmldate finds in a page (ISO 8601, a date alone where it finds no time of day): the
    source of last resort."""
    from htmldate import find_date

    try:
        found = find_date(document, original_date=True, outputformat="%Y-%m-%dT%H:%M:%S")
    except (ValueError, TypeError):
        return None
    if not found:
        return None
    if found.endswith("T00:00:00"):
        return found.removesuffix("T00:00:00")
    korean = re.search(r"(?i)<html[^>]*\blang=[\"']?ko", document[:4000]) or re.search("[가-힣]", document[:20000])
    return found if korean else f"{found}Z"  # a foreign page's clock: UTC is nearer than Korea time

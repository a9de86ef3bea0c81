"""Score newsflow's HTML article body and metadata against the public article-extraction benchmark and fixtures.

Run from the project root:

    .venv/bin/python benchmarks/extraction.py              # tables, timings, pages not landed, 10 worst pages
    .venv/bin/python benchmarks/extraction.py --json       # all of it, machine-readable, with per-page values
    .venv/bin/python benchmarks/extraction.py --limit 20 --worst 5 --data /path/to/article-extraction-benchmark

The data (181 pages, `html/<id>.html.gz` and `ground-truth.json`, MIT, Scrapinghub 2020) is read from
`../shared/data/article-extraction-benchmark/` beside the project root unless `--data` says otherwise; when it
is missing the script says so and exits with code 2.

Body, on the benchmark's pages against its `articleBody`:

* newsflow: what a user gets, through the path of `newsflow extract`: `newsflow.sources.pages.read_pages` ->
  `transforms.pages.parse_pages(raw, drafting.rules.load_rules())`, all pages in one call. A page whose ledger
  status (`parsed.pages.status`) is "article" has its article row's body (paragraphs joined with newlines); any
  other page has none and scores 0. Timed from the .gz files to the parsed frames (body and metadata), with
  the profiles loaded before; like every system here, after one warm-up call on the first page.
* newsflow-extractor: `read_pages` -> `newsflow.transforms.pages.html_article_bodies` (batches of 50), the body the
  pipeline would give every HTML page whether or not it lands as an article. Timed the same way.
* trafilatura: `trafilatura.extract(html, include_comments=False)` on the page decoded as UTF-8 (errors
  replaced): the call the benchmark's own `extractors/run_trafilatura.py` makes for its published figures.
  Timed from the .gz files to the texts.

The body metric (`score`), per page: whitespace tokens; the set of 4-token shingles of each text; precision =
shared / predicted shingles, recall = shared / truth shingles, F1 their harmonic mean; the table shows the mean
of each over pages. Edge cases: both texts empty scores (1, 1, 1); exactly one empty scores (0, 0, 0); when either
text has fewer than 4 tokens both are compared as sets of single tokens (a 4-shingle cannot match a shorter
text). The benchmark's own evaluate.py differs in detail (`\\w+` tokens, shingle counts rather than sets, pages
with an empty side left out of the precision or recall mean, F1 = harmonic mean of mean precision and mean
recall), so its aggregate is printed too, under `evaluate.py-style`: that is the figure to hold against the
published trafilatura 2.0.0 F1 of 0.958.

Metadata (title, publication time, reporters), each scored as hits / pages whose truth has the field:

* newsflow: the article row of the same `parse_pages` call (`title`, `registered_at`, `reporters[].name`); a
  page not landed as an article has no values. trafilatura: `trafilatura.extract_metadata(html)` (`title`,
  `date`, `author` split on ';' and ','). htmldate: `htmldate.find_date(html, outputformat="%Y-%m-%d %H:%M",
  extensive_search=True, original_date=True)`, time only. Both on the page decoded as UTF-8, or by trafilatura's
  charset detection when it is not UTF-8.
* on three sets: the benchmark's pages with `benchmarks/truth/extraction-metadata.json` (made by hand, see its
  `_about`); `examples/pages/*.html` with `examples/expected.json`; `tests/fixtures/web/*.html` with its
  `expected.json` when that file exists (skipped otherwise). The fixtures' `registered_at` is Korea time.
* title (`title_hit`): equal after mapping look-alike quotes and the ellipsis to ASCII, NFKC and collapsing
  whitespace.
* time (`time_hit`): the same minute as an instant. A value without an offset is taken as Korea time (UTC+9) on
  a Korean page (a truth title in Hangul) and in the truth's own offset elsewhere. htmldate never gives a zone,
  so its time is in effect compared as a wall-clock minute in the page's own offset: that favours it (a page's
  local time matches whatever zone htmldate read it in). A value with a date but no time (trafilatura's) misses
  a truth with a time. A truth with a date only (the page gives no time, or no zone for it) is scored on the day:
  an instant's date in the truth's `utc_offset` (any zone when that is unknown), a zone-less value's own date.
* date (`day_hit`, an extra row): the same day in the page's own offset, for every truth with a date.
* reporters (`reporters_hit`): the same set of names after NFKC, removing whitespace and ignoring case (a byline
  set in capitals is the same name). Pages whose truth has no person in the byline are left out of that row
  and counted in the extra row `no byline`: a hit when the system names nobody.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, TypeVar

SHINGLE = 4
BATCH = 50
PUBLISHED_TRAFILATURA_F1 = 0.958  # scrapinghub/article-extraction-benchmark README, trafilatura 2.0.0
TRAFILATURA_OPTIONS: dict[str, Any] = {"include_comments": False}  # as the benchmark's run_trafilatura.py
HTMLDATE_OPTIONS: dict[str, Any] = {"outputformat": "%Y-%m-%d %H:%M", "extensive_search": True, "original_date": True}
PROJECT = Path(__file__).resolve().parents[1]
TRUTH_FILE = PROJECT / "benchmarks" / "truth" / "extraction-metadata.json"
WEB_FIXTURES = PROJECT / "tests" / "fixtures" / "web"
FIXTURE_SETS = (  # (name, folder of pages, the truth of its pages)
    ("examples/pages", PROJECT / "examples" / "pages", PROJECT / "examples" / "expected.json"),
    ("tests/fixtures/web", WEB_FIXTURES, WEB_FIXTURES / "expected.json"),
)
KST = timezone(timedelta(hours=9))
HANGUL = re.compile("[\uac00-\ud7a3]")
FIELDS = ("title", "time", "date", "reporters", "no_byline")
SYSTEM_FIELDS = {"newsflow": FIELDS, "trafilatura": FIELDS, "htmldate": ("time", "date")}
FIELD_LABELS = {
    "title": "title",
    "time": "time (minute)",
    "date": "date (same day)",
    "reporters": "reporters",
    "no_byline": "no byline: names none",
}
K = TypeVar("K")


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    truth: str
    path: Path


@dataclass(frozen=True)
class Run:
    """One system's predicted text per page id and the wall time it took."""

    name: str
    texts: dict[str, str]
    seconds: float


@dataclass(frozen=True)
class TruthTime:
    """When a page was published by its truth: an instant (`at`, with an offset) or, for a date-only truth, a
    day read in `offset` (None: unknown)."""

    day: date
    at: datetime | None = None
    offset: tzinfo | None = None


@dataclass(frozen=True)
class MetaTruth:
    title: str | None
    time: TruthTime | None
    reporters: tuple[str, ...]
    korean: bool


@dataclass(frozen=True)
class Meta:
    """What one system says of a page's metadata (None / empty: nothing)."""

    title: str | None = None
    time: str | datetime | None = None
    reporters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Landed:
    """A page as `newsflow extract` lands it: its ledger status and reason, and its article row when the status
    is "article"."""

    status: str
    reason: str
    article: dict[str, Any] | None = None

    @property
    def body(self) -> str:
        return "\n".join(self.article.get("body") or []) if self.article else ""

    @property
    def meta(self) -> Meta:
        article = self.article or {}
        names = tuple(r["name"] for r in article.get("reporters") or [] if r.get("name"))
        return Meta(title=article.get("title"), time=article.get("registered_at"), reporters=names)


@dataclass
class BenchmarkRun:
    """Everything the systems made of the benchmark's pages, and how long each took."""

    landed: dict[str, Landed]
    runs: list[Run]
    notes: dict[str, str]
    meta: dict[str, dict[str, Meta]]
    seconds: dict[str, float] = field(default_factory=dict)


# --- body metric ------------------------------------------------------------------------------------------------


def _units(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def score(predicted: str, truth: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the predicted text against the true text over sets of 4-token shingles of
    whitespace tokens. Both empty: (1, 1, 1); one empty: (0, 0, 0); either under 4 tokens: sets of tokens."""
    pred_tokens, true_tokens = predicted.split(), truth.split()
    if not pred_tokens and not true_tokens:
        return 1.0, 1.0, 1.0
    if not pred_tokens or not true_tokens:
        return 0.0, 0.0, 0.0
    n = SHINGLE if min(len(pred_tokens), len(true_tokens)) >= SHINGLE else 1
    pred, true = _units(pred_tokens, n), _units(true_tokens, n)
    shared = len(pred & true)
    precision, recall = shared / len(pred), shared / len(true)
    f1 = 2 * precision * recall / (precision + recall) if shared else 0.0
    return precision, recall, f1


_WORD = re.compile(r"\w+")


def _shingle_counts(text: str) -> Counter[tuple[str, ...]]:
    tokens = _WORD.findall(text)
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def evaluate_py_style(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Precision, recall and F1 aggregated the way the benchmark's evaluate.py does it, for (predicted, truth)
    pairs: `\\w+` tokens, shingle multisets, per-page tp/fp/fn; precision averaged over pages that predicted
    something, recall over pages with a truth, F1 the harmonic mean of the two averages."""
    precisions: list[float] = []
    recalls: list[float] = []
    for predicted, truth in pairs:
        pred, true = _shingle_counts(predicted), _shingle_counts(truth)
        tp = sum((pred & true).values())
        fp, fn = sum(pred.values()) - tp, sum(true.values()) - tp
        if tp + fp:
            precisions.append(tp / (tp + fp))
        if tp + fn:
            recalls.append(tp / (tp + fn))
    precision = statistics.fmean(precisions) if precisions else 0.0
    recall = statistics.fmean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


# --- metadata scoring -------------------------------------------------------------------------------------------

_LOOKALIKES = str.maketrans(
    {"″": '"', "“": '"', "”": '"', "„": '"', "‟": '"', "‘": "'", "’": "'", "‚": "'", "‛": "'", "…": "..."}
)


def normalise_title(text: str | None) -> str:
    """A title as compared: look-alike quotes and the ellipsis mapped to ASCII (before NFKC, which would turn ″
    into two primes), then NFKC, whitespace runs collapsed to one space and stripped."""
    return " ".join(unicodedata.normalize("NFKC", (text or "").translate(_LOOKALIKES)).split())


def title_hit(predicted: str | None, truth: str) -> bool:
    """The predicted title equals the true one after normalise_title; an empty prediction never matches."""
    mine = normalise_title(predicted)
    return bool(mine) and mine == normalise_title(truth)


def truth_time(
    published: str | None, published_date: str | None = None, utc_offset: str | None = None
) -> TruthTime | None:
    """A truth's time from the truth file's fields: `published` (ISO 8601 with an offset), else `published_date`
    (YYYY-MM-DD) read in `utc_offset` ("+09:00"; None: unknown); None when there is neither."""
    if published:
        at = datetime.fromisoformat(published)
        if at.tzinfo is None:
            raise ValueError(f"published time without an offset: {published!r}")
        return TruthTime(day=at.date(), at=at, offset=at.tzinfo)
    if published_date:
        offset = datetime.fromisoformat(f"2000-01-01T00:00{utc_offset}").tzinfo if utc_offset else None
        return TruthTime(day=date.fromisoformat(published_date), offset=offset)
    return None


def read_stamp(value: str | datetime | date | None, naive_zone: tzinfo) -> tuple[datetime | None, date | None]:
    """A system's time value as (instant, None), or (None, its date) for a date without a time, or (None, None)
    when there is none or it cannot be read. A time without an offset is taken in `naive_zone`. newsflow lands a
    date given without a time as midnight Korea time, so a midnight value counts as its date alone."""
    if isinstance(value, str) and (text := value.strip()) and len(text) > len("YYYY-MM-DD"):
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None, None
    if isinstance(value, datetime):
        if value.tzinfo and value.time() == datetime.min.time():
            return None, value.date()
        return (value if value.tzinfo else value.replace(tzinfo=naive_zone)), None
    if isinstance(value, date):
        return None, value
    text = (value or "").strip()
    try:
        if len(text) == len("YYYY-MM-DD"):
            return None, date.fromisoformat(text)
        at = datetime.fromisoformat(text)
    except ValueError:
        return None, None
    return (at if at.tzinfo else at.replace(tzinfo=naive_zone)), None


def naive_zone(truth: TruthTime, korean: bool) -> tzinfo:
    """Where a value without an offset is taken: Korea time on a Korean page, else the truth's own offset (UTC
    when even that is unknown)."""
    return KST if korean else truth.offset or UTC


def _minute(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def time_hit(value: str | datetime | None, truth: TruthTime, korean: bool = False) -> bool:
    """The value is the truth's minute as an instant; for a date-only truth, its day (day_hit). A value with a
    date but no time never matches a truth with a time."""
    if truth.at is None:
        return day_hit(value, truth, korean)
    at, _day = read_stamp(value, naive_zone(truth, korean))
    return at is not None and _minute(at) == _minute(truth.at)


def day_hit(value: str | datetime | None, truth: TruthTime, korean: bool = False) -> bool:
    """The value falls on the truth's day: an instant's date in the truth's offset (in any zone from UTC-12 to
    UTC+14 when that is unknown), a value without a time by its own date."""
    at, day = read_stamp(value, naive_zone(truth, korean))
    if at is None:
        return day is not None and day == truth.day
    if truth.offset is None:
        earliest = at.astimezone(timezone(timedelta(hours=-12))).date()
        return earliest <= truth.day <= at.astimezone(timezone(timedelta(hours=14))).date()
    return at.astimezone(truth.offset).date() == truth.day


def name_key(name: str) -> str:
    """A name as compared: NFKC, every whitespace character removed, case folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def reporters_hit(predicted: Iterable[str], truth: Iterable[str]) -> bool:
    """The same set of names by name_key (blank names are no names)."""
    return {k for k in map(name_key, predicted) if k} == {k for k in map(name_key, truth) if k}


def split_authors(author: str | None) -> tuple[str, ...]:
    """trafilatura's author string as names: split on ';' and ','."""
    return tuple(part.strip() for part in re.split(r"[;,]", author or "") if part.strip())


def field_hits(meta: Meta, truth: MetaTruth) -> dict[str, bool]:
    """For each field the truth has, whether the system's value matches it."""
    hits: dict[str, bool] = {}
    if truth.title:
        hits["title"] = title_hit(meta.title, truth.title)
    if truth.time:
        hits["time"] = time_hit(meta.time, truth.time, truth.korean)
        hits["date"] = day_hit(meta.time, truth.time, truth.korean)
    if truth.reporters:
        hits["reporters"] = reporters_hit(meta.reporters, truth.reporters)
    else:
        hits["no_byline"] = not any(map(name_key, meta.reporters))
    return hits


# --- data -------------------------------------------------------------------------------------------------------


def default_data_dir() -> Path:
    """../shared/data/article-extraction-benchmark beside the project root (the parent of benchmarks/)."""
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "article-extraction-benchmark"


def load_benchmark(data: Path, limit: int | None = None) -> list[Page]:
    """The benchmark's pages sorted by id (the first `limit` of them), with their truth and url."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [
        Page(
            id=key,
            url=item.get("url") or "",
            truth=item.get("articleBody") or "",
            path=data / "html" / f"{key}.html.gz",
        )
        for key, item in sorted(truth.items())
    ]
    return pages[:limit] if limit is not None else pages


def benchmark_id(path: str | Path) -> str:
    """The benchmark id of a page file: its name without `.html.gz`."""
    return Path(path).name.split(".", 1)[0]


def load_metadata_truth(path: Path) -> dict[str, MetaTruth]:
    """benchmark id -> metadata truth, from the truth file (keys starting with '_' are notes, not pages)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        key: MetaTruth(
            title=entry.get("title"),
            time=truth_time(entry.get("published"), entry.get("published_date"), entry.get("utc_offset")),
            reporters=tuple(entry.get("reporters") or ()),
            korean=bool(HANGUL.search(entry.get("title") or "")),
        )
        for key, entry in data.items()
        if not key.startswith("_")
    }


def load_fixture_truth(pages_dir: Path, expected: Path) -> dict[str, MetaTruth]:
    """File name -> metadata truth for the HTML pages of a fixture folder that its expected.json describes:
    `title`, `registered_at` ("YYYY-MM-DD HH:MM", Korea time) and `reporters` (names)."""
    truths: dict[str, MetaTruth] = {}
    for name, entry in sorted(json.loads(expected.read_text(encoding="utf-8")).items()):
        if not name.endswith(".html") or not (pages_dir / name).is_file() or not isinstance(entry, dict):
            continue
        at, _day = read_stamp(entry.get("registered_at"), KST)
        truths[name] = MetaTruth(
            title=entry.get("title"),
            time=TruthTime(day=at.astimezone(KST).date(), at=at, offset=KST) if at else None,
            reporters=tuple(entry.get("reporters") or ()),
            korean=bool(HANGUL.search(entry.get("title") or "")),
        )
    return truths


def page_html(path: Path) -> str:
    """A page file as text (.gz decompressed): UTF-8, else decoded by trafilatura's charset detection."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        from trafilatura.utils import decode_file

        return str(decode_file(raw))


# --- systems ----------------------------------------------------------------------------------------------------


def newsflow_landed(paths: Sequence[Path], rules: Any) -> dict[Path, Landed]:
    """Each page as `newsflow extract` lands it: read_pages -> parse_pages(raw, rules), one call for all pages."""
    from newsflow.sources.pages import read_pages
    from newsflow.transforms.pages import parse_pages

    refs = {str(path): path for path in paths}
    parsed = parse_pages(read_pages(list(refs)), rules)
    articles = {row["page_id"]: row for row in parsed.articles.to_dicts()}
    landed: dict[Path, Landed] = {}
    for page in parsed.pages.select("page_id", "source", "status", "reason").iter_rows(named=True):
        article = articles.get(page["page_id"]) if page["status"] == "article" else None
        landed[refs[page["source"]]] = Landed(page["status"], page["reason"] or "", article)
    return landed


def newsflow_texts(paths: Sequence[Path], rules: Any = None) -> tuple[dict[str, str], dict[str, str]]:
    """Body text per benchmark id as newsflow's extractor gives it (pages it returns no row for get ''), and the
    reader's note per id where decoding the bytes needed one (a charset guess or a repair)."""
    import polars as pl

    from newsflow.drafting.rules import load_rules
    from newsflow.sources.pages import read_pages
    from newsflow.transforms.pages import html_article_bodies

    rules = rules if rules is not None else load_rules()
    texts: dict[str, str] = {benchmark_id(p): "" for p in paths}
    notes: dict[str, str] = {}
    for start in range(0, len(paths), BATCH):
        raw = read_pages([str(p) for p in paths[start : start + BATCH]])
        bodies = html_article_bodies(raw, rules)
        joined = raw.select("page_id", "source", "read_reason").join(bodies, on="page_id", how="left")
        for row in joined.with_columns(text=pl.col("body").list.join("\n")).iter_rows(named=True):
            texts[benchmark_id(row["source"])] = row["text"] or ""
            if row["read_reason"]:
                notes[benchmark_id(row["source"])] = row["read_reason"]
    return texts, notes


def trafilatura_texts(paths: Sequence[Path]) -> dict[str, str]:
    """Text per benchmark id from trafilatura.extract on the page read as UTF-8 (None becomes '')."""
    import trafilatura

    texts: dict[str, str] = {}
    for path in paths:
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        texts[benchmark_id(path)] = trafilatura.extract(html, **TRAFILATURA_OPTIONS) or ""
    return texts


def trafilatura_meta(paths: Sequence[Path]) -> dict[Path, Meta]:
    """trafilatura.extract_metadata per page: title, date (a day, no time) and author split into names."""
    import trafilatura

    found: dict[Path, Meta] = {}
    for path in paths:
        doc = trafilatura.extract_metadata(page_html(path))
        found[path] = Meta(doc.title, doc.date, split_authors(doc.author)) if doc is not None else Meta()
    return found


def htmldate_meta(paths: Sequence[Path]) -> dict[Path, Meta]:
    """htmldate.find_date per page, to the minute and without a zone (HTMLDATE_OPTIONS)."""
    from htmldate import find_date

    return {path: Meta(time=find_date(page_html(path), **HTMLDATE_OPTIONS)) for path in paths}


def timed(work: Callable[[], K]) -> tuple[K, float]:
    start = time.perf_counter()
    value = work()
    return value, time.perf_counter() - start


def warm_up(paths: Sequence[Path], rules: Any) -> None:
    """Every system once on the first page, so that none of the timed runs pays for first use (imports, tables
    built on first call)."""
    first = list(paths[:1])
    newsflow_landed(first, rules)
    newsflow_texts(first, rules)
    trafilatura_texts(first)
    trafilatura_meta(first)
    htmldate_meta(first)


def run_benchmark(pages: Sequence[Page], rules: Any) -> BenchmarkRun:
    """Every system on the benchmark's pages, each timed on its own after warm_up, in this order: newsflow
    (parse), newsflow's extractor, trafilatura's extract, trafilatura's metadata, htmldate."""
    paths = [page.path for page in pages]
    warm_up(paths, rules)
    landed, user_s = timed(lambda: newsflow_landed(paths, rules))
    (extracted, notes), extractor_s = timed(lambda: newsflow_texts(paths, rules))
    traf_texts, traf_s = timed(lambda: trafilatura_texts(paths))
    traf_meta, traf_meta_s = timed(lambda: trafilatura_meta(paths))
    dates, htmldate_s = timed(lambda: htmldate_meta(paths))
    by_id = {benchmark_id(path): done for path, done in landed.items()}
    runs = [
        Run("newsflow", {key: done.body for key, done in by_id.items()}, user_s),
        Run("newsflow-extractor", extracted, extractor_s),
        Run("trafilatura", traf_texts, traf_s),
    ]
    meta = {
        "newsflow": {key: done.meta for key, done in by_id.items()},
        "trafilatura": {benchmark_id(path): found for path, found in traf_meta.items()},
        "htmldate": {benchmark_id(path): found for path, found in dates.items()},
    }
    seconds = {"trafilatura metadata": traf_meta_s, "htmldate": htmldate_s}
    return BenchmarkRun(landed=by_id, runs=runs, notes=notes, meta=meta, seconds=seconds)


# --- body results -----------------------------------------------------------------------------------------------


def per_page_scores(pages: Sequence[Page], runs: Sequence[Run], landed: dict[str, Landed]) -> list[dict[str, Any]]:
    rows = []
    for page in pages:
        row: dict[str, Any] = {"id": page.id, "url": page.url, "truth_tokens": len(page.truth.split())}
        done = landed.get(page.id)
        row["ledger"] = {"status": done.status, "reason": done.reason} if done else None
        for run in runs:
            predicted = run.texts.get(page.id, "")
            p, r, f1 = score(predicted, page.truth)
            row[run.name] = {"precision": p, "recall": r, "f1": f1, "tokens": len(predicted.split())}
        rows.append(row)
    return rows


def summary(pages: Sequence[Page], bench: BenchmarkRun, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    systems = {}
    for run in bench.runs:
        systems[run.name] = {
            **{m: statistics.fmean(row[run.name][m] for row in rows) for m in ("precision", "recall", "f1")},
            "evaluate_py_style": evaluate_py_style((run.texts.get(p.id, ""), p.truth) for p in pages),
            "seconds": run.seconds,
        }
    seconds = {**{run.name: run.seconds for run in bench.runs}, **bench.seconds}
    return {
        "pages": len(pages),
        "landed_as_articles": sum(done.status == "article" for done in bench.landed.values()),
        "systems": systems,
        "published_f1": {"trafilatura 2.0.0": PUBLISHED_TRAFILATURA_F1},
        "seconds": seconds,
        "time_ratio_newsflow_over_trafilatura": seconds["newsflow-extractor"] / seconds["trafilatura"],
        "time_ratio_newsflow_parse_over_trafilatura_with_metadata": seconds["newsflow"]
        / (seconds["trafilatura"] + seconds["trafilatura metadata"]),
    }


def reason_hint(row: dict[str, Any], note: str | None) -> str:
    """Why a page scores low, roughly: predicted against true token counts, precision and recall, and the
    reader's note when decoding the page needed one."""
    nf, truth = row["newsflow"], row["truth_tokens"]
    if nf["tokens"] == 0:
        hint = f"nothing extracted (truth {truth} tokens)"
    else:
        ratio = nf["tokens"] / max(truth, 1)
        kind = "too little" if ratio < 0.8 else "too much" if ratio > 1.25 else "similar length"
        hint = f"{nf['tokens']} vs {truth} tokens, P {nf['precision']:.2f} R {nf['recall']:.2f}: {kind}"
    return f"{hint}; read: {note}" if note else hint


def _landed(row: dict[str, Any]) -> bool:
    return bool(row["ledger"]) and row["ledger"]["status"] == "article"


def worst_pages(rows: Sequence[dict[str, Any]], notes: dict[str, str], k: int) -> list[dict[str, Any]]:
    """newsflow's k lowest-scoring pages among those it landed as articles."""
    ranked = sorted((row for row in rows if _landed(row)), key=lambda row: (row["newsflow"]["f1"], row["id"]))[:k]
    return [
        {
            "id": row["id"],
            "url": row["url"],
            "newsflow_f1": row["newsflow"]["f1"],
            "trafilatura_f1": row["trafilatura"]["f1"],
            "hint": reason_hint(row, notes.get(row["id"])),
        }
        for row in ranked
    ]


def not_landed(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pages newsflow did not land as articles, with the ledger's status and reason, and what its extractor
    and trafilatura score there."""
    return [
        {
            "id": row["id"],
            "url": row["url"],
            **(row["ledger"] or {"status": "missing", "reason": "no ledger row"}),
            "extractor_f1": row["newsflow-extractor"]["f1"],
            "trafilatura_f1": row["trafilatura"]["f1"],
        }
        for row in rows
        if not _landed(row)
    ]


# --- metadata results -------------------------------------------------------------------------------------------


def _jsonable(meta: Meta) -> dict[str, Any]:
    stamp = meta.time.isoformat() if isinstance(meta.time, datetime) else meta.time
    return {"title": meta.title, "time": stamp, "reporters": list(meta.reporters)}


def _truth_json(truth: MetaTruth) -> dict[str, Any]:
    when = truth.time
    stamp = when.at.isoformat() if when and when.at else when.day.isoformat() if when else None
    return {"title": truth.title, "time": stamp, "reporters": list(truth.reporters)}


def score_metadata(truths: dict[str, MetaTruth], systems: dict[str, dict[str, Meta]]) -> dict[str, Any]:
    """Hits per field and system over the pages, with each page's truth, values and hits."""
    fields = {name: {"pages": 0, "hits": dict.fromkeys(systems, 0)} for name in FIELDS}
    per_page = []
    for key, truth in truths.items():
        page: dict[str, Any] = {"page": key, "truth": _truth_json(truth), "systems": {}}
        for system, found in systems.items():
            meta = found.get(key, Meta())
            hits = {f: hit for f, hit in field_hits(meta, truth).items() if f in SYSTEM_FIELDS[system]}
            page["systems"][system] = {**_jsonable(meta), "hits": hits}
            for name, hit in hits.items():
                fields[name]["hits"][system] += hit
        for name in field_hits(Meta(), truth):
            fields[name]["pages"] += 1
        per_page.append(page)
    date_only = sum(1 for truth in truths.values() if truth.time and truth.time.at is None)
    return {"pages": len(truths), "date_only_truths": date_only, "fields": fields, "per_page": per_page}


def benchmark_metadata(pages: Sequence[Page], bench: BenchmarkRun, truth_file: Path) -> dict[str, Any]:
    """The benchmark's metadata scores against the truth file (for the pages scored)."""
    if not truth_file.is_file():
        return {"name": "benchmark", "skipped": f"no truth file {truth_file}"}
    everything = load_metadata_truth(truth_file)
    truths = {page.id: everything[page.id] for page in pages if page.id in everything}
    return {"name": "benchmark", "truth": _shown(truth_file), **score_metadata(truths, bench.meta)}


def fixture_metadata(name: str, pages_dir: Path, expected: Path, rules: Any) -> dict[str, Any]:
    """A fixture folder's metadata scores, or why it was skipped (no expected.json, unreadable, no HTML page)."""
    try:
        truths = load_fixture_truth(pages_dir, expected) if expected.is_file() else None
    except (ValueError, AttributeError) as exc:
        return {"name": name, "skipped": f"{_shown(expected)} unreadable: {exc}"}
    if not truths:
        return {"name": name, "skipped": f"no HTML page with truth in {_shown(expected)}"}
    paths = [pages_dir / key for key in truths]
    landed = newsflow_landed(paths, rules)
    systems = {
        "newsflow": {path.name: landed[path].meta for path in paths},
        "trafilatura": {path.name: meta for path, meta in trafilatura_meta(paths).items()},
        "htmldate": {path.name: meta for path, meta in htmldate_meta(paths).items()},
    }
    ledger = {path.name: f"{landed[path].status}: {landed[path].reason}" for path in paths}
    return {"name": name, "truth": _shown(expected), **score_metadata(truths, systems), "ledger": ledger}


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT)) if path.is_relative_to(PROJECT) else str(path)


# --- report -----------------------------------------------------------------------------------------------------


def print_body(result: dict[str, Any]) -> None:
    print(f"article-extraction-benchmark: {result['pages']} pages; body against the benchmark's articleBody")
    print(
        f"\n{'system':<19} {'precision':>9} {'recall':>7} {'F1':>6}   {'evaluate.py-style P/R/F1':>25} {'seconds':>8}"
    )
    for name, s in result["systems"].items():
        e = s["evaluate_py_style"]
        ref = f"{e['precision']:.3f}/{e['recall']:.3f}/{e['f1']:.3f}"
        print(f"{name:<19} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f}   {ref:>25} {s['seconds']:>8.1f}")
    print(f"{'published':<19} {'':>9} {'':>7} {PUBLISHED_TRAFILATURA_F1:>6.3f}   (trafilatura 2.0.0, benchmark README)")
    print(
        "\nnewsflow: as `newsflow extract` lands the pages (read_pages -> parse_pages); "
        f"{result['landed_as_articles']} of {result['pages']} land as articles, any other page has no body (F1 0)."
        "\nnewsflow-extractor: html_article_bodies on every page, article or not."
    )


def print_timings(result: dict[str, Any]) -> None:
    seconds = result["seconds"]
    print("\nwall time, seconds: " + ", ".join(f"{name} {value:.1f}" for name, value in seconds.items()))
    ratio = result["time_ratio_newsflow_over_trafilatura"]
    print(f"wall time newsflow / trafilatura: {ratio:.2f}x (newsflow-extractor / trafilatura's extract)")
    ratio = result["time_ratio_newsflow_parse_over_trafilatura_with_metadata"]
    print(f"wall time newsflow parse / trafilatura extract + metadata: {ratio:.2f}x")


def print_not_landed(pages: Sequence[dict[str, Any]]) -> None:
    if not pages:
        print("\nnewsflow landed every page as an article.")
        return
    print(f"\n{len(pages)} pages newsflow did not land as articles (F1 0 above; its extractor's and trafilatura's F1):")
    print(f"{'status':<12} {'extr.':>5} {'trafil.':>7}  {'id':<12}  url / ledger reason")
    for page in pages:
        scores = f"{page['extractor_f1']:>5.3f} {page['trafilatura_f1']:>7.3f}"
        print(f"{page['status']:<12} {scores}  {page['id'][:12]:<12}  {page['url']}")
        print(f"{'':<12} {'':>5} {'':>7}  {'':<12}  {page['reason']}")


def print_worst(worst: Sequence[dict[str, Any]]) -> None:
    print(f"\n{len(worst)} worst pages among those newsflow landed as articles (F1):")
    print(f"{'newsflow':>8} {'trafil.':>7}  {'id':<12}  url / hint")
    for page in worst:
        print(f"{page['newsflow_f1']:>8.3f} {page['trafilatura_f1']:>7.3f}  {page['id'][:12]:<12}  {page['url']}")
        print(f"{'':>8} {'':>7}  {'':<12}  {page['hint']}")


def _cell(hits: int, pages: int, system: str, name: str) -> str:
    if name not in SYSTEM_FIELDS[system]:
        return "-"
    return f"{hits} {hits / pages:4.0%}"


def print_metadata(sets: Sequence[dict[str, Any]]) -> None:
    print("\nmetadata: hits / pages whose truth has the field")
    for scored in sets:
        if "skipped" in scored:
            print(f"\n{scored['name']}: skipped ({scored['skipped']})")
            continue
        print(f"\n{scored['name']}, {scored['pages']} pages (truth: {scored['truth']})")
        print(f"{'field':<22} {'pages':>5} " + " ".join(f"{system:>12}" for system in SYSTEM_FIELDS))
        for name, counts in scored["fields"].items():
            if not counts["pages"]:
                continue
            cells = [_cell(counts["hits"][system], counts["pages"], system, name) for system in SYSTEM_FIELDS]
            print(f"{FIELD_LABELS[name]:<22} {counts['pages']:>5} " + " ".join(f"{cell:>12}" for cell in cells))
        if scored["date_only_truths"]:
            print(f"(time: {scored['date_only_truths']} of the pages give only a date and are scored on the day)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=default_data_dir(), help="benchmark folder (ground-truth.json, html/)"
    )
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages (by id)")
    parser.add_argument("--worst", type=int, default=10, help="how many of newsflow's worst pages to list")
    parser.add_argument("--truth", type=Path, default=TRUTH_FILE, help="metadata truth of the benchmark's pages")
    parser.add_argument("--json", action="store_true", help="print machine-readable results instead of the tables")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, pages: Sequence[Page]) -> dict[str, Any]:
    """All results: body scores and timings on the benchmark, metadata on the benchmark and the fixtures."""
    from newsflow.drafting.rules import load_rules

    rules = load_rules()
    bench = run_benchmark(pages, rules)
    rows = per_page_scores(pages, bench.runs, bench.landed)
    metadata = [benchmark_metadata(pages, bench, args.truth)]
    metadata += [fixture_metadata(name, folder, expected, rules) for name, folder, expected in FIXTURE_SETS]
    return {
        **summary(pages, bench, rows),
        "not_articles": not_landed(rows),
        "worst": worst_pages(rows, bench.notes, args.worst),
        "metadata": metadata,
        "per_page": rows,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.data / "ground-truth.json").is_file() or not (args.data / "html").is_dir():
        print(
            f"benchmark data not found at {args.data} (needs ground-truth.json and html/); "
            "put ../shared/data beside the project or pass --data PATH",
            file=sys.stderr,
        )
        return 2
    pages = load_benchmark(args.data, args.limit)
    if not pages:
        print(f"no pages to score (--limit {args.limit})", file=sys.stderr)
        return 2
    result = run(args, pages)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print_body(result)
    print_timings(result)
    print_not_landed(result["not_articles"])
    print_worst(result["worst"])
    print_metadata(result["metadata"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

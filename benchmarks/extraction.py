"""Score newsflow's HTML article-body extraction against the public article-extraction benchmark.

Run from the project root:

    .venv/bin/python benchmarks/extraction.py              # table, timings, the 10 worst pages for newsflow
    .venv/bin/python benchmarks/extraction.py --json       # the same results, machine-readable
    .venv/bin/python benchmarks/extraction.py --limit 20 --worst 5 --data /path/to/article-extraction-benchmark

The data (181 pages, `html/<id>.html.gz` and `ground-truth.json`, MIT, Scrapinghub 2020) is read from
`../shared/data/article-extraction-benchmark/` beside the project root unless `--data` says otherwise; when it
is missing the script says so and exits with code 2.

Two systems are scored on the same pages:

* newsflow: `flows.sources.read_pages` -> `transforms.pages.html_article_bodies` (the body as the pipeline would
  land it), the paragraphs joined with newlines. Timed from the .gz files to the bodies, in batches of 50.
* trafilatura: `trafilatura.extract(html, include_comments=False)` on the page decoded as UTF-8 (errors
  replaced): the call the benchmark's own `extractors/run_trafilatura.py` makes for its published figures.
  Timed from the .gz files to the texts.

The metric (`score`), per page: whitespace tokens; the set of 4-token shingles of each text; precision =
shared / predicted shingles, recall = shared / truth shingles, F1 their harmonic mean; the table shows the mean
of each over pages. Edge cases: both texts empty scores (1, 1, 1); exactly one empty scores (0, 0, 0); when either
text has fewer than 4 tokens both are compared as sets of single tokens (a 4-shingle cannot match a shorter
text). The benchmark's own evaluate.py differs in detail (`\\w+` tokens, shingle counts rather than sets, pages
with an empty side left out of the precision or recall mean, F1 = harmonic mean of mean precision and mean
recall), so its aggregate is printed too, under `evaluate.py-style`: that is the figure to hold against the
published trafilatura 2.0.0 F1 of 0.958.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHINGLE = 4
BATCH = 50
PUBLISHED_TRAFILATURA_F1 = 0.958  # scrapinghub/article-extraction-benchmark README, trafilatura 2.0.0
TRAFILATURA_OPTIONS: dict[str, Any] = {"include_comments": False}  # as the benchmark's run_trafilatura.py


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


# --- metric -----------------------------------------------------------------------------------------------------


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


# --- systems ----------------------------------------------------------------------------------------------------


def newsflow_texts(paths: Sequence[Path]) -> tuple[dict[str, str], dict[str, str]]:
    """Body text per benchmark id as newsflow extracts it (pages it returns no row for get ''), and the reader's
    note per id where decoding the bytes needed one (a charset guess or a repair)."""
    import polars as pl

    from flows.sources import read_pages
    from newsflow.profiles import load_rules
    from transforms.pages import html_article_bodies

    rules = load_rules()
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


def timed(name: str, extract: Callable[[], dict[str, str]]) -> Run:
    start = time.perf_counter()
    texts = extract()
    return Run(name=name, texts=texts, seconds=time.perf_counter() - start)


def run_systems(pages: Sequence[Page]) -> tuple[list[Run], dict[str, str]]:
    """Both systems on the pages, each timed on its own; also newsflow's decoding notes per id."""
    import trafilatura  # noqa: F401  (imported before timing so neither system pays for it)

    paths = [page.path for page in pages]
    notes: dict[str, str] = {}

    def newsflow() -> dict[str, str]:
        texts, found = newsflow_texts(paths)
        notes.update(found)
        return texts

    return [timed("newsflow", newsflow), timed("trafilatura", lambda: trafilatura_texts(paths))], notes


# --- results ----------------------------------------------------------------------------------------------------


def per_page_scores(pages: Sequence[Page], runs: Sequence[Run]) -> list[dict[str, Any]]:
    rows = []
    for page in pages:
        row: dict[str, Any] = {"id": page.id, "url": page.url, "truth_tokens": len(page.truth.split())}
        for run in runs:
            predicted = run.texts.get(page.id, "")
            p, r, f1 = score(predicted, page.truth)
            row[run.name] = {"precision": p, "recall": r, "f1": f1, "tokens": len(predicted.split())}
        rows.append(row)
    return rows


def summary(pages: Sequence[Page], runs: Sequence[Run], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    systems = {}
    for run in runs:
        systems[run.name] = {
            **{m: statistics.fmean(row[run.name][m] for row in rows) for m in ("precision", "recall", "f1")},
            "evaluate_py_style": evaluate_py_style((run.texts.get(p.id, ""), p.truth) for p in pages),
            "seconds": run.seconds,
        }
    seconds = {run.name: run.seconds for run in runs}
    return {
        "pages": len(pages),
        "systems": systems,
        "published_f1": {"trafilatura 2.0.0": PUBLISHED_TRAFILATURA_F1},
        "time_ratio_newsflow_over_trafilatura": seconds["newsflow"] / seconds["trafilatura"],
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


def worst_pages(rows: Sequence[dict[str, Any]], notes: dict[str, str], k: int) -> list[dict[str, Any]]:
    ranked = sorted(rows, key=lambda row: (row["newsflow"]["f1"], row["id"]))[:k]
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


def print_report(result: dict[str, Any], worst: Sequence[dict[str, Any]]) -> None:
    print(f"article-extraction-benchmark: {result['pages']} pages")
    print(
        f"\n{'system':<12} {'precision':>9} {'recall':>7} {'F1':>6}   {'evaluate.py-style P/R/F1':>25} {'seconds':>8}"
    )
    for name, s in result["systems"].items():
        e = s["evaluate_py_style"]
        ref = f"{e['precision']:.3f}/{e['recall']:.3f}/{e['f1']:.3f}"
        print(f"{name:<12} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f}   {ref:>25} {s['seconds']:>8.1f}")
    print(f"{'published':<12} {'':>9} {'':>7} {PUBLISHED_TRAFILATURA_F1:>6.3f}   (trafilatura 2.0.0, benchmark README)")
    print(f"\nwall time newsflow / trafilatura: {result['time_ratio_newsflow_over_trafilatura']:.2f}x")
    print(f"\n{len(worst)} worst pages for newsflow (F1):")
    print(f"{'newsflow':>8} {'trafil.':>7}  {'id':<12}  url / hint")
    for page in worst:
        print(f"{page['newsflow_f1']:>8.3f} {page['trafilatura_f1']:>7.3f}  {page['id'][:12]:<12}  {page['url']}")
        print(f"{'':>8} {'':>7}  {'':<12}  {page['hint']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=default_data_dir(), help="benchmark folder (ground-truth.json, html/)"
    )
    parser.add_argument("--limit", type=int, default=None, help="score only the first N pages (by id)")
    parser.add_argument("--worst", type=int, default=10, help="how many of newsflow's worst pages to list")
    parser.add_argument("--json", action="store_true", help="print machine-readable results instead of the table")
    return parser.parse_args(argv)


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
    runs, notes = run_systems(pages)
    rows = per_page_scores(pages, runs)
    result = summary(pages, runs, rows)
    worst = worst_pages(rows, notes, args.worst)
    if args.json:
        print(json.dumps({**result, "worst": worst, "per_page": rows}, ensure_ascii=False, indent=2))
    else:
        print_report(result, worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())

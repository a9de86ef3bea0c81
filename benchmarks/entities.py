"""Score newsflow's entity extractor on KLUE-NER news sentences, and time it against MeCab alone.

Run from the project root:

    .venv/bin/python benchmarks/entities.py                # table: P/R/F1 per type, exact and overlap; timings
    .venv/bin/python benchmarks/entities.py --json         # the same results, machine-readable
    .venv/bin/python benchmarks/entities.py --limit 200 --data /path/to/klue-ner-v1.1_dev_news_a.tsv

The data (1,267 wikitree news sentences of KLUE-NER v1.1 dev, CC BY-SA 4.0) is read from
`../shared/data/klue-ner/klue-ner-v1.1_dev_news_a.tsv` beside the project root unless `--data` says otherwise;
when it is missing the script says so and exits with code 2. It is evaluation data only: nothing in newsflow
may be tuned on it.

Gold (`read_klue`): each sentence is a `## <id>\\t<marked sentence>` line, then one `char\\tTAG` line per
character (a space is the line ` \\tO`), a blank line between sentences. The plain sentence is rebuilt from the
characters and the entities are read off the BIO tags as (start, end, tag) character spans, end exclusive; an
I- tag with no B- of its type before it opens a new entity. Only PS, OG and LC are scored.

Predictions: `newsflow.transforms.entities.spans(sentences, load_rules().lexicon)`, each sentence on its own; newsflow's
person / organisation / location become PS / OG / LC, other types are ignored.

The metric (`score`), entity level, per type and micro over the three:

* exact: a prediction is right when a gold entity has the same start, end and type;
* overlap: same type and the spans share at least one character; each gold entity and each prediction is
  matched at most once, greedily, the pairs with the most shared characters first;
* precision = matched / predicted, recall = matched / gold, F1 their harmonic mean (0 when both are 0).

Timing, in the same run, after one warm-up call of each (dictionary loading excluded):

* sentences: `spans` on all sentences (the call that produces the scored predictions) against the raw MeCab
  tagger (`mecab.MeCab()._tagger.parse`) on the same sentences;
* seed-sized articles: 300 texts of about 1,600 characters (the seed article's size) made of consecutive
  KLUE sentences, one paragraph each, going round the sentences again when they run out; `entities(frame,
  lexicon)` on a polars frame {article_id, body} of them against MeCab alone on the same texts (the paragraphs
  joined with newlines, as the extractor sees them); articles per second for both and the ratio;
* the entity stage in the flow's worker processes: the same frame through `Workers.entities` (one worker
  process per core, started and warmed up before the clock starts) against MeCab alone in as many processes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.mecab_timing import mecab_in_processes, mecab_parse_all, mecab_tagger, timed  # noqa: E402

Span = tuple[int, int, str]  # (start, end exclusive, KLUE tag), character offsets
Sentence = tuple[str, list[Span]]

SCORED = ("PS", "OG", "LC")
TO_KLUE = {"person": "PS", "organisation": "OG", "location": "LC"}
ARTICLES = 300
ARTICLE_CHARS = 1600


# --- gold ---------------------------------------------------------------------------------------------------------


def default_data_path() -> Path:
    """../shared/data/klue-ner/klue-ner-v1.1_dev_news_a.tsv beside the project root (the parent of benchmarks/)."""
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "klue-ner" / "klue-ner-v1.1_dev_news_a.tsv"


def bio_spans(tags: Sequence[str]) -> list[Span]:
    """(start, end, type) spans of a BIO tag sequence; an I- that continues nothing starts a new span."""
    found: list[Span] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_kind = tag.partition("-")
        if kind and (prefix != "I" or tag_kind != kind):
            found.append((start, i, kind))
            kind = ""
        if prefix == "B" or (prefix == "I" and not kind):
            start, kind = i, tag_kind
    return found


def _sentence(chars: list[tuple[str, str]]) -> Sentence:
    return "".join(c for c, _ in chars), bio_spans([t for _, t in chars])


def read_klue(path: Path | str) -> list[Sentence]:
    """Every sentence of a KLUE-NER tsv as (plain text, gold spans of all tags), in file order."""
    sentences: list[Sentence] = []
    chars: list[tuple[str, str]] | None = None
    for line in Path(path).read_text(encoding="utf-8").split("\n"):
        line = line.rstrip("\r")
        if line.startswith("## "):
            if chars is not None:
                sentences.append(_sentence(chars))
            chars = []
        elif line and chars is not None:
            char, tag = line.rsplit("\t", 1)  # not strip(): the character may be a space
            chars.append((char, tag.strip()))
    if chars is not None:
        sentences.append(_sentence(chars))
    return sentences


# --- metric -------------------------------------------------------------------------------------------------------


def _overlap(a: Span, b: Span) -> int:
    return min(a[1], b[1]) - max(a[0], b[0])


def exact_matches(gold: Sequence[Span], predicted: Sequence[Span]) -> Counter[str]:
    """Matched entities per type: same start, end and type (each span used once)."""
    matched: Counter[str] = Counter()
    for span, n in (Counter(gold) & Counter(predicted)).items():
        matched[span[2]] += n
    return matched


def overlap_matches(gold: Sequence[Span], predicted: Sequence[Span]) -> Counter[str]:
    """Matched entities per type: same type, spans overlapping; one-to-one, the largest overlaps first."""
    pairs = [
        (_overlap(g, p), i, j) for i, g in enumerate(gold) for j, p in enumerate(predicted)
        if g[2] == p[2] and _overlap(g, p) > 0
    ]  # fmt: skip
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    matched: Counter[str] = Counter()
    for _size, i, j in sorted(pairs, key=lambda pair: (-pair[0], pair[1], pair[2])):
        if i not in used_gold and j not in used_pred:
            used_gold.add(i)
            used_pred.add(j)
            matched[gold[i][2]] += 1
    return matched


def prf(matched: int, gold: int, predicted: int) -> dict[str, float | int]:
    """Counts and precision, recall, F1 (each 0 when its denominator is)."""
    precision = matched / predicted if predicted else 0.0
    recall = matched / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"matched": matched, "gold": gold, "predicted": predicted,
            "precision": precision, "recall": recall, "f1": f1}  # fmt: skip


def _table(matched: Counter[str], gold: Counter[str], predicted: Counter[str]) -> dict[str, dict[str, float | int]]:
    table = {kind: prf(matched[kind], gold[kind], predicted[kind]) for kind in SCORED}
    table["micro"] = prf(*(sum(c[kind] for kind in SCORED) for c in (matched, gold, predicted)))
    return table


def score(gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]]) -> dict[str, Any]:
    """Entity-level P/R/F1 per scored type (PS, OG, LC) and micro over them, `exact` and `overlap`.

    Both arguments hold one list of (start, end, tag) spans per sentence, in the same order; spans of other tags
    are ignored."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    counts = {name: Counter[str]() for name in ("gold", "predicted", "exact", "overlap")}
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        g = [s for s in gold_spans if s[2] in SCORED]
        p = [s for s in pred_spans if s[2] in SCORED]
        counts["gold"].update(s[2] for s in g)
        counts["predicted"].update(s[2] for s in p)
        counts["exact"] += exact_matches(g, p)
        counts["overlap"] += overlap_matches(g, p)
    return {match: _table(counts[match], counts["gold"], counts["predicted"]) for match in ("exact", "overlap")}


# --- systems ------------------------------------------------------------------------------------------------------


def to_klue(found: Iterable[dict[str, Any]]) -> list[Span]:
    """newsflow's {text, type, start, end} mentions as KLUE spans; types other than the three are dropped."""
    return [(m["start"], m["end"], TO_KLUE[m["type"]]) for m in found if m["type"] in TO_KLUE]


def span_text_mismatches(texts: Sequence[str], found: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Predictions whose `text` is not text[start:end] (their offsets and text disagree)."""
    return [
        {"sentence": i, **m, "at_offsets": text[m["start"] : m["end"]]}
        for i, (text, mentions) in enumerate(zip(texts, found, strict=True))
        for m in mentions
        if text[m["start"] : m["end"]] != m["text"]
    ]


def seed_sized_articles(sentences: Sequence[str], count: int = ARTICLES, size: int = ARTICLE_CHARS) -> list[list[str]]:
    """`count` articles of consecutive sentences (one paragraph each), each closed once its text reaches `size`
    characters; the sentences are gone through again from the start when they run out."""
    source = itertools.cycle(sentences)
    articles: list[list[str]] = []
    for _ in range(count):
        body: list[str] = []
        while len("\n".join(body)) < size:
            body.append(next(source))
        articles.append(body)
    return articles


def run(sentences: Sequence[Sentence]) -> dict[str, Any]:
    """Predictions, scores and timings for the sentences."""
    import polars as pl

    from newsflow.drafting.rules import load_rules
    from newsflow.drafting.workers import Workers, default_workers
    from newsflow.transforms.entities import entities, spans

    lexicon = load_rules().lexicon
    tagger = mecab_tagger()
    texts = [text for text, _ in sentences]
    spans(["삼성전자 이재용 회장이 서울에 왔다."], lexicon)  # warm-up: dictionary, lexicon, caches
    tagger.parse("삼성전자 이재용 회장이 서울에 왔다.")

    _, mecab_s = timed(lambda: mecab_parse_all(tagger, texts))
    found, spans_s = timed(lambda: spans(texts, lexicon))

    articles = seed_sized_articles(texts)
    frame = pl.DataFrame({"article_id": [f"a{i:03d}" for i in range(len(articles))], "body": articles})
    joined = ["\n".join(body) for body in articles]
    _, article_mecab_s = timed(lambda: mecab_parse_all(tagger, joined))
    rows, article_s = timed(lambda: entities(frame, lexicon))
    workers = default_workers()
    with Workers(workers).start() as stage:
        staged, stage_s = timed(lambda: stage.entities(frame))
    stage_mecab_s = mecab_in_processes(joined, workers)
    assert staged.equals(rows), "the worker processes found other entities than one process"

    scores = score([gold for _, gold in sentences], [to_klue(f) for f in found])
    mismatches = span_text_mismatches(texts, found)
    return {
        "sentences": len(sentences),
        "characters": sum(len(t) for t in texts),
        "scores": scores,
        "predicted_other_types": sum(1 for f in found for m in f if m["type"] not in TO_KLUE),
        "span_text_mismatches": len(mismatches),
        "span_text_mismatch_examples": mismatches[:10],
        "timing": {
            "sentences": {"newsflow_spans_s": spans_s, "mecab_s": mecab_s, "ratio": spans_s / mecab_s},
            "articles": {
                "articles": len(articles),
                "mean_chars": sum(map(len, joined)) / len(joined),
                "entity_rows": rows.height,
                "newsflow_entities_s": article_s,
                "mecab_s": article_mecab_s,
                "newsflow_articles_per_s": len(articles) / article_s,
                "mecab_articles_per_s": len(articles) / article_mecab_s,
                "ratio": article_s / article_mecab_s,
            },
            "stage": {
                "workers": workers,
                "articles": len(articles),
                "newsflow_stage_s": stage_s,
                "mecab_s": stage_mecab_s,
                "newsflow_articles_per_s": len(articles) / stage_s,
                "mecab_articles_per_s": len(articles) / stage_mecab_s,
                "ratio": stage_s / stage_mecab_s,
            },
        },
    }


# --- report -------------------------------------------------------------------------------------------------------


def print_scores(scores: dict[str, Any]) -> None:
    head = f"{'exact P':>7} {'R':>6} {'F1':>6}   {'overlap P':>9} {'R':>6} {'F1':>6}"
    print(f"\n{'':<6} {'gold':>5} {'pred':>5}   {head}")
    for kind in (*SCORED, "micro"):
        e, o = scores["exact"][kind], scores["overlap"][kind]
        print(
            f"{kind:<6} {e['gold']:>5} {e['predicted']:>5}   {e['precision']:>7.3f} {e['recall']:>6.3f} "
            f"{e['f1']:>6.3f}   {o['precision']:>9.3f} {o['recall']:>6.3f} {o['f1']:>6.3f}"
        )


def _timing_line(label: str, seconds: float, items: int, unit: str) -> str:
    return f"  {label:<20} {seconds:>7.2f} s   {items / seconds:>8.1f} {unit}/s"


def print_timing(timing: dict[str, Any], sentences: int) -> None:
    s, a = timing["sentences"], timing["articles"]
    print(f"\ntiming, same run, warm ({sentences} sentences one by one):")
    print(_timing_line("newsflow spans()", s["newsflow_spans_s"], sentences, "sentences"))
    print(_timing_line("MeCab parse alone", s["mecab_s"], sentences, "sentences"))
    print(f"  {'newsflow / MeCab':<20} {s['ratio']:>7.1f}x the time")
    print(
        f"\nseed-sized articles: {a['articles']} texts of {a['mean_chars']:.0f} characters on average "
        f"(consecutive KLUE sentences, one paragraph each):"
    )
    print(_timing_line("newsflow entities()", a["newsflow_entities_s"], a["articles"], "articles"))
    print(_timing_line("MeCab parse alone", a["mecab_s"], a["articles"], "articles"))
    print(f"  {'newsflow / MeCab':<20} {a['ratio']:>7.1f}x the time ({a['entity_rows']} entity rows)")
    w = timing["stage"]
    print(f"\nthe entity stage as the flow runs it, {w['workers']} worker processes, same articles:")
    print(_timing_line("newsflow Workers.entities", w["newsflow_stage_s"], w["articles"], "articles"))
    print(_timing_line(f"MeCab alone x{w['workers']}", w["mecab_s"], w["articles"], "articles"))
    print(f"  {'newsflow / MeCab':<20} {w['ratio']:>7.1f}x the time")


def print_report(result: dict[str, Any]) -> None:
    print(
        f"KLUE-NER v1.1 dev, wikitree news (a): {result['sentences']} sentences, {result['characters']:,} characters; "
        f"entity-level PS / OG / LC"
    )
    print_scores(result["scores"])
    print(
        f"\npredicted mentions of other types (ignored): {result['predicted_other_types']}; "
        f"predictions whose text is not sentence[start:end]: {result['span_text_mismatches']}"
    )
    for m in result["span_text_mismatch_examples"][:5]:
        print(f"  sentence {m['sentence']}: text {m['text']!r}, [{m['start']}:{m['end']}] = {m['at_offsets']!r}")
    print_timing(result["timing"], result["sentences"])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_path(), help="the KLUE-NER tsv file")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N sentences")
    parser.add_argument("--json", action="store_true", help="print machine-readable results instead of the table")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.data.is_file():
        print(
            f"KLUE-NER data not found at {args.data}; put ../shared/data beside the project or pass --data PATH",
            file=sys.stderr,
        )
        return 2
    if args.limit is not None and args.limit < 1:
        print(f"--limit must be at least 1 (got {args.limit})", file=sys.stderr)
        return 2
    sentences = read_klue(args.data)[: args.limit]
    if not sentences:
        print(f"no sentences to score in {args.data} (--limit {args.limit})", file=sys.stderr)
        return 2
    result = {"data": str(args.data), **run(sentences)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cross-validate newsflow's entity tagger on KLUE-NER news sentences beside the rule-based extractor it
replaced, and time the entity stage against MeCab alone.

Run from the project root:

    .venv/bin/python benchmarks/entities.py                       # 5-fold CV, model vs rules; timings
    .venv/bin/python benchmarks/entities.py --without morphemes   # ... and the model without a feature group
    .venv/bin/python benchmarks/entities.py --folds 0             # timings only
    .venv/bin/python benchmarks/entities.py --json

Data: `../shared/data/klue-ner/` beside the project root (`--data DIR` otherwise): the 1,267 wikitree news
sentences and the 2,466 movie-review sentences of KLUE-NER v1.1 dev (CC BY-SA 4.0, KLUE benchmark). When they
are missing the script says so and exits with code 2. Reading them: training/klue.py.

Quality, k-fold cross-validation (`--folds`, 5): news sentence i is held out in fold i mod k; for each fold a
model is trained (training/entities.py `train`, the shipped parameters and features) on the other folds' news
sentences plus every movie-review sentence, and tags the held-out fold. The held-out predictions of all folds
are scored together, so every news sentence is scored once, by a model that never saw it. Three systems, on the
same sentences in the same run:

* model: `newsflow.transforms.entities.spans` with the fold's model: what `newsflow entities` prints (the
  tagger's spans, with the people, organisations and places the title chains add);
* tagger: the CRF's own spans (`newsflow.transforms.ner.tag`);
* rules: the rule-based extractor (`newsflow.transforms.entity_rules`), which learns nothing from the folds.

`--without GROUP` (words, lexicon, morphemes; repeatable) adds the model trained without that group of
feature templates (newsflow.transforms.ner.TEMPLATE_GROUPS), cross-validated the same way and timed on the same
articles: what the group earns against what it costs.

The metric (`score`), entity level, per type and micro over PS, OG and LC:

* exact: a prediction is right when a gold entity has the same start, end and type;
* overlap: same type and the spans share at least one character; each gold entity and each prediction is
  matched at most once, greedily, the pairs with the most shared characters first;
* precision = matched / predicted, recall = matched / gold, F1 their harmonic mean (0 when both are 0).

Speed, in the same run, warm (models and dictionaries loaded, one call before the clock starts): 300 texts of
about 1,600 characters (the seed article's size) made of consecutive news sentences, one paragraph each:

* one process: `entities(frame, model)` on a polars frame {article_id, body} of them against MeCab alone (the
  raw tagger, `mecab.MeCab()._tagger.parse`) on the same texts; articles per second and the ratio; beside them
  the rule-based extractor's mentions (`entity_rules.mention_lists`, without the rows) on the same texts;
* the entity stage as the flow runs it: the same frame through `Workers.entities` (one worker process per core,
  started and warmed up before the clock starts) against MeCab alone in as many processes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.mecab_timing import mecab_in_processes, mecab_parse_all, mecab_tagger, timed  # noqa: E402
from training.klue import (  # noqa: E402
    NEWS,
    REVIEWS,
    Sentence,
    Span,
    bio_spans,
    default_data_dir,
    folds,
    read_klue,
)  # fmt: skip

__all__ = ["bio_spans", "read_klue", "score"]

SCORED = ("PS", "OG", "LC")
TO_KLUE = {"person": "PS", "organisation": "OG", "location": "LC"}
ARTICLES = 300
ARTICLE_CHARS = 1600


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


def cross_validate(
    news: Sequence[Sentence], reviews: Sequence[Sentence], k: int, templates: Sequence[str]
) -> dict[str, list[list[Span]]]:
    """Held-out predictions of the model and the tagger for every news sentence (file order), k folds."""
    from newsflow.drafting.rules import load_lexicon, read_entity_model
    from newsflow.transforms.entities import spans
    from newsflow.transforms.ner import tag
    from training.entities import train

    lexicon = load_lexicon()
    model: list[list[Span]] = [[] for _ in news]
    tagger: list[list[Span]] = [[] for _ in news]
    with tempfile.TemporaryDirectory() as folder:
        for fold, held_out in enumerate(folds(len(news), k)):
            kept = set(held_out)
            training = [s for i, s in enumerate(news) if i not in kept] + list(reviews)
            path = train(training, Path(folder) / f"fold-{fold}.crfsuite", lexicon, templates=templates)
            fitted = read_entity_model(path)
            texts = [news[i][0] for i in held_out]
            for i, found, raw in zip(
                held_out, spans(texts, fitted), tag(texts, fitted.lexicon, fitted.weights), strict=True
            ):
                model[i], tagger[i] = to_klue(found), raw
            print(f"  fold {fold + 1}/{k}: trained on {len(training):,} sentences", file=sys.stderr)
    return {"model": model, "tagger": tagger}


def rule_spans(texts: Sequence[str]) -> list[list[Span]]:
    """The rule-based extractor's spans."""
    from newsflow.drafting.rules import load_lexicon
    from newsflow.transforms.entity_rules import mention_lists

    return [[(m.start, m.end, TO_KLUE[m.type]) for m in found] for found in mention_lists(texts, load_lexicon())]


def speed(texts: Sequence[str], models: dict[str, Any]) -> dict[str, Any]:
    """Articles per second of each model's `entities` and of the entity stage, against MeCab alone."""
    import polars as pl

    from newsflow.drafting.workers import Workers, default_workers
    from newsflow.transforms.entities import entities

    articles = seed_sized_articles(texts)
    frame = pl.DataFrame({"article_id": [f"a{i:03d}" for i in range(len(articles))], "body": articles})
    joined = ["\n".join(body) for body in articles]
    tagger = mecab_tagger()
    tagger.parse(joined[0])
    _, mecab_s = timed(lambda: mecab_parse_all(tagger, joined))
    from newsflow.drafting.rules import load_lexicon
    from newsflow.transforms.entity_rules import mention_lists

    mention_lists(joined[:2], load_lexicon())  # warm-up
    _, rules_s = timed(lambda: mention_lists(joined, load_lexicon()))
    one_process = {"rules (mentions only)": {"seconds": rules_s, "articles_per_s": len(articles) / rules_s,
                                             "ratio_to_mecab": rules_s / mecab_s, "entity_rows": None}}  # fmt: skip
    for name, model in models.items():
        entities(frame.head(2), model)  # warm-up
        rows, seconds = timed(lambda model=model: entities(frame, model))
        one_process[name] = {"seconds": seconds, "articles_per_s": len(articles) / seconds,
                             "ratio_to_mecab": seconds / mecab_s, "entity_rows": rows.height}  # fmt: skip
    workers = default_workers()
    with Workers(workers).start() as stage:
        staged, stage_s = timed(lambda: stage.entities(frame))
    stage_mecab_s = mecab_in_processes(joined, workers)
    return {
        "articles": len(articles),
        "mean_chars": sum(map(len, joined)) / len(joined),
        "mecab_s": mecab_s,
        "mecab_articles_per_s": len(articles) / mecab_s,
        "one_process": one_process,
        "stage": {
            "workers": workers,
            "seconds": stage_s,
            "articles_per_s": len(articles) / stage_s,
            "mecab_s": stage_mecab_s,
            "mecab_articles_per_s": len(articles) / stage_mecab_s,
            "ratio_to_mecab": stage_s / stage_mecab_s,
            "entity_rows": staged.height,
        },
    }


def run(news: Sequence[Sentence], reviews: Sequence[Sentence], k: int, without: Sequence[str]) -> dict[str, Any]:
    """Scores of every system (k > 1) and the speed figures."""
    from newsflow.drafting.rules import load_entity_model, load_lexicon, read_entity_model
    from newsflow.transforms.entities import EntityModel
    from newsflow.transforms.ner import TEMPLATE_GROUPS, TEMPLATES
    from training.entities import train

    texts = [text for text, _ in news]
    gold = [spans for _, spans in news]
    result: dict[str, Any] = {"sentences": len(news), "review_sentences": len(reviews), "folds": k, "scores": {}}
    variants = {"model": TEMPLATES} | {
        f"model without {group}": tuple(t for t in TEMPLATES if t not in TEMPLATE_GROUPS[group]) for group in without
    }
    if k > 1:
        for name, templates in variants.items():
            print(f"{name}: {k}-fold cross-validation", file=sys.stderr)
            held_out = cross_validate(news, reviews, k, templates)
            result["scores"][name] = score(gold, held_out["model"])
            if name == "model":
                result["scores"]["tagger"] = score(gold, held_out["tagger"])
        result["scores"]["rules"] = score(gold, rule_spans(texts))
    models: dict[str, EntityModel] = {"model": load_entity_model()}
    with tempfile.TemporaryDirectory() as folder:
        for name, templates in list(variants.items())[1:]:  # timed with a model trained on every sentence
            path = train([*news, *reviews], Path(folder) / "variant.crfsuite", load_lexicon(), templates=templates)
            models[name] = read_entity_model(path)
    result["speed"] = speed(texts, models)
    return result


# --- report -------------------------------------------------------------------------------------------------------


def print_scores(scores: dict[str, Any]) -> None:
    head = f"{'exact P':>7} {'R':>6} {'F1':>6}   {'overlap P':>9} {'R':>6} {'F1':>6}"
    for system, table in scores.items():
        print(f"\n{system:<22} {'gold':>5} {'pred':>5}   {head}")
        for kind in (*SCORED, "micro"):
            e, o = table["exact"][kind], table["overlap"][kind]
            print(
                f"  {kind:<20} {e['gold']:>5} {e['predicted']:>5}   {e['precision']:>7.3f} {e['recall']:>6.3f} "
                f"{e['f1']:>6.3f}   {o['precision']:>9.3f} {o['recall']:>6.3f} {o['f1']:>6.3f}"
            )


def print_speed(speed: dict[str, Any]) -> None:
    print(
        f"\nspeed: {speed['articles']} articles of {speed['mean_chars']:.0f} characters; MeCab alone "
        f"{speed['mecab_articles_per_s']:.0f} articles/s in one process"
    )
    for name, figures in speed["one_process"].items():
        rows = f"   ({figures['entity_rows']} entity rows)" if figures["entity_rows"] is not None else ""
        print(
            f"  {name:<24} {figures['articles_per_s']:>6.0f} articles/s   {figures['ratio_to_mecab']:>5.2f}x "
            f"MeCab's time{rows}"
        )
    stage = speed["stage"]
    print(
        f"  entity stage, {stage['workers']} worker processes: {stage['articles_per_s']:.0f} articles/s against "
        f"MeCab alone x{stage['workers']} {stage['mecab_articles_per_s']:.0f}: {stage['ratio_to_mecab']:.2f}x "
        f"MeCab's time"
    )


def print_report(result: dict[str, Any]) -> None:
    print(
        f"KLUE-NER v1.1 dev: {result['sentences']:,} news sentences scored, {result['folds']}-fold "
        f"cross-validation (training: the other folds + {result['review_sentences']:,} movie-review sentences)"
    )
    print_scores(result["scores"])
    print_speed(result["speed"])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="folder of the KLUE-NER tsv files")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: timings only)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N news sentences")
    parser.add_argument(
        "--without", action="append", default=[], choices=["words", "lexicon", "morphemes"],
        help="also the model without this group of features (repeatable)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print machine-readable results instead of the table")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [name for name in (NEWS, REVIEWS) if not (args.data / name).is_file()]
    if missing:
        print(
            f"KLUE-NER data not found in {args.data} ({', '.join(missing)}); put ../shared/data beside the project "
            "or pass --data DIR",
            file=sys.stderr,
        )
        return 2
    if args.folds == 1 or args.folds < 0 or (args.limit is not None and args.limit < args.folds):
        print(f"--folds must be 0 or at least 2, and --limit at least --folds (got {args.folds}, {args.limit})",
              file=sys.stderr)  # fmt: skip
        return 2
    news = read_klue(args.data / NEWS)[: args.limit]
    result = {"data": str(args.data), **run(news, read_klue(args.data / REVIEWS), args.folds, args.without)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

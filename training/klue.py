"""KLUE-NER files: sentences with their entity spans, the character labels the tagger learns, and folds.

Each sentence of a KLUE-NER tsv is a `## <id>\\t<sentence with <span:TAG> marks>` line, then one `char\\tTAG` line
per character (a space is the line ` \\tO`), a blank line between sentences. The plain sentence is rebuilt from the
characters and the entities are read off the BIO tags as (start, end, tag) character spans, end exclusive; an I-
tag with no B- of its type before it opens a new entity.

The data (`../shared/data/klue-ner/`, KLUE benchmark, Park et al. 2021) is under CC BY-SA 4.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

Span = tuple[int, int, str]  # (start, end exclusive, KLUE tag), character offsets
Sentence = tuple[str, list[Span]]

NEWS = "klue-ner-v1.1_dev_news_a.tsv"  # 1,267 wikitree news sentences
REVIEWS = "klue-ner-v1.1_dev_nsmc.tsv"  # 2,466 movie-review sentences (NSMC)
TAGGED = ("PS", "OG", "LC")  # the types newsflow tags: person, organisation, location


def default_data_dir() -> Path:
    """../shared/data/klue-ner beside the project root."""
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "klue-ner"


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


def char_labels(text: str, spans: Sequence[Span]) -> list[str]:
    """One BIO label per character of the text, for the TAGGED types only (the others are O)."""
    labels = ["O"] * len(text)
    for start, end, kind in spans:
        if kind in TAGGED:
            labels[start:end] = [f"B-{kind}"] + [f"I-{kind}"] * (end - start - 1)
    return labels


def folds(count: int, k: int) -> list[list[int]]:
    """k held-out folds over `count` sentences, sentence i in fold i mod k (neighbours land in other folds)."""
    return [list(range(fold, count, k)) for fold in range(k)]

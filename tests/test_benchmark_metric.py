"""The article-extraction benchmark's metric (benchmarks/extraction.py `score`) on tiny texts, and newsflow on the
benchmark's two Korean pages."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "extraction.py"
HANGUL = re.compile("[\uac00-\ud7a3]")


def _load_script() -> ModuleType:
    """benchmarks/ is not a package: load the script from its path."""
    spec = importlib.util.spec_from_file_location("benchmark_extraction", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = _load_script()


def test_identical_texts_score_one() -> None:
    text = "the quick brown fox jumps over the lazy dog"
    assert bench.score(text, text) == (1.0, 1.0, 1.0)


def test_whitespace_does_not_matter() -> None:
    assert bench.score("a b c d\n\ne  f", " a\tb c d e f ") == (1.0, 1.0, 1.0)


def test_disjoint_texts_score_zero() -> None:
    assert bench.score("one two three four five", "six seven eight nine ten") == (0.0, 0.0, 0.0)


def test_partial_overlap() -> None:
    # predicted shingles: abcd, bcde, cdef; truth: abcd, bcde -> shared 2: P 2/3, R 1, F1 0.8
    p, r, f1 = bench.score("a b c d e f", "a b c d e")
    assert p == pytest.approx(2 / 3)
    assert r == pytest.approx(1.0)
    assert f1 == pytest.approx(0.8)


def test_shingles_are_sets() -> None:
    # predicted: abcd, bcda, cdab, dabc (abcd twice, counted once); truth: abcd
    assert bench.score("a b c d a b c d", "a b c d") == pytest.approx((0.25, 1.0, 0.4))


def test_empty_texts() -> None:
    assert bench.score("", "") == (1.0, 1.0, 1.0)
    assert bench.score(" \n ", "") == (1.0, 1.0, 1.0)
    assert bench.score("", "some true article text") == (0.0, 0.0, 0.0)
    assert bench.score("some predicted text here", "") == (0.0, 0.0, 0.0)


def test_short_texts_use_token_sets() -> None:
    assert bench.score("hello world", "hello world") == (1.0, 1.0, 1.0)
    # fewer than 4 tokens on one side: both sides as token sets; {hello, world} of 5 predicted tokens
    p, r, f1 = bench.score("hello there world foo bar", "hello world")
    assert (p, r) == pytest.approx((0.4, 1.0))
    assert f1 == pytest.approx(2 * 0.4 / 1.4)
    assert bench.score("hello", "goodbye") == (0.0, 0.0, 0.0)


def test_newsflow_on_the_korean_pages() -> None:
    data = bench.default_data_dir()
    if not (data / "ground-truth.json").is_file():
        pytest.skip(f"the article-extraction benchmark is not here ({data}): ../shared is not beside this checkout")
    korean = [page for page in bench.load_benchmark(data) if HANGUL.search(page.truth)]
    assert len(korean) == 2
    texts, _notes = bench.newsflow_texts([page.path for page in korean])
    for page in korean:
        _p, _r, f1 = bench.score(texts[page.id], page.truth)
        assert f1 > 0.8, f"{page.id} ({page.url}): F1 {f1:.3f}"

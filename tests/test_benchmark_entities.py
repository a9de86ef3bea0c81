"""The entity benchmark's KLUE-NER reader (benchmarks/entities.py `read_klue`) and scorer (`score`) on tiny
inline data."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "entities.py"


def _load_script() -> ModuleType:
    """benchmarks/ is not a package: load the script from its path."""
    spec = importlib.util.spec_from_file_location("benchmark_entities", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_script()


def _klue(sentence_id: str, marked: str, chars: list[tuple[str, str]]) -> str:
    return "\n".join([f"## {sentence_id}\t{marked}", *(f"{c}\t{t}" for c, t in chars)])


SAMPLE = "\n\n".join([
    _klue("s-0", "<김철수:PS> <서울시:OG>장", [
        ("김", "B-PS"), ("철", "I-PS"), ("수", "I-PS"), (" ", "O"),
        ("서", "B-OG"), ("울", "I-OG"), ("시", "I-OG"), ("장", "O"),
    ]),
    _klue("s-1", "<뉴 욕:LC>에서 <3일:DT>", [
        ("뉴", "B-LC"), (" ", "I-LC"), ("욕", "I-LC"), ("에", "O"), ("서", "O"), (" ", "O"),
        ("3", "B-DT"), ("일", "I-DT"),
    ]),
]) + "\n"  # fmt: skip


def test_read_klue_rebuilds_sentences_and_spans(tmp_path: Path) -> None:
    path = tmp_path / "sample.tsv"
    path.write_text(SAMPLE, encoding="utf-8")
    assert bench.read_klue(path) == [
        ("김철수 서울시장", [(0, 3, "PS"), (4, 7, "OG")]),
        ("뉴 욕에서 3일", [(0, 3, "LC"), (6, 8, "DT")]),  # a space inside an entity, and a type not scored
    ]


def test_read_klue_without_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "sample.tsv"
    path.write_text(SAMPLE.rstrip("\n"), encoding="utf-8")
    assert [text for text, _ in bench.read_klue(path)] == ["김철수 서울시장", "뉴 욕에서 3일"]


def test_bio_spans_edge_cases() -> None:
    assert bench.bio_spans(["B-PS", "B-PS", "I-PS"]) == [(0, 1, "PS"), (1, 3, "PS")]
    assert bench.bio_spans(["O", "I-OG", "I-OG", "I-LC"]) == [(1, 3, "OG"), (3, 4, "LC")]  # I- without its B-
    assert bench.bio_spans(["B-LC", "I-LC"]) == [(0, 2, "LC")]  # runs to the end
    assert bench.bio_spans([]) == []


def test_score_exact_against_overlap() -> None:
    gold = [[(0, 3, "PS"), (4, 7, "OG"), (10, 12, "LC"), (20, 22, "DT")]]
    predicted = [[(0, 3, "PS"), (4, 8, "OG"), (10, 12, "OG"), (30, 31, "LC")]]
    result = bench.score(gold, predicted)
    exact, overlap = result["exact"], result["overlap"]
    assert (exact["PS"]["matched"], exact["OG"]["matched"], exact["LC"]["matched"]) == (1, 0, 0)
    assert (overlap["PS"]["matched"], overlap["OG"]["matched"], overlap["LC"]["matched"]) == (1, 1, 0)
    assert exact["OG"]["gold"] == 1 and exact["OG"]["predicted"] == 2  # DT is not scored
    assert exact["micro"]["gold"] == 3 and exact["micro"]["predicted"] == 4
    assert exact["micro"]["precision"] == pytest.approx(1 / 4)
    assert exact["micro"]["recall"] == pytest.approx(1 / 3)
    assert exact["micro"]["f1"] == pytest.approx(2 / 7)
    assert overlap["micro"]["precision"] == pytest.approx(2 / 4)
    assert overlap["micro"]["recall"] == pytest.approx(2 / 3)
    assert overlap["LC"]["f1"] == 0.0


def test_overlap_matches_each_span_once() -> None:
    # one long prediction over two gold entities matches one of them (the larger overlap)
    result = bench.score([[(0, 2, "PS"), (3, 8, "PS")]], [[(0, 8, "PS")]])
    assert result["overlap"]["PS"]["matched"] == 1
    assert result["overlap"]["PS"]["precision"] == 1.0
    assert result["overlap"]["PS"]["recall"] == pytest.approx(0.5)
    # two predictions inside one gold entity: one is matched, the other is a false positive
    result = bench.score([[(0, 8, "LC")]], [[(0, 2, "LC"), (3, 8, "LC")]])
    assert result["overlap"]["LC"]["matched"] == 1
    assert result["overlap"]["LC"]["precision"] == pytest.approx(0.5)
    assert result["exact"]["LC"]["matched"] == 0


def test_greedy_overlap_prefers_the_larger_overlap() -> None:
    # gold A (0-4) and B (5-9); prediction X (3-9) overlaps A by 1 and B by 4, Y (0-2) overlaps A only
    result = bench.score([[(0, 4, "OG"), (5, 9, "OG")]], [[(3, 9, "OG"), (0, 2, "OG")]])
    assert result["overlap"]["OG"]["matched"] == 2


def test_empty_scores_zero() -> None:
    result = bench.score([[]], [[]])
    assert result["exact"]["micro"] == {"matched": 0, "gold": 0, "predicted": 0,
                                        "precision": 0.0, "recall": 0.0, "f1": 0.0}  # fmt: skip
    with pytest.raises(ValueError):
        bench.score([[]], [])


def test_newsflow_mentions_become_klue_spans() -> None:
    found = [{"text": "김철수", "type": "person", "start": 0, "end": 3},
             {"text": "x", "type": "product", "start": 4, "end": 5},
             {"text": "서울", "type": "location", "start": 6, "end": 8}]  # fmt: skip
    assert bench.to_klue(found) == [(0, 3, "PS"), (6, 8, "LC")]

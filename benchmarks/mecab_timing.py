"""MeCab alone, timed: the baseline the entity benchmark and the pipeline benchmark compare newsflow against.

Both call python-mecab-ko's raw tagger (`mecab.MeCab()._tagger.parse`), the analyser under newsflow's entity
extractor, so that "MeCab alone" means the same thing in every benchmark. Worker processes are spawned and warmed
up (dictionary loaded) before the clock starts, as the flow's entity workers are.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """The call's result and its wall time in seconds."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def mecab_tagger() -> Any:
    """python-mecab-ko's raw tagger with the bundled mecab-ko-dic (what `mecab.MeCab()` wraps)."""
    import mecab

    return mecab.MeCab()._tagger


def mecab_parse_all(tagger: Any, texts: Sequence[str]) -> int:
    """Parse every text with the raw MeCab tagger; the number of output characters (keeps the work observable)."""
    return sum(len(tagger.parse(text)) for text in texts)


_worker_tagger: Any = None


def _parse_slice(texts: Sequence[str]) -> int:
    global _worker_tagger
    if _worker_tagger is None:
        _worker_tagger = mecab_tagger()
    return mecab_parse_all(_worker_tagger, texts)


def mecab_in_processes(texts: Sequence[str], workers: int) -> float:
    """Seconds MeCab alone takes over the texts in `workers` processes (started and warmed up beforehand); the
    texts go out in two slices per worker, as the flow's entity workers get them."""
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_parse_slice, [texts[:1]] * workers))
        size = max(1, -(-len(texts) // (2 * workers)))
        _, seconds = timed(
            lambda: list(pool.map(_parse_slice, [texts[i : i + size] for i in range(0, len(texts), size)]))
        )
    return seconds

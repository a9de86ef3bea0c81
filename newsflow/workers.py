"""The entity stage on every core: MeCab holds the GIL while it parses, so threads cannot share the work out;
worker processes can. A batch's articles are split into slices, one or more per worker, and each worker runs the
same pure `transforms.entities.entities` on its slice with the lexicon it loaded once at start."""

from __future__ import annotations

import functools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl

from newsflow.profiles import load_rules
from transforms.entities import Lexicon, entities

# below this many articles a batch is done in the calling process: starting workers costs more than it saves
MIN_PARALLEL_ARTICLES = 64
COLUMNS = ("article_id", "page_id", "body", "captions")

_lexicon: Lexicon | None = None


def _start_worker(profiles_dir: str | None) -> None:
    global _lexicon
    _lexicon = load_rules([Path(profiles_dir)] if profiles_dir else []).lexicon


def _extract(articles: pl.DataFrame) -> pl.DataFrame:
    assert _lexicon is not None, "worker started without its lexicon"
    return entities(articles, _lexicon)


@functools.cache
def _lexicon_of(profiles_dir: str | None) -> Lexicon:
    """The lexicon, loaded once per process."""
    return load_rules([Path(profiles_dir)] if profiles_dir else []).lexicon


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class EntityWorkers:
    """`workers(articles)` is `entities(articles, lexicon)`, computed by `count` processes for a large batch.

    Use as a context manager (the processes stop on exit); they start at the first large batch."""

    def __init__(self, count: int | None = None, profiles_dir: str | None = None):
        self.count = count or default_workers()
        self.profiles_dir = profiles_dir
        self._pool: ProcessPoolExecutor | None = None

    def __reduce__(self) -> tuple:
        """Sent to another process (a Dask worker), the extractor runs in that process: its pool stays here."""
        return (EntityWorkers, (1, self.profiles_dir))

    def __enter__(self) -> EntityWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def start(self) -> EntityWorkers:
        """Start the processes now (and wait until each has loaded the analyser), not at the first batch."""
        if self.count > 1 and self._pool is None:
            # spawn, not fork: a forked copy of polars' thread pool can deadlock
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.count, mp_context=context, initializer=_start_worker, initargs=(self.profiles_dir,)
            )
            warm = pl.DataFrame({"article_id": ["warm-up"], "body": [["삼성전자 이재용 회장이 왔다."]]})
            list(self._pool.map(_extract, [warm] * self.count))
        return self

    def __call__(self, articles: pl.DataFrame) -> pl.DataFrame:
        if self.count <= 1 or articles.height < MIN_PARALLEL_ARTICLES:
            return entities(articles, _lexicon_of(self.profiles_dir))
        self.start()
        assert self._pool is not None
        articles = articles.select(c for c in COLUMNS if c in articles.columns)
        size = -(-articles.height // (2 * self.count))  # two slices per worker evens out uneven articles
        slices = [articles.slice(offset, size) for offset in range(0, articles.height, size)]
        return pl.concat(list(self._pool.map(_extract, slices)))

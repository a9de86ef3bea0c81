"""Worker processes for the CPU-bound stages. Parsing (resiliparse and trafilatura on HTML pages, polars on
text pages) and MeCab hold the GIL, so threads cannot share the work out; processes can. A batch is cut into
one slice per worker, and each worker runs the same plain function on its slice with what it loaded once at
start: the parse rules, the analyser and the run's snapshot of the ledger."""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import polars as pl

from newsflow.drafting.batch import DraftedBatch, Items, draft_pages, slices
from newsflow.drafting.rules import load_entity_model, load_rules
from newsflow.transforms.entities import entities
from newsflow.transforms.pages import KNOWN_SCHEMA, ParseRules

# below this many items (pages, articles) a batch is done in the calling process: sending it costs more than it saves
MIN_PARALLEL = 64
ENTITY_COLUMNS = ("article_id", "page_id", "body", "captions")
PARENT_CHECK = 1.0  # seconds between a worker's checks of its parent's pid (its sentinel is waited on meanwhile)

Result = TypeVar("Result")


@functools.cache
def rules_of(profiles_dir: str | None) -> ParseRules:
    """The parse rules (layouts, stations, lexicon), loaded once per process."""
    return load_rules([Path(profiles_dir)] if profiles_dir else [])


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class Context:
    """What every slice of a run needs besides its items: the parse rules' folder and the pages landed before
    the run (see newsflow.transforms.pages.parse_pages)."""

    profiles_dir: str | None
    known: pl.DataFrame

    def draft(self, refs: list[str]) -> DraftedBatch:
        rules = rules_of(self.profiles_dir)
        return draft_pages(refs, self.known, rules, load_entity_model())

    def entities(self, articles: pl.DataFrame) -> pl.DataFrame:
        return entities(articles, load_entity_model())


_context: Context | None = None  # a worker process's, set once when it starts


def _start(context: Context) -> None:
    global _context
    threading.Thread(target=_exit_with_parent, name="newsflow-exit-with-run", daemon=True).start()
    _context = context
    context.entities(pl.DataFrame({"article_id": ["warm-up"], "body": [["삼성전자 이재용 회장이 왔다."]]}))


def _exit_with_parent() -> None:
    """End this worker process as soon as the run's process has ended, however it ended (SIGKILL included): else
    the worker, waiting on a queue whose other end it holds itself, lives on with its memory.

    The worker waits on its parent's sentinel, a pipe only the parent holds open, which reads end-of-file the moment
    the parent process is gone; and checks every PARENT_CHECK that its parent pid is still the run's, in case a
    child the run forked holds that pipe open too. Linux's PR_SET_PDEATHSIG is not used: it fires when the *thread*
    that started the worker ends, and the pool is started by whichever of the flow's task threads drafts the first
    large batch, which may end before the run. The multiprocessing resource tracker, whose pipe the workers hold
    open too, then reads end-of-file and ends on its own."""
    parent = multiprocessing.parent_process()  # set in every process multiprocessing starts
    assert parent is not None, "not a worker process"
    while os.getppid() == parent.pid and parent.is_alive():
        parent.join(PARENT_CHECK)
    os._exit(1)


def _draft(refs: list[str]) -> DraftedBatch:
    assert _context is not None, "worker started without its context"
    return _context.draft(refs)


def _entities(articles: pl.DataFrame) -> pl.DataFrame:
    assert _context is not None, "worker started without its context"
    return _context.entities(articles)


class Workers:
    """`count` worker processes for a run: `draft(refs)` and `entities(articles)` computed on slices of a
    batch in the processes, or here for a small batch or one worker.

    Use as a context manager (the processes stop on exit, and end with the run's process however it ends); they
    start at the first large batch."""

    def __init__(self, count: int | None = None, profiles_dir: str | None = None, known: pl.DataFrame | None = None):
        self.count = count or default_workers()
        self.context = Context(profiles_dir, known if known is not None else pl.DataFrame(schema=KNOWN_SCHEMA))
        self._pool: ProcessPoolExecutor | None = None
        self._starting = threading.Lock()  # the flow's threads draft batches side by side: one pool between them

    def __reduce__(self) -> tuple:
        """Sent to another process (a Dask worker), the work is done in that process: the pool stays here."""
        return (Workers, (1, self.context.profiles_dir, self.context.known))

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._starting:
            self._close(self._pool)

    def _close(self, pool: ProcessPoolExecutor | None) -> None:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if self._pool is pool:
            self._pool = None

    def start(self) -> Workers:
        """Start the processes now, each loading the rules and the analyser, not at the first large batch."""
        with self._starting:
            if self.count > 1 and self._pool is None:
                # spawn, not fork: a forked copy of polars' thread pool can deadlock
                context = multiprocessing.get_context("spawn")
                pool = ProcessPoolExecutor(self.count, mp_context=context, initializer=_start, initargs=(self.context,))
                list(pool.map(abs, range(self.count)))  # wait for the processes to start and warm up
                self._pool = pool
        return self

    def draft(self, refs: list[str]) -> DraftedBatch:
        """`newsflow.drafting.batch.draft_pages` on a batch of refs, against the run's ledger snapshot."""
        return DraftedBatch.merge(self._map(_draft, self.context.draft, refs))

    def entities(self, articles: pl.DataFrame) -> pl.DataFrame:
        """`newsflow.transforms.entities.entities(articles, model)`."""
        articles = articles.select(c for c in ENTITY_COLUMNS if c in articles.columns)
        return pl.concat(self._map(_entities, self.context.entities, articles))

    def _map(self, remote: Callable[[Items], Result], here: Callable[[Items], Result], items: Items) -> list[Result]:
        """`remote` over contiguous slices of `items` in the processes, one per worker (a worker drafts its slice
        batch.CHUNK_PAGES at a time, each call with a fixed cost of its own; the flow keeps the next batch
        queued, so no worker waits for another), results in order; `here(items)` in this process for one worker or
        fewer than MIN_PARALLEL items."""
        if self.count <= 1 or len(items) < MIN_PARALLEL:
            return [here(items)]
        pool = self.start()._pool
        assert pool is not None
        try:
            return list(pool.map(remote, slices(items, self.count)))
        except BrokenProcessPool:
            with self._starting:  # a worker died (out of memory, killed): the next call, a task retry, starts anew
                self._close(pool)
            raise

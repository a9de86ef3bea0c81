"""The worker processes the flow drafts its batches in: slices drafted in two processes settle to exactly what one
process makes of the whole batch, pages already in the ledger are skipped there too, and a dead worker does not
leave a broken pool behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import polars as pl
import psutil
import pytest

import newsflow.drafting.batch
from benchmarks.generate import generate
from newsflow.drafting.workers import MIN_PARALLEL, Workers
from newsflow.sources.pages import discover, read_pages
from newsflow.transforms.pages import KNOWN_SCHEMA, settle
from tests.conftest import ROOT, aged

PAGES = MIN_PARALLEL + 26


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("pages")
    for path in generate(folder, PAGES, seed=11):
        aged(path)  # stamped whenever read: drafts made at different moments compare equal
    return discover([str(folder)])


@pytest.fixture(scope="module")
def known(refs: list[str]) -> pl.DataFrame:
    """The first ten pages, as if an earlier run had landed them."""
    return (
        read_pages(refs[:10])
        .select("page_id", "content_hash", article_id=pl.lit(None, pl.String), version_key=pl.lit(None, pl.String))
        .cast(KNOWN_SCHEMA)
    )


def _landed(batch, known: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """What the flow would land of a drafted batch, in a fixed order."""
    parsed = settle(batch.drafted, known)
    entities = batch.entities.join(parsed.articles.select("page_id"), on="page_id", how="semi")
    return {
        "pages": parsed.pages.sort("page_id"),
        "articles": parsed.articles.sort("page_id"),
        "weather": parsed.weather.sort("page_id", "position"),
        "entities": entities.sort("page_id", "entity_type", "canonical"),
    }


def test_slices_drafted_in_two_processes_land_what_one_process_lands(refs, known):
    here = Workers(1, known=known).draft(refs)
    with Workers(2, known=known) as workers:
        there = workers.draft(refs)
        assert workers._pool is not None  # the batch was large enough to go to the processes
    assert (there.pages_read, there.pages_skipped) == (here.pages_read, here.pages_skipped) == (PAGES, 10)
    expected, got = _landed(here, known), _landed(there, known)
    assert expected["articles"].height > 50 and expected["entities"].height > 200
    assert expected["weather"].height > 0
    for name, frame in expected.items():
        assert got[name].equals(frame), name
    assert set(there.seconds) == {"read", "parse", "entities"}


def test_a_slice_drafted_a_chunk_at_a_time_lands_what_one_chunk_lands(refs, known, monkeypatch):
    whole = Workers(1, known=known).draft(refs)
    monkeypatch.setattr(newsflow.drafting.batch, "CHUNK_PAGES", 7)  # 13 chunks, the first one wholly known
    chunked = Workers(1, known=known).draft(refs)
    assert (chunked.pages_read, chunked.pages_skipped) == (PAGES, 10)
    expected, got = _landed(whole, known), _landed(chunked, known)
    for name, frame in expected.items():
        assert got[name].equals(frame), name
    assert chunked.drafted.pages["page_id"].equals(whole.drafted.pages["page_id"])  # the ledger in the order read


def test_a_slice_is_cut_into_equal_chunks_of_at_most_chunk_pages(monkeypatch):
    monkeypatch.setattr(newsflow.drafting.batch, "CHUNK_PAGES", 800)
    refs = {n: [f"p{i}" for i in range(n)] for n in (0, 800, 801, 2000)}
    chunks = {n: newsflow.drafting.batch._chunks(these) for n, these in refs.items()}
    sizes = {n: [len(chunk) for chunk in these] for n, these in chunks.items()}
    assert sizes == {0: [], 800: [800], 801: [401, 400], 2000: [667, 667, 666]}  # not 800 + 800 + 400
    assert [ref for chunk in chunks[2000] for ref in chunk] == refs[2000]  # in order, each once


def test_a_batch_of_known_pages_is_not_drafted(refs, known):
    with Workers(2, known=known) as workers:
        batch = workers.draft(refs[:10] * 7)  # 70 refs, all of them landed before
    assert batch.drafted is None and batch.entities.is_empty()
    assert (batch.pages_read, batch.pages_skipped) == (70, 70)


def test_batches_drafted_side_by_side_share_one_pool(refs, known):
    with Workers(2, known=known) as workers, ThreadPoolExecutor(2) as threads:
        batches = list(threads.map(workers.draft, [refs, refs[::-1]]))
        spawned = [p for p in psutil.Process().children() if "spawn_main" in " ".join(p.cmdline())]
    assert len(spawned) == 2  # not a pool per thread
    assert [b.pages_read for b in batches] == [PAGES, PAGES]


def test_a_killed_worker_fails_the_batch_and_the_next_batch_starts_new_workers(refs, known):
    with Workers(2, known=known) as workers:
        workers.start()
        assert workers._pool is not None
        os.kill(next(iter(workers._pool._processes)), signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            workers.draft(refs)
        assert workers._pool is None
        assert workers.draft(refs).pages_read == PAGES


# a run's process: its pool started from a thread that ends at once, as a flow's task thread may end before the run
RUN = """
import threading, time
from newsflow.drafting.workers import Workers
workers = Workers(2)
starter = threading.Thread(target=workers.start)
starter.start()
starter.join()
print(*workers._pool._processes, flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_workers_and_the_resource_tracker_die_with_a_killed_run():
    run = subprocess.Popen([sys.executable, "-c", RUN], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    started: list[int] = []
    try:
        workers = [int(pid) for pid in run.stdout.readline().split()]
        assert len(workers) == 2
        trackers = [p.pid for p in psutil.Process(run.pid).children() if "resource_tracker" in " ".join(p.cmdline())]
        started = workers + trackers
        assert len(trackers) == 1
        time.sleep(1)
        assert all(map(_running, workers))  # the thread that started them has ended: they live on with the run
        run.kill()
        run.wait()
        gone_by = time.monotonic() + 5
        while any(map(_running, started)) and time.monotonic() < gone_by:
            time.sleep(0.1)
        assert [pid for pid in started if _running(pid)] == []
    finally:
        run.kill()
        run.wait()
        for pid in filter(_running, started):  # left over before the fix: not to outlive the test
            os.kill(pid, signal.SIGKILL)

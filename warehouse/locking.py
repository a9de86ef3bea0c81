"""One writer at a time: the warehouse's writer lock, and the writer claim that guards a shared catalog.

A run, a compaction, a repair or a migration writes the warehouse under `writer_lock`, an OS file lock (flock)
that keeps out every other writer on this machine and that the kernel releases when its holder dies. Writers on
different machines sharing a catalog (PostgreSQL) cannot see each other's file lock: each run's transaction
replaces the catalog's writer row (`claim_writer`), so DuckLake refuses the commit of the second of two runs that
overlapped. Readers take neither.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from newsflow.warehouse.catalog import WRITER
from newsflow.warehouse.storage import LANDED, Warehouse

LOCK_FILE = ".newsflow.lock"


class WarehouseBusy(RuntimeError):
    """Another run held the warehouse's writer lock for longer than this run would wait."""


@contextmanager
def writer_lock(
    store: Warehouse, timeout: float = 3600.0, on_wait: Callable[[str], None] | None = None, poll: float = 0.2
) -> Iterator[None]:
    """Hold the warehouse's writer lock: one run writes at a time, a second one waits (up to `timeout`
    seconds, then WarehouseBusy). An OS file lock (flock), so the kernel releases it when a run dies, even by
    SIGKILL. Readers never take it. A local warehouse locks `.newsflow.lock` in its folder; others lock a
    file named after the warehouse and its catalog in the local cache folder. That keeps out writers on this
    machine; of two writers on different machines sharing a catalog, DuckLake refuses the commit of the one
    that overlapped the other (claim_writer), and its run fails."""
    if store.is_local:
        store.root.mkdir(parents=True, exist_ok=True)
    with open(_lock_file(store), "a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"{store.location} is being written by {holder}; gave up after {timeout:.0f} s"
                    ) from None
                if not waited and on_wait is not None:
                    on_wait(holder)
                waited = True
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"newsflow run (pid {os.getpid()})")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_file(store: Warehouse) -> Path:
    """The file writer_lock flocks: in the folder of a local warehouse; beside a SQLite catalog (every writer
    of it is on this machine); else in the cache folder (NEWSFLOW_LOCK_DIR, default
    $XDG_CACHE_HOME/newsflow/locks), named by a hash of location and catalog."""
    if store.is_local:
        return store.root / LOCK_FILE
    if store.catalog.is_file:
        return Path(store.catalog.target + ".newsflow.lock")
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(os.environ.get("NEWSFLOW_LOCK_DIR") or Path(cache) / "newsflow" / "locks")
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(f"{store.location}\n{store.catalog}".encode()).hexdigest()[:32]
    return folder / f"{name}.lock"


def claim_writer(con: duckdb.DuckDBPyConnection, holder: str) -> None:
    """Replace the writer row in the caller's transaction: of two runs whose transactions overlap (writers on
    two machines sharing a catalog), DuckLake refuses the second commit, as both deleted from one table. Appends
    alone never conflict in DuckLake, so without this both would land the same new pages."""
    con.execute(f"DELETE FROM {LANDED}.{WRITER}")
    con.execute(f"INSERT INTO {LANDED}.{WRITER} VALUES (?, now())", [holder])

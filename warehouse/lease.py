"""The writer's lease of a warehouse on S3-compatible object storage: what keeps out writers on other machines.

Object storage has no lock that the kernel releases when a writer dies, so the lease is an object, `_writer.lease`
in the warehouse, that only one writer can create (a conditional PUT, `If-None-Match: *`) and only its holder can
renew (`If-Match:` the ETag it last wrote). The holder renews it every quarter of the lease's length in a thread.
A writer that finds the lease waits. When the lease's ETag has not changed for the lease's length by the waiter's
own clock, its holder is taken for dead (killed, its machine gone) and the waiter takes the lease over
(`If-Match:` that ETag, so of several waiters exactly one wins). No clocks are compared across machines.

A holder that cannot renew (the lease was taken over while it stalled, or it could not reach the store for the
lease's length) has lost the lease: `check()` then raises LeaseLost, and the warehouse refuses to commit or to
delete files, so a stalled writer never commits over the one that took its place.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

LEASE_NAME = "_writer.lease"
DEFAULT_SECONDS = 60.0


class LeaseLost(RuntimeError):
    """This writer no longer holds the warehouse's lease: another writer took it over."""


class LeaseTimeout(TimeoutError):
    """The lease was held by another writer for longer than this one would wait (the message names it)."""


def lease_seconds() -> float:
    """The lease's length: NEWSFLOW_LEASE_SECONDS, default 60 (a dead writer's lease is taken over after that)."""
    value = float(os.environ.get("NEWSFLOW_LEASE_SECONDS") or DEFAULT_SECONDS)
    if value <= 0:
        raise ValueError(f"NEWSFLOW_LEASE_SECONDS must be positive, not {value:g}")
    return value


def supports_leases(fs: Any) -> bool:
    """Whether the filesystem is s3fs (S3 and S3-compatible stores), whose conditional writes the lease needs."""
    return "s3" in (fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,))


class S3Lease:
    """The lease object `<warehouse>/_writer.lease` on an s3fs filesystem (see the module's docstring)."""

    def __init__(self, fs: Any, root: str, holder: str, seconds: float | None = None) -> None:
        self.fs = fs
        self.bucket, _, prefix = root.partition("/")
        self.key = f"{prefix.rstrip('/')}/{LEASE_NAME}" if prefix else LEASE_NAME
        self.holder = f"{holder} on {socket.gethostname()}"
        self.seconds = seconds or lease_seconds()
        self._etag: str | None = None
        self._renewed = 0.0  # monotonic time of the last successful write
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, timeout: float, on_wait: Callable[[str], None] | None = None, poll: float = 1.0) -> None:
        """Hold the lease, waiting up to `timeout` seconds for another writer's (LeaseTimeout after that); a lease
        left unrenewed for its length is taken over. Renewal starts here."""
        deadline = time.monotonic() + timeout
        first_seen: dict[str, float] = {}  # ETag of the other writer's lease -> when this writer first saw it
        holder, told = "another writer", False
        while not self._write(IfNoneMatch="*"):
            found = self._read()
            if found is not None:
                etag, holder = found
                seen = first_seen.setdefault(etag, time.monotonic())
                if time.monotonic() - seen >= self.seconds and self._write(IfMatch=etag):
                    break  # its holder stopped renewing: taken over
                if not told and on_wait is not None:
                    on_wait(holder)
                    told = True
            if time.monotonic() >= deadline:
                raise LeaseTimeout(f"{holder} (its lease at s3://{self.bucket}/{self.key})")
            time.sleep(poll)
        self._thread = threading.Thread(target=self._renew_until_stopped, name="newsflow-lease", daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Raise LeaseLost unless this writer still holds the lease."""
        if self._lost is None and time.monotonic() - self._renewed >= self.seconds:
            self._lost = f"not renewed for {self.seconds:g} s"
        if self._lost is not None:
            raise LeaseLost(f"the writer's lease of s3://{self.bucket}/{self.key} was lost: {self._lost}")

    def release(self) -> None:
        """Stop renewing and delete the lease, if this writer still holds it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with suppress(OSError):  # left behind, it is taken over once it has gone unrenewed for its length
            found = self._read()
            if self._lost is None and found is not None and found[0] == self._etag:
                self.fs.call_s3("delete_object", Bucket=self.bucket, Key=self.key)

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            if self._write(IfMatch=self._etag):
                continue
            try:
                found = self._read()
            except OSError:  # the store cannot be reached: try again (check() gives up after the lease's length)
                continue
            if found is None or found[0] != self._etag:  # someone else's now (or deleted): never write again
                self._lost = f"taken over by {found[1]}" if found else "its object was deleted"
                return

    def _write(self, **condition: str | None) -> bool:
        """PUT the lease on the condition given; True when it was written (it is this writer's now)."""
        body = json.dumps({"holder": self.holder, "written_at": datetime.now(UTC).isoformat()}).encode()
        holder = {"holder": self.holder.encode("ascii", "replace").decode()}  # S3 metadata is ASCII
        try:
            done = self.fs.call_s3(
                "put_object", Bucket=self.bucket, Key=self.key, Body=body, Metadata=holder, **condition
            )
        except OSError:  # the condition did not hold (FileExistsError, a precondition error) or the store failed
            return False
        self._etag, self._renewed = done["ETag"], time.monotonic()
        return True

    def _read(self) -> tuple[str, str] | None:
        """(ETag, holder) of the lease as it stands, None when there is none."""
        try:
            found = self.fs.call_s3("head_object", Bucket=self.bucket, Key=self.key)
        except FileNotFoundError:
            return None
        return found["ETag"], found.get("Metadata", {}).get("holder") or "another writer"

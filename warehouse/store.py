"""Landing and reading the Parquet tables of one warehouse: a local folder or an fsspec URL (s3://bucket/prefix).

Each run writes one zstd Parquet file per table it has rows for (`<table>/part-<run_id>.parquet`; locally through
a temporary name and an atomic rename, on object storage with one PUT per object) and its `runs` row last. The
`runs` row is the commit: rows of a run
with no `runs` row (a run that crashed half-way) are invisible to readers and deleted by the next run.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath

import polars as pl
from fsspec import AbstractFileSystem
from fsspec.core import split_protocol, url_to_fs
from fsspec.implementations.local import LocalFileSystem

from newsflow.faults import halt_point
from newsflow.schema import ARTICLES, PAGES, RUNS, STAMPS, TABLES
from transforms.pages import version_keys
from warehouse.lease import LeaseTimeout, S3Lease, supports_leases

COMPRESSION = "zstd"
LOCK_FILE = ".newsflow.lock"
CATALOG, REPORTS, DATA_DOCS = "warehouse.duckdb", "reports", "data_docs"
UNKNOWN = "unknown"  # the partition of rows whose partition value is null

# Hive-style partitions (`<table>/<key>=<value>/part-<run_id>.parquet`) for the tables people query by time:
# articles by month of registration (Korea time), weather readings by month of capture, the ledger by ingest date.
PARTITIONS: dict[str, tuple[str, pl.Expr]] = {
    ARTICLES.name: (
        "registered_month",
        pl.col("registered_at").dt.convert_time_zone("Asia/Seoul").dt.strftime("%Y-%m"),
    ),
    "weather_snapshots": ("capture_month", pl.col("capture_date").dt.strftime("%Y-%m")),
    PAGES.name: ("ingest_date", pl.col("ingested_at").dt.convert_time_zone("Asia/Seoul").dt.strftime("%Y-%m-%d")),
}


_LEASES: dict[str, S3Lease] = {}  # location -> the writer's lease this process holds on it


class WarehouseBusy(RuntimeError):
    """Another run held the warehouse's writer lock for longer than this run would wait."""


class WarehouseError(ValueError):
    """The warehouse location cannot be used: an unknown protocol, a bucket that does not exist, no access."""


@dataclass(frozen=True)
class Warehouse:
    """One warehouse: a folder or an fsspec URL. Every file access goes through the private helpers below
    (`_list`, `_read_files`, `_write_file`, `_write_bytes`, `_remove`), which use `self.fs`, so a method added
    later works on a local folder and on object storage alike."""

    location: str  # what users see and pass around: an absolute local path, or a URL such as s3://bucket/prefix
    path: str  # the root in the filesystem's own terms: /abs/path, or bucket/prefix
    fs: AbstractFileSystem = field(compare=False, repr=False)

    @classmethod
    def at(cls, location: str | os.PathLike) -> Warehouse:
        """A warehouse at a local path (or file:// URL) or any fsspec URL (s3://bucket/prefix). Object storage
        credentials and endpoint come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
        AWS_ENDPOINT_URL, ...), as boto reads them."""
        text = os.fspath(location)
        protocol, _ = split_protocol(text)
        if protocol in (None, "file", "local"):
            local = Path(text.removeprefix("file://")).expanduser().resolve()
            return cls(str(local), str(local), LocalFileSystem())
        try:
            # no listings cache: other processes write the warehouse, and DuckDB asks this filesystem for files
            fs, path = url_to_fs(text, use_listings_cache=False)
        except ValueError:  # fsspec knows no such protocol
            raise WarehouseError(f"cannot use a warehouse at {text}: unknown protocol {protocol!r}") from None
        except ImportError as exc:  # a known protocol whose package is not installed
            raise WarehouseError(f"cannot use a warehouse at {text}: {exc}") from None
        path = path.rstrip("/")
        return cls(fs.unstrip_protocol(path), path, fs)

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    @property
    def root(self) -> Path:
        """The local folder of a local warehouse (for pathlib users: tests, `duckdb` on the catalog file)."""
        if not self.is_local:
            raise WarehouseError(f"{self.location} is not a local folder")
        return Path(self.path)

    def url(self, *parts: str) -> str:
        """The location of a file or folder of the warehouse, as users name it (a local path or a URL)."""
        return "/".join([self.location, *parts])

    def _key(self, *parts: str) -> str:
        """A file or folder of the warehouse in the filesystem's own terms (what self.fs methods take)."""
        return "/".join([self.path, *parts])

    def check(self) -> None:
        """Fail early (WarehouseError, one line) when the warehouse's storage cannot be reached: a bucket that
        does not exist, bad credentials, no endpoint."""
        if self.is_local:
            return
        try:
            self.fs.ls(self.path.split("/")[0])  # the bucket: an empty prefix is a valid new warehouse
        except FileNotFoundError:
            raise WarehouseError(f"{self.location}: the bucket does not exist") from None
        except PermissionError as exc:
            raise WarehouseError(f"{self.location}: access denied ({exc})") from None
        except Exception as exc:  # botocore/aiohttp errors: no endpoint, bad credentials, ...
            raise WarehouseError(f"{self.location}: cannot reach the storage ({type(exc).__name__}: {exc})") from None

    def exists(self, *parts: str) -> bool:
        return self.fs.exists(self._key(*parts))

    @contextmanager
    def writer_lock(
        self, timeout: float = 3600.0, on_wait: Callable[[str], None] | None = None, poll: float = 0.2
    ) -> Iterator[None]:
        """Hold the warehouse's writer lock: one run writes at a time, a second one waits (up to `timeout`
        seconds, then WarehouseBusy). An OS file lock (flock), so the kernel releases it when a run dies, even by
        SIGKILL. Readers never take it. A local warehouse locks `.newsflow.lock` in its folder; a warehouse on
        object storage locks a file named after its URL in the local cache folder (writers on this machine),
        then, on S3, takes the writer's lease in the warehouse (writers on other machines; warehouse.lease)."""
        if self.is_local:
            self.root.mkdir(parents=True, exist_ok=True)
        with open(self._lock_file(), "a+", encoding="utf-8") as handle:
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
                            f"{self.location} is being written by {holder}; gave up after {timeout:.0f} s"
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
                with self._lease(deadline, timeout, on_wait):
                    yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def _lease(self, deadline: float, timeout: float, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        """The writer's lease on S3 (warehouse.lease), taken once this machine's lock is held: it keeps out
        writers on other machines. Nothing to take on a local warehouse, or on a store without conditional
        writes (only writers on this machine are kept out there)."""
        if self.is_local or not supports_leases(self.fs):
            yield
            return
        lease = S3Lease(self.fs, self.path, f"newsflow run (pid {os.getpid()})")
        try:
            lease.acquire(max(0.0, deadline - time.monotonic()), on_wait)
        except LeaseTimeout as exc:
            raise WarehouseBusy(f"{self.location} is being written by {exc}; gave up after {timeout:.0f} s") from None
        _LEASES[self.location] = lease
        try:
            yield
        finally:
            if _LEASES.get(self.location) is lease:
                del _LEASES[self.location]
            lease.release()

    def _check_lease(self) -> None:
        """Raise LeaseLost when this process wrote under a lease that another writer has taken over since."""
        lease = _LEASES.get(self.location)
        if lease is not None:
            lease.check()

    def _lock_file(self) -> Path:
        """The file writer_lock flocks: in the folder of a local warehouse, else in the cache folder
        (NEWSFLOW_LOCK_DIR, default $XDG_CACHE_HOME/newsflow/locks), named by a hash of the warehouse's URL."""
        if self.is_local:
            return self.root / LOCK_FILE
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(os.environ.get("NEWSFLOW_LOCK_DIR") or Path(cache) / "newsflow" / "locks")
        folder.mkdir(parents=True, exist_ok=True)
        return folder / (hashlib.sha256(self.location.encode()).hexdigest()[:32] + ".lock")

    # local warehouses only (pathlib users); on any warehouse, url(CATALOG), url(REPORTS), ... name them
    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG

    @property
    def reports_dir(self) -> Path:
        return self.root / REPORTS

    @property
    def data_docs_dir(self) -> Path:
        return self.root / DATA_DOCS

    def files(self, table: str) -> list[PurePath]:
        """Every Parquet file of a table, in all its partitions (local Paths on a local warehouse)."""
        return self._list(table, ".parquet")

    def size(self, file: PurePath) -> int:
        """A file's size in bytes."""
        return int(self.fs.size(str(file)))

    def live_runs(self, runs: pl.DataFrame | None = None) -> set[str]:
        """Committed runs whose files are current: since the latest full refresh (all when there was none), less
        the runs a committed compaction merged into its own files. `runs`: the runs table, when already read."""
        runs = self.read(RUNS.name) if runs is None else runs
        refreshed = runs.filter(pl.col("full_refresh").fill_null(False))["started_at"].max()
        if refreshed is not None:
            runs = runs.filter(pl.col("started_at") >= refreshed)
        return set(runs["run_id"].to_list()) - _replaced(runs)

    @staticmethod
    def run_of(path: PurePath) -> str:
        """The run that wrote a file (part-<run_id>.parquet, or part-<run_id>.<part>.parquet for a run that
        landed batch by batch): a file is visible when its run is live.
        A compaction's file holds rows of the runs it merged, each row keeping its own run_id."""
        return path.name.removeprefix("part-").split(".")[0]

    def read(self, table: str, columns: list[str] | None = None) -> pl.DataFrame:
        """The live rows of a table: the files of live runs (not the files of runs without a `runs` row, nor of
        runs a full refresh or a compaction replaced). The runs table is read whole. `columns`: only these."""
        spec = TABLES[table]
        files = self.files(table)
        if table != RUNS.name:
            live = self.live_runs()
            files = [f for f in files if self.run_of(f) in live]
        if not files:
            return spec.empty().select(columns) if columns else spec.empty()
        frame = self._read_files(files, spec.schema, columns)
        return frame if columns else spec.conform(frame)

    def known_pages(self) -> pl.DataFrame:
        """page_id, content_hash, article_id and version_key of every page already in the ledger (the article
        columns where one landed)."""
        pages = self.read(PAGES.name, ["page_id", "content_hash"])
        articles = self.read(ARTICLES.name, ["page_id", "article_id", "registered_at", "updated_at"])
        articles = articles.select("page_id", "article_id", version_key=version_keys())
        return pages.join(articles, on="page_id", how="left")

    def file_stamps(self) -> pl.DataFrame:
        """source, file_size and file_mtime_ns of the page files in the ledger that were stamped when read, and
        of those stamped again (the stamps table), each once: what flows.sources.unchanged_files compares."""
        stamp = list(STAMPS.key)  # source, file_size, file_mtime_ns
        stamps = pl.concat([self.read(PAGES.name, stamp).drop_nulls(), self.read(STAMPS.name, stamp)])
        return stamps.unique()

    def remove_uncommitted(self) -> list[PurePath]:
        """Delete files of runs that never committed, files a committed compaction or full refresh left behind,
        and stray temporary files; returns what was removed. Writers call it under the writer lock."""
        self._check_lease()
        runs = self.read(RUNS.name)
        committed, live, replaced = set(runs["run_id"].to_list()), self.live_runs(runs), _replaced(runs)
        removed: list[PurePath] = []
        if self.is_local:  # a catalog left half-built (object storage has no temporary names)
            removed = [path for path in self.root.glob(".*.tmp") if path.is_file()]
        for table in TABLES:
            if table == RUNS.name:
                continue
            for path in self._list(table, ".tmp", ".parquet"):
                run = self.run_of(path)
                if path.suffix == ".tmp" or run not in committed or (run in replaced and run not in live):
                    removed.append(path)
        self._remove(removed)
        return removed

    def land(self, run_id: str, tables: Mapping[str, pl.DataFrame], run_row: pl.DataFrame) -> dict[str, int]:
        """Write a run's rows: every table's file first, then the runs row that commits them."""
        written = self.write_tables(run_id, tables)
        halt_point("landed-tables")
        self.commit(run_id, run_row)
        return written

    def write_tables(self, run_id: str, tables: Mapping[str, pl.DataFrame], part: int | None = None) -> dict[str, int]:
        """Write rows of a run that stay invisible until `commit`. A run landing batch by batch numbers its
        parts: `part-<run_id>.<part>.parquet`."""
        if RUNS.name in tables:
            raise ValueError("the runs row is written by commit(), last")
        return {name: self._write(name, run_id, TABLES[name].conform(frame), part) for name, frame in tables.items()}

    def commit(self, run_id: str, run_row: pl.DataFrame) -> None:
        """Write the run's `runs` row: from now on readers see every file of the run."""
        self._check_lease()
        self._write(RUNS.name, run_id, RUNS.conform(run_row))

    def discard(self, run_id: str) -> None:
        """Remove every file of a run, its runs row first (undoes a commit whose catalog could not be built)."""
        self._check_lease()
        for table in (RUNS.name, *TABLES):
            self._remove([path for path in self.files(table) if self.run_of(path) == run_id])

    def write_text(self, relative: str, text: str) -> str:
        """Write a text file of the warehouse (a report page) so readers see the old or the new one whole;
        returns its location."""
        self._write_bytes(self._key(relative), text.encode("utf-8"))
        return self.url(relative)

    def upload(self, local: Path, relative: str) -> str:
        """Copy a local file (the catalog) into the warehouse under `relative`; returns its location."""
        self._write_bytes(self._key(relative), local.read_bytes())
        return self.url(relative)

    def download(self, relative: str, local: Path) -> Path:
        """Copy a file of the warehouse (the catalog) to a local path."""
        local.write_bytes(self.fs.cat_file(self._key(relative)))
        return local

    @contextmanager
    def local_folder(self, relative: str) -> Iterator[Path]:
        """A local folder for a tool that only writes to local disk (GX Data Docs): the warehouse's own folder
        when local, else a temporary folder uploaded to `relative` when the block ends without error."""
        if self.is_local:
            folder = self.root / relative
            folder.mkdir(parents=True, exist_ok=True)
            yield folder
            return
        with tempfile.TemporaryDirectory(prefix="newsflow-") as temporary:
            yield Path(temporary)
            for file in sorted(Path(temporary).rglob("*")):
                if file.is_file():
                    self._write_bytes(self._key(relative, file.relative_to(temporary).as_posix()), file.read_bytes())

    def publish_folder(self, relative: str, build: Callable[[Path], Path]) -> str:
        """Run `build` (a tool that writes only to local disk, like GX Data Docs) on a local folder that ends up as
        the warehouse's `relative` folder; returns the location of the file `build` returns (its index page)."""
        with self.local_folder(relative) as folder:
            made = build(folder)
        return self.url(relative, made.relative_to(folder).as_posix())

    def _write(self, table: str, run_id: str, frame: pl.DataFrame, part: int | None = None) -> int:
        """Write a run's rows of a table: one file per partition (or one file)."""
        if frame.is_empty():
            return 0
        name = f"part-{run_id}.parquet" if part is None else f"part-{run_id}.{part:05d}.parquet"
        if table not in PARTITIONS:
            self._write_file(self._key(table, name), frame)
            return frame.height
        key, value = PARTITIONS[table]
        keyed = frame.with_columns(value.fill_null(UNKNOWN).alias("__partition"))
        for (partition,), rows in keyed.partition_by("__partition", as_dict=True, maintain_order=True).items():
            self._write_file(self._key(table, f"{key}={partition}", name), rows.drop("__partition"))
        return frame.height

    # --- file access: every read, write, listing and delete of the warehouse goes through these, on self.fs ----

    def _list(self, folder: str, *suffixes: str) -> list[PurePath]:
        """The files under a folder of the warehouse (all depths) whose names end with one of `suffixes`, sorted."""
        self.fs.invalidate_cache(self._key(folder))  # another process may have written since the last listing
        found = self.fs.find(self._key(folder))
        kind = Path if self.is_local else PurePosixPath
        return sorted(kind(f) for f in found if f.endswith(suffixes))

    def _read_files(self, files: list[PurePath], schema: pl.Schema, columns: list[str] | None = None) -> pl.DataFrame:
        """Parquet files read as one frame with the table's schema, not the first file's: a column added later
        reads as null in older files. `columns`: read only these (the others are not even decoded)."""
        if self.is_local:
            sources: list = files
        else:
            fetched = self.fs.cat([str(f) for f in files])  # concurrent GETs
            sources = [fetched[str(f)] for f in files]
        scan = pl.scan_parquet(
            sources, schema=schema, missing_columns="insert", extra_columns="ignore", hive_partitioning=False
        )
        return (scan.select(columns) if columns else scan).collect()

    def _write_file(self, final: str, frame: pl.DataFrame) -> None:
        """One Parquet file under its final name: readers never see it half-written."""
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression=COMPRESSION, statistics=True)
        self._write_bytes(final, buffer.getvalue())

    def _write_bytes(self, final: str, data: bytes) -> None:
        """Local: through a temporary name, fsync and an atomic rename. Object storage: one PUT under the final
        name, which is atomic per object (readers see the whole object or none)."""
        if not self.is_local:
            self.fs.pipe_file(final, data)
            return
        target = Path(final)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)

    def _remove(self, files: list[PurePath]) -> None:
        """Delete files; those already gone are fine."""
        for file in files:
            with suppress(FileNotFoundError):
                self.fs.rm_file(str(file))


def _replaced(runs: pl.DataFrame) -> set[str]:
    """The runs that committed compactions in `runs` merged into their own files."""
    return set(runs["replaces"].explode().drop_nulls().to_list())

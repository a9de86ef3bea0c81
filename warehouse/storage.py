"""One warehouse's storage: where it is (a local folder or an s3:// URL), its DuckLake catalog, its files.

The tables live in the warehouse's DuckLake (newsflow.warehouse.lake: Parquet data files under `data/`, the catalog
database beside them); runs write them through newsflow.warehouse.transaction, people read them through
newsflow.warehouse.catalog. This module owns the location itself: reaching the storage, newsflow's own reads of the
landed tables, and the report files published beside the data. The writer lock is newsflow.warehouse.locking, the
ledger of pages already seen newsflow.warehouse.ledger, the files' checksums newsflow.warehouse.checksums.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
from fsspec import AbstractFileSystem
from fsspec.core import split_protocol, url_to_fs
from fsspec.implementations.local import LocalFileSystem

from newsflow.core.schema import TABLES
from newsflow.warehouse import lake
from newsflow.warehouse.lake import CATALOG_FILE, Catalog, CatalogError

REPORTS, DATA_DOCS = "reports", "data_docs"
LANDED = "landed"  # the lake's schema of the tables runs write; the views people query are in `main`


class WarehouseError(ValueError):
    """The warehouse cannot be used: an unknown protocol, a bucket that does not exist, no access, no catalog."""


@dataclass(frozen=True)
class Warehouse:
    """One warehouse: a folder or an fsspec URL for the data and reports, and the DuckLake catalog database."""

    location: str  # what users see and pass around: an absolute local path, or a URL such as s3://bucket/prefix
    path: str  # the root in the filesystem's own terms: /abs/path, or bucket/prefix
    catalog: Catalog
    fs: AbstractFileSystem = field(compare=False, repr=False)

    @classmethod
    def at(cls, location: str | os.PathLike, catalog: str | None = None) -> Warehouse:
        """A warehouse at a local path (or file:// URL) or an s3:// URL. `catalog` (else NEWSFLOW_CATALOG): its
        DuckLake catalog, `sqlite:PATH` or `postgres:CONNINFO`; a local warehouse defaults to
        `sqlite:<warehouse>/catalog.sqlite`, one on object storage must name one. Object storage credentials and
        endpoint come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, ...)."""
        text = os.fspath(location)
        named = catalog or os.environ.get("NEWSFLOW_CATALOG") or None
        protocol, _ = split_protocol(text)
        if protocol in (None, "file", "local"):
            local = Path(text.removeprefix("file://")).expanduser().resolve()
            return cls(str(local), str(local), _catalog(named or f"sqlite:{local / CATALOG_FILE}"), LocalFileSystem())
        if protocol not in ("s3", "s3a"):
            raise WarehouseError(
                f"cannot use a warehouse at {text}: unknown protocol {protocol!r} (use a folder or s3://)"
            )
        if not named:
            raise WarehouseError(
                f"a warehouse on object storage ({text}) needs a catalog database: set NEWSFLOW_CATALOG "
                "(or --catalog) to postgres:CONNINFO, or sqlite:PATH on this machine"
            )
        try:
            # no listings cache: other processes write the warehouse
            fs, path = url_to_fs(text, use_listings_cache=False)
        except ImportError as exc:  # a known protocol whose package is not installed
            raise WarehouseError(f"cannot use a warehouse at {text}: {exc}") from None
        path = path.rstrip("/")
        return cls(f"s3://{path}", path, _catalog(named), fs)

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    @property
    def root(self) -> Path:
        """The local folder of a local warehouse (for pathlib users: tests, reports)."""
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
            if (self.root / "runs").is_dir() and not self.has_catalog:
                raise WarehouseError(
                    f"{self.location} is a warehouse of newsflow's format before DuckLake (part files, no "
                    f"{CATALOG_FILE}): move it into DuckLake with `newsflow migrate --warehouse {self.location}`"
                )
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

    @property
    def has_catalog(self) -> bool:
        """Whether a run has created the warehouse's catalog (a PostgreSQL catalog is taken to exist)."""
        return not self.catalog.is_file or Path(self.catalog.target).exists()

    # --- the lake --------------------------------------------------------------------------------------------

    def connect(
        self, read_only: bool = False, snapshot: int | None = None, sandbox: bool = False, timezone: str = "UTC"
    ) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with the warehouse's lake attached as `lake` (newsflow.warehouse.lake.connect)."""
        if (read_only or sandbox or snapshot is not None) and not self.has_catalog:
            raise FileNotFoundError(f"no warehouse at {self.location}: run `newsflow run` first")
        return lake.connect(self, read_only=read_only, snapshot=snapshot, sandbox=sandbox, timezone=timezone)

    def read(
        self, table: str, columns: list[str] | None = None, con: duckdb.DuckDBPyConnection | None = None
    ) -> pl.DataFrame:
        """The rows of a landed table as it stands (an empty frame before the first run). `columns`: only these."""
        spec = TABLES[table]
        if con is None:
            if not self.has_catalog:
                return spec.empty().select(columns) if columns else spec.empty()
            with self.connect(read_only=True) as own:
                return self.read(table, columns, own)
        if not has_table(con, table):
            return spec.empty().select(columns) if columns else spec.empty()
        names = ", ".join(f'"{c}"' for c in (columns or spec.column_names))
        frame = con.sql(f"SELECT {names} FROM {LANDED}.{table}").pl()
        return frame.cast({c: spec.schema[c] for c in frame.columns}) if columns else spec.conform(frame)

    def files(self, table: str, con: duckdb.DuckDBPyConnection | None = None) -> list[tuple[str, int]]:
        """The current Parquet data files of a table with their sizes in bytes (rows the catalog holds inline,
        a few per small write, are in no file until `newsflow compact` flushes them)."""
        if con is None:
            if not self.has_catalog:
                return []
            with self.connect(read_only=True) as own:
                return self.files(table, own)
        if not has_table(con, table):
            return []
        listed = con.execute(
            f"SELECT data_file, data_file_size_bytes FROM ducklake_list_files('{lake.LAKE}', ?, schema => ?)",
            [table, LANDED],
        ).fetchall()
        return [(name, int(size)) for name, size in listed]

    # --- report files beside the data ------------------------------------------------------------------------

    @property
    def reports_dir(self) -> Path:
        return self.root / REPORTS

    @property
    def data_docs_dir(self) -> Path:
        return self.root / DATA_DOCS

    def write_text(self, relative: str, text: str) -> str:
        """Write a text file of the warehouse (a report page) so readers see the old or the new one whole;
        returns its location."""
        self._write_bytes(self._key(relative), text.encode("utf-8"))
        return self.url(relative)

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


def _catalog(text: str) -> Catalog:
    try:
        return Catalog.parse(text)
    except CatalogError as exc:
        raise WarehouseError(str(exc)) from None


def landed_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every landed table of the lake attached on `con` (the station and writer tables too)."""
    listed = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?", [lake.LAKE, LANDED]
    ).fetchall()
    return [name for (name,) in listed]


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the lake attached on `con` has the landed table (at its snapshot)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        [lake.LAKE, LANDED, table],
    ).fetchone()
    return bool(found and found[0])

"""The DuckLake behind a warehouse: where its catalog database is, and DuckDB connections with it attached.

A warehouse is a DuckLake: Parquet data files under `<warehouse>/data/` and a catalog database that records every
table, file and snapshot. The catalog is a SQLite file beside the data by default (`<warehouse>/catalog.sqlite`,
in WAL mode, so readers query while a run writes); `NEWSFLOW_CATALOG` names another: `sqlite:PATH`, or
`postgres:CONNINFO` (a PostgreSQL database, for teams and for data on object storage shared by several machines).
A DuckDB catalog file is not offered: its writer locks readers out for the length of a run.

Extensions come from the `duckdb-extension-*` wheels installed with newsflow and are loaded by path; DuckDB may
neither install nor load one on its own, so nothing is ever downloaded.

A sandboxed connection (`newsflow sql`) can read the lake and nothing else, whatever SQL it runs: data files, local
or on object storage, are read through a read-only file system (the warehouse's fsspec one, wrapped and registered
with DuckDB under READ_PROTOCOL; no httpfs, no S3 secret), DuckDB's own local file system is disabled, external
access is off but for the data folder, and the configuration is locked, so no
statement (not even one under EXPLAIN ANALYZE) can write a file, read one outside the warehouse, attach a database,
load an extension or undo any of this.
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from fsspec import AbstractFileSystem

if TYPE_CHECKING:
    from newsflow.warehouse.storage import Warehouse

LAKE = "lake"  # the name the warehouse's DuckLake is attached under on newsflow's connections
DATA = "data"  # the folder of the Parquet data files, under the warehouse's location
CATALOG_FILE = "catalog.sqlite"  # the default catalog, beside the data
KINDS = {"sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}  # catalog database -> its DuckDB extension
READ_PROTOCOL = "newsflowread"  # a sandboxed connection reads local data files as newsflowread:///<path>


class CatalogError(ValueError):
    """The catalog setting cannot be used (unknown kind, missing for a warehouse on object storage)."""


@dataclass(frozen=True)
class Catalog:
    """A DuckLake catalog database: `kind` (sqlite or postgres) and `target` (a path, or a libpq
    connection string such as `dbname=news host=127.0.0.1`)."""

    kind: str
    target: str

    @classmethod
    def parse(cls, text: str) -> Catalog:
        kind, sep, target = text.partition(":")
        if not sep or kind not in KINDS or not target:
            raise CatalogError(
                f"catalog {text!r}: expected sqlite:PATH or postgres:CONNINFO "
                "(e.g. postgres:dbname=news host=127.0.0.1)"
            )
        if kind != "postgres":
            target = str(Path(target).expanduser().resolve())
        return cls(kind, target)

    @property
    def is_file(self) -> bool:
        return self.kind != "postgres"

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"


@cache
def extension_file(name: str) -> Path:
    """The `.duckdb_extension` file of an extension, from its `duckdb-extension-<name>` wheel."""
    module = importlib.import_module(f"duckdb_extension_{name}")
    version = f"v{duckdb.__version__}"
    found = sorted(Path(next(iter(module.__path__))).glob(f"extensions/{version}/{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"duckdb-extension-{name} has no build for DuckDB {duckdb.__version__}: reinstall newsflow")
    return found[0]


def quote(text: object) -> str:
    """A SQL string literal of `text` (single quotes doubled)."""
    return "'" + str(text).replace("'", "''") + "'"


def connect(
    store: Warehouse,
    read_only: bool = False,
    snapshot: int | None = None,
    sandbox: bool = False,
    timezone: str = "UTC",
) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with the warehouse's DuckLake attached as `lake` (and in use).

    `read_only`: the lake is attached read-only. `snapshot`: the lake as it was at that snapshot (read-only).
    `sandbox`: read-only, and the connection can touch nothing but the lake (see the module's docstring).
    `timezone`: of the connection's times (UTC for newsflow's own reads and writes)."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    read_only = read_only or sandbox or snapshot is not None
    data = store.url(DATA) + "/"
    try:
        for name in ("ducklake", KINDS[store.catalog.kind]):
            con.execute(f"LOAD {quote(str(extension_file(name)))}")
        if sandbox:
            con.register_filesystem(ReadOnlyFiles(store.fs))
            data = f"{READ_PROTOCOL}://{store.fs._strip_protocol(data)}/"
        elif not store.is_local:
            con.execute(f"LOAD {quote(str(extension_file('httpfs')))}")
            con.execute(_s3_secret())
        if store.catalog.kind == "sqlite" and not read_only:
            _sqlite_in_wal_mode(Path(store.catalog.target))
        options = [f"DATA_PATH {quote(data)}", "OVERRIDE_DATA_PATH true"]
        if read_only:
            options.append("READ_ONLY")
        if snapshot is not None:
            options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
        try:
            con.execute(f"ATTACH {quote('ducklake:' + str(store.catalog))} AS {LAKE} ({', '.join(options)})")
        except duckdb.InvalidInputException as exc:  # a read-only attach of a catalog no run has made yet
            if "creating a new DuckLake is explicitly disabled" not in str(exc):
                raise
            raise FileNotFoundError(
                f"no warehouse at {store.location} (catalog {store.catalog}): run `newsflow run` first"
            ) from None
        con.execute(f"USE {LAKE}")
        con.execute(f"SET TimeZone = {quote(timezone)}")
        if sandbox:
            _seal(con, data)
    except BaseException:
        con.close()
        raise
    return con


class ReadOnlyFiles(AbstractFileSystem):
    """The warehouse's file system (local, or S3 through s3fs), read-only, under READ_PROTOCOL: how a sandboxed
    connection reads data files. `newsflowread:///abs/path` is a local file, `newsflowread://bucket/key` an object."""

    protocol = READ_PROTOCOL

    def __init__(self, fs: AbstractFileSystem, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.fs = fs

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        if isinstance(path, str) and path.startswith(f"{READ_PROTOCOL}://"):
            path = path[len(READ_PROTOCOL) + 3 :]
        return path.rstrip("/") or "/"

    def _open(self, path: str, mode: str = "rb", **kwargs: object):
        if set(mode) & set("wax+"):
            raise PermissionError(f"newsflow reads the warehouse read-only here: {path} cannot be written")
        return self.fs._open(self._strip_protocol(path), mode=mode, **kwargs)

    def info(self, path: str, **kwargs: object) -> dict:
        return self.fs.info(self._strip_protocol(path), **kwargs)

    def ls(self, path: str, detail: bool = True, **kwargs: object) -> list:
        return self.fs.ls(self._strip_protocol(path), detail=detail, **kwargs)

    def modified(self, path: str) -> object:
        return self.fs.modified(self._strip_protocol(path))

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise PermissionError("newsflow reads the warehouse read-only here: no file can be changed")

    rm = rm_file = rmdir = mkdir = makedirs = mv = touch = cp_file = put_file = _refuse


def _seal(con: duckdb.DuckDBPyConnection, data: str) -> None:
    """Leave the connection able to read the lake's data folder and nothing else, for good: external access off
    but for that folder, DuckDB's local file system off (local data is read through ReadOnlyFiles), and the
    configuration locked so that no later statement can change any of it. One thread: DuckDB's other threads
    would read the files through Python (ReadOnlyFiles) and wait for the GIL, which a thread cleaning up a query
    can hold while it waits for them."""
    con.execute("SET threads = 1")
    con.execute(f"SET allowed_directories = [{quote(data)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET disabled_filesystems = 'LocalFileSystem'")
    con.execute("SET lock_configuration = true")


def _sqlite_in_wal_mode(path: Path) -> None:
    """Create the SQLite catalog file in WAL mode (kept in the file): readers then never wait for a writer."""
    if path.exists() and path.stat().st_size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")


def _s3_secret() -> str:
    """A DuckDB S3 secret from the AWS_* environment variables boto reads (endpoint, keys, region)."""
    options = {
        "KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID"),
        "SECRET": os.environ.get("AWS_SECRET_ACCESS_KEY"),
        "SESSION_TOKEN": os.environ.get("AWS_SESSION_TOKEN"),
        "REGION": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    parts = [f"{k} {quote(v)}" for k, v in options.items() if v]
    if endpoint:
        scheme, _, host = endpoint.rstrip("/").rpartition("://")
        parts += [f"ENDPOINT {quote(host)}", "URL_STYLE 'path'", f"USE_SSL {str(scheme != 'http').lower()}"]
    return f"CREATE OR REPLACE SECRET newsflow_s3 (TYPE s3, {', '.join(parts)})"


def attach_sql(store: Warehouse, alias: str = "news") -> str:
    """Two lines of SQL that attach the warehouse read-only in any DuckDB 1.5 client (CLI or Python) on this
    machine: the extensions loaded from newsflow's wheels, then the ATTACH. Its views are then `<alias>.articles`,
    `<alias>.person_roles`, ...; a warehouse on object storage also needs an S3 secret (CREATE SECRET)."""
    extensions = ["ducklake", KINDS[store.catalog.kind], *([] if store.is_local else ["httpfs"])]
    load = " ".join(f"LOAD {quote(str(extension_file(name)))};" for name in extensions)
    options = f"DATA_PATH {quote(store.url(DATA) + '/')}, OVERRIDE_DATA_PATH true, READ_ONLY"
    return f"{load}\nATTACH {quote('ducklake:' + str(store.catalog))} AS {alias} ({options});\n"


def set_commit_message(con: duckdb.DuckDBPyConnection, kind: str, info: dict[str, object], message: str | None) -> None:
    """Name the snapshot the open transaction will commit: its message, and `kind` and `info` as its JSON extra
    info (what newsflow.warehouse.catalog.snapshots reads)."""
    call = f"CALL {LAKE}.set_commit_message('newsflow', ?, extra_info => ?)"
    con.execute(call, [message or kind, json.dumps({**info, "kind": kind})])

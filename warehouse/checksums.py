"""Checksums of the lake's files: the size and SHA-256 of every data and delete file, recorded when it is written.

Every data and delete file a transaction adds gets its size and SHA-256 recorded in the landed table `checksums`
by that same transaction, just before it commits, so no committed file is ever without one (newsflow.warehouse.verify
checks them; a compaction's merge is the one exception, see newsflow.warehouse.maintenance). DuckLake does not show a
transaction's own new files before it commits, so they are found on the storage: the files under `data/` at the
commit that were not there when the transaction began (the writer lock keeps other writers out meanwhile). The
table's rows stay inlined in the catalog database (DuckLake's data inlining, raised for this table), so
recording checksums writes no data file that would need one of its own.

A run's transaction (newsflow.warehouse.transaction) records its files with record_new_files; DuckLake's
maintenance calls (a flush, a merge) record theirs in checksummed_step; lake_files lists the files the catalog
knows, for newsflow.warehouse.verify to check against the recorded checksums.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from newsflow.warehouse.lake import DATA, LAKE, set_commit_message
from newsflow.warehouse.storage import LANDED, Warehouse, has_table

CHECKSUMS = "checksums"  # the landed table of file checksums
INLINED_ROWS = 1_000_000  # DuckLake's data inlining limit for the checksums table: rows per insert kept in the catalog
HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class LakeFile:
    """A data or delete file that a snapshot of the lake still uses, as the catalog records it."""

    path: str  # relative to the data folder (absolute when DuckLake stored it outside)
    table: str
    kind: str  # "data" or "delete"
    size: int  # bytes, as DuckLake recorded them when it wrote the file
    rows: int  # rows in a data file, deleted rows in a delete file
    current: bool  # the latest snapshot reads it (else only older snapshots do)
    file_id: int  # DuckLake's data_file_id, or delete_file_id
    data_file_id: int  # for a delete file, the data file whose rows it deletes; for a data file its own id


def ensure_checksums_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the landed table `checksums` (in a snapshot of its own) and raise its inlining limit, unless done.
    A table created in the caller's transaction could not take the limit, so this runs before it begins."""
    if not has_table(con, CHECKSUMS):
        con.execute("BEGIN")
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {LANDED}")
            columns = "path VARCHAR, bytes BIGINT, sha256 VARCHAR, recorded_at TIMESTAMPTZ"
            con.execute(f"CREATE TABLE {LANDED}.{CHECKSUMS} ({columns})")
            con.execute(
                f"COMMENT ON TABLE {LANDED}.{CHECKSUMS} IS 'Size and SHA-256 of every data and delete file of the "
                "lake, recorded by the transaction that wrote it; path is relative to the data folder.'"
            )
            set_commit_message(con, "catalog", {}, "checksums table")
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
    found = con.execute(
        f"SELECT value FROM {LAKE}.options() WHERE option_name = 'data_inlining_row_limit' AND scope_entry = ?",
        [f"{LANDED}.{CHECKSUMS}"],
    ).fetchone()
    if not found or found[0] != str(INLINED_ROWS):
        con.execute(
            f"CALL {LAKE}.set_option('data_inlining_row_limit', {INLINED_ROWS}, schema => '{LANDED}', "
            f"table_name => '{CHECKSUMS}')"
        )


def _data_key(store: Warehouse) -> str:
    return f"{store.path}/{DATA}"


def storage_key(store: Warehouse, path: str) -> str:
    """A lake file (path relative to the data folder, or absolute) in the terms of the warehouse's filesystem."""
    if path.startswith("/") or "://" in path:
        return path.split("://", 1)[-1] if not store.is_local else path
    return f"{_data_key(store)}/{path}"


def stored_files(store: Warehouse) -> set[str]:
    """Every file under the warehouse's data folder, relative to it."""
    if store.is_local:
        root = store.root / DATA
        if not root.is_dir():
            return set()
        return {
            os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            for folder, _, names in os.walk(root)
            for name in names
        }
    prefix = _data_key(store) + "/"
    try:
        found = store.fs.find(_data_key(store))
    except FileNotFoundError:
        return set()
    return {key.removeprefix(prefix) for key in found if key.startswith(prefix)}


def file_digest(store: Warehouse, path: str) -> tuple[int, str]:
    """Size in bytes and SHA-256 (hex) of a lake file, read through the warehouse's filesystem."""
    digest, size = hashlib.sha256(), 0
    key = storage_key(store, path)
    with open(key, "rb") if store.is_local else store.fs.open(key, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def insert_checksums(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple[str, int, str]]) -> int:
    """Add (path, bytes, sha256) rows to the checksums table in the open transaction, as one insert."""
    listed = sorted(rows)
    if not listed:
        return 0
    now = datetime.now(UTC)
    frame = pl.DataFrame(
        {
            "path": [r[0] for r in listed],
            "bytes": [r[1] for r in listed],
            "sha256": [r[2] for r in listed],
            "recorded_at": [now] * len(listed),
        },
        schema={"path": pl.String, "bytes": pl.Int64, "sha256": pl.String, "recorded_at": pl.Datetime("us", "UTC")},
    )
    con.from_arrow(frame.to_arrow()).insert_into(f"{LANDED}.{CHECKSUMS}")
    return len(listed)


def record_new_files(store: Warehouse, con: duckdb.DuckDBPyConnection, before: set[str]) -> int:
    """In the open transaction: record the checksums of the files under data/ that were not there `before`
    (those the transaction wrote), and drop the rows of files no snapshot uses any more (deleted by a
    compaction's clean-up, or written by a transaction that never committed). Returns the files recorded."""
    new = stored_files(store) - before
    recorded = insert_checksums(con, [(p, *file_digest(store, p)) for p in new])
    used = {f.path for f in lake_files(store, con)} | new
    stale = [p for (p,) in con.execute(f"SELECT DISTINCT path FROM {LANDED}.{CHECKSUMS}").fetchall() if p not in used]
    if stale:
        con.execute(f"DELETE FROM {LANDED}.{CHECKSUMS} WHERE list_contains(?, path)", [stale])
    return recorded


def checksummed_step(
    store: Warehouse,
    con: duckdb.DuckDBPyConnection,
    statements: list[str],
    message: str,
    kind: str = "compaction",
    alone: bool = False,
) -> int:
    """Run DuckLake maintenance calls (a flush, a merge) in one transaction that records the checksums of the
    files they write, committed as a snapshot of that `kind`; nothing is committed when they change nothing.
    `alone`: DuckLake commits the calls only in a transaction that changes nothing else (a merge), so the
    checksums are recorded in the next transaction, right after. Returns the files recorded."""
    before = stored_files(store)
    con.execute("BEGIN")
    try:
        changed = False
        for statement in statements:
            changed = bool(con.execute(statement).fetchall()) or changed
        recorded = 0
        if changed and not alone:
            recorded = record_new_files(store, con, before)
            set_commit_message(con, kind, {}, message)
        con.execute("COMMIT")
        if changed and alone:
            con.execute("BEGIN")
            recorded = record_new_files(store, con, before)
            set_commit_message(con, kind, {}, f"{message}: checksums recorded")
            con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    return recorded


def lake_files(store: Warehouse, con: duckdb.DuckDBPyConnection) -> list[LakeFile]:
    """Every data and delete file some snapshot of the lake still uses (expired snapshots' files are gone from
    the catalog), read from DuckLake's catalog tables; paths relative to the data folder."""
    meta = f"__ducklake_metadata_{LAKE}"
    schemas = {
        sid: (name, path, bool(relative))
        for sid, name, path, relative in con.execute(
            f"SELECT schema_id, arg_max(schema_name, begin_snapshot), arg_max(path, begin_snapshot), "
            f"arg_max(path_is_relative, begin_snapshot) FROM {meta}.ducklake_schema GROUP BY schema_id"
        ).fetchall()
    }
    tables = {}
    for tid, sid, name, path, relative, live in con.execute(
        f"SELECT table_id, arg_max(schema_id, begin_snapshot), arg_max(table_name, begin_snapshot), "
        f"arg_max(path, begin_snapshot), arg_max(path_is_relative, begin_snapshot), "
        f"bool_or(end_snapshot IS NULL) FROM {meta}.ducklake_table GROUP BY table_id"
    ).fetchall():
        _, schema_path, schema_relative = schemas.get(sid, ("", "", True))
        folder = (schema_path if schema_relative else data_relative(store, schema_path)) if relative else ""
        tables[tid] = (name, (folder + path) if relative else data_relative(store, path), bool(live))
    files = []
    for kind, fid, tid, data_id, path, relative, size, rows, ended in con.execute(
        f"SELECT 'data', data_file_id, table_id, data_file_id, path, path_is_relative, file_size_bytes, "
        f"record_count, end_snapshot IS NOT NULL FROM {meta}.ducklake_data_file UNION ALL "
        f"SELECT 'delete', delete_file_id, table_id, data_file_id, path, path_is_relative, file_size_bytes, "
        f"delete_count, end_snapshot IS NOT NULL FROM {meta}.ducklake_delete_file"
    ).fetchall():
        name, folder, live = tables.get(tid, (f"table {tid}", "", False))
        full = (folder + path) if relative else data_relative(store, path)
        files.append(LakeFile(full, name, kind, int(size or 0), int(rows or 0), live and not ended, fid, data_id))
    return sorted(files, key=lambda f: (f.table, f.path))


def data_relative(store: Warehouse, path: str) -> str:
    """A lake file's full path or URL, relative to the data folder when it lies in it."""
    prefix = store.url(DATA) + "/"
    return path.removeprefix(prefix) if path.startswith(prefix) else path


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # the transaction failed already: DuckDB rolled it back
        con.execute("ROLLBACK")

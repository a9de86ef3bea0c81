"""`newsflow sql` is read-only by construction: its connection (newsflow.warehouse.lake, sandbox) can read the lake and
nothing else, so no statement, not even one under EXPLAIN ANALYZE (which runs what it explains), writes a file,
reads one outside the warehouse, attaches a database, loads an extension or changes a setting."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from newsflow.core.schema import RUNS
from newsflow.warehouse.catalog import ReadOnlyError, query
from newsflow.warehouse.lake import LAKE, extension_file
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.maintenance import compact_lake
from newsflow.warehouse.storage import Warehouse
from newsflow.warehouse.transaction import RunTransaction


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Warehouse:
    """A warehouse with runs rows in a Parquet data file (not inlined in the catalog)."""
    store = Warehouse.at(tmp_path_factory.mktemp("ro") / "wh")
    started = datetime(2024, 1, 1, tzinfo=UTC)
    rows = pl.DataFrame(
        [{c: None for c in RUNS.column_names} | {"run_id": f"r{i}", "started_at": started} for i in range(3)],
        schema_overrides={"started_at": pl.Datetime("us", "UTC")},
    )
    with writer_lock(store), RunTransaction(store) as tx:
        tx.insert_runs(RUNS.conform(rows))
        tx.commit_as("test", {})
    compact_lake(store, keep_days=30)  # inlined rows go to a data file
    assert data_files(store), "the fixture needs a data file to attack"
    return store


def data_files(store: Warehouse) -> list[Path]:
    return sorted(Path(store.location, "data").rglob("*.parquet"))


def fingerprint(root: Path) -> dict[str, str]:
    """sha256 of every file under root (the warehouse and the folder around it), the SQLite catalog by its
    content: a reader of a catalog in WAL mode creates its -wal and -shm files."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.suffix in (".sqlite-wal", ".sqlite-shm") or not path.is_file():
            continue
        if path.suffix == ".sqlite":
            with closing(sqlite3.connect(path)) as db:
                found[str(path)] = hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()
        else:
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def hostile(store: Warehouse) -> list[str]:
    target = data_files(store)[0]
    outside = Path(store.location).parent
    httpfs = extension_file("httpfs")
    return [
        f"COPY (SELECT 1 AS x) TO '{target}' (FORMAT parquet)",  # overwrite a warehouse file
        f"COPY (SELECT 1 AS x) TO 'newsflowread://{target}' (FORMAT parquet)",  # ... through the read-only files
        f"COPY (SELECT 1 AS x) TO '{target.parent}/new.parquet' (FORMAT parquet)",
        f"COPY (SELECT 1 AS x) TO '{outside}/out.csv'",
        f"EXPORT DATABASE '{outside}/export'",
        "INSTALL httpfs",
        f"LOAD '{httpfs}'",
        "SET autoinstall_known_extensions = true",
        "SET enable_external_access = true",
        "RESET lock_configuration",
        f"ATTACH '{outside}/other.duckdb' AS other",
        f"ATTACH '{target.parent}/inside.duckdb' AS inside",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_blob('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd', sep = ':')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM glob('newsflowread:///etc/*')",
        "DELETE FROM landed.runs",
        "CREATE TABLE landed.more AS SELECT 1 AS x",
        f"SELECT * FROM sqlite_query('__ducklake_metadata_{LAKE}', 'DELETE FROM ducklake_snapshot RETURNING *')",
    ]


def test_the_sandbox_refuses_every_write_and_escape_even_under_explain_analyze(lake, tmp_path):
    root = Path(lake.location).parent
    before = fingerprint(root)
    for statement in hostile(lake):
        for sql in (statement, f"EXPLAIN ANALYZE {statement}"):
            with lake.connect(sandbox=True) as con:  # no statement check here: the connection alone holds
                try:
                    result = con.sql(sql)
                    rows = result.fetchall() if result is not None else []
                except (duckdb.Error, PermissionError):
                    rows = None
                assert rows is None or "root:" not in str(rows), sql
                assert con.sql("SELECT count(*) FROM landed.runs").fetchone() == (3,), sql
        after = fingerprint(root)
        assert after == before, (statement, {k for k in after.keys() | before.keys() if after.get(k) != before.get(k)})
    assert not Path("/root/.duckdb/extensions/v1.5.5/linux_amd64/httpfs.duckdb_extension.tmp").exists()


def test_reads_still_work_in_the_sandbox(lake):
    assert query(lake, "SELECT count(*) FROM runs").item() == 3
    files = query(lake, f"SELECT count(*) FROM glob('newsflowread://{lake.location}/data/**/*.parquet')").item()
    assert files == len(data_files(lake))


@pytest.mark.parametrize("verb", ["DROP TABLE runs", "COPY runs TO 'x.csv'", "ATTACH 'x.db'", "SET threads = 1"])
def test_query_says_in_one_line_why_a_write_is_refused(lake, verb):
    with pytest.raises(ReadOnlyError, match="only reads the warehouse"):
        query(lake, verb)

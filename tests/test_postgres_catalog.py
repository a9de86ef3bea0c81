"""The warehouse with a PostgreSQL DuckLake catalog (a real server the module starts on 127.0.0.1): the same rows as
with the default SQLite catalog, skipped pages and time travel on a second run, `newsflow sql` and compact through
NEWSFLOW_CATALOG, readers beside an open writer, and what two writers on two machines committing at once do."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from glob import glob
from pathlib import Path

import duckdb
import polars as pl
import pytest

from newsflow.core.schema import RUNS
from newsflow.flows.compact import compact
from newsflow.flows.ingest import RunSummary, ingest
from newsflow.warehouse.catalog import query, snapshots
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.storage import Warehouse
from newsflow.warehouse.transaction import RunTransaction
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


def _server_binaries() -> Path | None:
    """The folder of PostgreSQL's initdb, pg_ctl and postgres: Debian's newest, else the ones on PATH."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
    initdb = found[-1] if found else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


BIN = _server_binaries()
if BIN is None:
    pytest.skip("PostgreSQL server binaries not found: apt-get install postgresql", allow_module_level=True)

LANDED = ("pages", "articles", "entities", "weather_snapshots", "quarantine")
EVERY_TABLE = (*LANDED, "article_versions", "stamps", "runs")
COUNTS = {"pages": 26, "articles": 18}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the `postgres` OS user."""
    if os.getuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]


def run_checked(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[[str], str]]:
    """A PostgreSQL server of its own on 127.0.0.1 (trust authentication, its socket in its own temporary folder),
    stopped at the end of the module; yields a function that creates a database and returns its catalog setting
    (`postgres:dbname=... host=127.0.0.1 port=... user=postgres`). NEWSFLOW_CATALOG is unset meanwhile."""
    if os.getuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` OS user to run the PostgreSQL server as")
    folder = Path(tempfile.mkdtemp(prefix="newsflow-pg-"))  # not under pytest's root-only tmp folders
    if os.getuid() == 0:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, log, port = folder / "data", folder / "server.log", free_port()

    def create(name: str) -> str:
        run_checked([str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name], "createdb")
        return f"postgres:dbname={name} host=127.0.0.1 port={port} user=postgres"

    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={folder} -c fsync=off"
    try:
        run_checked(
            as_server_user([str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]),
            "initdb",
        )
        try:
            run_checked(
                as_server_user([str(BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start"]),
                "pg_ctl start",
            )
            with pytest.MonkeyPatch.context() as patch:
                patch.delenv("NEWSFLOW_CATALOG", raising=False)  # the local warehouses use their default catalog
                yield create
        except RuntimeError as exc:
            server_log = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            raise RuntimeError(f"{exc}\n{server_log}") from None
        finally:
            subprocess.run(
                as_server_user([str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                timeout=120,
                check=False,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def runs(prefect_harness, postgres, tmp_path_factory) -> tuple[Warehouse, Warehouse, RunSummary, RunSummary]:
    """Every example page run into a local warehouse (SQLite catalog) once, and into a warehouse whose catalog is
    the database `news` twice: (local, on postgres, its first run, its second run)."""
    spec = postgres("news")
    local, remote = tmp_path_factory.mktemp("local") / "wh", tmp_path_factory.mktemp("pg") / "wh"
    ingest([str(EXAMPLES)], warehouse=str(local))
    first = ingest([str(EXAMPLES)], warehouse=str(remote), catalog=spec)
    second = ingest([str(EXAMPLES)], warehouse=str(remote), catalog=spec)
    return Warehouse.at(local), Warehouse.at(remote, catalog=spec), first, second


def rows(store: Warehouse, table: str) -> list[str]:
    """A view's rows without what differs between runs (run ids, ingest times), sorted."""
    frame = query(store, f"SELECT * FROM {table}").drop("run_id", "ingested_at", strict=False)
    return sorted(map(repr, frame.rows()))


def contents(store: Warehouse) -> dict[str, str]:
    """A hash of every table's rows, run_id included."""
    return {
        t: hashlib.sha256("\n".join(sorted(map(repr, query(store, f"SELECT * FROM {t}").rows()))).encode()).hexdigest()
        for t in EVERY_TABLE
    }


def run_row(run_id: str, day: int) -> pl.DataFrame:
    started = datetime(2024, 1, day, tzinfo=UTC)
    row = {c: None for c in RUNS.column_names} | {"run_id": run_id, "started_at": started, "finished_at": started}
    return RUNS.conform(pl.DataFrame([row], schema_overrides={"started_at": pl.Datetime("us", "UTC")}))


def stamp(run_id: str, source: str) -> dict[str, pl.DataFrame]:
    return {
        "stamps": pl.DataFrame(
            {"run_id": [run_id], "source": [source], "page_id": ["p"], "file_size": [1], "file_mtime_ns": [1]}
        )
    }


def test_a_run_with_a_postgres_catalog_lands_the_same_rows_as_one_with_sqlite(runs):
    local, remote, first, _ = runs
    assert str(remote.catalog).startswith("postgres:dbname=news host=127.0.0.1")
    assert (first.pages_seen, first.pages_skipped) == (26, 0)
    assert {t: query(remote, f"SELECT count(*) FROM {t}").item() for t in COUNTS} == COUNTS
    for table in LANDED:
        assert rows(remote, table) == rows(local, table), table
    assert (local.root / "catalog.sqlite").exists() and not (remote.root / "catalog.sqlite").exists()
    assert list((remote.root / "data").rglob("*.parquet"))  # the data files stay in the warehouse's folder


def test_a_second_run_skips_every_page_and_time_travel_finds_the_first(runs):
    _, remote, first, second = runs
    assert (second.pages_seen, second.pages_skipped) == (26, 26)
    assert query(remote, "SELECT count(*) FROM runs", at=first.run_id).item() == 1
    assert query(remote, "SELECT count(*) FROM runs").item() == 2
    assert {t: query(remote, f"SELECT count(*) FROM {t}").item() for t in COUNTS} == COUNTS
    history = snapshots(remote).filter(pl.col("run_id").is_not_null())
    assert history.select("run_id", "kind").rows() == [(first.run_id, "ingest"), (second.run_id, "ingest")]
    assert history["snapshot_id"].to_list() == [first.snapshot, second.snapshot]


def test_newsflow_sql_answers_from_the_postgres_catalog_and_compact_keeps_every_row(runs):
    _, remote, first, _ = runs
    spec = str(remote.catalog)
    command = [sys.executable, "-m", "newsflow", "sql", "SELECT count(*) AS n FROM articles"]
    command += ["--warehouse", str(remote.root), "--format", "json"]
    done = subprocess.run(
        command, env={**os.environ, "NEWSFLOW_CATALOG": spec}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"n": 18}]
    alone = subprocess.run(command, env=os.environ, capture_output=True, text=True, timeout=300)  # no catalog
    assert alone.returncode == 2 and "no warehouse at" in alone.stderr, alone.stderr

    before = contents(remote)
    summary = compact(warehouse=str(remote.root), catalog=spec)
    assert summary.snapshots_expired == 0
    assert contents(remote) == before
    assert query(remote, "SELECT count(*) FROM runs", at=first.run_id).item() == 1
    files = [path for table in LANDED for path, _ in remote.files(table)]
    assert files and all(path.startswith(str(remote.root / "data") + "/") for path in files)


def test_a_reader_keeps_querying_while_a_writer_holds_its_transaction_open(postgres, tmp_path):
    store = Warehouse.at(tmp_path / "wh", catalog=postgres("reader"))
    with writer_lock(store), RunTransaction(store) as tx:
        tx.commit("one", run_row("one", 1))
    with writer_lock(store), RunTransaction(store) as tx:
        tx.insert(stamp("two", "/a"))
        with store.connect(read_only=True) as reader:  # opened while the transaction is open
            assert reader.execute("SELECT count(*) FROM stamps").fetchone()[0] == 0
            assert query(store, "SELECT count(*) FROM runs").item() == 1
            tx.commit("two", run_row("two", 2))
            assert reader.execute("SELECT count(*) FROM stamps").fetchone()[0] == 1
    assert query(store, "SELECT run_id, source FROM stamps").rows() == [("two", "/a")]


def test_a_second_writer_committing_over_another_machines_run_is_refused(postgres, tmp_path):
    spec = postgres("writers")
    location = tmp_path / "wh"
    with RunTransaction(Warehouse.at(location, catalog=spec)) as tx:  # the tables exist before both start
        tx.commit("zero", run_row("zero", 1))
    with (
        RunTransaction(Warehouse.at(location, catalog=spec)) as one,
        RunTransaction(Warehouse.at(location, catalog=spec)) as two,
    ):
        one.insert(stamp("one", "/same"))  # both read the ledger before either committed: both add the file
        two.insert(stamp("two", "/same"))
        one.commit("one", run_row("one", 2))
        with pytest.raises(duckdb.TransactionException, match="Transaction conflict"):
            two.commit("two", run_row("two", 3))
    assert query(Warehouse.at(location, catalog=spec), "SELECT run_id FROM stamps").rows() == [("one",)]


def test_a_full_refresh_committing_over_another_machines_run_is_refused(postgres, tmp_path):
    spec = postgres("refresh")
    location = tmp_path / "wh"
    with RunTransaction(Warehouse.at(location, catalog=spec)) as tx:
        tx.insert(stamp("zero", "/old"))
        tx.commit("zero", run_row("zero", 1))
    with (
        RunTransaction(Warehouse.at(location, catalog=spec)) as one,
        RunTransaction(Warehouse.at(location, catalog=spec)) as two,
    ):
        one.insert(stamp("one", "/a"))
        two.clear(["stamps"])  # a full refresh deletes what came before
        two.insert(stamp("two", "/b"))
        one.commit("one", run_row("one", 2))
        with pytest.raises(duckdb.TransactionException, match="Transaction conflict"):
            two.commit("two", run_row("two", 3))
    store = Warehouse.at(location, catalog=spec)
    assert query(store, "SELECT run_id, source FROM stamps ORDER BY ALL").rows() == [("one", "/a"), ("zero", "/old")]
    assert query(store, "SELECT run_id FROM runs ORDER BY ALL").rows() == [("one",), ("zero",)]

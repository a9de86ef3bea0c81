"""The DuckLake warehouse with its data on S3-compatible object storage (moto's server on 127.0.0.1) and its catalog
in a local SQLite file: the same rows as a local run, the catalog's views and history, a second run that skips,
status and compact, reports through s3fs, two writers at once that land every page once, one-line errors for an
unusable location; no request, Python's or DuckDB httpfs's, leaves 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import boto3
import duckdb
import pytest
from prefect.artifacts import Artifact
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.cli.output import _size
from newsflow.core.schema import TABLES
from newsflow.flows.prefect_api import artifact_key
from newsflow.warehouse.catalog import query
from newsflow.warehouse.lake import LAKE, Catalog
from newsflow.warehouse.storage import LANDED as LANDED_SCHEMA
from newsflow.warehouse.storage import Warehouse, WarehouseError
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e
BUCKET = "newsflow-test"
LANDED = ("pages", "articles", "entities", "weather_snapshots", "quarantine")
COUNTS = {"pages": 26, "articles": 18, "entities": 108, "weather_snapshots": 114}
FIRST = 10  # the s3 warehouse is filled by two runs (the first 10 pages, then all): compact has runs to merge
HTTP_LOG = "NEWSFLOW_TEST_HTTP_LOG"  # the folder every DuckDB connection of the tests logs its HTTP requests to

# Loaded into every newsflow subprocess: refuses, and records, any connection or name lookup beyond loopback.
NETWORK_GUARD = """
import os, socket
_log, _local = os.environ["NEWSFLOW_TEST_NETWORK_LOG"], {"127.0.0.1", "::1", "localhost"}
def _refuse(target):
    with open(_log, "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()} {target}\\n")
    raise OSError(f"test network guard: {target} is not 127.0.0.1")
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _local:
        _refuse(address)
    return _connect(self, address)
def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _local:
        _refuse(address)
    return _connect_ex(self, address)
def getaddrinfo(host, *args, **kwargs):
    if host not in _local and host is not None:
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)
socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
"""
# DuckDB's httpfs has its own HTTP client, out of the guard's reach: every DuckDB connection of a newsflow
# subprocess logs its HTTP requests (made or attempted) to a folder of its own; the s3 fixture checks them all.
DUCKDB_GUARD = """
import itertools, duckdb
_http_log, _numbers, _duckdb_connect = os.environ["NEWSFLOW_TEST_HTTP_LOG"], itertools.count(), duckdb.connect
def _logged_connect(*args, **kwargs):
    con = _duckdb_connect(*args, **kwargs)
    folder = os.path.join(_http_log, f"{os.getpid()}-{next(_numbers)}")
    con.execute(f"CALL enable_logging('HTTP', storage = 'file', storage_path = '{folder}')")
    return con
duckdb.connect = _logged_connect
"""


@dataclass(frozen=True)
class S3:
    """moto's server and the environments newsflow subprocesses run with."""

    env: dict[str, str]  # for the s3 warehouse: AWS_* and NEWSFLOW_CATALOG=sqlite:<tmp>/s3-catalog.sqlite
    local_env: dict[str, str]  # the same without NEWSFLOW_CATALOG: a local warehouse keeps its own catalog
    catalog: str  # the s3 warehouse's catalog setting
    endpoint: str  # http://127.0.0.1:PORT
    http_log: Path  # where every DuckDB connection logs its HTTP requests (DUCKDB_GUARD)

    def catalog_of(self, name: str) -> dict[str, str]:
        """The environment for another warehouse on the bucket, with a catalog of its own beside the s3 one's."""
        folder = Path(self.catalog.removeprefix("sqlite:")).parent
        return {**self.env, "NEWSFLOW_CATALOG": f"sqlite:{folder / name}-catalog.sqlite"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_requests(folder: Path) -> list[tuple[str, str]]:
    """(method, url) of every HTTP request DuckDB's connections logged below `folder`."""
    found = []
    for entries in sorted(folder.rglob("duckdb_log_entries.csv")):
        text = entries.read_text(encoding="utf-8", errors="replace")
        found += re.findall(r"'request': \{'type': (\w+), 'url': '([^']*)'", text)
    return found


@pytest.fixture(scope="module")
def s3(prefect_harness, tmp_path_factory) -> Iterator[S3]:
    """moto's S3 server on 127.0.0.1 with a bucket; yields the environments newsflow subprocesses run with (this
    process gets the same AWS_* settings, no NEWSFLOW_CATALOG, and DuckDB connections that log their HTTP requests
    for the duration of the module). Afterwards: no request went beyond 127.0.0.1."""
    from moto.server import ThreadedMotoServer
    from prefect.settings import PREFECT_API_URL

    folder = tmp_path_factory.mktemp("s3")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    aws = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "NEWSFLOW_LOCK_DIR": str(folder / "locks"),
        HTTP_LOG: str(folder / "http"),
    }
    (folder / "guard").mkdir()
    (folder / "guard" / "sitecustomize.py").write_text(NETWORK_GUARD + DUCKDB_GUARD, encoding="utf-8")
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("NEWSFLOW_CATALOG", "NEWSFLOW_WAREHOUSE")
    }
    local_env = {
        **inherited,
        **aws,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PYTHONPATH": os.pathsep.join([str(folder / "guard"), os.environ.get("PYTHONPATH", "")]),
        "NEWSFLOW_TEST_NETWORK_LOG": str(folder / "network.log"),
        "NO_PROXY": "127.0.0.1,localhost",
        "COLUMNS": "200",
    }
    catalog = f"sqlite:{folder / 's3-catalog.sqlite'}"
    numbers, duckdb_connect = count(), duckdb.connect

    def logged_connect(*args, **kwargs) -> duckdb.DuckDBPyConnection:  # DUCKDB_GUARD, in this process
        con = duckdb_connect(*args, **kwargs)
        log = folder / "http" / f"pytest-{os.getpid()}-{next(numbers)}"
        con.execute(f"CALL enable_logging('HTTP', storage = 'file', storage_path = '{log}')")
        return con

    with pytest.MonkeyPatch.context() as patch:
        for name, value in aws.items():
            patch.setenv(name, value)
        patch.delenv("NEWSFLOW_CATALOG", raising=False)
        patch.delenv("NEWSFLOW_WAREHOUSE", raising=False)
        patch.setattr(duckdb, "connect", logged_connect)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        try:
            yield S3({**local_env, "NEWSFLOW_CATALOG": catalog}, local_env, catalog, endpoint, folder / "http")
        finally:
            server.stop()
    log = folder / "network.log"
    assert not log.exists(), f"requests beyond 127.0.0.1: {log.read_text(encoding='utf-8')}"
    beyond = [(method, url) for method, url in http_requests(folder / "http") if not url.startswith(f"{endpoint}/")]
    assert beyond == [], f"DuckDB's requests beyond 127.0.0.1: {beyond}"


def newsflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsflow", *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture(scope="module")
def warehouses(s3: S3, tmp_path_factory) -> tuple[Warehouse, Warehouse]:
    """The example pages run into a local folder (one run, its own catalog) and into s3://bucket/wh (the first
    pages, then all; the catalog NEWSFLOW_CATALOG names)."""
    local = tmp_path_factory.mktemp("local") / "wh"
    pages = sorted(str(p) for p in EXAMPLES.iterdir())
    for env, args in (
        (s3.local_env, [str(EXAMPLES), "--warehouse", str(local)]),
        (s3.env, [*pages[:FIRST], "--warehouse", f"s3://{BUCKET}/wh"]),
        (s3.env, [str(EXAMPLES), "--warehouse", f"s3://{BUCKET}/wh"]),
    ):
        done = newsflow(env, "run", *args)
        assert done.returncode == 0, done.stdout + done.stderr
    return Warehouse.at(local), Warehouse.at(f"s3://{BUCKET}/wh", catalog=s3.catalog)


def rows(store: Warehouse, table: str) -> list[tuple]:
    """A table's rows without what differs between runs (run ids, ingest times), sorted."""
    frame = store.read(table).drop("run_id", "ingested_at", strict=False)
    return sorted(map(repr, frame.rows()))


def sql_json(env: dict[str, str], store: Warehouse, sql: str, *options: str) -> list[dict]:
    done = newsflow(env, "sql", sql, "--warehouse", store.location, "--format", "json", *options)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def objects(prefix: str) -> dict[str, int]:
    """s3://BUCKET/<key>: size of every object under a prefix of the bucket, as moto holds them."""
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {f"s3://{BUCKET}/{o['Key']}": o["Size"] for page in pages for o in page.get("Contents", [])}


def data_files(store: Warehouse, tables: Iterable[str] | None = None) -> dict[str, int]:
    """The current data files of tables (store.files; all of the lake's by default, as compact counts them),
    with their sizes, as the catalog records them."""
    with store.connect(read_only=True) as con:
        if tables is None:
            tables = [name for (name,) in con.execute(f"SHOW TABLES FROM {LAKE}.{LANDED_SCHEMA}").fetchall()]
        return dict(file for name in tables for file in store.files(name, con))


def lake_files(store: Warehouse) -> dict[str, int]:
    """Every file the lake's current snapshot uses (data and delete files of every table, newsflow's own
    writer, stations and catalog_built_from tables too), with its size."""
    with store.connect(read_only=True) as con:
        names = [name for (name,) in con.execute(f"SHOW TABLES FROM {LAKE}.{LANDED_SCHEMA}").fetchall()]
        listed = [
            row
            for name in names
            for row in con.execute(
                "SELECT data_file, data_file_size_bytes, delete_file, delete_file_size_bytes "
                f"FROM ducklake_list_files('{LAKE}', ?, schema => ?)",
                [name, LANDED_SCHEMA],
            ).fetchall()
        ]
    return {path: size for data, data_size, *delete in listed for path, size in ((data, data_size), delete) if path}


def test_the_s3_warehouse_holds_the_same_rows_as_a_local_one(s3, warehouses):
    local, remote = warehouses
    assert remote.location == f"s3://{BUCKET}/wh" and not remote.is_local
    assert str(remote.catalog) == s3.catalog and Path(remote.catalog.target).is_file()
    own = local.root / "catalog.sqlite"  # the local run (no NEWSFLOW_CATALOG) made its catalog beside its data
    assert str(local.catalog) == f"sqlite:{own}" and own.is_file()
    assert {name: remote.read(name).height for name in COUNTS} == COUNTS
    for table in LANDED:
        assert rows(remote, table) == rows(local, table), table
    assert len(remote.read("runs")) == 2 and len(local.read("runs")) == 1  # each warehouse has its own catalog

    articles = remote.files("articles")
    assert articles and all(
        path.startswith(f"s3://{BUCKET}/wh/data/landed/articles/year=") and "/month=" in path for path, _ in articles
    )
    stored = objects("wh/")
    assert lake_files(remote).items() <= stored.items()  # every file of the lake is on S3, with the size recorded
    assert {key.split("/")[4] for key in stored} == {"data", "reports", "data_docs"}  # no catalog, no lock on S3
    assert not remote.exists("warehouse.duckdb") and not remote.exists("catalog.sqlite")
    assert remote.exists("reports", "latest.html") and remote.exists("data_docs", "index.html")
    requests = http_requests(s3.http_log)  # the data files were written and read by DuckDB's httpfs, at moto
    assert {method for method, url in requests if url.startswith(f"{s3.endpoint}/{BUCKET}/wh/data/")} >= {"PUT", "GET"}


def test_sql_reads_the_catalog_views_and_history_on_s3(s3, warehouses):
    local, remote = warehouses
    count = "select count(*) AS n from articles"
    assert sql_json(s3.env, remote, count) == sql_json(s3.local_env, local, count) == [{"n": COUNTS["articles"]}]
    roles = "SELECT person, person_org, person_title, article_id FROM person_roles ORDER BY ALL"
    found = sql_json(s3.env, remote, roles)
    assert found == sql_json(s3.local_env, local, roles) and len(found) > 5
    readings = "SELECT station, capture_date, temperature_c FROM weather_readings ORDER BY ALL"
    assert sql_json(s3.env, remote, readings) == sql_json(s3.local_env, local, readings)
    assert query(remote, "SELECT count(*) FROM pages").item() == COUNTS["pages"]  # in-process, too

    first_run = query(remote, "SELECT min(run_id) FROM runs").item()  # time travel reads the first run's files
    pages = "SELECT count(*) AS n FROM pages"
    assert sql_json(s3.env, remote, pages, "--at", first_run) == [{"n": FIRST}]
    assert query(remote, "SELECT count(*) FROM runs", at=first_run).item() == 1


def test_sql_cannot_write_to_the_bucket_even_under_explain_analyze(s3, warehouses):
    _, remote = warehouses
    before = objects("wh/")
    target = next(key for key in before if "/data/" in key)
    for sql in (
        f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{target}' (FORMAT parquet)",
        f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO 'newsflowread://{target.removeprefix('s3://')}' (FORMAT parquet)",
        f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO 's3://{BUCKET}/elsewhere.parquet' (FORMAT parquet)",
    ):
        done = newsflow(s3.env, "sql", sql, "--warehouse", remote.location)
        assert done.returncode == 2, (sql, done.stdout, done.stderr)
    assert objects("") == before  # not a byte of the bucket changed


def test_a_second_run_on_s3_skips_every_page_then_status_and_compact_keep_the_rows(s3, warehouses):
    local, remote = warehouses
    again = newsflow(s3.env, "run", str(EXAMPLES), "--warehouse", remote.location)
    assert again.returncode == 0, again.stdout + again.stderr
    runs = query(remote, "SELECT pages_seen, pages_skipped, run_id FROM runs ORDER BY started_at").rows()
    assert runs[-1][:2] == (COUNTS["pages"], COUNTS["pages"])
    artifact = Artifact.get(artifact_key("summary", remote.location))  # the run's Markdown report, from S3
    assert f"# newsflow run {runs[-1][2]}" in artifact.data
    assert f"Report: `s3://{BUCKET}/wh/reports/run-{runs[-1][2]}.html`" in artifact.data

    status = newsflow(s3.env, "status", "--warehouse", remote.location)
    assert status.returncode == 0, status.stderr
    assert f"{remote.location} (catalog {s3.catalog})" in " ".join(status.stdout.split())  # the title, wrapped
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in status.stdout.splitlines()]
    shown = {row[0]: row[1:] for row in cells if len(row) == 6 and row[0] in TABLES}  # rows, files, size, last run
    assert {name: int(shown[name][0]) for name in COUNTS} == COUNTS and shown["runs"][0] == "3"
    for name in TABLES:
        files = remote.files(name)
        assert (int(shown[name][1]), shown[name][2]) == (len(files), _size(sum(size for _, size in files))), name
    snapshots = {row[2]: row[3] for row in cells if len(row) == 4}  # snapshot, time, run, kind
    assert {run_id: snapshots.get(run_id) for *_, run_id in runs} == {run_id: "ingest" for *_, run_id in runs}

    before, used = data_files(remote), lake_files(remote)
    compacted = newsflow(s3.env, "compact", "--warehouse", remote.location, "--keep-days", "0")
    assert compacted.returncode == 0, compacted.stderr
    merged = re.search(r"(\d+) data files -> (\d+); (\d+) snapshots older than 0 days expired", compacted.stdout)
    assert merged, compacted.stdout
    after = data_files(remote)
    assert (int(merged[1]), int(merged[2])) == (len(before), len(after)) and len(after) < len(before)
    stored = objects("wh/data/")
    assert int(merged[3]) > 0 and stored == lake_files(remote)  # what only expired snapshots used is gone from S3
    assert used.keys() - stored.keys()  # the files merged away were deleted from the bucket
    for table in LANDED:
        assert rows(remote, table) == rows(local, table), table
    assert sql_json(s3.env, remote, "SELECT count(*) AS n FROM entities") == [{"n": COUNTS["entities"]}]


def test_report_prints_the_s3_urls(s3, warehouses, monkeypatch):
    _, remote = warehouses
    monkeypatch.setenv("NEWSFLOW_CATALOG", s3.catalog)
    result = CliRunner().invoke(app, ["report", "--warehouse", remote.location])
    assert result.exit_code == 0, result.output
    assert f"s3://{BUCKET}/wh/reports/latest.html" in result.output
    assert f"s3://{BUCKET}/wh/data_docs/index.html" in result.output
    page = remote.fs.cat_file(f"{BUCKET}/wh/reports/latest.html").decode()
    assert f"s3://{BUCKET}/wh" in page and "newsflow run" in page


def test_two_machines_running_at_once_on_one_prefix_land_every_row_once(s3, tmp_path):
    """Two writers with no lock file in common, on one prefix and one catalog (as on two machines sharing a
    catalog): DuckLake refuses a commit that conflicts, or a run skips what the other landed; no page twice."""
    location, env = f"s3://{BUCKET}/twice", s3.catalog_of("twice")
    pages = sorted(str(p) for p in EXAMPLES.iterdir())
    first = newsflow(env, "run", *pages[:FIRST], "--warehouse", location)  # the tables exist already
    assert first.returncode == 0, first.stdout + first.stderr

    runs = []
    for machine in ("one", "two"):
        command = [sys.executable, "-m", "newsflow", "run", str(EXAMPLES), "--warehouse", location]
        alone = {**env, "NEWSFLOW_LOCK_DIR": str(tmp_path / machine)}
        runs.append(subprocess.Popen(command, env=alone, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [run.communicate(timeout=600) for run in runs]
    codes = [run.returncode for run in runs]
    assert set(codes) <= {0, 1}, outputs
    for code, (_, err) in zip(codes, outputs, strict=True):
        if code == 1:  # a refused commit (DuckLake's conflict check, or SQLite's lock): the warehouse unchanged
            told = err[err.rindex("\nerror: ") + 1 :]  # the CLI's message, printed last
            assert told.startswith("error: the run failed, the warehouse is unchanged:"), err
            assert "Traceback" not in told and told.count("error:") == 1, err

    store = Warehouse.at(location, catalog=env["NEWSFLOW_CATALOG"])
    assert len(store.read("runs")) == 1 + codes.count(0)  # a run that failed committed nothing
    if 1 in codes:  # a third run does the work the refused one did not
        third = newsflow(env, "run", str(EXAMPLES), "--warehouse", location)
        assert third.returncode == 0, third.stdout + third.stderr
    assert {name: store.read(name).height for name in COUNTS} == COUNTS
    assert query(store, "SELECT count(*) - count(DISTINCT page_id) FROM pages").item() == 0
    assert query(store, "SELECT count(*) - count(DISTINCT (article_id, page_id)) FROM articles").item() == 0
    assert data_files(store).items() <= objects("twice/").items()


def test_attach_prints_what_a_plain_duckdb_client_reads_the_s3_warehouse_with(s3, warehouses):
    _, remote = warehouses
    done = newsflow(s3.env, "attach", "--warehouse", remote.location)
    assert done.returncode == 0, done.stderr
    assert f"DATA_PATH 's3://{BUCKET}/wh/data/'" in done.stdout and f"ducklake:{s3.catalog}" in done.stdout
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}  # nothing downloaded
    with duckdb.connect(config=config) as con:
        con.execute(done.stdout)
        host = s3.endpoint.removeprefix("http://")  # the S3 secret is the client's own to create
        con.execute(
            f"CREATE SECRET (TYPE s3, KEY_ID 'testing', SECRET 'testing', ENDPOINT '{host}', URL_STYLE 'path', "
            "USE_SSL false)"
        )
        assert con.execute("SELECT count(*) FROM news.articles").fetchone() == (COUNTS["articles"],)
        assert con.execute("SELECT count(DISTINCT title) FROM news.articles").fetchone()[0] > 1  # read from S3


def test_a_run_on_s3_without_a_catalog_is_a_one_line_usage_error(s3):
    done = newsflow(s3.local_env, "run", str(EXAMPLES), "--warehouse", f"s3://{BUCKET}/no-catalog")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: a warehouse on object storage (s3://{BUCKET}/no-catalog) needs a catalog database: set "
        "NEWSFLOW_CATALOG (or --catalog) to postgres:CONNINFO, or sqlite:PATH on this machine"
    ]
    assert objects("no-catalog/") == {}


@pytest.mark.parametrize(
    ("location", "catalog", "message"),
    [
        ("nosuchprotocol://bucket/wh", None, "cannot use a warehouse at nosuchprotocol://bucket/wh: unknown protocol"),
        ("s3://no-such-bucket/wh", "sqlite:{tmp}/catalog.sqlite", "s3://no-such-bucket/wh: the bucket does not exist"),
        (
            "s3://no-such-bucket/wh",
            None,
            "a warehouse on object storage (s3://no-such-bucket/wh) needs a catalog database: set NEWSFLOW_CATALOG",
        ),
    ],
    ids=["unknown-protocol", "no-bucket", "no-catalog"],
)
def test_an_unusable_location_is_a_one_line_usage_error(s3, tmp_path, monkeypatch, location, catalog, message):
    if catalog:
        monkeypatch.setenv("NEWSFLOW_CATALOG", catalog.format(tmp=tmp_path))
    for command in (["status"], ["sql", "SELECT 1"], ["report"], ["compact"], ["attach"]):
        result = CliRunner().invoke(app, [*command, "--warehouse", location], terminal_width=400)
        assert result.exit_code == 2, (command, result.output)
        assert message in result.output and "Traceback" not in result.output, (command, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert list(tmp_path.iterdir()) == []  # no catalog was made for it


def test_path_strings_in_a_url_are_not_mangled(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("NEWSFLOW_CATALOG", raising=False)
    local = Warehouse.at(tmp_path / "wh")
    assert (
        local.is_local and local.location == str(tmp_path / "wh") and local.url("reports") == f"{tmp_path}/wh/reports"
    )
    assert local.catalog == Catalog("sqlite", str(tmp_path / "wh" / "catalog.sqlite"))
    assert Warehouse.at(f"file://{tmp_path}/wh") == local

    remote = Warehouse.at("s3://some-bucket/prefix/", catalog=f"sqlite:{tmp_path}/s3 catalog.sqlite")
    assert (remote.location, remote.path, remote.url("data"), str(remote.catalog)) == (
        "s3://some-bucket/prefix",
        "some-bucket/prefix",
        "s3://some-bucket/prefix/data",
        f"sqlite:{tmp_path}/s3 catalog.sqlite",
    )
    shared = Warehouse.at("s3://some-bucket/prefix", catalog="postgres:dbname=news host=127.0.0.1")
    assert shared.catalog == Catalog("postgres", "dbname=news host=127.0.0.1") and shared.location == remote.location
    with pytest.raises(WarehouseError, match=r"^a warehouse on object storage \(s3://some-bucket/prefix/\) needs"):
        Warehouse.at("s3://some-bucket/prefix/")
    monkeypatch.setenv("NEWSFLOW_CATALOG", f"sqlite:{tmp_path}/s3 catalog.sqlite")
    assert Warehouse.at("s3://some-bucket/prefix/") == remote

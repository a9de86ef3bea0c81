"""The warehouse on S3-compatible object storage (moto's server on 127.0.0.1), through fsspec/s3fs: the same rows
as a local run, the catalog's views, a second run that skips, status and compact; no request leaves 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import polars as pl
import pytest
from prefect.artifacts import Artifact
from typer.testing import CliRunner

from newsflow.cli import app
from tests.conftest import EXAMPLES
from warehouse.catalog import query
from warehouse.lease import LEASE_NAME, LeaseLost, S3Lease
from warehouse.store import Warehouse, WarehouseBusy

pytestmark = pytest.mark.e2e
BUCKET = "newsflow-test"
LANDED = ("pages", "articles", "entities", "weather_snapshots", "quarantine")
COUNTS = {"pages": 26, "articles": 18, "entities": 103, "weather_snapshots": 114}
FIRST = 10  # the s3 warehouse is filled by two runs (the first 10 pages, then all): compact has runs to merge

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3(prefect_harness, tmp_path_factory) -> Iterator[dict[str, str]]:
    """moto's S3 server on 127.0.0.1 with a bucket; yields the environment newsflow subprocesses run with (this
    process gets the same AWS_* settings for the duration of the module)."""
    from moto.server import ThreadedMotoServer
    from prefect.settings import PREFECT_API_URL

    folder = tmp_path_factory.mktemp("s3")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    aws = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(folder / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-aws-credentials"),
        "NEWSFLOW_LOCK_DIR": str(folder / "locks"),
    }
    (folder / "guard").mkdir()
    (folder / "guard" / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **aws,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PYTHONPATH": os.pathsep.join([str(folder / "guard"), os.environ.get("PYTHONPATH", "")]),
        "NEWSFLOW_TEST_NETWORK_LOG": str(folder / "network.log"),
        "NO_PROXY": "127.0.0.1,localhost",
        "COLUMNS": "200",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in aws.items():
            patch.setenv(name, value)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        try:
            yield env
        finally:
            server.stop()
    log = folder / "network.log"
    assert not log.exists(), f"requests beyond 127.0.0.1: {log.read_text(encoding='utf-8')}"


def newsflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsflow", *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture(scope="module")
def warehouses(s3, tmp_path_factory) -> tuple[Warehouse, Warehouse]:
    """The example pages run into a local folder (one run) and into s3://bucket/wh (the first pages, then all)."""
    local = tmp_path_factory.mktemp("local") / "wh"
    pages = sorted(str(p) for p in EXAMPLES.iterdir())
    for args in (
        [str(EXAMPLES), "--warehouse", str(local)],
        [*pages[:FIRST], "--warehouse", f"s3://{BUCKET}/wh"],
        [str(EXAMPLES), "--warehouse", f"s3://{BUCKET}/wh"],
    ):
        done = newsflow(s3, "run", *args)
        assert done.returncode == 0, done.stdout + done.stderr
    return Warehouse.at(local), Warehouse.at(f"s3://{BUCKET}/wh")


def rows(store: Warehouse, table: str) -> list[tuple]:
    """A table's rows without what differs between runs (run ids, ingest times), sorted."""
    frame = store.read(table).drop("run_id", "ingested_at", strict=False)
    return sorted(map(repr, frame.rows()))


def sql_json(env: dict[str, str], store: Warehouse, sql: str) -> list[dict]:
    done = newsflow(env, "sql", sql, "--warehouse", store.location, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_s3_warehouse_holds_the_same_rows_as_a_local_one(warehouses):
    local, remote = warehouses
    assert remote.location == f"s3://{BUCKET}/wh" and not remote.is_local
    assert {name: remote.read(name).height for name in COUNTS} == COUNTS
    for table in LANDED:
        assert rows(remote, table) == rows(local, table), table
    assert remote.files("articles")[0].as_posix().startswith(f"{BUCKET}/wh/articles/registered_month=")
    assert remote.exists("warehouse.duckdb") and remote.exists("reports", "latest.html")
    assert remote.exists("data_docs", "index.html")
    assert len(remote.read("runs")) == 2
    assert not remote.exists(LEASE_NAME)  # each run's writer's lease is gone with the run


def test_sql_reads_the_catalog_views_on_s3(s3, warehouses):
    local, remote = warehouses
    count = "select count(*) AS n from articles"
    assert sql_json(s3, remote, count) == sql_json(s3, local, count) == [{"n": COUNTS["articles"]}]
    roles = "SELECT person, organisation, title, article_id FROM person_roles ORDER BY ALL"
    found = sql_json(s3, remote, roles)
    assert found == sql_json(s3, local, roles) and len(found) > 5
    readings = "SELECT station, capture_date, temperature_c FROM weather_readings ORDER BY ALL"
    assert sql_json(s3, remote, readings) == sql_json(s3, local, readings)
    assert query(remote, "SELECT count(*) FROM pages").item() == COUNTS["pages"]  # in-process, too


def test_a_second_run_on_s3_skips_every_page_then_status_and_compact_keep_the_rows(s3, warehouses):
    local, remote = warehouses
    again = newsflow(s3, "run", str(EXAMPLES), "--warehouse", remote.location)
    assert again.returncode == 0, again.stdout + again.stderr
    runs = query(remote, "SELECT pages_seen, pages_skipped, run_id FROM runs ORDER BY started_at").rows()
    assert runs[-1][:2] == (COUNTS["pages"], COUNTS["pages"])
    artifact = Artifact.get("newsflow-summary")  # the run's Markdown report, read back from object storage
    assert f"# newsflow run {runs[-1][2]}" in artifact.data
    assert f"Report: `s3://{BUCKET}/wh/reports/run-{runs[-1][2]}.html`" in artifact.data

    status = newsflow(s3, "status", "--warehouse", remote.location)
    assert status.returncode == 0, status.stderr
    shown = {
        cells[0]: cells[1]
        for line in status.stdout.splitlines()
        if (cells := [c.strip() for c in line.split("│")[1:-1]]) and cells[0] in (*COUNTS, "runs")
    }
    assert {name: int(shown[name]) for name in COUNTS} == COUNTS and shown["runs"] == "3"

    files_before = len(remote.files("articles"))
    compacted = newsflow(s3, "compact", "--warehouse", remote.location)
    assert compacted.returncode == 0, compacted.stderr
    assert "merged 3 runs" in compacted.stdout  # every live run, the one with no files too
    assert len(remote.files("articles")) < files_before
    for table in LANDED:
        assert rows(remote, table) == rows(local, table), table
    assert sql_json(s3, remote, "SELECT count(*) AS n FROM entities") == [{"n": COUNTS["entities"]}]


def test_report_prints_the_s3_urls(s3, warehouses):
    _, remote = warehouses
    result = CliRunner().invoke(app, ["report", "--warehouse", remote.location])
    assert result.exit_code == 0, result.output
    assert f"s3://{BUCKET}/wh/reports/latest.html" in result.output
    assert f"s3://{BUCKET}/wh/data_docs/index.html" in result.output
    page = remote.fs.cat_file(f"{BUCKET}/wh/reports/latest.html").decode()
    assert f"s3://{BUCKET}/wh" in page and "newsflow run" in page


def on_machine(patch: pytest.MonkeyPatch, machine: Path) -> None:
    """The writers that follow run as if on another machine: a lock folder of their own, so only the lease on
    S3 is between them and the others."""
    patch.setenv("NEWSFLOW_LOCK_DIR", str(machine))


def test_a_writer_on_another_machine_waits_for_the_s3_lease_and_gets_it_once_released(s3, tmp_path, monkeypatch):
    first, second = Warehouse.at(f"s3://{BUCKET}/leased"), Warehouse.at(f"s3://{BUCKET}/leased")
    on_machine(monkeypatch, tmp_path / "one")
    holding = first.writer_lock()
    holding.__enter__()
    holder = first.fs.call_s3("head_object", Bucket=BUCKET, Key=f"leased/{LEASE_NAME}")["Metadata"]["holder"]
    assert holder == f"newsflow run (pid {os.getpid()}) on {socket.gethostname()}"

    on_machine(monkeypatch, tmp_path / "two")
    told: list[str] = []
    busy = r"being written by newsflow run \(pid \d+\) on .+_writer.lease"
    with pytest.raises(WarehouseBusy, match=busy), second.writer_lock(timeout=1.5, on_wait=told.append):
        pass
    assert told == [holder]
    holding.__exit__(None, None, None)
    assert not first.exists(LEASE_NAME)
    with second.writer_lock(timeout=5):
        assert second.exists(LEASE_NAME)
        second.remove_uncommitted()  # the holder may write and delete
    assert not second.exists(LEASE_NAME)


def test_a_lease_left_unrenewed_is_taken_over_and_its_stalled_holder_can_no_longer_commit(s3, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_LEASE_SECONDS", "1")
    store, key = Warehouse.at(f"s3://{BUCKET}/stalled"), f"stalled/{LEASE_NAME}"
    s3_client = boto3.client("s3")
    # a writer that died without releasing its lease: nobody renews it
    s3_client.put_object(Bucket=BUCKET, Key=key, Body=b"{}", Metadata={"holder": "newsflow run (pid 7) on gone"})
    on_machine(monkeypatch, tmp_path / "one")
    told: list[str] = []
    with monkeypatch.context() as stalled:
        stalled.setattr(S3Lease, "_renew_until_stopped", lambda lease: None)  # this one will stall, too
        first = store.writer_lock(timeout=10, on_wait=told.append)
        first.__enter__()  # the dead writer's lease is taken over after a second
    assert told == ["newsflow run (pid 7) on gone"]
    taken = s3_client.head_object(Bucket=BUCKET, Key=key)["ETag"]

    time.sleep(1.1)  # longer than the lease, unrenewed: the stalled writer may neither commit nor delete
    with pytest.raises(LeaseLost, match="was lost: not renewed for 1 s"):
        store.commit("stalled-run", pl.DataFrame())
    with pytest.raises(LeaseLost):
        store.remove_uncommitted()

    on_machine(monkeypatch, tmp_path / "two")
    with store.writer_lock(timeout=10):  # another machine takes the stalled writer's lease over
        assert s3_client.head_object(Bucket=BUCKET, Key=key)["ETag"] != taken
        first.__exit__(None, None, None)  # the stalled writer gives up: it leaves the new holder's lease alone
        assert store.exists(LEASE_NAME)
        store.remove_uncommitted()
    assert not store.exists(LEASE_NAME)


def test_two_machines_running_at_once_on_one_prefix_land_every_row_once(s3, tmp_path):
    location, runs = f"s3://{BUCKET}/twice", []
    for machine in ("one", "two"):
        env = {**s3, "NEWSFLOW_LOCK_DIR": str(tmp_path / machine)}  # no lock file in common: only the lease
        command = [sys.executable, "-m", "newsflow", "run", str(EXAMPLES), "--warehouse", location]
        runs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        time.sleep(2)
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("waiting for the warehouse: newsflow run (pid" in output for output in outputs) == 1, outputs
    store = Warehouse.at(location)
    assert {name: store.read(name).height for name in COUNTS} == COUNTS  # the second run skipped every page
    assert sorted(store.read("runs")["pages_skipped"].to_list()) == [0, COUNTS["pages"]]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("nosuchprotocol://bucket/wh", "cannot use a warehouse at nosuchprotocol://bucket/wh"),
        ("s3://no-such-bucket/wh", "the bucket does not exist"),
    ],
)
def test_an_unusable_location_is_a_one_line_usage_error(s3, location, message):
    for command in (["status"], ["sql", "SELECT 1"], ["report"], ["compact"]):
        result = CliRunner().invoke(app, [*command, "--warehouse", location], terminal_width=400)
        assert result.exit_code == 2, (command, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_path_strings_in_a_url_are_not_mangled(tmp_path: Path):
    local = Warehouse.at(tmp_path / "wh")
    assert (
        local.is_local and local.location == str(tmp_path / "wh") and local.url("reports") == f"{tmp_path}/wh/reports"
    )
    assert Warehouse.at(f"file://{tmp_path}/wh") == local
    remote = Warehouse.at("s3://some-bucket/prefix/")
    assert (remote.location, remote.path, remote.url("runs")) == (
        "s3://some-bucket/prefix",
        "some-bucket/prefix",
        "s3://some-bucket/prefix/runs",
    )

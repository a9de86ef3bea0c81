"""`verify` and `repair`: every file a run or a compaction adds has its checksum recorded by the same transaction,
a flipped or truncated file is found and named with its table, a repair drops it in one snapshot and moves it
aside, and the next run over the same pages lands exactly the rows a clean warehouse has."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from newsflow.flows.ingest import ingest
from newsflow.warehouse.catalog import query
from newsflow.warehouse.checksums import file_digest, lake_files
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.maintenance import compact_lake
from newsflow.warehouse.storage import Warehouse
from newsflow.warehouse.transaction import RunTransaction
from newsflow.warehouse.verify import (
    CHECKSUM_DIFFERS,
    SIZE_DIFFERS,
    UNRECORDED,
    damaged_file_message,
    last_verification,
    repair_warehouse,
    verify_warehouse,
)
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e
CONTENT = ("pages", "articles", "entities", "weather_snapshots", "quarantine", "stamps")


@pytest.fixture(scope="module")
def clean(prefect_harness, tmp_path_factory) -> Warehouse:
    """A warehouse after one run over the example pages: never damaged, never changed by a test."""
    root = tmp_path_factory.mktemp("verify") / "clean"
    ingest([str(EXAMPLES)], warehouse=str(root))
    return Warehouse.at(root)


def copy_of(store: Warehouse, to: Path) -> Warehouse:
    shutil.copytree(store.root, to)
    return Warehouse.at(to)  # a copy reads its own files


def rows(store: Warehouse) -> dict[str, list[tuple]]:
    """Each content table's rows, less the columns that name the run, sorted."""
    found = {}
    for table in CONTENT:
        frame = query(store, f"SELECT * FROM {table}")
        found[table] = sorted(
            map(repr, frame.drop([c for c in ("run_id", "ingested_at") if c in frame.columns]).rows())
        )
    return found


def articles_file_of(store: Warehouse, source: str) -> Path:
    """The articles data file holding the article of the page read from `source` (a name in examples/pages)."""
    page = query(store, "SELECT page_id FROM pages WHERE source LIKE $s", {"s": f"%/{source}"}).item()
    for path, _ in store.files("articles"):
        if duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}') WHERE page_id = '{page}'").fetchone()[0]:
            return Path(path)
    raise AssertionError(f"no articles file holds page {page}")


def flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def relative(store: Warehouse, path: Path) -> str:
    return path.relative_to(store.root).as_posix()


def test_every_file_of_a_run_and_of_a_compaction_is_recorded_and_verifies(clean, tmp_path):
    store = copy_of(clean, tmp_path / "wh")
    with store.connect(read_only=True) as con:
        files = lake_files(store, con)
        recorded = dict(con.execute("SELECT path, sha256 FROM landed.checksums").fetchall())
    assert files and {f.path: file_digest(store, f.path)[1] for f in files} == recorded
    checked = verify_warehouse(store)
    assert checked.ok and checked.files_checked == len(files)

    stamps = pl.DataFrame(
        {"source": [f"/s/{i}" for i in range(40)], "page_id": "p", "file_size": 1, "file_mtime_ns": 1}
    )
    for run in ("one", "two"):  # two files of 40 rows and two runs rows inline: something to flush and to merge
        with writer_lock(store), RunTransaction(store) as tx:
            tx.insert({"stamps": stamps.with_columns(run_id=pl.lit(run), file_mtime_ns=1)})
            tx.commit_as("test", {"run_id": run})
    with writer_lock(store):
        summary = compact_lake(store, keep_days=0)
    assert summary.files_recorded > 0 and summary.files_deleted > 0
    after = verify_warehouse(store)
    assert after.ok, after.problems
    last = last_verification(store)
    assert last is not None and last["ok"] and last["files_checked"] == after.files_checked
    assert datetime.fromisoformat(last["checked_at"]) <= datetime.now(UTC)


def test_sixteen_flipped_bytes_are_found_and_named_with_their_table(clean, tmp_path):
    store = copy_of(clean, tmp_path / "wh")
    damaged = articles_file_of(store, "02_biz_tech.txt")
    flip_middle(damaged)
    found = verify_warehouse(store)
    assert [(p.path, p.table, p.problem) for p in found.problems] == [
        (relative(store, damaged), "articles", CHECKSUM_DIFFERS)
    ]
    assert not found.ok and last_verification(store)["damaged"] == 1


def test_a_truncated_file_is_named_in_one_line_from_duckdbs_own_error(clean, tmp_path):
    store = copy_of(clean, tmp_path / "wh")
    damaged = articles_file_of(store, "02_biz_tech.txt")
    truncate(damaged)
    with pytest.raises(duckdb.Error) as raised:
        query(store, "SELECT * FROM articles")
    line = damaged_file_message(raised.value)
    assert line is not None and "\n" not in line
    assert line.startswith(f"damaged warehouse file {relative(store, damaged)} (table articles): truncated")
    assert "newsflow verify --repair" in line
    assert damaged_file_message(raised.value, store) == line
    assert [(p.table, p.problem) for p in verify_warehouse(store).problems] == [("articles", SIZE_DIFFERS)]
    assert damaged_file_message(duckdb.Error("Variable-length int over 10 bytes.")).count("newsflow verify") == 2
    assert damaged_file_message(duckdb.CatalogException("Table with name nope does not exist!")) is None
    assert damaged_file_message(ValueError("no warehouse")) is None


@pytest.mark.parametrize(
    ("table", "source"),
    [("articles", "01_biz_economy.txt"), ("entities", None)],  # 01's copy (10) is its duplicate: read again too
)
def test_a_repair_drops_the_damaged_file_and_the_next_run_lands_what_was_lost(clean, tmp_path, table, source):
    store = copy_of(clean, tmp_path / "wh")
    damaged = articles_file_of(store, source) if source else Path(store.files(table)[0][0])
    truncate(damaged)
    size = damaged.stat().st_size

    repaired = repair_warehouse(store)
    assert [(f.path, f.table) for f in repaired.files] == [(relative(store, damaged), table)]
    lost = repaired.files[0]
    assert lost.rows_lost and lost.pages_to_reread and set(lost.pages_to_reread) <= set(repaired.pages_to_reread)
    assert not damaged.exists() and Path(lost.moved_to) == store.root / "damaged" / relative(store, damaged)
    assert Path(lost.moved_to).stat().st_size == size  # moved, never deleted
    assert query(store, "SELECT count(*) FROM articles").item() < 18  # the view reads again, without those pages
    if source:
        copy = query(store, "SELECT count(*) FROM pages WHERE source LIKE '%10_biz_economy_copy.txt'").item()
        assert copy == 0  # the original's duplicate goes too, or the original would come back as its copy
    checked = verify_warehouse(store)
    assert checked.ok and checked.set_aside == [relative(store, damaged)]
    with pytest.raises(duckdb.Error) as raised:  # the snapshots before the repair still name the file
        query(store, f"SELECT * FROM landed.{table}", at=query(clean, "SELECT run_id FROM runs").item())
    assert "a repair moved it to damaged/" in damaged_file_message(raised.value, store)

    again = ingest([str(EXAMPLES)], warehouse=str(store.root))
    assert again.pages_seen - again.pages_skipped == len(repaired.pages_to_reread)
    assert rows(store) == rows(clean)
    ids = "SELECT article_id FROM articles ORDER BY article_id"
    assert query(store, ids)["article_id"].to_list() == query(clean, ids)["article_id"].to_list()
    assert verify_warehouse(store).ok


def test_a_warehouse_without_checksums_reports_them_unrecorded_and_records_them(clean, tmp_path):
    store = copy_of(clean, tmp_path / "wh")
    with store.connect() as con:  # as a warehouse written before checksums were recorded
        con.execute("DROP TABLE landed.checksums")
    found = verify_warehouse(store)
    assert found.problems and {p.problem for p in found.problems} == {UNRECORDED} and not found.damaged
    recorded = verify_warehouse(store, record_missing=True)
    assert recorded.recorded == len(found.problems) and recorded.ok
    assert verify_warehouse(store).ok


def test_the_commands_name_a_damaged_file_in_one_line_and_verify_repair_mends_it(clean, tmp_path):
    from prefect.settings import PREFECT_API_URL
    from typer.testing import CliRunner

    from newsflow.cli import app

    store = copy_of(clean, tmp_path / "wh")
    damaged = articles_file_of(store, "01_biz_economy.txt")
    with damaged.open("r+b") as file:
        file.truncate(damaged.stat().st_size // 2)
    name = str(damaged.relative_to(store.root))
    runner = CliRunner()
    env = {"PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "400"}
    for command in (["status"], ["compact"], ["verify"], ["sql", "FROM articles"]):
        result = runner.invoke(app, [*command, "--warehouse", str(store.root)], env=env, catch_exceptions=False)
        error = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert result.exit_code == 1, (command, result.output)
        assert len(error) == 1 and name in error[0] and "newsflow verify --repair" in error[0], (command, error)
        assert "Traceback" not in result.output
    repaired = runner.invoke(app, ["verify", "--repair", "--warehouse", str(store.root)], env=env)
    assert repaired.exit_code == 0, repaired.output
    assert f"moved to {store.root}/damaged/{name}" in "".join(repaired.output.split("\n"))
    assert runner.invoke(app, ["status", "--warehouse", str(store.root)], env=env).exit_code == 0
    assert runner.invoke(app, ["verify", "--warehouse", str(store.root)], env=env).exit_code == 0

"""Incremental landing: a re-run changes nothing, and a later version of an article becomes the current row while
the earlier one stays queryable in `article_versions`."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

import newsflow.sources.pages
from newsflow.flows.ingest import ingest
from newsflow.warehouse.catalog import query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES, aged

pytestmark = pytest.mark.e2e
CONTENT_TABLES = ("pages", "articles", "article_versions", "entities", "weather_snapshots", "quarantine")


def content_hashes(store: Warehouse) -> dict[str, str]:
    """A hash of every table's rows (sorted), less the columns that name the run that wrote them."""
    hashes = {}
    for table in CONTENT_TABLES:
        frame = query(store, f"SELECT * FROM {table}")
        frame = frame.drop([c for c in ("run_id", "ingested_at") if c in frame.columns])
        hashes[table] = hashlib.sha256("\n".join(sorted(map(repr, frame.rows()))).encode()).hexdigest()
    return hashes


def test_running_twice_on_the_same_input_gives_identical_tables(prefect_harness, tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    ingest([str(EXAMPLES)], warehouse=str(store.root))
    first = content_hashes(store)
    again = ingest([str(EXAMPLES)], warehouse=str(store.root))
    assert again.pages_skipped == again.pages_seen and again.rows["pages"] == 0
    assert content_hashes(store) == first
    assert query(store, "SELECT count(*) FROM runs").item() == 2


def ingested_copy(tmp_path: Path) -> tuple[Path, list[Path], Warehouse]:
    """The example pages copied and aged two minutes (each gets its stamp), ingested once into a new warehouse."""
    pages = tmp_path / "pages"
    shutil.copytree(EXAMPLES, pages)
    files = sorted(p for p in pages.iterdir() if p.is_file())
    for path in files:
        aged(path, seconds=120)
    store = Warehouse.at(tmp_path / "wh")
    ingest([str(pages)], warehouse=str(store.root))
    return pages, files, store


def files_opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The page files runs open from now on, as they open them."""
    opened: list[str] = []
    read_capped = newsflow.sources.pages._read_capped
    monkeypatch.setattr(
        newsflow.sources.pages, "_read_capped", lambda path, cap: opened.append(path) or read_capped(path, cap)
    )
    return opened


def test_a_rerun_skips_files_with_their_stamp_unread_and_checksum_reads_every_file(
    prefect_harness, tmp_path, monkeypatch
):
    pages, files, store = ingested_copy(tmp_path)
    stamps = query(store, "SELECT source, file_size, file_mtime_ns FROM pages ORDER BY source").rows()
    assert stamps == [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    first = content_hashes(store)

    opened = files_opened(monkeypatch)
    edited = pages / "01_biz_economy.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    again = ingest([str(pages)], warehouse=str(store.root))
    assert opened == [str(edited)]
    assert (again.pages_seen, again.pages_skipped, again.rows["pages"]) == (len(files), len(files) - 1, 1)

    opened.clear()
    checked = ingest([str(pages)], warehouse=str(store.root), checksum=True)
    assert sorted(opened) == sorted(map(str, files))
    assert (checked.pages_skipped, checked.rows["pages"]) == (len(files), 0)
    assert content_hashes(store)["entities"] == first["entities"]


def test_a_file_touched_with_the_same_bytes_is_read_once_then_stamped_again_and_skipped_unread(
    prefect_harness, tmp_path, monkeypatch
):
    pages, files, store = ingested_copy(tmp_path)
    first = content_hashes(store)

    opened = files_opened(monkeypatch)
    touched = files[:3]  # a touch, or a copy that does not keep times: new stamps, the same bytes
    times = [aged(path, seconds=60) for path in touched]
    again = ingest([str(pages)], warehouse=str(store.root))
    assert opened == [str(p) for p in touched]
    assert (again.pages_skipped, again.rows["pages"], again.rows["stamps"]) == (len(files), 0, 3)
    stamped = query(store, "SELECT source, file_size, file_mtime_ns, page_id FROM stamps ORDER BY source").rows()
    ledger = dict(query(store, "SELECT source, page_id FROM pages").rows())
    assert stamped == [(str(p), p.stat().st_size, t, ledger[str(p)]) for p, t in zip(touched, times, strict=True)]
    assert content_hashes(store) == first  # the ledger and the tables are as they were

    opened.clear()
    third = ingest([str(pages)], warehouse=str(store.root))
    assert opened == [] and third.pages_skipped == len(files)
    checked = ingest([str(pages)], warehouse=str(store.root), checksum=True)  # reads all, every stamp known
    assert len(opened) == len(files) and checked.rows.get("stamps", 0) == 0
    assert query(store, "SELECT count(*) FROM stamps").item() == 3


def test_a_later_version_of_an_article_becomes_current(prefect_harness, tmp_path):
    original = (EXAMPLES / "01_biz_economy.txt").read_text(encoding="utf-8")
    updated = original.replace("등록 2024.06.27 09:41", "등록 2024.06.27 09:41\n\n수정 2024.06.27 15:20", 1).replace(
        "오민혁 누리상인연합회 회장과", "오민혁 누리상인연합회 회장과 한도윤 가람전자 사장,", 1
    )
    assert updated != original
    (tmp_path / "morning").mkdir()
    (tmp_path / "afternoon").mkdir()
    (tmp_path / "morning" / "story.txt").write_text(original, encoding="utf-8")
    (tmp_path / "afternoon" / "story.txt").write_text(updated, encoding="utf-8")
    store = Warehouse.at(tmp_path / "wh")
    ingest([str(tmp_path / "morning")], warehouse=str(store.root))
    later = ingest([str(tmp_path / "afternoon")], warehouse=str(store.root))
    assert later.statuses["article"] == 1

    versions = query(
        store,
        "SELECT version, versions, is_current, strftime(updated_at, '%H:%M') AS updated FROM article_versions"
        " ORDER BY version",
    )
    assert versions.rows() == [(1, 2, False, None), (2, 2, True, "15:20")]
    current = query(store, "SELECT article_id, page_id, strftime(updated_at, '%H:%M') AS updated FROM articles")
    assert current.height == 1 and current["updated"].item() == "15:20"
    people = set(query(store, "SELECT canonical FROM entities WHERE entity_type = 'person'")["canonical"])
    assert "한도윤" in people  # the current version's entities only, once each
    assert query(store, "SELECT count(*) - count(DISTINCT (entity_type, canonical)) FROM entities").item() == 0
    assert query(store, "SELECT DISTINCT page_id FROM entities")["page_id"].to_list() == current["page_id"].to_list()
    reason = query(store, "SELECT reason FROM pages WHERE source LIKE '%afternoon%'").item()
    assert reason.endswith("a new version of an article already landed")


def test_a_full_refresh_ingests_everything_again_and_replaces_earlier_rows(prefect_harness, tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    ingest([str(EXAMPLES)], warehouse=str(store.root))
    first = content_hashes(store)
    refreshed = ingest([str(EXAMPLES)], warehouse=str(store.root), full_refresh=True)
    assert refreshed.pages_skipped == 0 and refreshed.rows["pages"] == refreshed.pages_seen
    assert content_hashes(store) == first  # the same input: the same tables, no row twice
    runs = query(store, "SELECT full_refresh FROM runs ORDER BY started_at")["full_refresh"].to_list()
    assert runs == [False, True]
    assert store.read("pages")["run_id"].unique().to_list() == [refreshed.run_id]

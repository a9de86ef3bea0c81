"""The ledger of pages already seen: the pages and file stamps earlier runs landed, and the quick check that skips a
page file whose size and modification time still match its stamp."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from newsflow.core.constants import SEOUL
from newsflow.core.schema import source_name
from newsflow.sources.pages import file_stats, read_pages
from newsflow.warehouse.ledger import file_stamps, known_pages, stamped, unchanged_files
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.storage import Warehouse
from newsflow.warehouse.transaction import RunTransaction
from tests.conftest import aged

KOREAN = "2024년 06월 14일 금요일\n등록 2024.06.13 09:05\n기자"
STAMP = ["source", "file_size", "file_mtime_ns"]


def test_unchanged_files_are_those_whose_size_and_time_match_their_stamp(tmp_path):
    same, rewritten, touched = (tmp_path / f"{name}.txt" for name in ("same", "rewritten", "touched"))
    for path in (same, rewritten, touched):
        path.write_text(KOREAN, encoding="utf-8")
        aged(path, 120)
    stamps = read_pages([str(same), str(rewritten), str(touched)]).select(STAMP)
    rewritten.write_text(KOREAN[::-1], encoding="utf-8")  # other bytes of the same size, a new time
    aged(touched, 30)  # same bytes, another time: read again (and then skipped by its hash)
    refs = [str(same), str(rewritten), str(touched), str(tmp_path / "gone.txt"), "https://a.example/1"]
    assert unchanged_files(refs, stamps, file_stats(refs)) == {str(same)}
    assert unchanged_files(iter(refs), stamps, file_stats(refs)) == {str(same)}  # any iterable of refs
    assert file_stats(refs)["source"].to_list() == [str(same), str(rewritten), str(touched)]  # no URL, nothing gone
    assert unchanged_files(refs, stamps.clear(), file_stats(refs)) == set()
    unstamped = stamps.with_columns(file_mtime_ns=pl.lit(None, pl.Int64)).drop_nulls()
    assert unchanged_files(refs, unstamped, file_stats(refs)) == set()


def test_unchanged_files_compares_the_files_as_they_were_when_stat_ed(tmp_path):
    page = tmp_path / "a.txt"
    page.write_text(KOREAN, encoding="utf-8")
    aged(page, 120)
    refs = [str(page)]
    stamps = read_pages(refs).select(STAMP)
    before = file_stats(refs)  # as a Listing's stats, taken before the file changed
    page.write_text(KOREAN + "\n", encoding="utf-8")
    assert unchanged_files(refs, stamps, before) == {str(page)}
    assert unchanged_files(refs, stamps, file_stats(refs)) == set()


def test_a_file_whose_name_is_not_utf8_is_found_by_the_name_the_ledger_gives_it(tmp_path):
    page = tmp_path / os.fsdecode(b"caf\xe9.txt")  # as Python holds a name that is not UTF-8: surrogate escapes
    page.write_text(KOREAN, encoding="utf-8")
    aged(page, 120)
    refs = [str(page)]
    stamps = read_pages(refs).select(STAMP)
    assert stamps["source"].to_list() == [source_name(str(page))] != refs
    assert unchanged_files(refs, stamps, file_stats(refs)) == {str(page)}
    assert stamped([*refs, str(tmp_path / "new.txt")], stamps) == refs  # only a stamped file is worth a stat


def test_the_ledger_holds_the_pages_and_the_file_stamps_of_earlier_runs(tmp_path):
    store = Warehouse.at(tmp_path / "wh")
    assert known_pages(store).is_empty() and file_stamps(store).is_empty()  # no run yet
    assert known_pages(store).columns == ["page_id", "content_hash", "article_id", "version_key"]
    pages = pl.DataFrame(
        {
            "run_id": "r",
            "page_id": ["p1", "p2", "p3"],
            "content_hash": ["h1", "h2", "h3"],
            "source": ["/a.txt", "/b.txt", "https://c.example/1"],
            "file_size": [1, 2, None],  # a URL has no stamp
            "file_mtime_ns": [10, 20, None],
        }
    )
    registered = datetime(2024, 6, 13, 9, 5, tzinfo=ZoneInfo(SEOUL))
    articles = pl.DataFrame({"run_id": "r", "page_id": ["p1"], "article_id": ["a1"], "registered_at": [registered]})
    stamps = pl.DataFrame(  # /a.txt stamped again as it was, /b.txt with a new size
        {
            "run_id": "r",
            "source": ["/a.txt", "/b.txt"],
            "page_id": ["p1", "p2"],
            "file_size": [1, 3],
            "file_mtime_ns": [10, 30],
        }
    )
    expected_stamps = [("/a.txt", 1, 10), ("/b.txt", 2, 20), ("/b.txt", 3, 30)]
    with writer_lock(store), RunTransaction(store) as tx:
        tx.insert({"pages": pages, "articles": articles, "stamps": stamps})
        assert tx.file_stamps().sort(STAMP).rows() == expected_stamps  # this transaction's rows too
        tx.commit_as("test", {"run_id": "r"})
    assert file_stamps(store).sort(STAMP).rows() == expected_stamps  # each stamp once
    known = known_pages(store).sort("page_id")
    assert known.rows() == [
        ("p1", "h1", "a1", "a1@2024-06-13T09:05+0900"),
        ("p2", "h2", None, None),
        ("p3", "h3", None, None),
    ]
    with store.connect(read_only=True) as con:
        assert known_pages(store, con).sort("page_id").equals(known)

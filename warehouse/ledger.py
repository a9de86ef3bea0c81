"""The ledger of pages already seen: what a run reads from the warehouse to skip what earlier runs landed.

A run skips a page file whose size and modification time still match the stamp the ledger recorded when it read
the file (`file_stamps`, compared by `unchanged_files`: the quick check of rsync and git), and a page whose bytes
it finds already landed (`known_pages`, by page id and content hash). The stamps and file stats are taken by
newsflow.sources.pages (file_stamp, file_stats), which stats the files; this module only compares.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import polars as pl

from newsflow.core.schema import ARTICLES, PAGES, STAMPS, source_name, version_keys
from newsflow.warehouse.storage import Warehouse


def known_pages(store: Warehouse, con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """page_id, content_hash, article_id and version_key of every page already in the ledger (the article
    columns where one landed)."""
    pages = store.read(PAGES.name, ["page_id", "content_hash"], con)
    articles = store.read(ARTICLES.name, ["page_id", "article_id", "registered_at", "updated_at"], con)
    articles = articles.select("page_id", "article_id", version_key=version_keys())
    return pages.join(articles, on="page_id", how="left")


def file_stamps(store: Warehouse, con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """source, file_size and file_mtime_ns of the page files in the ledger that were stamped when read, and
    of those stamped again (the stamps table), each once: what unchanged_files compares."""
    stamp = list(STAMPS.key)  # source, file_size, file_mtime_ns
    stamps = pl.concat([store.read(PAGES.name, stamp, con).drop_nulls(), store.read(STAMPS.name, stamp, con)])
    return stamps.unique()


def unchanged_files(refs: Iterable[str], stamps: pl.DataFrame, stats: pl.DataFrame) -> set[str]:
    """The page files among the refs whose size and modification time are still those the ledger recorded when
    it read them (`stamps`: source, file_size, file_mtime_ns): unchanged, so a run skips them without opening
    them, as rsync's quick check and git's index do. Archive records and URLs are never skipped this way.

    `stats` are the refs' file stats (newsflow.sources.pages.file_stats: source, file_size, file_mtime_ns), taken
    now or earlier (a Listing's); a ref without a row (a URL, a record, a file gone) is not unchanged."""
    if stamps.is_empty():
        return set()
    same = set(stats.join(stamps, on=["source", "file_size", "file_mtime_ns"], how="semi")["source"].to_list())
    return {ref for ref in refs if source_name(ref) in same}


def stamped(refs: Iterable[str], stamps: pl.DataFrame) -> list[str]:
    """The refs the ledger has a stamp for: the only files unchanged_files can find unchanged, so the only ones a
    run without a listing needs to stat."""
    names = set(stamps["source"].to_list())
    return [ref for ref in refs if source_name(ref) in names]

"""The order-free work on a batch of pages, as a plain function any process can run on any slice of a batch: read
the pages, skip those the ledger has, draft articles and readings, and extract the entities of the candidate
articles. The flow settles the drafted batches in order afterwards (newsflow.transforms.pages.settle)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from newsflow.core.schema import STAMPS
from newsflow.sources.pages import read_pages
from newsflow.transforms.entities import EntityModel, entities
from newsflow.transforms.pages import Draft, ParseRules, draft, settle

STAMP_COLUMNS = [name for name in STAMPS.column_names if name != "run_id"]
Items = TypeVar("Items", list, pl.DataFrame)


class Stopwatch:
    """Wall time per stage, summed over batches."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add({name: time.perf_counter() - start})

    def add(self, seconds: dict[str, float]) -> None:
        for stage, value in seconds.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + value


@dataclass
class DraftedBatch:
    """A drafted batch (or slice of one): the drafted pages (None when every page was in the ledger already),
    the entities of their candidate articles, the new stamps of files read again (see newsflow.core.schema.STAMPS),
    counts, and seconds per stage."""

    drafted: Draft | None
    entities: pl.DataFrame
    stamps: pl.DataFrame
    pages_read: int
    pages_skipped: int
    seconds: dict[str, float]

    @classmethod
    def merge(cls, parts: Sequence[DraftedBatch]) -> DraftedBatch:
        """The slices of a batch, in order, as one (drafting is per page, so this is the batch's draft)."""
        watch = Stopwatch()
        for part in parts:
            watch.add(part.seconds)
        drafted = [part for part in parts if part.drafted is not None]
        return cls(
            drafted=Draft(
                *(
                    pl.concat([getattr(part.drafted, name) for part in drafted], how="diagonal_relaxed")
                    for name in ("pages", "articles", "weather")
                )
            )
            if drafted
            else None,
            entities=pl.concat([part.entities for part in drafted]) if drafted else pl.DataFrame(),
            stamps=pl.concat([part.stamps for part in parts]) if parts else STAMPS.empty().select(STAMP_COLUMNS),
            pages_read=sum(part.pages_read for part in parts),
            pages_skipped=sum(part.pages_skipped for part in parts),
            seconds=watch.seconds,
        )


# a slice is drafted at most this many pages at a time, in chunks of equal size: a worker's frames of lines and
# matches grow with the chunk and set its peak memory, while every call costs a little more CPU (polars plans the
# layout patterns' expressions once per call). At 800 (a 2,000-page slice in three chunks of 667) a run's peak is
# lower than at 1,000, with no end-to-end time lost beyond the machine's noise (benchmarks/README.md, pipeline.py)
CHUNK_PAGES = 800


def draft_pages(refs: list[str], known: pl.DataFrame, rules: ParseRules, model: EntityModel) -> DraftedBatch:
    """Read, hash and decode the pages of `refs`, skip those already in the ledger (`known`: see
    transforms.pages.parse_pages), draft the rest, and extract the entities of the articles that are new against
    `known`; CHUNK_PAGES at a time. URLs are fetched within the NEWSFLOW_FETCH_* settings of the process this
    runs in."""
    skip = set(known["page_id"].to_list())
    return DraftedBatch.merge([_draft_chunk(chunk, skip, known, rules, model) for chunk in _chunks(refs)])


def _chunks(refs: list[str]) -> list[list[str]]:
    """The refs in contiguous chunks of equal size (within one), at most CHUNK_PAGES each."""
    return slices(refs, max(1, -(-len(refs) // CHUNK_PAGES)))


def slices(items: Items, count: int) -> list[Items]:
    """`items` (a list or a frame) cut into at most `count` contiguous slices of near-equal size, in order."""
    size = max(1, -(-len(items) // count))
    return [items[start : start + size] for start in range(0, len(items), size)]


def _draft_chunk(
    refs: list[str], skip: set[str], known: pl.DataFrame, rules: ParseRules, model: EntityModel
) -> DraftedBatch:
    watch = Stopwatch()
    with watch.stage("read"):
        raw = read_pages(refs, skip=skip)
        seen = raw["page_id"].is_in(known["page_id"].implode())  # same source and bytes as an earlier run
        stamps = raw.filter(seen & pl.col("file_mtime_ns").is_not_null()).select(STAMP_COLUMNS)
        raw = raw.filter(~seen)
    if raw.is_empty():  # nothing new: pages skipped by their hash cost reading and hashing only
        return DraftedBatch(None, pl.DataFrame(), stamps, len(refs), int(seen.sum()), watch.seconds)
    with watch.stage("parse"):
        drafted = draft(raw, rules)
        candidates = settle(drafted, known).articles
    with watch.stage("entities"):
        found = entities(candidates, model)
    return DraftedBatch(drafted, found, stamps, len(refs), int(seen.sum()), watch.seconds)

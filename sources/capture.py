"""A page's bytes as a source delivered them (file, WARC record, HTTP response), before decoding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class SourceError(ValueError):
    """A source that does not exist or cannot be listed: a usage error, reported before anything runs."""


@dataclass(frozen=True)
class Capture:
    """One page as captured: newsflow.sources.pages turns it into a raw page row."""

    source: str  # where it came from, stable across runs: a path, `<archive>#<record id>` or the requested URL
    data: bytes
    url: str | None = None  # the page's URL: WARC-Target-URI, or the final URL after redirects
    captured_at: datetime | None = None  # when it was captured (UTC): WARC-Date, or the fetch time
    charset: str | None = None  # the charset of the HTTP Content-Type, a hint for decoding
    error: str | None = None  # why there is no page; the bytes are then not decoded
    refused: str | None = None  # why the page is rejected unread (over the size cap): the bytes are not decoded
    attempt: str | None = None  # set on failures worth trying again: makes the page_id unique to this attempt
    file_size: int | None = None  # a page file's size and modification time when it was read: its quick-check stamp
    file_mtime_ns: int | None = None


def over_cap(what: str, cap: int) -> str:
    """Why a page over the size cap is refused: `what` is "page is", "page inflates to", ..."""
    return f"{what} more than {size_text(cap)}, the size cap (NEWSFLOW_MAX_PAGE_BYTES): not read further"


def size_text(size: int) -> str:
    """A byte count in words: 10 MB, 512 kB, 300 bytes (decimal units, like HTTP tools print them)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"

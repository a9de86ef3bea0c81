"""WARC and WARC.gz archives: list an archive's page records, then read each one straight from its offset."""

from __future__ import annotations

import gzip
import os
import re
import zlib
from datetime import UTC
from functools import partial
from typing import BinaryIO

from fastwarc.stream_io import GzipReader
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from flows.capture import Capture, SourceError

WARC_MAGIC = b"WARC/"
GZIP_MAGIC = b"\x1f\x8b"
WARC_SUFFIXES = (".warc", ".warc.gz")
# names of single pages, never sniffed for `WARC/`: a folder of 100,000 pages is listed without opening each one
PAGE_SUFFIXES = tuple(f"{kind}{gz}" for kind in (".txt", ".text", ".html", ".htm", ".xhtml") for gz in ("", ".gz"))
# what is a page: an HTTP response or a stored resource; request, warcinfo, metadata and revisit records are not
PAGE_RECORDS = WarcRecordType.response | WarcRecordType.resource
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def is_warc(path: str | os.PathLike[str]) -> bool:
    """A WARC archive by its name (.warc, .warc.gz) or, unless it is named as a page (.txt, .html, ...), by its
    first bytes (after gunzip): `WARC/`."""
    name = os.path.basename(path).lower()
    if name.endswith(WARC_SUFFIXES):
        return True
    if name.endswith(PAGE_SUFFIXES):
        return False
    try:
        with open(path, "rb") as file:
            head = file.read(len(WARC_MAGIC))
            if head.startswith(GZIP_MAGIC):
                file.seek(0)
                with gzip.GzipFile(fileobj=file) as unpacked:
                    head = unpacked.read(len(WARC_MAGIC))
    except (OSError, EOFError, zlib.error):
        return False
    return head == WARC_MAGIC


def record_offsets(path: str) -> list[int]:
    """Offsets of the archive's page records, one ref each: where the record (or its gzip member) starts in the
    file. An archive gzipped as one stream, not record by record as the WARC standard recommends, cannot be entered
    at a record, so its offsets are where the records start in the unpacked stream."""
    try:
        offsets = [record.stream_pos for record in ArchiveIterator(path, record_types=PAGE_RECORDS, parse_http=False)]
        with open(path, "rb") as file:
            if not _packed_as_one_stream(file, offsets):
                return offsets
        with gzip.open(path) as stream:
            return [
                record.stream_pos for record in ArchiveIterator(stream, record_types=PAGE_RECORDS, parse_http=False)
            ]
    except Exception as exc:  # fastwarc raises its own errors for broken archives
        raise SourceError(f"could not read the WARC archive {path}: {type(exc).__name__}: {exc}") from exc


def _packed_as_one_stream(file: BinaryIO, offsets: list[int]) -> bool:
    """Whether a gzipped archive's offsets are not each the start of a gzip member holding a record: then the
    archive is one stream (or several records a member) and its offsets count unpacked bytes."""
    file.seek(0)
    gzipped = file.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    return gzipped and (len(set(offsets)) != len(offsets) or not all(map(partial(_member_holds_record, file), offsets)))


def _member_holds_record(file: BinaryIO, offset: int) -> bool:
    file.seek(offset)
    try:
        head = zlib.decompressobj(wbits=31).decompress(file.read(512), len(WARC_MAGIC))
    except zlib.error:
        return False
    return head == WARC_MAGIC


def read_records(path: str, offsets: list[int]) -> list[Capture]:
    """The page records at these offsets of one archive, opened once (an archive gzipped as one stream is unpacked
    once, up to its last wanted record); a record that cannot be read becomes a capture with its error."""
    try:
        with open(path, "rb") as file:
            if _packed_as_one_stream(file, offsets):
                return _read_unpacked(path, offsets)
            return [_read_record(file, path, offset) for offset in offsets]
    except OSError as exc:
        return [
            Capture(f"{path}#{offset}", b"", error=f"could not read: {type(exc).__name__}: {exc}") for offset in offsets
        ]


def _read_record(file: BinaryIO, path: str, offset: int) -> Capture:
    """The record at `offset`, checked whole: an archive cut short ends within a record, and its reader then gives
    what is there without a word (a page cut off mid-body would land as if it were all). The payload as stored
    must be as long as the record says; a payload served with a content or transfer encoding is then read again,
    decoded."""
    try:
        record = _record_at(file, offset, "none")
        data = record.reader.read()
        if len(data) < record.content_length:
            raise ValueError(f"cut short: {len(data):,} of the record's {record.content_length:,} bytes are there")
        if record.is_http and _ENCODINGS & {h.lower() for h, _ in record.http_headers.items()}:
            record = _record_at(file, offset, "all")
            data = record.reader.read()
        return _capture(path, offset, record, data)
    except Exception as exc:  # a broken record is that page's error, never the batch's
        return _unreadable(path, offset, exc)


_ENCODINGS = {"content-encoding", "transfer-encoding"}  # fastwarc's auto_decode undoes these


def _record_at(file: BinaryIO, offset: int, decode: str) -> WarcRecord:
    file.seek(offset)
    packed = file.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    file.seek(offset)
    record = next(iter(ArchiveIterator(GzipReader(file) if packed else file, auto_decode=decode)), None)
    if record is None or not record.record_type & PAGE_RECORDS:
        raise ValueError(_NOT_THERE)
    return record


def _read_unpacked(path: str, offsets: list[int]) -> list[Capture]:
    """The records at these offsets of the unpacked stream, in one pass that stops after the last of them."""
    wanted, found, failure = set(offsets), {}, ValueError(_NOT_THERE)
    try:
        with gzip.open(path) as stream:
            for record in ArchiveIterator(stream, record_types=PAGE_RECORDS, auto_decode="all"):
                if record.stream_pos in wanted:
                    found[record.stream_pos] = _capture(path, record.stream_pos, record, record.reader.read())
                    if len(found) == len(wanted):
                        break
    except Exception as exc:  # a broken stream is an error of the pages not read before it, never the batch's
        failure = exc
    return [found[offset] if offset in found else _unreadable(path, offset, failure) for offset in offsets]


_NOT_THERE = "no response or resource record there (has the archive changed since it was listed?)"


def _unreadable(path: str, offset: int, exc: Exception) -> Capture:
    return Capture(
        f"{path}#{offset}", b"", error=f"could not read the WARC record at offset {offset}: {type(exc).__name__}: {exc}"
    )


def _capture(path: str, offset: int, record: WarcRecord, data: bytes) -> Capture:
    """The record's payload `data` (the HTTP body of a response) with its target URI, date and charset; the source
    names the record by its WARC-Record-ID (stable, unlike an offset after recompression)."""
    record_id = (record.record_id or "").strip("<>") or f"offset-{offset}"
    date = record.record_date
    error, charset = None, charset_of(record.headers.get("Content-Type"))
    if record.is_http:
        status, charset = record.http_headers.status_code, record.http_charset
        if status is not None and not 200 <= status < 300:
            error = " ".join(f"HTTP {status} {record.http_headers.reason_phrase or ''}".split()) + " in the archive"
    return Capture(
        source=f"{path}#{record_id}",
        data=data,
        url=record.headers.get("WARC-Target-URI"),
        captured_at=date.astimezone(UTC) if date else None,
        charset=charset,
        error=error,
    )


def charset_of(content_type: str | None) -> str | None:
    """The charset a Content-Type header names, lower-cased."""
    found = _CHARSET.search(content_type or "")
    return found.group(1).lower() if found else None

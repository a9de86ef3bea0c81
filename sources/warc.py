"""WARC and WARC.gz archives: list an archive's page records, then read each one straight from its offset."""

from __future__ import annotations

import gzip
import os
import re
import zlib
from contextlib import nullcontext
from datetime import UTC
from functools import partial
from typing import BinaryIO

from fastwarc.stream_io import GzipReader
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from newsflow.core.schema import source_name
from newsflow.sources.capture import Capture, over_cap

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
    at a record, so its offsets are where the records start in the unpacked stream.

    A damaged archive lists the page records before the damage and then the offset where the damage starts: read,
    that ref is an error page saying what is wrong there, so the records lost with it show in the ledger, and the
    run goes on with the other sources. (Damage to the first bytes of a gzip member makes the batch holding it
    read the archive as one stream, so that batch's records of it are errors too.)"""
    offsets, damaged_at = _listed(path)
    try:
        with open(path, "rb") as file:
            one_stream = bool(offsets) and _packed_as_one_stream(file, offsets)
        if one_stream:
            with gzip.open(path) as stream:
                offsets, damaged_at = _listed(stream)
    except OSError:  # the file cannot be read (any more): reading its refs says why
        if not offsets:
            damaged_at = 0
    return offsets if damaged_at is None else [*offsets, damaged_at]


def _listed(archive: str | BinaryIO) -> tuple[list[int], int | None]:
    """The page records' offsets, and where reading stopped on damage (None when it read to the end)."""
    offsets: list[int] = []
    last: WarcRecord | None = None
    try:
        for record in ArchiveIterator(archive, parse_http=False):  # every record: the damage lies after the last
            if record.record_type & PAGE_RECORDS:
                offsets.append(record.stream_pos)
            last = record
        return offsets, None
    except Exception:  # fastwarc raises its own errors for broken archives
        if last is None:
            return offsets, 0
        try:
            return offsets, _end_of(archive, last.stream_pos)
        except Exception:  # the damage reaches into the last record read: a ref just past its start
            return offsets, last.stream_pos + 1


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


def _end_of(archive: str | BinaryIO, offset: int) -> int:
    """Where the record at `offset` ends (the next one starts): the end of its gzip member, or, unpacked, of its
    header block, its Content-Length bytes and the two line ends after them."""
    with open(archive, "rb") if isinstance(archive, str) else nullcontext(archive) as file:
        file.seek(offset)
        if file.read(len(GZIP_MAGIC)) == GZIP_MAGIC:
            file.seek(offset)
            member, size = zlib.decompressobj(wbits=31), 0
            while not member.eof and (chunk := file.read(1 << 16)):
                member.decompress(chunk)
                size += len(chunk)
            return offset + size - len(member.unused_data)
        file.seek(offset)
        head = b""
        while b"\r\n\r\n" not in head and (chunk := file.read(4096)):
            head += chunk
        header = head[: head.find(b"\r\n\r\n") + 4]
        length = re.search(rb"(?im)^content-length:\s*(\d+)", header)
        return offset + len(header) + (int(length.group(1)) if length else 0) + 4


def read_records(path: str, offsets: list[int], cap: int = 8_000_000) -> list[Capture]:
    """The page records at these offsets of one archive, opened once (an archive gzipped as one stream is unpacked
    once, up to its last wanted record); a record that cannot be read becomes a capture with its error. A record
    whose payload is over `cap` bytes (as stored, or once its content encoding is undone) is refused, after
    reading at most one byte more than the cap."""
    try:
        with open(path, "rb") as file:
            if _packed_as_one_stream(file, offsets):
                return _read_unpacked(path, offsets, cap)
            return [_read_record(file, path, offset, cap) for offset in offsets]
    except OSError as exc:
        return [
            Capture(source_name(f"{path}#{offset}"), b"", error=f"could not read: {type(exc).__name__}: {exc}")
            for offset in offsets
        ]


def _read_record(file: BinaryIO, path: str, offset: int, cap: int) -> Capture:
    """The record at `offset`, checked whole: an archive cut short ends within a record, and its reader then gives
    what is there without a word (a page cut off mid-body would land as if it were all). The payload as stored
    must be as long as the record says; a payload served with a content or transfer encoding is then read again,
    decoded."""
    try:
        record = _record_at(file, offset, "none")
        if record.content_length > cap:
            return _over_cap(path, offset, record, cap)
        data = record.reader.read()
        if len(data) < record.content_length:
            raise ValueError(f"cut short: {len(data):,} of the record's {record.content_length:,} bytes are there")
        if record.is_http and _ENCODINGS & {h.lower() for h, _ in record.http_headers.items()}:
            record = _record_at(file, offset, "all")
            data = record.reader.read(cap + 1)  # a gzip bomb inflates no further than this
        return _capture(path, offset, record, data, cap)
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


def _read_unpacked(path: str, offsets: list[int], cap: int) -> list[Capture]:
    """The records at these offsets of the unpacked stream, in one pass that stops after the last of them."""
    wanted, found, failure = set(offsets), {}, ValueError(_NOT_THERE)
    try:
        with gzip.open(path) as stream:
            for record in ArchiveIterator(stream, record_types=PAGE_RECORDS, auto_decode="all"):
                if record.stream_pos in wanted:
                    data = record.reader.read(cap + 1)
                    found[record.stream_pos] = _capture(path, record.stream_pos, record, data, cap)
                    if len(found) == len(wanted):
                        break
    except Exception as exc:  # a broken stream is an error of the pages not read before it, never the batch's
        failure = exc
    return [found[offset] if offset in found else _unreadable(path, offset, failure) for offset in offsets]


_NOT_THERE = (
    "no readable response or resource record there (is the archive damaged there, or changed since it was listed?)"
)


def _unreadable(path: str, offset: int, exc: Exception) -> Capture:
    return Capture(
        source_name(f"{path}#{offset}"),
        b"",
        error=f"could not read the WARC record at offset {offset}: {type(exc).__name__}: {exc}",
    )


def _over_cap(path: str, offset: int, record: WarcRecord, cap: int) -> Capture:
    """A record too large to read: refused, its headers kept."""
    return _capture(path, offset, record, b"", cap, size=record.content_length)


def _capture(path: str, offset: int, record: WarcRecord, data: bytes, cap: int, size: int | None = None) -> Capture:
    """The record's payload `data` (the HTTP body of a response) with its target URI, date and charset; the source
    names the record by its WARC-Record-ID (stable, unlike an offset after recompression). A payload over `cap`
    bytes (`size` as the record declares it, else the bytes read) is refused."""
    record_id = (record.record_id or "").strip("<>") or f"offset-{offset}"
    date = record.record_date
    error, charset = None, charset_of(record.headers.get("Content-Type"))
    if record.is_http:
        status, charset = record.http_headers.status_code, record.http_charset
        if status is not None and not 200 <= status < 300:
            error = " ".join(f"HTTP {status} {record.http_headers.reason_phrase or ''}".split()) + " in the archive"
    refused = None
    if max(size or 0, len(data)) > cap:
        refused = over_cap("WARC record's page is", cap)
        data = data[:cap]
    return Capture(
        source=source_name(f"{path}#{record_id}"),
        data=data,
        url=record.headers.get("WARC-Target-URI"),
        captured_at=date.astimezone(UTC) if date else None,
        charset=charset,
        error=error,
        refused=refused,
    )


def charset_of(content_type: str | None) -> str | None:
    """The charset a Content-Type header names, lower-cased."""
    found = _CHARSET.search(content_type or "")
    return found.group(1).lower() if found else None

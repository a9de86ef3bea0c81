"""Sources -> raw pages: find the pages (files, WARC records, URLs), read their bytes, hash and decode them.

A page is named by a ref, a cheap string that discover() returns and read_pages() reads:
- a page file (plain or .gz): its absolute path;
- a page record of a WARC or WARC.gz archive: `<absolute archive path>#<byte offset of the record>`;
- a URL from a URL list (`*.urls`, `*.urls.txt`): the URL itself (a line that is no URL: an error page).

Nothing a source holds stops a run: a file that cannot be read (a dangling or looping symbolic link, a FIFO, a
device, a page over the size cap, a name that is not UTF-8) is a page of its own, an `error` or `rejected` row of
the ledger with its reason, and the other pages land.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import re
import stat
import threading
import time
from collections.abc import Container, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import polars as pl
from charset_normalizer import from_bytes

from newsflow.core.schema import source_name
from newsflow.sources.capture import Capture, SourceError, over_cap
from newsflow.sources.fetch import FetchLimits, fetch_all, is_url_list, read_url_list
from newsflow.sources.warc import is_warc, read_records, record_offsets

__all__ = [
    "RAW_SCHEMA",
    "FetchLimits",
    "Listing",
    "SourceError",
    "decode",
    "discover",
    "read_page",
    "read_pages",
]

RAW_SCHEMA = pl.Schema(
    {
        "page_id": pl.String,
        "content_hash": pl.String,
        "source": pl.String,
        "size_bytes": pl.Int64,
        "encoding": pl.String,
        "text": pl.String,
        "read_reason": pl.String,
        "read_error": pl.Boolean,
        "url": pl.String,
        "captured_at": pl.Datetime("us", "UTC"),
        "file_size": pl.Int64,
        "file_mtime_ns": pl.Int64,
    }
)
SNIFF_BYTES = 4096
RACY_NS = 2_000_000_000  # a file modified this recently when it is read gets no quick-check stamp (file_stamp)
MAX_CONTROL_SHARE = 0.05  # more control characters than this in the first bytes: binary, not text
# a page that no encoding reads whole is read with replacement characters when at most this many of its
# characters (and at most MAX_REPLACED_SHARE of them) are bytes the encoding cannot read; more is not text
MAX_REPLACED, MAX_REPLACED_SHARE = 64, 0.01
# An HTML page with more elements than this is rejected unparsed: the body extractor's memory and time grow with
# the element count (benchmarks/README.md, the fault matrix), and real article pages hold a few thousand at most.
MAX_HTML_ELEMENTS = 50_000
_START_TAG = re.compile(r"<[A-Za-z]")


@dataclass(frozen=True)
class Decoded:
    text: str | None
    encoding: str | None
    reason: str | None  # why there is no text, or a note on how the text was recovered


class RefKind(Enum):
    FILE = "file"
    RECORD = "record"
    URL = "url"


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # two letters at least: `C:` is a drive, not a scheme
_RECORD_REF = re.compile(r"^(?P<path>.+)#(?P<offset>\d+)$")


def discover(sources: Iterable[str]) -> list[str]:
    """Refs of every page the sources name: files, folders (searched recursively, no hidden files), WARC
    archives (one ref per response or resource record) and URL lists (one ref per URL); in order, each once."""
    refs: list[str] = []
    for file in _source_files(sources):
        if is_url_list(file):
            refs.extend(read_url_list(Path(file)))
        elif is_warc(file):
            refs.extend(f"{file}#{offset}" for offset in record_offsets(file))
        else:
            refs.append(file)
    return list(dict.fromkeys(refs))


def _source_files(sources: Iterable[str]) -> list[str]:
    """The absolute paths of the files the sources name, sorted, each once. Anything a folder holds but another
    folder (a link that loops or leads nowhere, a FIFO, a socket) is listed too: reading it makes its error row."""
    found: list[str] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found.extend(_files_under(str(path.resolve())))  # one resolve per folder, not per file
        elif os.path.lexists(path):
            found.append(os.path.join(os.path.abspath(path.parent), path.name))  # a link stays a link
        else:
            raise SourceError(f"source not found: {source}")
    return sorted(dict.fromkeys(found))


def _files_under(folder: str) -> Iterator[str]:
    """Paths of the entries in a folder and its sub-folders that are not folders (nor links to folders, which
    are not followed), hidden ones (and everything in hidden folders) left out. Directory entries say what they
    are, so listing costs no stat per regular file."""
    try:
        entries = os.scandir(folder)
    except OSError:  # a folder that cannot be listed: a page of its own, whose reading says why
        yield folder
        return
    with entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _files_under(entry.path)
            elif not _links_to_a_folder(entry):  # not followed; a link that loops or dangles is listed
                yield entry.path


def _links_to_a_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a loop of links
        return False


def ref_kind(ref: str) -> RefKind:
    """What a ref names: a URL (it has a scheme), a WARC record (`<archive>#<offset>`) or a file."""
    if _SCHEME.match(ref):
        return RefKind.URL
    record = _RECORD_REF.match(ref)
    if record and not Path(ref).exists() and Path(record["path"]).is_file():
        return RefKind.RECORD
    return RefKind.FILE


# every byte but the control characters that never occur in text (tab, newlines, form feed and NUL do)
_NOT_CONTROL = bytes(b for b in range(256) if b >= 32 or b in (0, 9, 10, 12, 13))


def _control_share(data: bytes) -> float:
    head = data[:SNIFF_BYTES]
    return len(head.translate(None, _NOT_CONTROL)) / max(len(head), 1)


_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_-]+)""", re.IGNORECASE)
KOREAN_LEGACY = {"euc-kr", "euc_kr", "euckr", "cp949", "ks_c_5601-1987", "ksc5601", "x-windows-949", "uhc"}
# Latin-1 letters that CP949 lead and trail bytes turn into when Korean text is read as Latin-1 / cp1252
_MOJIBAKE = re.compile("[\u00a1-\u00fe]")
_HANGUL = re.compile("[\uac00-\ud7a3]")
MOJIBAKE_HANGUL_SHARE = 0.8  # a repaired page is Korean: most of its non-ASCII characters are Hangul


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first bytes, lower-cased."""
    found = _DECLARED.search(data[:SNIFF_BYTES])
    return found.group(1).decode("ascii").lower() if found else None


def _hangul_share(text: str) -> float:
    """Share of Hangul syllables among the non-ASCII characters (U+FFFD left out)."""
    wide = [c for c in text if ord(c) > 127 and c != "\ufffd"]
    return len([c for c in wide if "\uac00" <= c <= "\ud7a3"]) / max(len(wide), 1)


def repair_mojibake(text: str) -> tuple[str, str | None]:
    """Text whose CP949 bytes were once read as Latin-1 (or cp1252) and saved again as UTF-8, turned back into
    Korean; returns the text and a note (None when the text is not such mojibake). A repair is kept only when it
    yields Korean: accented Latin text (Portuguese, German, ...) is left alone."""
    latin = len(_MOJIBAKE.findall(text))
    if latin < 20:
        return text, None
    wide = len(text) - len(text.encode("ascii", errors="ignore"))
    # mojibake is (almost) all Latin-1 letters: text in another script (Cyrillic, Hangul, ...) is left alone
    if latin < 0.95 * wide:
        return text, None
    for codec in ("latin-1", "cp1252"):
        try:
            repaired = text.encode(codec).decode("cp949")
        except UnicodeError:
            continue
        if _hangul_share(repaired) >= MOJIBAKE_HANGUL_SHARE:
            return repaired, f"CP949 mojibake repaired (read as {codec})"
    lossy = text.encode("cp1252", errors="replace").decode("cp949", errors="replace")
    if _hangul_share(lossy) >= MOJIBAKE_HANGUL_SHARE:
        return lossy, "CP949 mojibake repaired with losses: some bytes were lost before capture (U+FFFD left)"
    return text, None


def decode(data: bytes, charset: str | None = None) -> Decoded:
    """Text of a page's bytes: UTF-8 (BOM or not) unless the page declares a Korean legacy charset, then CP949
    (the superset of EUC-KR), else the declared charset, else whatever charset-normalizer finds; mojibake is
    repaired and noted. None with a reason for empty or binary content.

    charset: what the HTTP Content-Type said (a WARC record's or a fetched page's); it counts before the page's
    own <meta> declaration, as in browsers, but only as a hint: bytes that are valid UTF-8 are read as UTF-8."""
    if not data.strip(b" \t\r\n\x00"):
        return Decoded(None, None, "empty file" if not data else "blank page (whitespace only)")
    if _control_share(data) > MAX_CONTROL_SHARE:
        return Decoded(None, None, "binary content, not text")
    declared = (charset or declared_charset(data) or "").lower()
    order = ("cp949", "utf-8-sig") if declared in KOREAN_LEGACY else ("utf-8-sig", "cp949")
    decoded = _decode_strict(data, order) or _decode_lenient(data, order) or _decode_other(data, declared)
    return _without_nul(decoded)


def _decode_strict(data: bytes, order: tuple[str, ...]) -> Decoded | None:
    """The page read whole by the first encoding of `order` that reads every byte; mojibake repaired."""
    for encoding in order:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp949":
            return Decoded(text, "cp949", None)
        repaired, note = repair_mojibake(text)
        return Decoded(repaired, "cp949" if note else "utf-8", note)
    return None


def _decode_lenient(data: bytes, order: tuple[str, ...]) -> Decoded | None:
    """A page in UTF-8 or CP949 but for a few stray bytes (a byte flipped in transit, a page cut mid-character):
    read by the encoding that leaves the fewest bytes unread, each replaced by U+FFFD, and the count noted. None
    when too many are: then it is not that encoding."""
    best: tuple[int, str, str] | None = None
    for encoding in order:
        text = data.decode(encoding, errors="replace")
        replaced = text.count("\ufffd")
        if best is None or replaced < best[0]:
            best = (replaced, encoding, text)
    assert best is not None
    replaced, encoding, text = best
    if replaced > min(MAX_REPLACED, MAX_REPLACED_SHARE * len(text)):
        return None
    name = "utf-8" if encoding == "utf-8-sig" else encoding
    return Decoded(text, name, f"{replaced} invalid byte{'s' * (replaced != 1)} for {name} replaced by U+FFFD")


def _without_nul(decoded: Decoded) -> Decoded:
    """The text without NUL characters, which no page means to hold (a file padded or damaged on disk); noted."""
    if decoded.text is None or "\x00" not in decoded.text:
        return decoded
    count = decoded.text.count("\x00")
    note = f"{count} NUL character{'s' * (count != 1)} removed"
    return Decoded(
        decoded.text.replace("\x00", ""), decoded.encoding, f"{decoded.reason}; {note}" if decoded.reason else note
    )


def _decode_other(data: bytes, declared: str) -> Decoded:
    """Bytes that are neither UTF-8 nor CP949: the declared charset if it fits, else charset-normalizer's."""
    try:
        return Decoded(data.decode(declared), declared, None) if declared else _guess(data)
    except (LookupError, UnicodeDecodeError):
        return _guess(data)


def _guess(data: bytes) -> Decoded:
    best = from_bytes(data).best()
    if best is None:
        return Decoded(None, None, "binary content, not text (no text encoding fits)")
    return Decoded(str(best), best.encoding, None)


def _read_capped(path: str, cap: int) -> bytes:
    """At most cap + 1 bytes of a file (gunzipped for .gz): one more than the cap tells a page over it."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as file:
        return file.read(cap + 1)


def read_file(path: str, cap: int | None = None) -> Capture:
    """A page file's bytes (gunzipped for .gz) and its stamp. Never more than `cap` bytes (a page's size cap,
    NEWSFLOW_MAX_PAGE_BYTES by default) are kept: a larger page, or a .gz that inflates beyond it, is refused
    after reading one byte more. Anything that is not a readable regular file is a capture with its error."""
    cap = cap or max_page_bytes()
    name = source_name(path)
    found = _page_file_stat(path)  # before reading: a change while it is read leaves a newer time for the next run
    if isinstance(found, str):
        return Capture(name, b"", error=found)
    size, mtime_ns = _stamp(found.st_size, found.st_mtime_ns) or (None, None)
    try:
        data = _read_capped(path, cap)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return Capture(name, b"", error=f"could not read: {type(exc).__name__}: {exc}")
    if len(data) > cap:
        what = "page inflates to" if path.endswith(".gz") else "page is"
        return Capture(name, data[:cap], refused=over_cap(what, cap), file_size=size, file_mtime_ns=mtime_ns)
    return Capture(name, data, file_size=size, file_mtime_ns=mtime_ns)


def _page_file_stat(path: str) -> os.stat_result | str:
    """The stat of a regular file (or of a link to one), else why the path cannot be read as a page (a link that
    loops or leads nowhere, a FIFO, a device, a folder that cannot be listed)."""
    try:
        found = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "could not read: a loop of symbolic links"
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return f"could not read: a symbolic link to {source_name(os.readlink(path))}, which does not exist"
        return f"could not read: {type(exc).__name__}: {exc.strerror or exc}"
    if stat.S_ISREG(found.st_mode):
        return found
    kinds = {stat.S_ISDIR: "a folder that cannot be listed", stat.S_ISFIFO: "a FIFO (named pipe)"}
    kinds |= {stat.S_ISSOCK: "a socket", stat.S_ISCHR: "a device", stat.S_ISBLK: "a device"}
    kind = next((name for test, name in kinds.items() if test(found.st_mode)), "not a regular file")
    return f"could not read: {kind}, not a page file"


def max_page_bytes() -> int:
    """The size cap of a page (NEWSFLOW_MAX_PAGE_BYTES)."""
    from newsflow.core.settings import Settings

    return Settings().max_page_bytes


def file_stamp(path: str) -> tuple[int, int] | None:
    """A file's (size, modification time in ns) to record as it is read, for a later run's quick check. None when
    it cannot be stat'ed, or when it was modified less than RACY_NS ago: a file system stamps times in ticks, so
    a second change within the same tick could keep size and time, and the stamp would vouch for bytes never read
    (git calls such index entries racily clean)."""
    stamp = _size_and_mtime(path)
    return None if stamp is None else _stamp(*stamp)


def _stamp(size: int, mtime_ns: int) -> tuple[int, int] | None:
    """(size, mtime_ns) as a quick-check stamp, or None while the file is racily recent (see file_stamp)."""
    return None if time.time_ns() - mtime_ns < RACY_NS else (size, mtime_ns)


def _size_and_mtime(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def file_stats(refs: Iterable[str]) -> pl.DataFrame:
    """source, file_size and file_mtime_ns of the page files among the refs, as they are now. Archive records and
    URLs are left out, and so is a file that is gone: it is read, and fails there with its error."""
    sources, sizes, times = [], [], []
    for ref in refs:
        if ref_kind(ref) is RefKind.FILE and (stamp := _size_and_mtime(ref)) is not None:
            sources.append(source_name(ref))
            sizes.append(stamp[0])
            times.append(stamp[1])
    return pl.DataFrame(
        {"source": sources, "file_size": sizes, "file_mtime_ns": times},
        schema={"source": pl.String, "file_size": pl.Int64, "file_mtime_ns": pl.Int64},
    )


class Listing:
    """The refs of the pages the sources name, listed now (discover), and the file_stats of the page files among
    them, taken in a thread that starts now (stats() waits for it).

    `newsflow run` lists its sources when it checks them, before it waits for Prefect's temporary server to boot,
    and hands the listing to its flow (newsflow.flows.prefect_api.handed_over): an unchanged re-run of a large
    folder then finds the listing and the stats at hand when its flow begins."""

    def __init__(self, sources: Iterable[str]) -> None:
        self.sources = tuple(sources)
        self.refs = discover(self.sources)
        self._stats: Future[pl.DataFrame] = Future()
        threading.Thread(target=self._stat, name="newsflow-file-stats", daemon=True).start()

    def _stat(self) -> None:
        try:
            self._stats.set_result(file_stats(self.refs))
        except BaseException as exc:  # handed to whoever asks for the stats
            self._stats.set_exception(exc)

    def stats(self) -> pl.DataFrame:
        """file_stats of the refs, as they were when listed."""
        return self._stats.result()


def page_row(capture: Capture, skip: Container[str] = frozenset()) -> dict:
    """One raw page row (see RAW_SCHEMA) of a capture.

    page_id is 16 hex digits of sha256(source, content hash): the same bytes from the same source are the same
    page, which a later run skips. A failed fetch adds the time of the attempt, so each run records its own
    failure and fetches the URL again, while an unchanged page fetched before is skipped. Errors found in the
    input itself (a 404 stored in an archive, a URL of another scheme) keep a stable page_id: they are not
    going to change. A page whose page_id is in `skip` (one already in the ledger) is not decoded: the caller
    drops it, so a page skipped by its hash costs reading and hashing only (the quick check of
    newsflow.warehouse.ledger.unchanged_files spares even that)."""
    content_hash = hashlib.sha256(capture.data).hexdigest()
    identity = "\0".join(p for p in (capture.source, content_hash, capture.attempt) if p is not None)
    page_id = hashlib.sha256(identity.encode()).hexdigest()[:16]
    if capture.error or capture.refused or page_id in skip:
        decoded = Decoded(None, None, capture.error or capture.refused)
    else:
        decoded = _within_element_cap(decode(capture.data, capture.charset))
    return {
        "page_id": page_id,
        "content_hash": content_hash,
        "source": capture.source,
        "size_bytes": len(capture.data),
        "encoding": decoded.encoding,
        "text": decoded.text,
        "read_reason": decoded.reason,
        "read_error": capture.error is not None,
        "url": capture.url,
        "captured_at": capture.captured_at,
        "file_size": capture.file_size,
        "file_mtime_ns": capture.file_mtime_ns,
    }


def _within_element_cap(decoded: Decoded) -> Decoded:
    """The decoded page, or none with the reason when it holds more than MAX_HTML_ELEMENTS elements."""
    text = decoded.text
    if text is None or text.count("<") <= MAX_HTML_ELEMENTS:
        return decoded
    if sum(1 for _ in _START_TAG.finditer(text)) <= MAX_HTML_ELEMENTS:
        return decoded
    return Decoded(
        None, decoded.encoding, f"HTML of more than {MAX_HTML_ELEMENTS:,} elements (the element cap): not parsed"
    )


def read_page(path: str) -> dict:
    """One raw page row of a page file; an unreadable file becomes a row with read_error set, never an
    exception."""
    return page_row(read_file(path))


def read_pages(
    refs: Iterable[str],
    fetch: FetchLimits | None = None,
    skip: Container[str] = frozenset(),
    cap: int | None = None,
) -> pl.DataFrame:
    """Raw pages for the refs, one row each, in RAW_SCHEMA and in the order of the refs. Refs are read by
    kind: each archive is opened once, and the URLs are fetched through one shared HTTP client with the
    limits given (by default the NEWSFLOW_FETCH_* settings). Pages whose page_id is in `skip` are hashed but
    not decoded (see page_row). `cap`: the size cap of a page (NEWSFLOW_MAX_PAGE_BYTES by default)."""
    refs = list(refs)
    cap = cap or max_page_bytes()
    kinds = [ref_kind(ref) for ref in refs]
    rows: dict[str, dict] = {}
    for ref, kind in zip(refs, kinds, strict=True):
        if kind is RefKind.FILE:
            rows[ref] = page_row(read_file(ref, cap), skip)
    for archive, offsets in _records_by_archive(r for r, k in zip(refs, kinds, strict=True) if k is RefKind.RECORD):
        for offset, capture in zip(offsets, read_records(archive, offsets, cap), strict=True):
            rows[f"{archive}#{offset}"] = page_row(capture, skip)
    urls = [ref for ref, kind in zip(refs, kinds, strict=True) if kind is RefKind.URL]
    if urls:
        for url, capture in zip(urls, fetch_all(urls, fetch or fetch_limits()), strict=True):
            rows[url] = page_row(capture, skip)
    return pl.DataFrame([rows[ref] for ref in refs], schema=RAW_SCHEMA)


def _records_by_archive(refs: Iterable[str]) -> list[tuple[str, list[int]]]:
    """Record refs grouped by archive, each archive's offsets in file order."""
    groups: dict[str, list[int]] = {}
    for ref in refs:
        path, offset = ref.rsplit("#", 1)
        groups.setdefault(path, []).append(int(offset))
    return [(path, sorted(offsets)) for path, offsets in groups.items()]


def fetch_limits() -> FetchLimits:
    """The fetch limits of the NEWSFLOW_FETCH_* settings."""
    from newsflow.core.settings import Settings

    settings = Settings()
    return FetchLimits(
        timeout=settings.fetch_timeout,
        attempts=settings.fetch_attempts,
        max_bytes=settings.fetch_max_bytes,
        backoff=settings.fetch_backoff,
        deadline=settings.fetch_deadline,
    )


def batched(items: list[str], size: int) -> Iterator[list[str]]:
    if size < 1:
        raise ValueError(f"batch size {size}: a batch holds at least one page")
    for start in range(0, len(items), size):
        yield items[start : start + size]

"""Sources -> raw pages: find the files, read their bytes, hash them and decode them to text."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from charset_normalizer import from_bytes

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
    }
)
SNIFF_BYTES = 4096
MAX_CONTROL_SHARE = 0.05  # more control characters than this in the first bytes: binary, not text


class SourceError(ValueError):
    """A source that does not exist or cannot be listed: a usage error, reported before anything runs."""


@dataclass(frozen=True)
class Decoded:
    text: str | None
    encoding: str | None
    reason: str | None


def discover(sources: Iterable[str]) -> list[str]:
    """Every page file named by the sources (files, or folders searched recursively), sorted, no hidden files."""
    found: list[str] = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            found.append(str(path.resolve()))
        elif path.is_dir():
            found.extend(
                str(p.resolve())
                for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            raise SourceError(f"source not found: {source}")
    return sorted(dict.fromkeys(found))


def _control_share(data: bytes) -> float:
    head = data[:SNIFF_BYTES]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 0))
    return controls / max(len(head), 1)


def decode(data: bytes) -> Decoded:
    """Text of a page's bytes: UTF-8 (BOM or not), else CP949 (the superset of EUC-KR), else whatever
    charset-normalizer finds; None with a reason for empty or binary content."""
    if not data.strip(b" \t\r\n\x00"):
        return Decoded(None, None, "empty file" if not data else "blank page (whitespace only)")
    if _control_share(data) > MAX_CONTROL_SHARE:
        return Decoded(None, None, "binary content, not text")
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return Decoded(data.decode(encoding), "utf-8" if encoding == "utf-8-sig" else encoding, None)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        return Decoded(None, None, "binary content, not text (no text encoding fits)")
    return Decoded(str(best), best.encoding, None)


def _read_bytes(path: str) -> bytes:
    data = Path(path).read_bytes()
    return gzip.decompress(data) if path.endswith(".gz") else data


def read_page(path: str) -> dict:
    """One raw page row (see RAW_SCHEMA); an unreadable file becomes a row with read_error set, never an
    exception."""
    try:
        data = _read_bytes(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        data, error = b"", f"could not read: {type(exc).__name__}: {exc}"
    else:
        error = None
    content_hash = hashlib.sha256(data).hexdigest()
    decoded = Decoded(None, None, error) if error else decode(data)
    return {
        "page_id": hashlib.sha256(f"{path}\0{content_hash}".encode()).hexdigest()[:16],
        "content_hash": content_hash,
        "source": path,
        "size_bytes": len(data),
        "encoding": decoded.encoding,
        "text": decoded.text,
        "read_reason": decoded.reason,
        "read_error": error is not None,
    }


def read_pages(paths: Iterable[str]) -> pl.DataFrame:
    """Raw pages for the paths, one row each, in RAW_SCHEMA."""
    return pl.DataFrame([read_page(p) for p in paths], schema=RAW_SCHEMA)


def batched(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

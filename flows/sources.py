"""Sources -> raw pages: find the files, read their bytes, hash them and decode them to text."""

from __future__ import annotations

import gzip
import hashlib
import re
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
    reason: str | None  # why there is no text, or a note on how the text was recovered


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
    wide = sum(1 for c in text if ord(c) > 127)
    # mojibake is (almost) all Latin-1 letters: text in another script (Cyrillic, Hangul, ...) is left alone
    if latin < 20 or latin < 0.95 * wide:
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


def decode(data: bytes) -> Decoded:
    """Text of a page's bytes: UTF-8 (BOM or not) unless the page declares a Korean legacy charset, then CP949
    (the superset of EUC-KR), else whatever charset-normalizer finds; mojibake is repaired and noted. None with
    a reason for empty or binary content."""
    if not data.strip(b" \t\r\n\x00"):
        return Decoded(None, None, "empty file" if not data else "blank page (whitespace only)")
    if _control_share(data) > MAX_CONTROL_SHARE:
        return Decoded(None, None, "binary content, not text")
    order = ("cp949", "utf-8-sig") if declared_charset(data) in KOREAN_LEGACY else ("utf-8-sig", "cp949")
    for encoding in order:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp949":
            return Decoded(text, "cp949", None)
        repaired, note = repair_mojibake(text)
        return Decoded(repaired, "cp949" if note else "utf-8", note)
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

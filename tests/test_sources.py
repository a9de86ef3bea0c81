"""Reading sources: discovery, hashing and decoding of every kind of page file."""

from __future__ import annotations

import gzip

import pytest

from newsflow.sources.pages import (
    Listing,
    SourceError,
    decode,
    discover,
    file_stats,
    read_page,
    read_pages,
)
from newsflow.warehouse.ledger import unchanged_files
from tests.conftest import aged

KOREAN = "2024년 06월 14일 금요일\n등록 2024.06.13 09:05\n기자"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (KOREAN.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + KOREAN.encode("utf-8"), "utf-8"),
        (KOREAN.encode("cp949"), "cp949"),
        ("똠방각하 펲시콜라".encode("cp949"), "cp949"),  # outside EUC-KR: needs cp949
    ],
)
def test_decode_text_encodings(data, encoding):
    got = decode(data)
    assert (got.encoding, got.reason) == (encoding, None)
    assert got.text.lstrip("\ufeff").startswith(("2024년", "똠방각하"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b" \r\n\t", "blank page (whitespace only)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary content, not text"),
    ],
)
def test_decode_refuses_empty_and_binary_pages_with_a_reason(data, reason):
    got = decode(data)
    assert (got.text, got.reason) == (None, reason)


def test_read_page_hashes_bytes_and_reads_gzip(tmp_path):
    plain, packed = tmp_path / "a.txt", tmp_path / "b.txt.gz"
    plain.write_bytes(KOREAN.encode())
    packed.write_bytes(gzip.compress(KOREAN.encode()))
    a, b = read_page(str(plain)), read_page(str(packed))
    assert a["content_hash"] == b["content_hash"]
    assert a["page_id"] != b["page_id"]  # same bytes from two sources are two pages
    assert a["text"] == b["text"] == KOREAN


def test_an_unreadable_file_becomes_an_error_row(tmp_path):
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"not gzip at all")
    row = read_pages([str(broken)]).row(0, named=True)
    assert row["read_error"] is True
    assert row["text"] is None and row["read_reason"].startswith("could not read: BadGzipFile")


def test_discover_walks_folders_skips_hidden_files_and_refuses_missing_sources(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden").write_text("h")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.txt").write_text("c")
    (tmp_path / "linked").symlink_to(tmp_path / "sub")  # a link to a folder is not followed: b.txt once
    (tmp_path / "d.txt").symlink_to(tmp_path / "a.txt")  # a link to a file is a file
    assert [p.rsplit("/", 2)[-1] for p in discover([str(tmp_path)])] == ["a.txt", "d.txt", "b.txt"]
    with pytest.raises(SourceError, match="source not found: nowhere"):
        discover(["nowhere"])


KOREAN_PAGE = "2024년 07월 02일 화요일\n등록 2024.07.01 10:00\n" + "한빛은행이 새 상품을 내놓았다. " * 5


def test_cp949_mojibake_saved_as_utf8_is_repaired_and_noted():
    mojibake = KOREAN_PAGE.encode("cp949").decode("latin-1").encode("utf-8")
    got = decode(mojibake)
    assert (got.text, got.encoding, got.reason) == (KOREAN_PAGE, "cp949", "CP949 mojibake repaired (read as latin-1)")


def test_accented_latin_text_is_not_taken_for_mojibake():
    portuguese = ("A população da região não está satisfeita com a decisão. Ação rápida é necessária. " * 4).encode()
    got = decode(portuguese)
    assert (got.encoding, got.reason) == ("utf-8", None)
    assert got.text == portuguese.decode()


def test_a_declared_korean_charset_wins_over_utf8():
    page = '<html><head><meta charset="euc-kr"></head><body>한국 뉴스</body></html>'.encode("cp949")
    assert decode(page).encoding == "cp949"


def test_a_file_is_stamped_as_read_unless_it_changed_moments_before(tmp_path):
    old, fresh = tmp_path / "old.txt", tmp_path / "fresh.txt"
    old.write_text(KOREAN, encoding="utf-8")
    fresh.write_text(KOREAN, encoding="utf-8")
    then = aged(old)
    rows = read_pages([str(old), str(fresh), str(tmp_path / "gone.txt")])
    size = len(KOREAN.encode())
    assert rows.select("file_size", "file_mtime_ns").rows() == [(size, then), (None, None), (None, None)]


def test_a_listing_holds_the_refs_and_the_file_stats_of_the_moment_it_was_made(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    for path in (first, second):
        path.write_text(KOREAN, encoding="utf-8")
    times = [aged(first, 120), aged(second, 120)]
    stamps = read_pages([str(first), str(second)]).select("source", "file_size", "file_mtime_ns")
    listing = Listing([str(tmp_path)])
    size = len(KOREAN.encode())
    assert listing.refs == [str(first), str(second)] == discover([str(tmp_path)])
    assert listing.stats().rows() == [(str(first), size, times[0]), (str(second), size, times[1])]
    second.write_text(KOREAN + "\n", encoding="utf-8")  # changed after the listing: the listing does not see it
    assert unchanged_files(listing.refs, stamps, listing.stats()) == {str(first), str(second)}
    assert unchanged_files(listing.refs, stamps, file_stats(listing.refs)) == {str(first)}  # stat'ed now
    with pytest.raises(SourceError, match="source not found"):
        Listing([str(tmp_path / "nowhere")])

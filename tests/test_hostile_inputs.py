"""Hostile inputs (issue 25): nothing a source holds stops a run or blows its memory. Each poison pill becomes one
ledger row with its reason while the other pages land; bombs and giants are refused after reading at most the
size cap; a few stray bytes or NULs are replaced and noted, not a rejection; bad settings exit 2 naming the
setting."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastwarc.warc import WarcRecordType
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.flows.ingest import IncompleteRun, RunSummary, _check_every_page_is_accounted_for, ingest
from newsflow.sources.pages import MAX_HTML_ELEMENTS, batched, decode, discover, read_pages
from newsflow.warehouse.catalog import query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES
from tests.test_inputs import http_response, warc_record, write_warc

ARTICLE = (EXAMPLES / "01_biz_economy.txt").read_bytes()
CAP = 250_000  # a small size cap keeps the bombs fast
BAD_NAME = os.fsdecode(b"bad\xffname.txt")  # a name that is not UTF-8, as Python holds it (surrogate escapes)


def at_line(data: bytes, number: int) -> int:
    """The byte offset where line `number` of a page begins (a safe place to put a stray byte)."""
    offset = 0
    for _ in range(number):
        offset = data.index(b"\n", offset) + 1
    return offset


def poisoned_folder(root: Path) -> Path:
    """One good page beside every poison pill issue 25 found."""
    folder = root / "pages"
    folder.mkdir()
    (folder / "good.txt").write_bytes(ARTICLE)
    os.symlink("loop-b", folder / "loop-a")
    os.symlink("loop-a", folder / "loop-b")
    os.symlink("nowhere.txt", folder / "dangling.txt")
    os.mkfifo(folder / "pipe.txt")
    (folder / "bomb.txt.gz").write_bytes(gzip.compress("가나다라마바사 ".encode() * 100_000))  # 2.2 MB inflated
    (folder / "giant.txt").write_bytes(ARTICLE * 200)  # 516 kB
    (folder / "many.html").write_text("<html><body>" + "<i>" * MAX_HTML_ELEMENTS + "</body></html>")
    return folder


def test_every_poison_pill_is_one_row_with_its_reason(tmp_path):
    folder = poisoned_folder(tmp_path)
    os.rename(folder / "good.txt", os.path.join(os.fsencode(folder), os.fsencode(BAD_NAME)))
    rows = {row["source"]: row for row in read_pages(discover([str(folder)]), cap=CAP).iter_rows(named=True)}
    reasons = {Path(source).name: row["read_reason"] for source, row in rows.items()}
    assert reasons == {
        "bad\\xffname.txt": None,  # read as any page; its name kept, the byte as an escape
        "bomb.txt.gz": "page inflates to more than 250 kB, the size cap (NEWSFLOW_MAX_PAGE_BYTES): not read further",
        "dangling.txt": "could not read: a symbolic link to nowhere.txt, which does not exist",
        "giant.txt": "page is more than 250 kB, the size cap (NEWSFLOW_MAX_PAGE_BYTES): not read further",
        "loop-a": "could not read: a loop of symbolic links",
        "loop-b": "could not read: a loop of symbolic links",
        "many.html": "HTML of more than 50,000 elements (the element cap): not parsed",
        "pipe.txt": "could not read: a FIFO (named pipe), not a page file",
    }
    assert rows[f"{folder}/bad\\xffname.txt"]["text"].startswith(ARTICLE.decode()[:20])
    errors = {Path(s).name for s, row in rows.items() if row["read_error"]}
    assert errors == {"dangling.txt", "loop-a", "loop-b", "pipe.txt"}  # the others are rejected, not errors
    assert max(row["size_bytes"] for row in rows.values()) <= CAP  # no more than the cap is kept of any page


def test_a_warc_record_over_the_cap_and_a_gzip_encoded_bomb_are_refused(tmp_path):
    when = datetime(2024, 7, 2, tzinfo=UTC)
    response = "application/http; msgtype=response"
    bomb = gzip.compress(b"<p>" + "가".encode() * 400_000 + b"</p>")
    encoded = http_response("200 OK", "text/html; charset=utf-8", bomb).replace(
        b"Content-Type", b"Content-Encoding: gzip\r\nContent-Type", 1
    )
    path = write_warc(
        tmp_path / "crawl.warc.gz",
        [
            warc_record(WarcRecordType.response, http_response("200 OK", "text/plain", ARTICLE), response, "u:1", when),
            warc_record(
                WarcRecordType.response, http_response("200 OK", "text/plain", ARTICLE * 200), response, "u:2", when
            ),
            warc_record(WarcRecordType.response, encoded, response, "u:3", when),
        ],
    )
    raw = read_pages(discover([str(path)]), cap=CAP)
    assert raw["url"].to_list() == ["u:1", "u:2", "u:3"]
    assert raw["read_reason"].to_list() == [
        None,
        *["WARC record's page is more than 250 kB, the size cap (NEWSFLOW_MAX_PAGE_BYTES): not read further"] * 2,
    ]
    assert raw["text"][0] is not None and raw["size_bytes"].max() <= CAP


def test_a_few_stray_bytes_or_nuls_are_replaced_and_noted_not_a_rejection():
    line = at_line(ARTICLE, 5)
    stray = decode(ARTICLE[:line] + b"\xff" + ARTICLE[line:])
    assert (stray.encoding, stray.reason) == ("utf-8", "1 invalid byte for utf-8 replaced by U+FFFD")
    assert stray.text == ARTICLE[:line].decode() + "\ufffd" + ARTICLE[line:].decode()
    nuls = decode(ARTICLE[:line] + b"\x00\x00\x00" + ARTICLE[line:])
    assert (nuls.text, nuls.reason) == (ARTICLE.decode(), "3 NUL characters removed")
    html = (EXAMPLES / "21_biz_daily.html").read_bytes()
    middle = at_line(html, 40)
    assert decode(html[:middle] + b"\xff" + html[middle:]).reason == "1 invalid byte for utf-8 replaced by U+FFFD"
    assert decode(bytes(range(256)) * 40).text is None  # mostly not text: still binary


@pytest.mark.e2e
def test_a_run_lands_the_good_pages_and_every_poison_pill_in_the_ledger_run_after_run(
    prefect_harness, tmp_path, monkeypatch
):
    monkeypatch.setenv("NEWSFLOW_MAX_PAGE_BYTES", str(CAP))
    folder = poisoned_folder(tmp_path)
    os.rename(folder / "giant.txt", os.path.join(os.fsencode(folder), os.fsencode(BAD_NAME)))
    store = Warehouse.at(tmp_path / "wh")
    first = ingest([str(folder)], warehouse=str(store.location), workers=1)
    assert (first.pages_seen, first.statuses["article"], first.statuses["error"], first.statuses["rejected"]) == (
        8,
        1,
        4,
        3,
    )
    ledger = dict(query(store, "SELECT regexp_extract(source, '[^/]+$'), status FROM pages").rows())
    assert ledger == {
        "good.txt": "article",
        "bad\\xffname.txt": "rejected",
        "bomb.txt.gz": "rejected",
        "many.html": "rejected",
        "dangling.txt": "error",
        "loop-a": "error",
        "loop-b": "error",
        "pipe.txt": "error",
    }
    second = ingest([str(folder)], warehouse=str(store.location), workers=1)  # no pill stops the next run either
    assert second.pages_seen == 8 and query(store, "SELECT count(*) FROM articles").item() == 1


def test_a_run_commits_only_when_every_page_it_found_is_accounted_for():
    summary = RunSummary(run_id="r", warehouse="w", pages_seen=5, pages_skipped=1)
    summary.statuses = {"article": 2, "error": 1}
    with pytest.raises(IncompleteRun, match="5 pages found but 4 accounted for"):
        _check_every_page_is_accounted_for(summary, quarantined=0)
    _check_every_page_is_accounted_for(summary, quarantined=1)  # a ledger row in quarantine counts
    with pytest.raises(ValueError, match="at least one page"):
        list(batched(["a"], -3))


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("NEWSFLOW_BATCH_SIZE", "-3", "NEWSFLOW_BATCH_SIZE='-3': setting batch_size must be a whole number from 1 to"),
        ("NEWSFLOW_WORKERS", "abc", "NEWSFLOW_WORKERS='abc': setting workers must be a whole number from 0 to 256"),
        ("NEWSFLOW_TASK_RUNNER", "ray", "setting task_runner must be one of threads, dask"),
        ("NEWSFLOW_CATALOG", "mysql:x", "setting catalog must be sqlite:PATH or postgres:CONNINFO"),
        ("NEWSFLOW_FETCH_TIMEOUT", "0", "setting fetch_timeout must be a number above 0"),
        ("NEWSFLOW_MAX_PAGE_BYTES", "10", "setting max_page_bytes must be a whole number at least 1024"),
    ],
)
def test_a_bad_setting_exits_2_with_one_line_naming_it_before_anything_runs(tmp_path, variable, value, message):
    result = CliRunner().invoke(
        app, ["run", str(EXAMPLES), "--warehouse", str(tmp_path / "wh")], env={variable: value}, catch_exceptions=False
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not (tmp_path / "wh").exists()  # nothing ran

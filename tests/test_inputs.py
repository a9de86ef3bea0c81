"""WARC archives and URL lists as sources: discovery, reading, fetching, and the real flow over both."""

from __future__ import annotations

import gzip
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastwarc.stream_io import GzipWriter
from fastwarc.warc import WarcRecord, WarcRecordType
from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.flows.ingest import ingest
from newsflow.sources.pages import Decoded, decode, discover, read_pages
from newsflow.warehouse.catalog import query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

ARTICLE_TEXT = (EXAMPLES / "01_biz_economy.txt").read_bytes()  # header date 2024-07-02, no URL of its own
ARTICLE_HTML = (EXAMPLES / "21_biz_daily.html").read_bytes()  # states its canonical URL
TEXT_URI, HTML_URI, MISSING_URI = (
    "https://www.hanbit-daily.example/news/view/1001",
    "https://www.solbit-biz.example/news/articleView.html?idxno=204613&from=crawl",
    "https://www.hanbit-daily.example/news/view/404",
)
# 16:30 UTC is already the next day in Korea: the capture date must be 2024-07-03, not the header's 2024-07-02
TEXT_DATE = datetime(2024, 7, 2, 16, 30, tzinfo=UTC)
HTML_DATE = datetime(2024, 6, 14, 0, 5, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")


# --- writing WARC archives the way crawlers do -------------------------------------------------------------


def http_response(status: str, content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def warc_record(kind: WarcRecordType, block: bytes, content_type: str, uri: str | None, when: datetime) -> WarcRecord:
    record = WarcRecord()
    record.init_headers(kind)
    record.record_date = when
    record.headers["Content-Type"] = content_type
    if uri:
        record.headers["WARC-Target-URI"] = uri
    record.set_bytes_content(block)
    return record


def crawl_records() -> list[WarcRecord]:
    """warcinfo, a request and three responses: a text page, an HTML article and a 404."""
    response = "application/http; msgtype=response"
    return [
        warc_record(
            WarcRecordType.warcinfo, b"software: newsflow tests\r\n", "application/warc-fields", None, TEXT_DATE
        ),
        warc_record(
            WarcRecordType.request,
            b"GET /news/view/1001 HTTP/1.1\r\nHost: www.hanbit-daily.example\r\n\r\n",
            "application/http; msgtype=request",
            TEXT_URI,
            TEXT_DATE,
        ),
        warc_record(
            WarcRecordType.response,
            http_response("200 OK", "text/plain; charset=utf-8", ARTICLE_TEXT),
            response,
            TEXT_URI,
            TEXT_DATE,
        ),
        warc_record(
            WarcRecordType.response,
            http_response("200 OK", "text/html; charset=utf-8", ARTICLE_HTML),
            response,
            HTML_URI,
            HTML_DATE,
        ),
        warc_record(
            WarcRecordType.response,
            http_response("404 Not Found", "text/html", b"<html><body>no such article</body></html>"),
            response,
            MISSING_URI,
            HTML_DATE,
        ),
    ]


def write_warc(path: Path, records: list[WarcRecord], per_record: bool = True) -> Path:
    """A WARC.gz with one gzip member per record (as the standard recommends), or one stream for all."""
    with path.open("wb") as file:
        writer = GzipWriter(file)
        for record in records:
            record.write(writer)
            if per_record:
                writer.finish()
        writer.close()
    return path


@pytest.fixture
def archive(tmp_path) -> Path:
    return write_warc(tmp_path / "crawl.warc.gz", crawl_records())


# --- discovery and reading, no flow ---------------------------------------------------------------------------


def test_discover_lists_response_records_only_and_read_pages_reads_each_from_its_offset(archive):
    refs = discover([str(archive)])
    assert len(refs) == 3 and all(ref.startswith(f"{archive}#") for ref in refs)
    raw = read_pages(refs)
    assert raw["url"].to_list() == [TEXT_URI, HTML_URI, MISSING_URI]
    assert raw["captured_at"].to_list() == [TEXT_DATE, HTML_DATE, HTML_DATE]
    assert raw["read_error"].to_list() == [False, False, True]
    assert raw["read_reason"][2] == "HTTP 404 Not Found in the archive"
    assert raw["text"][0] == ARTICLE_TEXT.decode() and raw["size_bytes"][0] == len(ARTICLE_TEXT)
    assert all(source.startswith(f"{archive}#urn:uuid:") for source in raw["source"])
    assert read_pages(reversed(refs))["page_id"].to_list() == raw["page_id"].reverse().to_list()  # stable


def test_a_warc_is_found_by_its_magic_bytes_and_a_resource_record_uses_its_charset(tmp_path):
    korean = "2024년 07월 02일 화요일\n한빛은행이 새 상품을 내놓았다.\n"
    record = warc_record(
        WarcRecordType.resource, korean.encode("cp949"), "text/plain; charset=euc-kr", "urn:x-page:7", TEXT_DATE
    )
    dump = tmp_path / "folder" / "crawl-0001.dat"  # no .warc in the name: recognised by `WARC/`
    dump.parent.mkdir()
    with dump.open("wb") as file:
        record.write(file)
    (tmp_path / "folder" / "page.txt").write_text("plain page", encoding="utf-8")
    refs = discover([str(tmp_path / "folder")])
    assert refs == [f"{dump}#0", str(tmp_path / "folder" / "page.txt")]
    row = read_pages(refs).row(0, named=True)
    assert (row["text"], row["encoding"], row["url"], row["captured_at"]) == (
        korean,
        "cp949",
        "urn:x-page:7",
        TEXT_DATE,
    )


def test_a_warc_gzipped_as_one_stream_reads_the_same_pages_in_one_pass(tmp_path, archive):
    whole = write_warc(tmp_path / "whole.warc.gz", crawl_records(), per_record=False)
    refs = discover([str(whole)])
    assert len(refs) == 3 and all(ref.startswith(f"{whole}#") for ref in refs)
    assert [int(ref.rsplit("#", 1)[1]) for ref in refs] != [int(r.rsplit("#", 1)[1]) for r in discover([str(archive)])]
    one_stream, per_record = read_pages(refs), read_pages(discover([str(archive)]))
    same = ["url", "captured_at", "text", "encoding", "read_error", "read_reason", "size_bytes"]
    assert one_stream.select(same).to_dicts() == per_record.select(same).to_dicts()
    assert one_stream["url"].to_list() == [TEXT_URI, HTML_URI, MISSING_URI]
    assert all(source.startswith(f"{whole}#urn:uuid:") for source in one_stream["source"])
    assert read_pages(refs[1:2])["url"].to_list() == [HTML_URI]  # a batch may hold any of its records


def test_a_one_stream_warc_cut_short_keeps_the_records_before_the_cut_and_errs_the_rest(tmp_path):
    rng = random.Random(7)  # hex of random bytes: records too big for the reader's buffer, and barely compressible
    bodies = [f"{n}번 기사\n".encode() + rng.randbytes(40_000).hex().encode() for n in range(4)]
    records = [
        warc_record(
            WarcRecordType.response,
            http_response("200 OK", "text/plain", body),
            "application/http; msgtype=response",
            uri,
            TEXT_DATE,
        )
        for body, uri in zip(bodies, [f"https://www.hanbit-daily.example/news/view/{n}" for n in range(4)], strict=True)
    ]
    whole = write_warc(tmp_path / "whole.warc.gz", records, per_record=False)
    refs = discover([str(whole)])
    whole.write_bytes(whole.read_bytes()[: whole.stat().st_size * 5 // 8])  # the download broke off in the third
    raw = read_pages(refs)
    assert raw["read_error"].to_list() == [False, False, True, True]
    assert raw["text"].head(2).to_list() == [body.decode() for body in bodies[:2]]
    assert raw["read_reason"][2] == (
        f"could not read the WARC record at offset {refs[2].rsplit('#', 1)[1]}: "
        "EOFError: Compressed file ended before the end-of-stream marker was reached"
    )


def crawl_archive(path: Path) -> tuple[Path, int]:
    """The crawl's archive, gzipped record by record when its name ends in .gz, and where its HTML article's
    record starts."""
    if path.name.endswith(".gz"):
        write_warc(path, crawl_records())
    else:
        with path.open("wb") as file:
            for record in crawl_records():
                record.write(file)
    return path, int(discover([str(path)])[1].rsplit("#", 1)[1])


@pytest.mark.parametrize("per_record", [True, False], ids=["gzip per record", "no gzip"])
def test_a_record_cut_short_is_an_error_not_a_shorter_page(tmp_path, per_record):
    """A download that broke off ends within a record: its page is an error, not a page cut off mid-body."""
    path, html_at = crawl_archive(tmp_path / ("crawl.warc.gz" if per_record else "crawl.warc"))
    path.write_bytes(path.read_bytes()[: html_at + 1500])  # the HTML article's record is cut off
    refs = discover([str(path)])
    raw = read_pages(refs)
    assert [int(ref.rsplit("#", 1)[1]) for ref in refs][1:] == [html_at]  # nothing after it is in the archive
    assert raw["text"][0] == ARTICLE_TEXT.decode() and raw["read_error"].to_list() == [False, True]
    reason = raw["read_reason"][1]
    assert reason.startswith(f"could not read the WARC record at offset {html_at}: ValueError: cut short: ")
    assert reason.endswith(f" of the record's {len(ARTICLE_HTML):,} bytes are there")


def damaged_archive(path: Path) -> tuple[Path, int]:
    """The crawl's archive with its HTML article's record damaged, and where that record starts: in a gzipped
    archive its compressed bytes are overwritten, in a plain one its first line."""
    path, html_at = crawl_archive(path)
    data = bytearray(path.read_bytes())
    at = html_at + 200 if path.name.endswith(".gz") else html_at
    data[at : at + 8] = b"XXXXXXXX"
    path.write_bytes(bytes(data))
    return path, html_at


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("crawl.warc.gz", "OSError: Gzip decompression error: data error"),
        ("crawl.warc", "OSError: Invalid WARC header"),
    ],
)
def test_a_damaged_archive_lists_its_records_up_to_the_damage_and_the_damage_as_an_error_page(tmp_path, name, error):
    path, html_at = damaged_archive(tmp_path / name)
    refs = discover([str(path)])  # no exception: the other sources of the run go on
    assert [int(ref.rsplit("#", 1)[1]) for ref in refs][1:] == [html_at]  # the 404 after the damage is lost with it
    raw = read_pages(refs)
    assert raw["text"][0] == ARTICLE_TEXT.decode() and raw["read_error"].to_list() == [False, True]
    assert raw["read_reason"][1] == f"could not read the WARC record at offset {html_at}: {error}"


def test_a_response_served_chunked_and_gzipped_is_read_decoded(tmp_path):
    body = gzip.compress(ARTICLE_HTML)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:1000], body[1000:])) + b"0\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
    block = head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked
    record = warc_record(WarcRecordType.response, block, "application/http; msgtype=response", HTML_URI, HTML_DATE)
    raw = read_pages(discover([str(write_warc(tmp_path / "served.warc.gz", [record]))]))
    assert (raw["read_error"][0], raw["text"][0]) == (False, ARTICLE_HTML.decode())


def test_the_http_charset_is_a_decoding_hint():
    euc_kr = "<p>서울 24℃ 맑음</p>".encode("cp949")
    assert (decode(euc_kr, charset="euc-kr").text, decode(euc_kr, charset="euc-kr").encoding) == (
        "<p>서울 24℃ 맑음</p>",
        "cp949",
    )
    greek = "Καλημέρα κόσμε, ειδήσεις της ημέρας".encode("iso-8859-7")
    assert decode(greek, charset="iso-8859-7") == Decoded("Καλημέρα κόσμε, ειδήσεις της ημέρας", "iso-8859-7", None)


def test_url_lists_skip_blank_lines_and_comments_and_keep_lines_that_are_not_urls_as_error_pages(tmp_path):
    good = tmp_path / "seeds.urls"
    good.write_text("# morning crawl\nhttps://a.example/1\n\n  http://b.example/2  \nftp://c.example/3\n")
    assert discover([str(good)]) == ["https://a.example/1", "http://b.example/2", "ftp://c.example/3"]
    bad = tmp_path / "more.urls.txt"
    bad.write_text("https://a.example/1\nwww.example.com/page\n")
    refs = discover([str(bad)])  # no SourceError: the line is a page of its own, an error
    assert refs == ["https://a.example/1", "newsflow-not-a-url:www.example.com/page"]
    [row] = read_pages(refs[1:]).rows(named=True)  # refused without a request
    assert (row["source"], row["read_error"], row["url"]) == ("www.example.com/page", True, None)
    assert row["read_reason"] == f"{bad} line 2: 'www.example.com/page' is not a URL (it needs http:// or https://)"


def test_run_help_names_every_kind_of_source():
    result = CliRunner().invoke(app, ["run", "--help"], terminal_width=200)
    help_text = " ".join(result.output.split())
    for kind in (".gz", ".warc", ".warc.gz", ".urls", "http"):
        assert kind in help_text


# --- a local web server for the URL lists ------------------------------------------------------------------------


@dataclass
class Site:
    """What the test server serves and how often each path was asked for."""

    pages: dict[str, bytes]
    hits: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str) -> int:
        with self.lock:
            self.hits[path] += 1
            return self.hits[path]


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

        def do_GET(self) -> None:
            hit = site.count(self.path)
            if self.path == "/moved":
                self._reply(302, b"", {"Location": "/moved-here"})
            elif self.path == "/slow":
                time.sleep(1.5)
                self._reply(200, b"too late")
            elif self.path == "/big":  # no Content-Length: the cap must stop the stream itself
                self.send_response(200)
                self.end_headers()
                for _ in range(50):
                    self.wfile.write(b"x" * 1000)
            elif self.path == "/flaky" and hit == 1:
                self._reply(503, b"busy")
            elif self.path in site.pages:
                self._reply(200, site.pages[self.path], {"Content-Type": "text/plain; charset=utf-8"})
            else:
                self._reply(404, b"not here")

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, Site]]:
    """The site at http://127.0.0.1:<port>, served from a thread for the module's tests, then shut down."""
    pages = {
        "/page": (EXAMPLES / "05_wire_agency.txt").read_bytes(),
        "/moved-here": (EXAMPLES / "12_broadcaster.txt").read_bytes(),
        "/flaky": (EXAMPLES / "13_online_business.txt").read_bytes(),
    }
    served = Site(pages)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(served))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A local port nobody listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


FAST = {"NEWSFLOW_FETCH_TIMEOUT": "0.5", "NEWSFLOW_FETCH_ATTEMPTS": "2", "NEWSFLOW_FETCH_MAX_BYTES": "20000"}


def url_list(folder: Path, base: str) -> list[str]:
    urls = [
        f"{base}/page",
        f"{base}/missing",
        f"{base}/moved",
        f"{base}/slow",
        f"{base}/big",
        "ftp://127.0.0.1/pages/1.txt",
        f"{base}/flaky",
        f"http://127.0.0.1:{closed_port()}/page",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "today.urls").write_text("# fetched by the test\n" + "\n".join(urls) + "\n", encoding="utf-8")
    return urls


# --- the real flow -------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_warc_runs_through_the_flow_and_a_second_run_skips_it(prefect_harness, archive, tmp_path):
    warehouse = tmp_path / "wh"
    first = ingest([str(archive)], warehouse=str(warehouse), batch_size=2, workers=1)
    assert (first.pages_seen, first.statuses["article"], first.statuses["error"]) == (3, 2, 1)
    store = Warehouse.at(warehouse)
    pages = query(store, "SELECT url, captured_at, status, reason FROM pages ORDER BY url").rows()
    assert [(url, captured, status) for url, captured, status, _ in pages] == [
        (TEXT_URI, TEXT_DATE, "article"),
        (MISSING_URI, HTML_DATE, "error"),
        (HTML_URI, HTML_DATE, "article"),
    ]
    assert pages[1][3] == "HTTP 404 Not Found in the archive"
    articles = query(store, "SELECT url, capture_date, title FROM articles ORDER BY capture_date").rows()
    assert articles == [
        (
            "https://www.solbit-biz.example/news/articleView.html?idxno=204613",  # its own canonical URL wins
            date(2024, 6, 14),
            '도원케미칼, 충북 오창에 1조2000억 양극재 공장…"2027년 양산 목표"',
        ),
        (TEXT_URI, date(2024, 7, 3), "한빛은행, 소상공인 대출금리 최대 1.5%p 낮춘다…하반기 3조원 공급"),
    ]
    weather_dates = query(
        store,
        "SELECT DISTINCT w.capture_date FROM weather_snapshots w JOIN pages p USING (page_id) WHERE p.url = $url",
        {"url": TEXT_URI},
    ).rows()
    assert weather_dates == [(date(2024, 7, 3),)]

    second = ingest([str(archive)], warehouse=str(warehouse), batch_size=2, workers=1)
    assert (second.pages_seen, second.pages_skipped, sum(second.statuses.values())) == (3, 3, 0)
    assert query(store, "SELECT count(*) FROM pages").item() == 3


@pytest.mark.e2e
def test_a_run_over_a_damaged_archive_lands_what_it_can_and_the_damage_in_the_ledger(prefect_harness, tmp_path):
    path, html_at = damaged_archive(tmp_path / "crawl.warc.gz")
    summary = ingest([str(path)], warehouse=str(tmp_path / "wh"), workers=1)
    assert (summary.statuses["article"], summary.statuses["error"]) == (1, 1)
    store = Warehouse.at(tmp_path / "wh")
    assert query(store, "SELECT status, reason FROM pages WHERE status = 'error'").rows() == [
        ("error", f"could not read the WARC record at offset {html_at}: OSError: Gzip decompression error: data error")
    ]
    assert query(store, "SELECT url FROM articles").rows() == [(TEXT_URI,)]


@pytest.mark.e2e
def test_a_url_list_is_fetched_with_retries_timeouts_a_size_cap_and_a_row_per_failure(
    prefect_harness, site, tmp_path, monkeypatch
):
    base, served = site
    for name, value in {**FAST, "NEWSFLOW_FETCH_BACKOFF": "0.05"}.items():
        monkeypatch.setenv(name, value)
    urls = url_list(tmp_path / "sources", base)
    warehouse = tmp_path / "wh"
    today = {datetime.now(SEOUL).date()}
    first = ingest([str(tmp_path / "sources")], warehouse=str(warehouse), workers=1)
    today.add(datetime.now(SEOUL).date())
    assert first.pages_seen == 8
    store = Warehouse.at(warehouse)
    rows = {source: rest for source, *rest in query(store, "SELECT source, status, reason, url FROM pages").rows()}
    page, missing, moved, slow, big, ftp, flaky, refused = (rows[url] for url in urls)
    assert page[0] == "article" and page[2] == f"{base}/page"
    assert missing == ["error", "fetch failed: HTTP 404 Not Found", f"{base}/missing"]
    assert moved[0] == "article" and moved[2] == f"{base}/moved-here"  # the final URL after the redirect
    assert slow[:2] == ["error", "fetch failed: timed out after 0.5 s (2 attempts)"]
    assert big[:2] == ["error", "fetch failed: larger than 20 kB"]
    assert ftp[:2] == ["error", "unsupported URL scheme ftp: only http and https"]
    assert flaky[0] == "article" and served.hits["/flaky"] == 2  # 503 first, then the page
    assert refused[0] == "error" and refused[1].startswith("fetch failed: ConnectError")
    assert "Connection refused" in refused[1] and refused[1].endswith("(2 attempts)")
    assert served.hits["/slow"] == 2 and served.hits["/big"] == 1 and served.hits["/missing"] == 1
    landed = query(store, "SELECT url, capture_date FROM articles ORDER BY url").rows()
    assert [url for url, _ in landed] == sorted([f"{base}/page", f"{base}/moved-here", f"{base}/flaky"])
    assert {captured for _, captured in landed} <= today  # the fetch time's date in Korea, not the page header's

    second = ingest([str(tmp_path / "sources")], warehouse=str(warehouse), workers=1)
    # unchanged pages and the ftp URL are skipped; the four failed fetches are tried again and recorded again
    assert (second.pages_skipped, second.statuses["error"]) == (4, 4)
    assert served.hits["/missing"] == 2 and served.hits["/page"] == 2
    assert query(store, "SELECT count(*) FROM pages WHERE status = 'error'").item() == 4 + 5

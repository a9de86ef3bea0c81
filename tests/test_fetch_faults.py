"""Hostile inputs to the URL fetcher: lines of a URL list that are no URL (unparsable, without a scheme, not UTF-8)
become error pages naming the list and the line while the other URLs are fetched, and a server that drips its
response a byte at a time is given up on at the attempt's deadline."""

from __future__ import annotations

import pickle
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from newsflow.flows.ingest import ingest
from newsflow.sources.fetch import FetchLimits, fetch, fetch_all, read_url_list
from newsflow.sources.pages import RefKind, discover, read_pages, ref_kind
from newsflow.warehouse.catalog import query
from newsflow.warehouse.storage import Warehouse
from tests.conftest import EXAMPLES

PAGE = (EXAMPLES / "05_wire_agency.txt").read_bytes()
DRIP = 0.2  # seconds between the bytes a dripping response sends
DRIPS = 50  # bytes it sends in all: 10 s of dripping
HITS: Counter = Counter()  # requests per path
PORTS: set[int] = set()  # the client ports of the requests for /slowish: its connections


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # connections kept alive, as most servers do

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        HITS[self.path] += 1
        try:
            if self.path == "/drip":  # the headers at once, then the body a byte at a time
                self.send_response(200)
                self.send_header("Content-Length", str(DRIPS))
                self.end_headers()
                self._drip(b"x")
            elif self.path == "/drip-headers":  # a header line that never ends
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Tarpit: ")
                self._drip(b"y")
            else:
                if self.path.startswith("/slowish"):
                    PORTS.add(self.client_address[1])
                    time.sleep(0.1)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)
        except OSError:  # the client gave up and closed the connection
            pass

    def _drip(self, byte: bytes) -> None:
        for _ in range(DRIPS):
            self.wfile.write(byte)
            self.wfile.flush()
            time.sleep(DRIP)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True  # a dripping handler must not hold the test's end
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def bad_list(folder: Path, base: str) -> tuple[Path, Path]:
    """A URL list with a good URL among lines that are no URL to fetch, and a local file one of them names."""
    secret = folder / "secret.txt"
    secret.write_text("a local file a URL list must never read\n")
    listed = folder / "seeds.urls"
    lines = [
        b"# a comment, then a blank line",
        b"",
        f"{base}/page".encode(),
        b"http://[::1",
        b"www.example.com/page",
        str(secret).encode(),
        f"{base}/page?q=".encode() + b"\xb0\xa1",  # CP949, not UTF-8
        b"ftp://c.example/3",
        b"http://",
    ]
    listed.write_bytes(b"\n".join(lines) + b"\n")
    return listed, secret


def test_lines_that_are_no_url_become_error_pages_naming_the_list_and_line(base, tmp_path):
    listed, secret = bad_list(tmp_path, base)
    refs = discover([str(listed)])
    assert len(refs) == 7 and all(ref_kind(ref) is RefKind.URL for ref in refs)  # none is read as a file
    refs = pickle.loads(pickle.dumps(refs))  # as a worker process gets them: the reasons go along
    rows = {row["source"]: row for row in read_pages(refs, FetchLimits(timeout=5, attempts=1)).iter_rows(named=True)}
    assert rows[f"{base}/page"]["read_error"] is False and rows[f"{base}/page"]["text"]
    reasons = {source: row["read_reason"] for source, row in rows.items() if row["read_error"]}
    assert reasons == {
        "http://[::1": f"{listed} line 4: 'http://[::1' is not a valid URL (Invalid IPv6 URL)",
        "www.example.com/page": f"{listed} line 5: 'www.example.com/page' is not a URL (it needs http:// or https://)",
        str(secret): f"{listed} line 6: {str(secret)!r} is not a URL (it needs http:// or https://)",
        f"{base}/page?q=\ufffd\ufffd": f"{listed} line 7: '{base}/page?q=\ufffd\ufffd' has bytes that are not UTF-8 "
        f"(0xb0 at byte {len(base) + 9}: invalid start byte)",
        "ftp://c.example/3": "unsupported URL scheme ftp: only http and https",
        "http://": f"{listed} line 9: 'http://' is not a valid URL (no host)",
    }
    assert rows[str(secret)]["size_bytes"] == 0
    assert len({row["page_id"] for row in rows.values()}) == 7


def test_a_bad_line_in_two_lists_is_one_page(tmp_path):
    (tmp_path / "a.urls").write_text("url\nhttps://a.example/1\n")
    (tmp_path / "b.urls").write_text("url\nhttps://b.example/1\n")
    refs = discover([str(tmp_path)])
    assert refs == ["newsflow-not-a-url:url", "https://a.example/1", "https://b.example/1"]
    assert refs[0].reason == f"{tmp_path / 'a.urls'} line 1: 'url' is not a URL (it needs http:// or https://)"
    with httpx.Client() as client:
        lost = fetch(client, str(refs[0]), FetchLimits())  # a ref that lost its reason on the way is refused still
    assert (lost.source, lost.error) == ("url", "'url' is not a URL (it needs http:// or https://)")


def test_a_url_list_line_that_names_the_marker_keeps_its_text(tmp_path):
    listed = tmp_path / "odd.urls"
    listed.write_text("newsflow-not-a-url:https://a.example/1\n")
    [ref] = read_url_list(listed)
    with httpx.Client() as client:
        capture = fetch(client, ref, FetchLimits())
    assert capture.source == "newsflow-not-a-url:https://a.example/1" and capture.error.startswith(f"{listed} line 1")


def test_a_url_that_cannot_be_parsed_is_an_error_without_a_request():
    with httpx.Client() as client:
        captures = [fetch(client, url, FetchLimits()) for url in ("http://[::1", "http://exa mple.com/")]
    assert [(c.source, c.data, c.error, c.attempt) for c in captures] == [
        ("http://[::1", b"", "'http://[::1' is not a valid URL (Invalid IPv6 URL)", None),
        (
            "http://exa mple.com/",
            b"",
            "'http://exa mple.com/' is not a valid URL (a space in the host 'exa mple.com')",
            None,
        ),
    ]


@pytest.mark.parametrize(
    ("path", "where"), [("/drip", "receiving the body"), ("/drip-headers", "waiting for the response")]
)
def test_a_dripping_server_is_given_up_on_at_the_deadline(base, path, where):
    limits = FetchLimits(timeout=5, attempts=3, backoff=0, deadline=1)
    with httpx.Client(timeout=limits.timeout) as client:
        started = time.monotonic()
        capture = fetch(client, f"{base}{path}", limits)
        took = time.monotonic() - started
    assert capture.error == f"fetch failed: deadline of 1 s passed ({where})"
    assert capture.data == b"" and capture.attempt is not None  # fetched again by the next run
    assert took < 1 + DRIP * 3  # not the drip's 10 s, nor a per-read timeout's 5 s
    assert HITS[path] == 1  # not tried again: another attempt would take as long


def test_the_deadline_is_each_attempt_s_own_on_connections_used_again(base):
    urls = [f"{base}/slowish?n={n}" for n in range(15)]
    captures = fetch_all(urls, FetchLimits(timeout=5, attempts=1, deadline=0.5, concurrency=3))
    assert [c.error for c in captures] == [None] * 15  # five in turn on each connection: 0.5 s and more in all
    assert len(PORTS) <= 3  # each connection used again


@pytest.mark.e2e
def test_a_run_over_a_list_with_bad_lines_lands_them_as_errors_and_skips_them_next_time(
    prefect_harness, base, tmp_path
):
    sources = tmp_path / "sources"
    sources.mkdir()
    listed, secret = bad_list(sources, base)
    first = ingest([str(listed)], warehouse=str(tmp_path / "wh"), workers=1)
    assert (first.pages_seen, first.statuses["error"]) == (7, 6)
    store = Warehouse.at(tmp_path / "wh")
    rows = dict(query(store, "SELECT source, reason FROM pages WHERE status = 'error'").rows())
    assert rows["www.example.com/page"].startswith(f"{listed} line 5: ")
    assert rows[str(secret)].startswith(f"{listed} line 6: ")
    second = ingest([str(listed)], warehouse=str(tmp_path / "wh"), workers=1)
    assert (second.pages_seen, second.pages_skipped) == (7, 7)  # the input's own errors do not change

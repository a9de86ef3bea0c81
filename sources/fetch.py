"""URL lists: read the list, fetch each URL with httpx (timeouts, a deadline, retries with backoff, a size cap)."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from newsflow.sources.capture import Capture, SourceError, size_text

URL_LIST_SUFFIXES = (".urls", ".urls.txt")
SCHEMES = ("http", "https")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})  # and any other 5xx
USER_AGENT = "newsflow (+https://github.com/newsflow)"
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is not waited for
# a scheme as sources.pages.ref_kind tells a URL ref by it: two letters at least (`C:` is a drive, not a scheme)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
# put before a URL list's line that has no scheme, so that its ref is still a URL's (never a file's) and fails
# in fetch(); the page's source is the line as written, without it
NOT_A_URL = "newsflow-not-a-url:"


@dataclass(frozen=True)
class FetchLimits:
    """How URLs are fetched; newsflow.core.settings holds the defaults (NEWSFLOW_FETCH_*)."""

    timeout: float = 20.0  # seconds to connect, and between bytes read
    attempts: int = 3  # tries per URL on connection errors, timeouts, 429 and 5xx
    max_bytes: int = 10_000_000  # a larger body is abandoned
    backoff: float = 1.0  # seconds before the 2nd attempt, doubled for each further one
    max_redirects: int = 5
    concurrency: int = 8  # URLs fetched at the same time through the shared client
    # seconds an attempt may take in all (connecting, redirects, headers, body): a server that keeps dripping bytes,
    # each within `timeout`, is given up on then, and not tried again (another attempt would take as long)
    deadline: float = 60.0


class _Failure(Exception):
    """Why an attempt failed, and whether another attempt may do better."""

    def __init__(self, reason: str, retry: bool = False, wait: float | None = None, url: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry, self.url = reason, retry, url
        self.wait = wait  # a Retry-After the server asked for


def is_url_list(path: str | os.PathLike[str]) -> bool:
    return os.path.basename(path).lower().endswith(URL_LIST_SUFFIXES)


class BadLine(str):
    """The ref of a URL list's line that is not a URL to fetch: the line as written (behind NOT_A_URL if it has no
    scheme), with the reason fetch() gives for it, which names the list and the line. It pickles with its reason,
    so a worker process that reads the pages still has it."""

    reason: str

    def __new__(cls, line: str, reason: str) -> BadLine:
        ref = super().__new__(cls, line if _SCHEME.match(line) and not line.startswith(NOT_A_URL) else NOT_A_URL + line)
        ref.reason = reason
        return ref

    def __reduce__(self) -> tuple:
        return BadLine, (_line_of(self), self.reason)


def _line_of(ref: str) -> str:
    """The list's line a ref was made of (the URL itself for a URL)."""
    return ref[len(NOT_A_URL) :] if ref.startswith(NOT_A_URL) else str(ref)


def read_url_list(path: Path) -> list[str]:
    """The refs of a list file's URLs, one a line; blank lines and `#` comments are skipped. Nothing in the list
    stops the run: a line that is no URL to fetch (no scheme, unparsable, bytes that are not UTF-8) is a BadLine
    ref, an error page whose reason names the list and the line, and the other URLs are fetched."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"could not read the URL list {path}: {exc.strerror or exc}") from exc
    refs: list[str] = []
    for number, raw in enumerate(data.removeprefix(codecs.BOM_UTF8).splitlines(), start=1):
        try:
            line, problem = raw.decode("utf-8").strip(), None
        except UnicodeDecodeError as exc:
            line = raw.decode("utf-8", errors="replace").strip()
            problem = f"has bytes that are not UTF-8 (0x{raw[exc.start]:02x} at byte {exc.start + 1}: {exc.reason})"
        if not line or line.startswith("#"):
            continue
        problem = problem or url_problem(line)
        refs.append(BadLine(line, f"{path} line {number}: {line!r} {problem}") if problem else line)
    return refs


def url_problem(url: str) -> str | None:
    """What keeps `url` from being a URL to fetch, said of it (`is not a URL ...`); None for a URL, also one of a
    scheme other than http and https (fetch() refuses those with a reason of their own)."""
    if not _SCHEME.match(url) or url.startswith(NOT_A_URL):
        return "is not a URL (it needs http:// or https://)"
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES:
            return None
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        return f"is not a valid URL ({exc})"
    if not parts.hostname:
        return "is not a valid URL (no host)"
    if any(c.isspace() for c in parts.hostname):
        return f"is not a valid URL (a space in the host {parts.hostname!r})"
    return None


def fetch_all(urls: list[str], limits: FetchLimits) -> list[Capture]:
    """Captures of the URLs, in order, fetched through one shared client."""
    if not urls:
        return []
    client = httpx.Client(
        timeout=httpx.Timeout(limits.timeout),
        follow_redirects=True,
        max_redirects=limits.max_redirects,
        headers={"User-Agent": USER_AGENT},
    )
    with client, ThreadPoolExecutor(max_workers=min(limits.concurrency, len(urls))) as pool:
        return list(pool.map(lambda url: fetch(client, url, limits), urls))


def fetch(client: httpx.Client, url: str, limits: FetchLimits, sleep: Callable[[float], None] = time.sleep) -> Capture:
    """One URL's capture. A failure is a capture with an error and `attempt` set, so that its page_id is new
    and the next run fetches the URL again. A bad line of a URL list, a URL that cannot be parsed and a URL of
    another scheme are errors without any request, and without `attempt`: they do not change by trying again."""
    refused = _refused(url)
    if refused is not None:
        return refused
    for attempt in range(1, limits.attempts + 1):
        fetched_at = datetime.now(UTC)
        try:
            final_url, data, charset = _get(client, url, limits)
        except _Failure as failure:
            if failure.retry and attempt < limits.attempts:
                sleep(min(failure.wait, MAX_RETRY_AFTER) if failure.wait else limits.backoff * 2 ** (attempt - 1))
                continue
            tries = f" ({attempt} attempts)" if attempt > 1 else ""
            return Capture(
                url,
                b"",
                url=failure.url or url,
                captured_at=fetched_at,
                error=f"fetch failed: {failure.reason}{tries}",
                attempt=fetched_at.isoformat(),
            )
        return Capture(url, data, url=final_url, captured_at=fetched_at, charset=charset)
    raise AssertionError("unreachable: attempts must be at least 1")


def _refused(ref: str) -> Capture | None:
    """The error capture of a ref that is not to be requested at all; None for an http or https URL."""
    if isinstance(ref, BadLine):
        return Capture(_line_of(ref), b"", error=ref.reason)
    if ref.startswith(NOT_A_URL):  # a bad line's ref that lost its reason on the way
        line = _line_of(ref)
        return Capture(line, b"", error=f"{line!r} is not a URL (it needs http:// or https://)")
    problem = url_problem(ref)
    if problem:
        return Capture(str(ref), b"", error=f"{ref!r} {problem}")
    scheme = urlsplit(ref).scheme.lower()
    if scheme not in SCHEMES:
        return Capture(ref, b"", url=ref, error=f"unsupported URL scheme {scheme}: only http and https")
    return None


def _get(client: httpx.Client, url: str, limits: FetchLimits) -> tuple[str, bytes, str | None]:
    """(final URL, body, charset) of a 2xx response, else a _Failure saying why."""
    deadline = _Deadline(limits.deadline)
    try:
        with client.stream("GET", url, extensions={"trace": deadline.trace}) as response:
            deadline.watch(response.extensions.get("network_stream"), body=True)
            final = str(response.url)
            if not response.is_success:
                status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                retry = response.status_code in RETRY_STATUS or response.status_code >= 500
                raise _Failure(status, retry, _retry_after(response.headers.get("Retry-After")), final)
            data = _body(response, limits.max_bytes, deadline)
            deadline.stop()  # before the connection goes back to the pool, for other URLs
            return final, data, response.charset_encoding
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise deadline.failure() if deadline.stop() else _failure(exc, limits) from exc
    finally:
        deadline.stop()


def _failure(exc: httpx.HTTPError | httpx.InvalidURL, limits: FetchLimits) -> _Failure:
    """Why a request failed, and whether another attempt may do better."""
    if isinstance(exc, httpx.TimeoutException):
        return _Failure(f"timed out after {limits.timeout:g} s", retry=True)
    if isinstance(exc, httpx.TooManyRedirects):
        return _Failure(f"more than {limits.max_redirects} redirects")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return _Failure(f"redirected to an unsupported URL: {exc}")
    if isinstance(exc, httpx.TransportError):  # refused, reset, DNS, protocol errors
        return _Failure(f"{type(exc).__name__}: {exc}", retry=True)
    return _Failure(f"{type(exc).__name__}: {exc}")


def _body(response: httpx.Response, max_bytes: int, deadline: _Deadline) -> bytes:
    """The body, streamed; abandoned as soon as it is larger than the cap (or says it will be), or at the
    deadline."""
    declared = response.headers.get("Content-Length", "")
    too_large = _Failure(f"larger than {size_text(max_bytes)}", url=str(response.url))
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        if deadline.expired():
            raise deadline.failure()
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


class _Deadline:
    """An attempt's limit in time. A read is bounded by `timeout`, but a server that sends a byte before each read
    times out could hold the attempt for ever: at the deadline this shuts the attempt's socket down, which ends a
    read blocked on it at once (the body's loop checks the time as well). The socket is that of each connection the
    attempt opens (the connect trace), or of a pooled connection it reuses, once that connection's response headers
    are in; it is let go when its response closes, as the connection may then serve another URL."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.due = time.monotonic() + seconds
        self.passed = False
        self._body = False
        self._stopped = False
        self._streams: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace extension: the streams of new connections, and when a response closes."""
        if event.endswith(("connect_tcp.complete", "start_tls.complete")):
            self.watch(info.get("return_value"))
        elif event.endswith("response_closed.started"):
            with self._lock:
                self._streams.clear()

    def watch(self, stream: Any, body: bool = False) -> None:
        with self._lock:
            self._body = self._body or body
            if stream is None or self._stopped:
                return
            self._streams.append(stream)
            if self.passed:
                _shut(stream)

    def expired(self) -> bool:
        return time.monotonic() >= self.due

    def stop(self) -> bool:
        """Stop watching (the attempt is over); whether the deadline had passed."""
        with self._lock:
            self._stopped = True
            self._streams.clear()
        self._timer.cancel()
        return self.passed

    def failure(self) -> _Failure:
        where = "receiving the body" if self._body else "waiting for the response"
        return _Failure(f"deadline of {self.seconds:g} s passed ({where})")

    def _expire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.passed = True
            for stream in self._streams:
                _shut(stream)


def _shut(stream: Any) -> None:
    """Shut a connection's socket down: a read blocked on it returns at once, and the connection is not reused."""
    sock = stream.get_extra_info("socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # closed already
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # not SSLSocket.shutdown: it unwraps under the reader


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: fall back to the backoff
        return None

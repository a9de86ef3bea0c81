"""URL lists: read the list, fetch each URL with httpx (timeouts, retries with backoff, a size cap)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from flows.capture import Capture, SourceError, size_text

URL_LIST_SUFFIXES = (".urls", ".urls.txt")
SCHEMES = ("http", "https")
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})  # and any other 5xx
USER_AGENT = "newsflow (+https://github.com/newsflow)"
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is not waited for


@dataclass(frozen=True)
class FetchLimits:
    """How URLs are fetched; newsflow.settings holds the defaults (NEWSFLOW_FETCH_*)."""

    timeout: float = 20.0  # seconds to connect, and between bytes read
    attempts: int = 3  # tries per URL on connection errors, timeouts, 429 and 5xx
    max_bytes: int = 10_000_000  # a larger body is abandoned
    backoff: float = 1.0  # seconds before the 2nd attempt, doubled for each further one
    max_redirects: int = 5
    concurrency: int = 8  # URLs fetched at the same time through the shared client


class _Failure(Exception):
    """Why an attempt failed, and whether another attempt may do better."""

    def __init__(self, reason: str, retry: bool = False, wait: float | None = None, url: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry, self.url = reason, retry, url
        self.wait = wait  # a Retry-After the server asked for


def is_url_list(path: str | os.PathLike[str]) -> bool:
    return os.path.basename(path).lower().endswith(URL_LIST_SUFFIXES)


def read_url_list(path: Path) -> list[str]:
    """The URLs of a list file, one a line; blank lines and `#` comments are skipped. A line without a
    scheme is a mistake in the list, refused before anything runs."""
    urls = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        url = line.strip()
        if not url or url.startswith("#"):
            continue
        if not urlsplit(url).scheme:
            raise SourceError(f"{path} line {number}: {url!r} is not a URL (it needs http:// or https://)")
        urls.append(url)
    return urls


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
    and the next run fetches the URL again; a URL of another scheme is an error without any request."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        return Capture(url, b"", url=url, error=f"unsupported URL scheme {scheme}: only http and https")
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


def _get(client: httpx.Client, url: str, limits: FetchLimits) -> tuple[str, bytes, str | None]:
    """(final URL, body, charset) of a 2xx response, else a _Failure saying why."""
    try:
        with client.stream("GET", url) as response:
            final = str(response.url)
            if not response.is_success:
                status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                retry = response.status_code in RETRY_STATUS or response.status_code >= 500
                raise _Failure(status, retry, _retry_after(response.headers.get("Retry-After")), final)
            return final, _body(response, limits.max_bytes), response.charset_encoding
    except httpx.TimeoutException as exc:
        raise _Failure(f"timed out after {limits.timeout:g} s", retry=True) from exc
    except httpx.TooManyRedirects as exc:
        raise _Failure(f"more than {limits.max_redirects} redirects") from exc
    except httpx.UnsupportedProtocol as exc:
        raise _Failure(f"redirected to an unsupported URL: {exc}") from exc
    except httpx.TransportError as exc:  # refused, reset, DNS, protocol errors
        raise _Failure(f"{type(exc).__name__}: {exc}", retry=True) from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _Failure(f"{type(exc).__name__}: {exc}") from exc


def _body(response: httpx.Response, max_bytes: int) -> bytes:
    """The body, streamed; abandoned as soon as it is larger than the cap (or says it will be)."""
    declared = response.headers.get("Content-Length", "")
    too_large = _Failure(f"larger than {size_text(max_bytes)}", url=str(response.url))
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: fall back to the backoff
        return None

"""Shared fixtures: where the example pages and the seed are, parsing helpers, a Prefect test harness."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import polars as pl
import pytest

from newsflow.drafting.rules import load_rules
from newsflow.sources.pages import read_pages
from newsflow.transforms.pages import Parsed, parse_pages

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "pages"
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seeds" / "000_b56e522d1e63ff35.txt"
EXPECTED: dict[str, dict] = json.loads((ROOT / "examples" / "expected.json").read_text(encoding="utf-8"))


def pytest_configure(config: pytest.Config) -> None:
    """Prefect keeps its database in PREFECT_HOME (~/.prefect): the tests, and the newsflow processes they start,
    get one of their own, so they neither touch the user's nor fail on one another Prefect version migrated. Under
    pytest-xdist each test process gets its own below it: their temporary servers never share one SQLite file."""
    home = os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="newsflow-tests-prefect-"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... in pytest-xdist's test processes
    if worker and Path(home).name != worker:
        os.environ["PREFECT_HOME"] = str(Path(home) / worker)


def aged(path: Path, seconds: int = 60) -> int:
    """Set a file's modification time `seconds` back (returned in ns): a file written moments before it is read
    gets no quick-check stamp, so tests that compare the pages of runs made at different moments age theirs."""
    then = time.time_ns() - seconds * 10**9
    os.utime(path, ns=(then, then))
    return then


def parse_files(*paths: Path) -> Parsed:
    """Parse pages from files the way the flow does, without Prefect or a warehouse."""
    return parse_pages(read_pages([str(p) for p in paths]), load_rules())


def raw_page(text: str, page_id: str = "p1") -> pl.DataFrame:
    """A one-page raw frame from inline text (the shape newsflow.sources.pages.read_pages returns)."""
    return pl.DataFrame(
        {
            "page_id": [page_id],
            "content_hash": [page_id * 8],
            "source": [f"/inline/{page_id}.txt"],
            "size_bytes": [len(text.encode())],
            "encoding": ["utf-8"],
            "text": [text],
            "read_reason": [None],
        },
        schema_overrides={"read_reason": pl.String},
    )


@pytest.fixture(scope="session")
def seed_path() -> Path:
    if not SEED.exists():
        pytest.skip(f"the seed page is not here ({SEED}): ../shared is not beside this checkout")
    return SEED


@pytest.fixture(scope="session")
def prefect_harness():
    """A throwaway Prefect API (temporary SQLite database) for the tests that run real flows."""
    from newsflow.flows.prefect_api import configure_prefect

    configure_prefect()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# what a headless chromium needs on a machine with no network and no display (as root: no sandbox)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture
def browser():
    """chromium(*args, profile=...): headless chromium, skipped without it (failed under NEWSFLOW_REQUIRE_BROWSER=1)."""
    if CHROMIUM is None:
        if os.environ.get("NEWSFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail("NEWSFLOW_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    return chromium

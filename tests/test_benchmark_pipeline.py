"""The end-to-end benchmark runner (benchmarks/pipeline.py): its page cache, its goals, and one real run on 30
pages through `newsflow run`, checked against the warehouse it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import psutil
import pytest

from benchmarks import pipeline
from newsflow.warehouse.storage import Warehouse

ROOT = Path(__file__).resolve().parents[1]
PAGES = 30


def test_pages_are_generated_once_per_size_and_seed(tmp_path: Path) -> None:
    first = pipeline.cached_pages(tmp_path, 12, seed=3)
    again = pipeline.cached_pages(tmp_path, 12, seed=3)
    other = pipeline.cached_pages(tmp_path, 12, seed=4)
    folder = Path(first["folder"])
    assert (first["cached"], again["cached"], other["cached"]) == (False, True, False)
    assert first["pages"] == again["pages"] == 12
    assert len(list(folder.iterdir())) == 12
    assert first["bytes"] == sum(p.stat().st_size for p in folder.iterdir()) > 0
    assert other["folder"] != first["folder"]


def test_pages_of_an_older_generator_are_made_again(tmp_path: Path) -> None:
    first = pipeline.cached_pages(tmp_path, 4, seed=7)
    marker = tmp_path / "pages-4-seed7.json"
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "generator": "an older one"}))
    (Path(first["folder"]) / "stale.txt").write_text("made by the older generator")
    again = pipeline.cached_pages(tmp_path, 4, seed=7)
    assert not again["cached"]
    assert again["generator"] == first["generator"]
    assert sorted(p.name for p in Path(again["folder"]).iterdir()) == sorted(
        p.name for p in Path(first["folder"]).iterdir() if p.name != "stale.txt"
    )
    assert pipeline.cached_pages(tmp_path, 4, seed=7)["cached"]


def test_an_interrupted_generation_is_redone(tmp_path: Path) -> None:
    (tmp_path / "pages-5-seed7").mkdir()  # a folder without its marker: generation never finished
    info = pipeline.cached_pages(tmp_path, 5, seed=7)
    assert not info["cached"]
    assert len(list(Path(info["folder"]).iterdir())) == 5


@pytest.mark.parametrize(
    ("value", "target", "at_most", "met"),
    [(1.2, 1.15, True, False), (1.1, 1.15, True, True), (300.0, 280.0, False, True), (None, 0.05, True, None)],
)
def test_goal_verdicts(value: float | None, target: float, at_most: bool, met: bool | None) -> None:
    assert pipeline.goal("g", value, target, at_most)["met"] is met


def test_memory_growth_compares_the_largest_size_with_the_smallest() -> None:
    sizes = [
        {"pages": 100_000, "first": {"peak_tree_pss_mb": 1500.0, "peak_tree_rss_mb": 1800.0}},
        {"pages": 10_000, "first": {"peak_tree_pss_mb": 1000.0, "peak_tree_rss_mb": 1000.0}},
    ]
    growth = pipeline.memory_growth(sizes)
    assert growth is not None
    assert (growth["small_pages"], growth["large_pages"], growth["growth"]) == (10_000, 100_000, 1.5)
    assert growth["goal"]["met"] is False
    assert pipeline.memory_growth(sizes[:1]) is None


def test_pss_between_reads_follows_the_change_of_rss(monkeypatch: pytest.MonkeyPatch) -> None:
    """PSS is read from smaps_rollup at most every PSS_READ_SECONDS; between reads it moves with RSS."""
    monkeypatch.setattr(pipeline, "PSS_READ_SECONDS", 3600.0)
    memory, this = pipeline.TreeMemory(os.getpid()), psutil.Process()  # this test's process, children or not
    pss, rss = memory._memory(this)
    block = bytearray(150 * 1024 * 1024)  # zero pages: resident only once written
    block[::4096] = b"\x01" * len(block[::4096])
    estimated, rss_after = memory._memory(this)
    assert rss_after - rss > 140 * 1024 * 1024
    assert estimated - pss == rss_after - rss
    monkeypatch.setattr(pipeline, "PSS_READ_SECONDS", 0.0)
    read, _ = memory._memory(this)
    assert read == pytest.approx(estimated, abs=20 * 1024 * 1024)
    del block


def test_the_sampler_forgets_processes_that_ended() -> None:
    memory = pipeline.TreeMemory(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        memory.tree_memory()
        assert child.pid in memory._read and os.getpid() in memory._read
    finally:
        child.kill()
        child.wait()
    memory.tree_memory()
    assert child.pid not in memory._read and os.getpid() in memory._read


@pytest.fixture(scope="module")
def small_run(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    from prefect.settings import PREFECT_API_URL

    work = tmp_path_factory.mktemp("bench")
    command = [sys.executable, str(ROOT / "benchmarks" / "pipeline.py"), "--pages", str(PAGES), "--skip-rerun"]
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}  # the harness's API: no server per run
    done = subprocess.run(
        [*command, "--keep", str(work), "--json"], capture_output=True, text=True, timeout=900, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), work


@pytest.mark.e2e
def test_a_small_run_reports_the_figures_of_the_warehouse_it_wrote(small_run: tuple[dict, Path]) -> None:
    result, work = small_run
    assert result["machine"]["cores"] >= 1 and result["machine"]["ram_gb"] > 0
    assert result["machine"]["packages"]["polars"] == pl.__version__
    (size,) = result["sizes"]
    first = size["first"]
    assert size["pages"] == first["pages_seen"] == PAGES
    assert first["pages_skipped"] == 0
    warehouse = Warehouse.at(work / f"warehouse-{PAGES}-seed7")
    assert first["articles_rows"] == warehouse.read("articles").height > 0
    assert first["entities_rows"] == warehouse.read("entities").height > 0
    assert first["peak_tree_pss_mb"] > 50 and first["memory_samples"] >= 1 and first["ru_maxrss_children_mb"] > 0
    # PSS shares the pages a worker and the run both map (libraries, the MeCab dictionary) out between them
    assert first["peak_tree_rss_mb"] > first["peak_tree_pss_mb"]
    at_peak = dict(first["at_peak_mb"])  # what each process held at the peak: they add up to it
    assert sum(mb for _, mb in first["at_peak_mb"]) == pytest.approx(first["peak_tree_pss_mb"])
    assert at_peak["run"] > 50 and "Prefect server" not in at_peak  # runs report to the harness's API
    assert {"read", "parse", "entities", "validate"} <= first["stage_seconds"].keys()
    assert all(first["stage_seconds"][s] > 0 for s in ("read", "parse", "entities", "validate"))
    assert first["process_seconds"] > first["flow_seconds"] > 0
    rates = size["pages_per_s"]
    assert rates["end to end (process)"] == pytest.approx(PAGES / first["process_seconds"])
    assert rates["parse"] == pytest.approx(PAGES / first["stage_seconds"]["parse"])
    analyser = size["analyser"]
    assert analyser["workers"] == pipeline.default_workers()
    assert analyser["texts"] >= first["articles_rows"] and analyser["characters"] > 0 and analyser["seconds"] > 0
    assert size["ratios"]["end_to_end_to_analyser"] == pytest.approx(first["process_seconds"] / analyser["seconds"])
    assert size["rerun"] is None and size["ratios"]["rerun_to_first"] is None
    verdicts = {g["goal"]: g["met"] for g in size["goals"]}
    assert verdicts["re-run / first run"] is None
    assert verdicts["peak memory of the run, MB"] is (first["peak_tree_pss_mb"] <= pipeline.GOAL_PEAK_MB)
    assert result["memory_growth"] is None
    assert json.loads((work / "result.json").read_text())["sizes"][0]["first"]["run_id"] == first["run_id"]


@pytest.mark.e2e
def test_the_report_prints_a_row_per_stage_and_the_goals(small_run: tuple[dict, Path]) -> None:
    result, _ = small_run
    text = pipeline.report(result)
    first = result["sizes"][0]["first"]
    assert text.startswith(f"command: {result['command']}\nmachine: ")
    assert f"prefect {result['machine']['packages']['prefect']}, polars {pl.__version__}," in text
    for label in [*first["stage_seconds"], "end to end (flow)", "end to end (process)", "analyser alone", "re-run"]:
        assert f"| {label:<22} |" in text
    assert f"| {'re-run':<22} | {'-':>9} | {'-':>10} |" in text
    assert "goal re-run / first run: not measured" in text
    assert f"## {PAGES} pages -> {first['articles_rows']} articles" in text


@pytest.mark.e2e
def test_the_prefect_server_option_serves_every_run_and_stops_after_them(tmp_path: Path) -> None:
    with pipeline.prefect_api(tmp_path, start=True) as env:
        assert env is not None
        url = env["PREFECT_API_URL"]
        assert url.startswith("http://127.0.0.1:") and pipeline.api_answers(url)
        assert env["PREFECT_HOME"] == str(tmp_path / "prefect-home")
    assert not pipeline.api_answers(url)
    with pipeline.prefect_api(tmp_path, start=False) as env:
        assert env is None  # the runs inherit this command's environment


def test_the_temporary_prefect_server_is_named_as_such_at_the_peak(monkeypatch) -> None:
    """`at the peak:` names each process of the run's tree by its command line, the early server's included."""
    import subprocess

    from newsflow.flows.prefect_api import EarlyServer

    launched: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda command, env: launched.append(command))
    EarlyServer()

    class Process:
        def __init__(self, pid: int, command: list[str]) -> None:
            self.pid, self.command = pid, command

        def cmdline(self) -> list[str]:
            return self.command

        def name(self) -> str:
            return "python"

    root = Process(1, [sys.executable, "-m", "newsflow", "run", "pages"])
    assert pipeline.role(root, root) == "run"
    assert pipeline.role(Process(2, launched[0]), root) == "Prefect server"
    spawned = [sys.executable, "-B", "-c", "from multiprocessing.spawn import spawn_main; spawn_main()"]
    assert pipeline.role(Process(3, spawned), root) == "worker"

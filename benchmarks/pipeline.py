"""The end-to-end benchmark: `newsflow run` on 10,000 and 100,000 generated pages, against its goals.

    .venv/bin/python benchmarks/pipeline.py                          # 10,000 and 100,000 pages, seed 7
    .venv/bin/python benchmarks/pipeline.py --pages 10000 --keep /tmp/bench   # cache the pages there
    .venv/bin/python benchmarks/pipeline.py --pages 2000 --skip-rerun --json
    .venv/bin/python benchmarks/pipeline.py --prefect-server   # every run reports to one `prefect server`

For each size the pages are generated once (benchmarks/generate.py; cached by size and seed in the work folder,
so a second invocation with the same `--keep` reuses them), then, in this one command:

1. first run: `newsflow run` in its own process on an empty warehouse, exactly as a user runs it. Timed from
   process start to exit, and by the flow itself (the `seconds` and `stage_seconds` of its `runs` row). Peak
   memory is the largest sum of the PSS (proportional set size) of the whole process tree (the flow, its entity
   workers, Prefect's temporary server), polled every 0.2 s with psutil: a page shared by n processes (a
   library's code, the MeCab dictionary every worker maps) counts 1/n in each, so the sum is the memory the tree
   takes from the machine. The largest sum of RSS, which counts a shared page once per process and so
   over-states, is reported beside it, and so are `getrusage(RUSAGE_CHILDREN).ru_maxrss` (the largest single
   descendant so far in this command) and what each process held at the peak (the run, each worker, Prefect's
   server).
2. re-run: the same command on the same, unchanged pages and warehouse (every page is in the ledger already).
3. analyser alone: the article texts the first run landed (body paragraphs joined with newlines, as the entity
   stage joins them, plus the caption texts the stage also analyses) through MeCab alone
   (benchmarks/mecab_timing.py), in as many warm processes as the flow's entity stage uses.

The runner relies only on the command line and on what the warehouse holds (`runs`, `articles`), so it measures
whatever the flow does inside. The machine is shared and noisy: the ratios against baselines measured in the same
command say more than the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import fingerprint, generate  # noqa: E402
from benchmarks.mecab_timing import mecab_in_processes  # noqa: E402
from benchmarks.parse import export  # noqa: E402
from newsflow.core.schema import TABLES  # noqa: E402
from newsflow.flows.prefect_api import api_answers  # noqa: E402
from newsflow.warehouse.lake import CATALOG_FILE  # noqa: E402
from newsflow.warehouse.storage import Warehouse  # noqa: E402

SIZES = (10_000, 100_000)
POLL_SECONDS = 0.2
# a process's PSS is read (from /proc/PID/smaps_rollup, which walks its page tables: kernel time that grows with the
# process and, read at every poll, would be taken from the run being measured) at most this often; in between it is
# the last PSS read plus the change of RSS since (statm, cheap), which is exact for what changes (private memory)
PSS_READ_SECONDS = 1.0
MB = 1024 * 1024
# the goals, on the 2-core machine
GOAL_PAGES_PER_S = 280.0  # end to end: a million pages an hour
GOAL_ANALYSER_RATIO = 1.15  # end-to-end time / MeCab alone on the same texts
GOAL_PEAK_MB = 1536.0  # 1.5 GB, at every size
GOAL_RERUN_RATIO = 0.05  # unchanged re-run / first run
GOAL_FLAT = 1.25  # "flat": the largest size's peak at most this many times the smallest's
# the versions printed with the figures: a new release of any of them moves time and memory
MEASURED_PACKAGES = ("prefect", "polars", "pyarrow", "pandas", "great-expectations", "duckdb", "python-mecab-ko")


# --- pages ----------------------------------------------------------------------------------------------------------


def cached_pages(work: Path, pages: int, seed: int) -> dict[str, Any]:
    """The generated pages for (pages, seed) in `work`, written once; a marker beside the folder records that
    generation finished and what generated them, so an interrupted generation, or one by an older generator or
    from older examples, is redone."""
    folder = work / f"pages-{pages}-seed{seed}"
    marker = work / f"pages-{pages}-seed{seed}.json"
    generator = fingerprint()
    if marker.exists() and folder.is_dir():
        info = json.loads(marker.read_text())
        if info.get("generator") == generator:
            return {**info, "folder": str(folder), "cached": True}
    marker.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    paths = generate(folder, pages, seed)
    seconds = time.perf_counter() - start
    written = sum(path.stat().st_size for path in paths)
    info = {"pages": len(paths), "seed": seed, "generator": generator, "seconds": seconds, "bytes": written}
    marker.write_text(json.dumps(info))
    return {**info, "folder": str(folder), "cached": False}


# --- one `newsflow run`, measured -------------------------------------------------------------------------------------


@dataclass
class TreeMemory:
    """Peaks of the summed PSS and of the summed RSS of a process and all its descendants, polled in a thread."""

    pid: int
    peak: int = 0  # summed PSS
    peak_rss: int = 0
    samples: int = 0
    at_peak: list[tuple[str, int]] = field(default_factory=list)  # (role, PSS) of each process at the PSS peak
    _stop: threading.Event = field(default_factory=threading.Event)
    _read: dict[int, tuple[float, int, int]] = field(default_factory=dict)  # pid -> (when, PSS, RSS) last read

    def tree_memory(self) -> list[tuple[str, int, int]]:
        """(role, PSS, RSS) of the process and each of its descendants; PSS as of PSS_READ_SECONDS ago at most,
        plus the change of RSS since."""
        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        listed = {process.pid for process in processes}  # forget ended processes: a new one may take the pid
        self._read = {pid: read for pid, read in self._read.items() if pid in listed}
        found = []
        for process in processes:
            try:
                found.append((role(process, root), *self._memory(process)))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue  # ended between listing and reading
        return found

    def _memory(self, process: psutil.Process) -> tuple[int, int]:
        """(PSS, RSS) of one process."""
        now = time.monotonic()
        last = self._read.get(process.pid)
        if last is None or now - last[0] >= PSS_READ_SECONDS:
            memory = process.memory_full_info()  # Linux: /proc/PID/smaps_rollup
            self._read[process.pid] = (now, memory.pss, memory.rss)
            return memory.pss, memory.rss
        rss = process.memory_info().rss  # Linux: /proc/PID/statm
        return max(0, last[1] + rss - last[2]), rss

    def poll(self) -> None:
        while not self._stop.is_set():
            processes = self.tree_memory()
            pss = sum(p for _, p, _ in processes)
            if pss > self.peak:
                self.peak, self.at_peak = pss, [(name, p) for name, p, _ in processes]
            self.peak_rss = max(self.peak_rss, sum(rss for _, _, rss in processes))
            self.samples += 1
            self._stop.wait(POLL_SECONDS)

    def __enter__(self) -> TreeMemory:
        self._thread = threading.Thread(target=self.poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def role(process: psutil.Process, root: psutil.Process) -> str:
    """What a process of a run's tree is: the run itself, a worker, Prefect's server, or its own name."""
    if process.pid == root.pid:
        return "run"
    command = " ".join(process.cmdline())
    server = "prefect.server.api.server:create_app"  # the app of newsflow's temporary server and of Prefect's
    for marker, name in (("multiprocessing.spawn", "worker"), (server, "Prefect server"), ("prefect", "Prefect")):
        if marker in command:
            return name
    return process.name()


def newsflow_command(pages: Path, warehouse: Path, workers: int | None, batch_size: int | None) -> list[str]:
    command = [sys.executable, "-m", "newsflow", "run", str(pages), "--warehouse", str(warehouse)]
    if workers is not None:
        command += ["--workers", str(workers)]
    if batch_size is not None:
        command += ["--batch-size", str(batch_size)]
    return command


def is_lake(warehouse: Path) -> bool:
    """Whether the warehouse is a DuckLake (this tree); else it is the part-file layout of revisions before it
    (`--against` an older commit)."""
    return (warehouse / CATALOG_FILE).exists()


def read_table(warehouse: Path, table: str) -> pl.DataFrame:
    """A table's rows as the warehouse holds them, in either layout (the older one read straight from its files;
    its uncommitted or replaced files are not told apart, which the runs here never leave)."""
    if is_lake(warehouse):
        return Warehouse.at(warehouse).read(table)
    files = sorted((warehouse / table).rglob("*.parquet"))
    return pl.read_parquet(files, hive_partitioning=False) if files else pl.DataFrame()


def storage(warehouse: Path) -> dict[str, Any]:
    """Data files per table and the catalog's size in bytes, in either layout."""
    if is_lake(warehouse):
        store = Warehouse.at(warehouse)
        with store.connect(read_only=True) as con:
            files = {table: len(store.files(table, con)) for table in TABLES}
        catalog = sum(p.stat().st_size for p in warehouse.glob(CATALOG_FILE + "*"))
    else:
        files = {table: len(list((warehouse / table).rglob("*.parquet"))) for table in TABLES}
        catalog = (warehouse / "warehouse.duckdb").stat().st_size if (warehouse / "warehouse.duckdb").exists() else 0
    data = sum(p.stat().st_size for p in warehouse.rglob("*.parquet"))
    return {"files": files, "catalog_bytes": catalog, "data_bytes": data}


def latest_run(warehouse: Path) -> dict[str, Any]:
    """The newest row of the warehouse's runs table."""
    runs = read_table(warehouse, "runs")
    if runs.is_empty():
        raise SystemExit(f"no runs table in {warehouse}: the run committed nothing")
    return runs.sort("started_at").row(-1, named=True)


def measured_run(
    command: list[str], warehouse: Path, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """Run the command (in `cwd`, which `python -m` puts first on the path), timing it and polling its process
    tree's memory; its `runs` row's figures."""
    start = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        with TreeMemory(process.pid) as memory:
            code = process.wait()
    wall = time.perf_counter() - start
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"`{shlex.join(command)}` failed with exit code {code}; the end of {log}:\n{tail}")
    row = latest_run(warehouse)
    return {
        "run_id": row["run_id"],
        "process_seconds": wall,
        "flow_seconds": row["seconds"],
        "stage_seconds": json.loads(row["stage_seconds"]),
        "pages_seen": row["pages_seen"],
        "pages_skipped": row["pages_skipped"],
        "articles_rows": row["articles_rows"],
        "entities_rows": row["entities_rows"],
        "weather_rows": row["weather_rows"],
        "quarantine_rows": row["quarantine_rows"],
        "peak_tree_pss_mb": memory.peak / MB,
        "peak_tree_rss_mb": memory.peak_rss / MB,
        "memory_samples": memory.samples,
        "at_peak_mb": [[name, pss / MB] for name, pss in sorted(memory.at_peak, key=lambda p: -p[1])],
        "ru_maxrss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,  # KiB on Linux
        "log": str(log),
        "land_seconds": json.loads(row["stage_seconds"]).get("land"),
        "storage": storage(warehouse),
    }


# --- the analyser alone ---------------------------------------------------------------------------------------------


def landed_texts(warehouse: Path, run_id: str) -> list[str]:
    """The texts the entity stage analysed for the run's articles: each body (paragraphs joined with newlines) and
    each non-empty caption text block (caption texts joined with newlines)."""
    articles = (
        read_table(warehouse, "articles")
        .lazy()
        .filter(pl.col("run_id") == run_id)
        .select(
            body=pl.col("body").list.join("\n").fill_null(""),
            captions=pl.col("captions").list.eval(pl.element().struct.field("text")).list.join("\n").fill_null(""),
        )
        .collect()
    )
    captions = [text for text in articles["captions"].to_list() if text]
    return articles["body"].to_list() + captions


def analyser_alone(warehouse: Path, run_id: str, workers: int) -> dict[str, Any]:
    texts = landed_texts(warehouse, run_id)
    seconds = mecab_in_processes(texts, workers) if texts else 0.0
    return {"texts": len(texts), "characters": sum(map(len, texts)), "workers": workers, "seconds": seconds}


# --- one size -------------------------------------------------------------------------------------------------------


def default_workers() -> int:
    """One per core this process may run on: what `newsflow run` uses when --workers is not given."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def goal(name: str, value: float | None, target: float, at_most: bool, unit: str = "") -> dict[str, Any]:
    """A goal and whether `value` meets it (None: not measured); unit "%" or "x" says how to print a ratio."""
    met = None if value is None else (value <= target if at_most else value >= target)
    return {"goal": name, "value": value, "target": target, "at_most": at_most, "unit": unit, "met": met}


def size_goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    r = result["ratios"]
    return [
        goal("pages/s end to end (process)", result["pages_per_s"]["end to end (process)"], GOAL_PAGES_PER_S, False),
        goal("end to end / analyser alone", r["end_to_end_to_analyser"], GOAL_ANALYSER_RATIO, True, "x"),
        goal("peak memory of the run, MB", result["first"]["peak_tree_pss_mb"], GOAL_PEAK_MB, True),
        goal("re-run / first run", r["rerun_to_first"], GOAL_RERUN_RATIO, True, "%"),
    ]


def pages_per_second(pages: int, first: dict[str, Any], analyser: dict | None, rerun: dict | None) -> dict:
    rates = {stage: pages / s if s else None for stage, s in first["stage_seconds"].items()}
    rates["end to end (flow)"] = pages / first["flow_seconds"]
    rates["end to end (process)"] = pages / first["process_seconds"]
    rates["analyser alone"] = pages / analyser["seconds"] if analyser and analyser["seconds"] else None
    rates["re-run"] = pages / rerun["process_seconds"] if rerun else None
    return rates


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries the tables or the JSON)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_size(pages: int, args: argparse.Namespace, work: Path, env: dict[str, str] | None) -> dict[str, Any]:
    progress(f"{pages:,} pages: generating (or reusing) the pages")
    generated = cached_pages(work, pages, args.seed)
    warehouse = work / f"warehouse-{pages}-seed{args.seed}"
    shutil.rmtree(warehouse, ignore_errors=True)
    command = newsflow_command(Path(generated["folder"]), warehouse, args.workers, args.batch_size)
    progress(f"{pages:,} pages: first run: {shlex.join(command)}")
    first = measured_run(command, warehouse, work / f"run-{pages}-first.log", env)
    rerun = None
    if not args.skip_rerun:
        progress(f"{pages:,} pages: unchanged re-run")
        rerun = measured_run(command, warehouse, work / f"run-{pages}-rerun.log", env)
    against = None
    if args.against_root:
        other = work / f"warehouse-{pages}-seed{args.seed}-against"
        shutil.rmtree(other, ignore_errors=True)
        command_other = newsflow_command(Path(generated["folder"]), other, args.workers, args.batch_size)
        progress(f"{pages:,} pages: first run of {args.against} (PYTHONPATH={args.against_root})")
        against_env = {**(env or os.environ), "PYTHONPATH": str(args.against_root)}
        log = work / f"run-{pages}-against.log"
        against = measured_run(command_other, other, log, against_env, cwd=args.against_root)
        against["revision"] = args.against
    workers = args.workers or default_workers()
    analyser = None
    if not args.skip_analyser:
        progress(f"{pages:,} pages: MeCab alone on the landed texts, {workers} processes")
        analyser = analyser_alone(warehouse, first["run_id"], workers)
    seen = first["pages_seen"]
    result = {
        "pages": pages,
        "generate": generated,
        "command": shlex.join(command),
        "first": first,
        "rerun": rerun,
        "against": against,
        "analyser": analyser,
        "pages_per_s": pages_per_second(seen, first, analyser, rerun),
        "ratios": {
            "rerun_to_first": ratio(rerun and rerun["process_seconds"], first["process_seconds"]),
            # pages per second of this tree over the other revision's (above 1: this tree is faster)
            "against": ratio(against and against["process_seconds"], first["process_seconds"]),
            "end_to_end_to_analyser": ratio(first["process_seconds"], analyser and analyser["seconds"]),
            "flow_to_analyser": ratio(first["flow_seconds"], analyser and analyser["seconds"]),
            "entities_stage_to_analyser": ratio(
                first["stage_seconds"].get("entities"), analyser and analyser["seconds"]
            ),
        },
    }
    result["goals"] = size_goals(result)
    return result


# --- the whole command ----------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "usable_cores": default_workers(),
        "ram_gb": psutil.virtual_memory().total / 1024**3,
        "available_ram_gb": psutil.virtual_memory().available / 1024**3,
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: metadata.version(name) for name in MEASURED_PACKAGES},
    }


def memory_growth(sizes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Peak memory of the largest size against the smallest's (flat: at most GOAL_FLAT times)."""
    if len(sizes) < 2:
        return None
    small, large = min(sizes, key=lambda s: s["pages"]), max(sizes, key=lambda s: s["pages"])
    growth = ratio(large["first"]["peak_tree_pss_mb"], small["first"]["peak_tree_pss_mb"])
    return {
        "small_pages": small["pages"],
        "large_pages": large["pages"],
        "small_peak_mb": small["first"]["peak_tree_pss_mb"],
        "large_peak_mb": large["first"]["peak_tree_pss_mb"],
        "growth": growth,
        "goal": goal("peak memory, largest / smallest size", growth, GOAL_FLAT, True, "x"),
    }


def run(args: argparse.Namespace, work: Path, argv: Sequence[str], show: bool = False) -> dict[str, Any]:
    """Every size, in order; with `show`, each size's table is printed as soon as it is measured."""
    result: dict[str, Any] = {
        "command": shlex.join(["benchmarks/pipeline.py", *argv]),
        "machine": machine(),  # the load average before this command adds its own
        "seed": args.seed,
        "work": str(work),
        "prefect": "a running `prefect server`" if args.prefect_server else "Prefect's temporary server, one per run",
        "sizes": [],
    }
    if show:
        print("\n".join(header(result)), flush=True)
    with prefect_api(work, args.prefect_server) as env:
        for pages in args.pages:
            result["sizes"].append(bench_size(pages, args, work, env))
            (work / "result.json").write_text(json.dumps(result, indent=2))  # the figures so far, whatever comes next
            if show:
                print("\n".join(size_report(result["sizes"][-1])), flush=True)
    result["memory_growth"] = memory_growth(result["sizes"])
    if show and result["memory_growth"]:
        print("\n".join(growth_report(result["memory_growth"])), flush=True)
    return result


@contextmanager
def prefect_api(work: Path, start: bool) -> Iterator[dict[str, str] | None]:
    """The environment of the runs. By default this command's own: each `newsflow run` starts (and stops)
    Prefect's temporary server, as a bare `newsflow run` does. With `start`: a `prefect server start` on
    127.0.0.1, with its own home in the work folder, that every run reports to through PREFECT_API_URL, as
    scheduled runs do (`newsflow serve`); it is not part of any run's process tree, so not of its peak memory."""
    if not start:
        yield None
        return
    home = work / "prefect-home"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
    }
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    prefect = str(Path(sys.executable).with_name("prefect"))
    command = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    progress(f"starting {shlex.join(command)}")
    url = f"http://127.0.0.1:{port}/api"
    with (work / "prefect-server.log").open("w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180
            while not api_answers(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the Prefect server did not start; see {work / 'prefect-server.log'}")
                time.sleep(0.5)
            yield {**env, "PREFECT_API_URL": url}
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# --- report ---------------------------------------------------------------------------------------------------------


def _row(label: str, seconds: float | None, rate: float | None) -> str:
    s = f"{seconds:>9.1f}" if seconds is not None else f"{'-':>9}"
    r = f"{rate:>10,.1f}" if rate is not None and rate < 10 else f"{rate:>10,.0f}" if rate is not None else f"{'-':>10}"
    return f"| {label:<22} | {s} | {r} |"


def _verdict(g: dict[str, Any]) -> str:
    if g["met"] is None:
        return "not measured"
    sign = "<=" if g["at_most"] else ">="
    unit = g["unit"]
    fmt = {"%": ".1%", "x": ".2f"}.get(unit, ",.0f")
    value, target = f"{g['value']:{fmt}}", f"{g['target']:{fmt}}"
    if unit == "x":
        value, target = value + "x", target + "x"
    return f"{value} (goal {sign} {target}): {'met' if g['met'] else 'NOT met'}"


def size_report(size: dict[str, Any]) -> list[str]:
    first, rates = size["first"], size["pages_per_s"]
    gen = size["generate"]
    lines = [
        f"\n## {size['pages']:,} pages -> {first['articles_rows']:,} articles, {first['entities_rows']:,} entities, "
        f"{first['weather_rows']:,} readings, {first['quarantine_rows']:,} quarantined",
        f"pages: {gen['bytes'] / MB:,.0f} MB, generated in {gen['seconds']:.1f} s"
        + (" (cached)" if gen["cached"] else ""),
        f"`{size['command']}`\n",
        f"| {'stage':<22} | {'seconds':>9} | {'pages/s':>10} |",
        f"|{'-' * 24}|{'-' * 10}:|{'-' * 11}:|",
    ]
    lines += [_row(stage, s, rates[stage]) for stage, s in first["stage_seconds"].items()]
    lines.append(_row("end to end (flow)", first["flow_seconds"], rates["end to end (flow)"]))
    lines.append(_row("end to end (process)", first["process_seconds"], rates["end to end (process)"]))
    analyser, rerun = size["analyser"], size["rerun"]
    lines.append(_row("analyser alone", analyser and analyser["seconds"], rates["analyser alone"]))
    lines.append(_row("re-run", rerun and rerun["process_seconds"], rates["re-run"]))
    lines.append("")
    lines.append(
        f"peak memory: {first['peak_tree_pss_mb']:,.0f} MB summed PSS of the process tree "
        f"({first['memory_samples']} samples); summed RSS {first['peak_tree_rss_mb']:,.0f} MB; ru_maxrss of the "
        f"largest child so far {first['ru_maxrss_children_mb']:,.0f} MB"
    )
    lines.append("at the peak: " + ", ".join(f"{name} {mb:,.0f} MB" for name, mb in first["at_peak_mb"] if mb >= 20))
    if analyser:
        lines.append(
            f"analyser alone: {analyser['texts']:,} texts, {analyser['characters'] / 1e6:,.1f} M characters, "
            f"{analyser['workers']} processes; flow / analyser {size['ratios']['flow_to_analyser']:.2f}, "
            f"entities stage / analyser {size['ratios']['entities_stage_to_analyser']:.2f}"
        )
    if rerun:
        lines.append(f"re-run: {rerun['pages_skipped']:,} of {rerun['pages_seen']:,} pages skipped")
    lines += storage_report(size)
    lines += [f"goal {g['goal']}: {_verdict(g)}" for g in size["goals"]]
    return lines


def storage_report(size: dict[str, Any]) -> list[str]:
    """Landing time, files per table and catalog size: this tree, and the other revision with --against."""
    sides = [("this tree", size["first"])] + (
        [(size["against"]["revision"], size["against"])] if size["against"] else []
    )
    head = f"| {'':<16} | {'pages/s':>8} | {'land s':>7} | {'peak MB':>7} | {'catalog MB':>10} | {'data MB':>8} |"
    lines = ["", head + " files per table", f"|{'-' * 18}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|{'-' * 11}:|{'-' * 9}:|---"]
    for name, run in sides:
        st = run["storage"]
        files = ", ".join(f"{table} {count}" for table, count in st["files"].items() if count)
        rate = run["pages_seen"] / run["process_seconds"]
        land = run["land_seconds"] if run["land_seconds"] is not None else float("nan")
        lines.append(
            f"| {name:<16} | {rate:>8,.0f} | {land:>7.1f} | {run['peak_tree_pss_mb']:>7,.0f} | "
            f"{st['catalog_bytes'] / MB:>10.2f} | "
            f"{st['data_bytes'] / MB:>8.1f} | {files}"
        )
    if size["against"]:
        lines.append(f"end to end, this tree / {size['against']['revision']}: {size['ratios']['against']:.2f}x")
    return lines


def header(result: dict[str, Any]) -> list[str]:
    m = result["machine"]
    return [
        f"command: {result['command']}",
        f"machine: {m['cores']} cores ({m['usable_cores']} usable), {m['ram_gb']:.1f} GB RAM "
        f"({m['available_ram_gb']:.1f} GB available at the start), load average "
        f"{' '.join(f'{x:.1f}' for x in m['load_average'])} at the start, Python {m['python']}",
        "packages: " + ", ".join(f"{name} {version}" for name, version in m["packages"].items()),
        f"Prefect API: {result['prefect']}",
    ]


def growth_report(growth: dict[str, Any]) -> list[str]:
    flat = growth["goal"]["met"] and growth["large_peak_mb"] < GOAL_PEAK_MB
    return [
        f"\nmemory {growth['small_pages']:,} vs {growth['large_pages']:,} pages: "
        f"{growth['small_peak_mb']:,.0f} MB vs {growth['large_peak_mb']:,.0f} MB, x{growth['growth']:.2f} "
        f"(goal: flat, at most x{GOAL_FLAT}, and under {GOAL_PEAK_MB:,.0f} MB): {'met' if flat else 'NOT met'}"
    ]


def report(result: dict[str, Any]) -> str:
    """The whole result as text: header, one table per size, the memory comparison."""
    lines = header(result)
    for size in result["sizes"]:
        lines += size_report(size)
    if result["memory_growth"]:
        lines += growth_report(result["memory_growth"])
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=list(SIZES), help="one or more sizes [10000 100000]")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated pages [7]")
    parser.add_argument("--keep", type=Path, default=None, help="work (and cache the pages) in this folder and keep it")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of the tables")
    parser.add_argument("--workers", type=int, default=None, help="passed to newsflow run [default: one per core]")
    parser.add_argument("--batch-size", type=int, default=None, help="passed to newsflow run [its default]")
    parser.add_argument("--skip-rerun", action="store_true", help="no unchanged re-run")
    parser.add_argument("--skip-analyser", action="store_true", help="no MeCab-alone baseline")
    parser.add_argument(
        "--prefect-server",
        action="store_true",
        help="start one `prefect server` for every run (as scheduled runs use) [each run starts a temporary one]",
    )
    parser.add_argument(
        "--against",
        default=None,
        help="also run each size's first run with this revision of the project (a commit; written out with git "
        "archive, run from the same virtual environment), for ratios in the same command",
    )
    args = parser.parse_args(argv)
    args.against_root = None
    if min(args.pages) < 1:
        parser.error("--pages must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    show = not args.json
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as folder:
        if args.against:
            args.against_root = export(args.against, Path(folder) / "against")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            result = run(args, args.keep.resolve(), argv, show)
        else:
            result = run(args, Path(folder), argv, show)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

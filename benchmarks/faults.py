"""The fault matrix: every hostile input and broken environment of issue 25, tried through the command line as an
operator would, one line per fault with what happened.

    .venv/bin/python benchmarks/faults.py                  # every fault, in a temporary folder
    .venv/bin/python benchmarks/faults.py --keep /tmp/f    # keep the folder (pages, warehouses, logs)
    .venv/bin/python benchmarks/faults.py --only sql       # the faults whose name holds `sql`

Every `newsflow` command runs in its own process against one `prefect server` started for the matrix (as
scheduled runs do), so the matrix takes minutes, not a server boot per run. A line reads `fault | outcome |
verdict`: `held` when the outcome is the one issue 25 asks for, `BROKEN` otherwise. The runs' peak memory is the
summed PSS of the run's process tree (benchmarks/pipeline.py, TreeMemory).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.pipeline import TreeMemory, prefect_api  # noqa: E402

EXAMPLES = ROOT / "examples" / "pages"
NEWSFLOW = [sys.executable, "-m", "newsflow"]


@dataclass
class Outcome:
    fault: str
    outcome: str
    held: bool


@dataclass
class Matrix:
    work: Path
    env: dict[str, str]
    base: Path  # a warehouse of the example pages, copied by the faults that damage one
    base_peak: int  # the peak memory of the run that made it (summed PSS), the baseline of the inputs' run

    def newsflow(self, *args: str, env: dict[str, str] | None = None, **kwargs: object) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*NEWSFLOW, *args], env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=900, **kwargs
        )

    def copy(self, name: str) -> Path:
        target = self.work / name
        shutil.copytree(self.base, target, symlinks=True)
        return target

    def sql(self, warehouse: Path, query: str) -> list[dict]:
        done = self.newsflow("sql", query, "--warehouse", str(warehouse), "--format", "json")
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return json.loads(done.stdout)


FAULTS: list[tuple[str, Callable[[Matrix], list[Outcome]]]] = []


def fault(name: str) -> Callable:
    def register(function: Callable[[Matrix], list[Outcome]]) -> Callable[[Matrix], list[Outcome]]:
        FAULTS.append((name, function))
        return function

    return register


def first_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    error = next((line for line in lines if line.startswith("error:")), lines[-1] if lines else "")
    return " ".join(error.split())


def data_files(warehouse: Path) -> list[Path]:
    return sorted((warehouse / "data").rglob("*.parquet"))


def digest(paths: list[Path]) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


def articles_file(warehouse: Path) -> Path:
    return max((p for p in data_files(warehouse) if "/articles/" in str(p)), key=lambda p: p.stat().st_size)


# --- newsflow sql -------------------------------------------------------------------------------------------------


@fault("sql")
def sql_escapes(m: Matrix) -> list[Outcome]:
    target = articles_file(m.base)
    attempts = {
        "sql: EXPLAIN ANALYZE COPY over a warehouse file": f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{target}'",
        "sql: EXPLAIN ANALYZE INSTALL httpfs": "EXPLAIN ANALYZE INSTALL httpfs",
        "sql: EXPLAIN ANALYZE SET autoinstall_known_extensions": "EXPLAIN ANALYZE SET autoinstall_known_extensions=1",
        "sql: read_text('/etc/passwd')": "SELECT * FROM read_text('/etc/passwd')",
        "sql: glob('/etc/*')": "SELECT * FROM glob('/etc/*')",
        "sql: ATTACH another database": f"ATTACH '{m.work / 'other.duckdb'}' AS other",
    }
    before = digest(data_files(m.base))
    found = []
    for name, query in attempts.items():
        done = m.newsflow("sql", query, "--warehouse", str(m.base))
        unchanged = digest(data_files(m.base)) == before and not (m.work / "other.duckdb").exists()
        leaked = "root:" in done.stdout
        found.append(
            Outcome(
                name, f"exit {done.returncode}: {first_line(done)}", done.returncode == 2 and unchanged and not leaked
            )
        )
    return found


# --- settings -----------------------------------------------------------------------------------------------------


@fault("settings")
def bad_settings(m: Matrix) -> list[Outcome]:
    found = []
    for variable, value in (
        ("NEWSFLOW_BATCH_SIZE", "-3"),
        ("NEWSFLOW_WORKERS", "abc"),
        ("NEWSFLOW_MAX_PAGE_BYTES", "1"),
    ):
        warehouse = m.work / f"settings-{variable.lower()}"
        done = m.newsflow("run", str(EXAMPLES), "--warehouse", str(warehouse), env={variable: value})
        held = done.returncode == 2 and not warehouse.exists() and "Traceback" not in done.stderr
        found.append(Outcome(f"{variable}={value} newsflow run", f"exit {done.returncode}: {first_line(done)}", held))
    return found


# --- the warehouse ------------------------------------------------------------------------------------------------


@fault("copy")
def copied_warehouse(m: Matrix) -> list[Outcome]:
    original = m.copy("original")
    copy = m.work / "copied"
    subprocess.run(["cp", "-a", str(original), str(copy)], check=True)
    extra = m.work / "extra-pages"
    extra.mkdir()
    (extra / "late.txt").write_bytes(
        (EXAMPLES / "01_biz_economy.txt").read_bytes().replace("정부".encode(), "당국".encode())
    )
    m.newsflow("run", str(extra), "--warehouse", str(original))
    ours = m.sql(copy, "SELECT count(*) AS n FROM pages")[0]["n"]
    theirs = m.sql(original, "SELECT count(*) AS n FROM pages")[0]["n"]
    shutil.rmtree(original)
    alone = m.sql(copy, "SELECT count(*) AS n FROM articles")[0]["n"]
    return [
        Outcome(
            "cp -a W W2, a run into W, W removed",
            f"W2 reads its own files: {ours} pages (W has {theirs}), {alone} articles once W is gone",
            ours == theirs - 1 and alone > 0,
        )
    ]


@fault("disk")
def full_disk(m: Matrix) -> list[Outcome]:
    warehouse = m.copy("full-disk")
    before = m.sql(warehouse, "SELECT count(*) AS n, max(snapshot_id) AS s FROM lake.snapshots()")[0]
    pages = m.work / "full-disk-pages"
    pages.mkdir()
    for copy in range(40):  # new bytes: every page lands, and the articles' data file outgrows the limit
        for page in EXAMPLES.iterdir():
            (pages / f"{copy:02d}-{page.name}").write_bytes(page.read_bytes() + f"\n{copy}\n".encode())

    def small_disk() -> None:  # writes past 16 kB fail with EFBIG, as on a full disk (Python ignores SIGXFSZ)
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (16_000, 16_000))

    done = subprocess.run(
        [*NEWSFLOW, "run", str(pages), "--warehouse", str(warehouse)],
        env=m.env,
        capture_output=True,
        text=True,
        timeout=900,
        preexec_fn=small_disk,
    )
    after = m.sql(warehouse, "SELECT count(*) AS n, max(snapshot_id) AS s FROM lake.snapshots()")[0]
    again = m.newsflow("run", str(pages), "--warehouse", str(warehouse))
    held = done.returncode == 1 and after == before and again.returncode == 0
    return [
        Outcome(
            "disk full during a run (16 kB file size limit: no file, catalog or data, can grow)",
            f"exit {done.returncode}: {first_line(done)}; snapshots unchanged: {after == before}; "
            f"the next run: exit {again.returncode}",
            held,
        )
    ]


@fault("damaged")
def damaged_file(m: Matrix) -> list[Outcome]:
    warehouse = m.copy("damaged")
    target = articles_file(warehouse)
    with target.open("r+b") as file:
        file.truncate(target.stat().st_size // 2)
    name = str(target.relative_to(warehouse))
    found = []
    for command in (["status"], ["compact"], ["run", str(EXAMPLES)], ["verify"]):
        done = m.newsflow(*command, "--warehouse", str(warehouse))
        line = first_line(done)
        named = done.returncode != 0 and name in line and line.startswith("error:")
        held = named or (command[0] == "run" and done.returncode == 0)
        if "Traceback" in done.stderr:  # Prefect's log of the failed task, above newsflow's one line
            line += " (Prefect's log of the failed task above it shows a traceback)"
        found.append(Outcome(f"truncated Parquet file: newsflow {command[0]}", f"exit {done.returncode}: {line}", held))
    repair = m.newsflow("verify", "--repair", "--warehouse", str(warehouse))
    status = m.newsflow("status", "--warehouse", str(warehouse))
    rerun = m.newsflow("run", str(EXAMPLES), "--warehouse", str(warehouse))  # the lost pages are read again
    articles = m.sql(warehouse, "SELECT count(*) AS n FROM articles")[0]["n"]
    expected = m.sql(m.base, "SELECT count(*) AS n FROM articles")[0]["n"]
    found.append(
        Outcome(
            "truncated Parquet file: newsflow verify --repair, then a run",
            f"repair exit {repair.returncode}, status exit {status.returncode}, run exit {rerun.returncode}; "
            f"{articles} articles (a clean warehouse: {expected})",
            repair.returncode == 0 and status.returncode == 0 and rerun.returncode == 0 and articles == expected,
        )
    )
    return found


@fault("bitrot")
def bit_rot(m: Matrix) -> list[Outcome]:
    warehouse = m.copy("bit-rot")
    target = articles_file(warehouse)
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    target.write_bytes(bytes(data))
    done = m.newsflow("verify", "--warehouse", str(warehouse))
    line = first_line(done)
    name = str(target.relative_to(warehouse))
    return [
        Outcome(
            "16 flipped bytes in an articles file: newsflow verify",
            f"exit {done.returncode}: {line}",
            done.returncode != 0 and name in done.stdout + done.stderr,
        )
    ]


# --- inputs -------------------------------------------------------------------------------------------------------


class Drip(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", "100")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(2)
        except (BrokenPipeError, ConnectionResetError):  # the fetch gave up: what the fault is about
            return

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def drip_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/drip"
    finally:
        server.shutdown()


def poisoned_pages(folder: Path, drip: str) -> dict[str, str]:
    """A folder of good pages and every poison pill; returns the ledger source name of each pill -> its fault."""
    folder.mkdir()
    article = (EXAMPLES / "01_biz_economy.txt").read_bytes()
    html = (EXAMPLES / "21_biz_daily.html").read_bytes()
    shutil.copy(EXAMPLES / "02_biz_tech.txt", folder / "good.txt")
    (folder / os.fsdecode(b"name-\xff.txt")).write_bytes(article)  # Python holds the byte as a surrogate escape
    os.symlink("loop-b", folder / "loop-a")
    os.symlink("loop-a", folder / "loop-b")
    os.symlink("gone.txt", folder / "dangling.txt")
    os.mkfifo(folder / "pipe.txt")
    (folder / "list.urls").write_bytes(b"http://[::1\nnot a url\nhttp://example.test/\xff\n" + drip.encode() + b"\n")
    with gzip.open(folder / "bomb.txt.gz", "wb", compresslevel=1) as bomb:  # inflates to 2 GB of Korean text
        block = "가나다라마바사아자차카타파하 ".encode() * 20_000
        for _ in range(2_000_000_000 // len(block)):
            bomb.write(block)
    (folder / "giant.html").write_bytes(
        b"<html><body>" + b"<p>" + "기사 ".encode() * 10_000_000 + b"</p></body></html>"
    )
    (folder / "million-p.html").write_bytes(b"<html><body>" + b"<p>" * 1_000_000 + b"</body></html>")
    middle = html.index(b"\n", len(html) // 2) + 1
    (folder / "stray-byte.html").write_bytes(html[:middle] + b"\xff" + html[middle:])
    line = article.index(b"\n", 300) + 1
    (folder / "nul.txt").write_bytes(
        article[:line].replace("정부".encode(), "당국".encode()) + b"\x00\x00\x00" + article[line:]
    )
    return {
        "name-\\xff.txt": "a file name that is not UTF-8",
        "loop-a": "a symbolic link loop",
        "dangling.txt": "a dangling symbolic link",
        "pipe.txt": "a FIFO",
        "http://[::1": ".urls line `http://[::1`",
        "not a url": ".urls line without a scheme",
        "http://example.test/\ufffd": ".urls line with a byte that is not UTF-8",
        drip: "a URL served one byte every 2 s (timeout 5 s, deadline 10 s)",
        "bomb.txt.gz": "a .gz that inflates to 2 GB",
        "giant.html": "a 50 MB HTML page",
        "million-p.html": "an HTML page of a million <p>",
        "stray-byte.html": "one 0xFF byte in a UTF-8 HTML page",
        "nul.txt": "three NUL bytes in a text page",
    }


@fault("inputs")
def poison_pills(m: Matrix) -> list[Outcome]:
    with drip_server() as drip:
        pills = poisoned_pages(m.work / "poisoned", drip)
        warehouse = m.work / "poisoned-wh"
        env = {**m.env, "NEWSFLOW_FETCH_TIMEOUT": "5", "NEWSFLOW_FETCH_DEADLINE": "10", "NEWSFLOW_FETCH_ATTEMPTS": "1"}
        started = time.monotonic()
        process = subprocess.Popen(
            [*NEWSFLOW, "run", str(m.work / "poisoned"), "--warehouse", str(warehouse)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        with TreeMemory(process.pid) as memory:
            process.communicate(timeout=900)
        seconds = time.monotonic() - started
    rows = m.sql(warehouse, "SELECT source, status, reason FROM pages")
    by_name = {}
    for row in rows:
        source = row["source"]
        key = source if "://" in source or "/" not in source else source.rsplit("/", 1)[1]
        by_name[key] = row
    found = []
    for name, what in pills.items():
        row = by_name.get(name)
        outcome = f"{row['status']}: {row['reason']}" if row else "no ledger row"
        good = row is not None and (
            row["status"] in ("error", "rejected") or name in ("stray-byte.html", "nul.txt", "name-\\xff.txt")
        )
        if name in ("stray-byte.html", "nul.txt"):
            good = row is not None and row["status"] in ("article", "duplicate")
        found.append(Outcome(what, outcome, good))
    good = by_name.get("good.txt")
    found.append(
        Outcome(
            "the good page beside them all",
            f"{good['status'] if good else 'missing'}; run exit {process.returncode} in {seconds:.0f} s, "
            f"peak memory {memory.peak / 1e6:,.0f} MB (summed PSS of the run's processes), "
            f"{memory.peak / m.base_peak:.2f}x the example pages' run",
            bool(good) and good["status"] == "article" and process.returncode == 0,
        )
    )
    return found


@fault("sigkill")
def killed_while_drafting(m: Matrix) -> list[Outcome]:
    pages = m.work / "many-pages"
    pages.mkdir()
    for number in range(400):
        for page in EXAMPLES.iterdir():
            (pages / f"{number:03d}-{page.name}").write_bytes(page.read_bytes() + f"\n{number}\n".encode())
    process = subprocess.Popen(
        [
            *NEWSFLOW,
            "run",
            str(pages),
            "--warehouse",
            str(m.work / "killed-wh"),
            "--workers",
            "2",
            "--batch-size",
            "500",
        ],
        env=m.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parent = psutil.Process(process.pid)
    deadline, workers = time.monotonic() + 300, []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.5)
        workers = [p for p in parent.children(recursive=True) if "prefect" not in " ".join(p.cmdline())]
    tree = parent.children(recursive=True)
    time.sleep(2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(5)
    left = [p.pid for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    return [
        Outcome(
            "SIGKILL of a run while its workers draft",
            f"{len(tree)} processes in the run's tree; {len(left)} still running 5 s after the kill",
            len(workers) >= 2 and not left,
        )
    ]


# --- the matrix ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one, removed)")
    parser.add_argument("--only", help="run only the faults whose name holds this")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="newsflow-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with prefect_api(work, start=True) as env:
            assert env is not None
            env = {**env, "COLUMNS": "250", "NEWSFLOW_LOCK_DIR": str(work / "locks")}
            base = work / "base"
            process = subprocess.Popen(
                [*NEWSFLOW, "run", str(EXAMPLES), "--warehouse", str(base)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            with TreeMemory(process.pid) as memory:
                output, _ = process.communicate(timeout=900)
            if process.returncode != 0:
                raise SystemExit(f"the example run failed: {output}")
            matrix = Matrix(work, env, base, memory.peak)
            outcomes = []
            for name, function in FAULTS:
                if args.only and args.only not in name:
                    continue
                try:
                    found = function(matrix)
                except Exception as exc:  # a fault the matrix itself could not try
                    found = [Outcome(name, f"the matrix failed: {type(exc).__name__}: {exc}", False)]
                for outcome in found:
                    print(f"{outcome.fault} | {outcome.outcome} | {'held' if outcome.held else 'BROKEN'}", flush=True)
                outcomes.extend(found)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    broken = [o for o in outcomes if not o.held]
    print(f"{len(outcomes) - len(broken)} of {len(outcomes)} faults held")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

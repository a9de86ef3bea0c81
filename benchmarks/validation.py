"""What validation costs: the share of a run's time spent validating, at 10,000 generated pages.

    .venv/bin/python benchmarks/validation.py                 # 10,000 pages, seed 7
    .venv/bin/python benchmarks/validation.py --pages 2000 --keep /tmp/bench

Generates the pages (benchmarks/generate.py), runs `newsflow run` on them into a new warehouse exactly as a user
would (its own process, the default batch size and workers), then reads the run's wall time per stage from the
`runs` table and prints each stage's seconds and share of the flow's time. The flow's time excludes the start of
Prefect's temporary server, which the command's own wall time (also printed) includes. Validation is one task
per run: one GX context, each table validated once, every failing row returned. Importing GX and building its
context is its own stage (`gx-import`): a fixed cost of seconds per run, whatever the run's size; the figures
are printed with it and without it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 0.10


def run(pages: int, seed: int, folder: Path) -> dict:
    from benchmarks.generate import generate
    from newsflow.warehouse.catalog import query
    from newsflow.warehouse.storage import Warehouse

    generate(folder / "pages", pages, seed)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "newsflow", "run", str(folder / "pages"), "--warehouse", str(folder / "wh")],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"newsflow run failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    row = query(Warehouse.at(folder / "wh"), "SELECT * FROM runs").row(0, named=True)
    return {
        "pages": pages,
        "command_seconds": wall,
        "flow_seconds": row["seconds"],
        "stages": json.loads(row["stage_seconds"]),
        "articles": row["articles_rows"],
        "entities": row["entities_rows"],
        "weather": row["weather_rows"],
        "quarantined": row["quarantine_rows"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (default: a temp one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run(args.pages, args.seed, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as folder:
            result = run(args.pages, args.seed, Path(folder))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    flow = result["flow_seconds"]
    print(
        f"{result['pages']:,} pages -> {result['articles']:,} articles, {result['entities']:,} entities, "
        f"{result['weather']:,} weather readings, {result['quarantined']:,} rows quarantined"
    )
    print(f"`newsflow run` wall time {result['command_seconds']:.1f} s, of which the flow {flow:.1f} s\n")
    print(f"{'stage':<10} {'seconds':>8} {'share':>7}")
    for stage, seconds in result["stages"].items():
        print(f"{stage:<10} {seconds:>8.1f} {seconds / flow:>7.1%}")
    share = result["stages"].get("validate", 0.0) / flow
    with_import = share + result["stages"].get("gx-import", 0.0) / flow
    verdict = "met" if share <= GOAL else "NOT met"
    print(f"\nvalidation: {share:.1%} of the flow's time (goal: at most {GOAL:.0%}): {verdict}")
    print(f"validation and the one GX import of the run together: {with_import:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

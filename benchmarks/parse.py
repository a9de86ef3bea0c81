"""The parse stage alone (pages -> articles and readings, no entities, no Prefect) on generated pages, this tree
against another revision of the project, in alternating rounds of one command.

    .venv/bin/python benchmarks/parse.py --against 1d43630            # 2,000 pages, HTML only, 3 rounds
    .venv/bin/python benchmarks/parse.py --against HEAD~3 --pages 4000 --all --rounds 5

The pages come from benchmarks/generate.py (this tree's generator, the same seed for both sides), so both
revisions parse the same bytes. The other revision is exported with `git archive` into a temporary folder and
run with that folder first on PYTHONPATH, in the same virtual environment. Each round runs each side once, in
its own process, in turns (this tree first in odd rounds, second in even ones): the machine is shared and noisy,
so the ratio of the two sides within a round is the figure, and the table gives each round's and their median.
Timed: `newsflow.transforms.pages.draft` over the pages, read beforehand, in batches as the flow drafts them (a warm-up
batch first, untimed). Prints pages per second per side and round, and the ratio this tree / the other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH = 667  # pages a worker drafts at a time (flows' chunks of a 2,000-page slice)

# run in each side's process: read the pages, draft them in batches, print the seconds the drafting took
TIMER = """
import json, sys, time
from newsflow.sources.pages import read_pages
from newsflow.drafting.rules import load_rules
from newsflow.transforms.pages import draft
paths, batch = json.loads(sys.argv[1]), int(sys.argv[2])
rules = load_rules()
raws = [read_pages(paths[i : i + batch]) for i in range(0, len(paths), batch)]
draft(raws[0].head(50), rules)
start = time.perf_counter()
articles = sum(draft(raw, rules).articles.height for raw in raws)
print(json.dumps({"seconds": time.perf_counter() - start, "articles": articles}))
"""


def export(revision: str, into: Path) -> Path:
    """The project at `revision`, written out under `into` (no checkout of this tree is touched)."""
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def pages(folder: Path, count: int, html_only: bool) -> list[str]:
    """Generated pages (seed 7), the HTML ones only unless told otherwise."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import generate

    paths = generate.generate(folder, count * 6 if html_only else count, seed=7)
    chosen = [p for p in paths if not html_only or p.suffix == ".html"]
    return [str(p) for p in chosen[:count]]


def timed(code_root: Path, paths: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    done = subprocess.run(
        [sys.executable, "-c", TIMER, json.dumps(paths), str(BATCH)],
        cwd=code_root, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the other revision (a commit, tag or branch)")
    parser.add_argument("--pages", type=int, default=2000, help="pages to parse [2000]")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds [3]")
    parser.add_argument("--all", action="store_true", help="every generated page, not only the HTML ones")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsflow-parse-") as work:
        other = export(args.against, Path(work) / "other")
        paths = pages(Path(work) / "pages", args.pages, not args.all)
        sides = {"this tree": ROOT, args.against: other}
        print(f"parse stage, {len(paths)} {'pages' if args.all else 'HTML pages'}, pages per second")
        print(f"{'round':<6} {'this tree':>10} {args.against:>12} {'ratio':>7}")
        ratios = []
        for number in range(1, args.rounds + 1):
            order = list(sides) if number % 2 else list(reversed(sides))
            result = {name: timed(sides[name], paths) for name in order}
            rate = {name: len(paths) / r["seconds"] for name, r in result.items()}
            ratios.append(rate["this tree"] / rate[args.against])
            print(f"{number:<6} {rate['this tree']:>10.0f} {rate[args.against]:>12.0f} {ratios[-1]:>6.2f}x")
        print(f"median ratio this tree / {args.against}: {statistics.median(ratios):.2f}x")
        print(
            f"articles: this tree {result['this tree']['articles']}, {args.against} {result[args.against]['articles']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

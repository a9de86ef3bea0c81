"""Run the pipeline on a folder of pages into a new warehouse, then print one SHA-256 per table and view of what
landed: the rows in a fixed order, without what differs from run to run (run ids, wall-clock times, file
modification times). Two checkouts that print the same hashes landed the same data.

    .venv/bin/python benchmarks/table_hashes.py [PAGES] [--keep DIR]

It drives the `newsflow` command only, so it runs unchanged on any version of the code: an older checkout's
with `PYTHONPATH=<checkout> .venv/bin/python benchmarks/table_hashes.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

NEWSFLOW = [sys.executable, "-m", "newsflow"]  # the code on PYTHONPATH first, else the installed one
# columns whose values are the run's own (ids, clocks), not the data's
PER_RUN = {"run_id", "ingested_at", "file_mtime_ns", "started_at", "finished_at", "seconds", "stage_seconds"}
RELATIONS = (
    "pages", "articles", "entities", "weather_snapshots", "quarantine", "stamps", "runs", "stations",
    "article_entities", "entity_pairs", "person_roles", "weather_readings", "weather_daily",
)  # fmt: skip


def sql(warehouse: Path, query: str) -> list[dict]:
    done = subprocess.run(
        [*NEWSFLOW, "sql", query, "--format", "json", "--warehouse", str(warehouse)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout or "[]")


def table_hash(warehouse: Path, relation: str) -> tuple[int, str]:
    columns = [row["column_name"] for row in sql(warehouse, f"SELECT column_name FROM (DESCRIBE {relation})")]
    kept = ", ".join(f'"{c}"' for c in columns if c not in PER_RUN)
    rows = sql(warehouse, f"SELECT {kept} FROM {relation} ORDER BY ALL")
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True)
    return len(rows), hashlib.sha256(text.encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="?", default="examples/pages", help="folder of pages (default: examples/pages)")
    parser.add_argument("--keep", type=Path, help="land into this folder (must not exist) and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        warehouse = args.keep or Path(scratch) / "lake"
        subprocess.run([*NEWSFLOW, "run", args.pages, "--warehouse", str(warehouse)], check=True, capture_output=True)
        for relation in RELATIONS:
            rows, digest = table_hash(warehouse, relation)
            print(f"{relation:<18} {rows:>6} rows  {digest}")


if __name__ == "__main__":
    main()

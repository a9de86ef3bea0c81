"""The run report: a markdown page per run in the warehouse's reports/ folder (also published as an artifact)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from expectations import Validation

if TYPE_CHECKING:
    from flows.ingest import RunSummary


def render_run_report(summary: RunSummary, validations: Mapping[str, Validation]) -> str:
    """Markdown: pages by status, rows per table, and every expectation that failed."""
    lines = [
        f"# newsflow run {summary.run_id}",
        "",
        f"Warehouse: `{summary.warehouse}`; {summary.pages_seen} pages found, "
        f"{summary.pages_skipped} already ingested.",
        "",
        "| pages by status | count |",
        "|---|---:|",
        *(f"| {status} | {count} |" for status, count in summary.statuses.items()),
        "",
        "| table | rows landed |",
        "|---|---:|",
        *(f"| {table} | {count} |" for table, count in summary.rows.items()),
        "",
        "## Validation",
        "",
    ]
    failed = [r for v in validations.values() for r in v.results if not r.success]
    if not failed:
        lines.append("Every expectation passed.")
    else:
        lines += ["| table | expectation | severity | failing rows |", "|---|---|---|---:|"]
        lines += [f"| {r.table} | `{r.expectation}` | {r.severity} | {r.failed_rows} |" for r in failed]
        lines += ["", f"{summary.quarantined} rows went to `quarantine` (critical failures only)."]
    return "\n".join(lines) + "\n"


def write_run_report(folder: Path, summary: RunSummary, validations: Mapping[str, Validation]) -> Path:
    """Write the report as run-<run_id>.md and latest.md; returns the run's file."""
    folder.mkdir(parents=True, exist_ok=True)
    text = render_run_report(summary, validations)
    path = folder / f"run-{summary.run_id}.md"
    path.write_text(text, encoding="utf-8")
    (folder / "latest.md").write_text(text, encoding="utf-8")
    return path

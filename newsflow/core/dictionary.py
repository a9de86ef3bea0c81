"""The data dictionary: Markdown describing every warehouse table and column, made from newsflow.core.schema.

    .venv/bin/python -m newsflow.core.dictionary > docs/data-dictionary.md

`data_dictionary()` is a pure function of the schema (and of the view descriptions it is given), so the file in
docs/ can be checked against it (tests/test_docs.py). The core imports nothing above it: the analysis views'
descriptions (the leading `--` comment of each `warehouse/views/*.sql`) come in as a mapping, which
`view_descriptions` reads from the SQL files. The entry point finds those files by path, as package data.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from newsflow.core.constants import SEOUL
from newsflow.core.schema import STATIONS, TABLES, Table

# The views of the `main` schema that are not analysis views: one per table, and every article version.
TABLE_VIEWS = {
    "articles": "The current (latest) version of each article.",
    "article_versions": (
        "Every version of every article landed, with three more columns: `version` (1 for the oldest, by update "
        "time), `versions` (how many the article has) and `is_current` (true for the latest)."
    ),
    "entities": "The entities of current article versions.",
}

REGENERATE = ".venv/bin/python -m newsflow.core.dictionary > docs/data-dictionary.md"


def readable_type(dtype: pl.DataType) -> str:
    """A column type in words: `string`, `timestamp (Asia/Seoul)`, `list of struct{name, email}`, ..."""
    if isinstance(dtype, pl.Datetime):
        return f"timestamp ({dtype.time_zone})" if dtype.time_zone else "timestamp"
    if isinstance(dtype, pl.List):
        return f"list of {readable_type(dtype.inner)}"
    if isinstance(dtype, pl.Struct):
        return "struct{" + ", ".join(field.name for field in dtype.fields) + "}"
    names = {
        pl.String: "string",
        pl.Int64: "integer (64-bit)",
        pl.Int32: "integer (32-bit)",
        pl.Float64: "float (64-bit)",
        pl.Boolean: "boolean",
        pl.Date: "date",
    }
    return next((name for kind, name in names.items() if dtype == kind), str(dtype))


def view_descriptions(folder: Path) -> dict[str, str]:
    """view name -> its description: the leading `--` comment lines of each `*.sql` in `folder`, joined."""
    found = {}
    for path in sorted(folder.glob("*.sql")):
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("--"):
                break
            lines.append(line.removeprefix("--").strip())
        found[path.stem] = " ".join(line for line in lines if line)
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table_section(table: Table, where: str) -> list[str]:
    key = ", ".join(f"`{name}`" for name in table.key)
    lines = [f"### {table.name}", "", _cell(table.description), "", f"{where} Key: {key}.", ""]
    lines += ["| column | type | nullable | meaning |", "|---|---|---|---|"]
    for column in table.columns:
        nullable = "yes" if column.nullable else "no"
        lines.append(f"| `{column.name}` | {readable_type(column.dtype)} | {nullable} | {_cell(column.description)} |")
    return [*lines, ""]


def data_dictionary(views: Mapping[str, str] | None = None) -> str:
    """The data dictionary as Markdown: every table of newsflow.core.schema.TABLES and the station table, each
    column with its type, whether it may be null and what it means; then the views, with `views` (analysis view
    name -> description, see `view_descriptions`) listed after the views every table has."""
    tables = [*TABLES.values(), STATIONS]
    out = [
        "# Data dictionary",
        "",
        "<!-- Generated from newsflow/core/schema.py and warehouse/views/*.sql; do not edit by hand. Regenerate with",
        f"     {REGENERATE} -->",
        "",
        "A warehouse is a DuckLake with two schemas: `landed`, the tables runs write, and `main`, the views people",
        "query (`newsflow sql`, or `news.<view>` once attached with `newsflow attach`). Every table has a view of",
        "the same name. The lake carries the descriptions of the tables runs write as its own comments on them.",
        "",
        "Every row of a table runs write carries the `run_id` of the run that wrote it. Timestamps are instants",
        f"(DuckDB `TIMESTAMP WITH TIME ZONE`); `timestamp ({SEOUL})` columns are times the pages print, in Korea",
        f"time, and `newsflow sql` shows every timestamp in {SEOUL}. A column whose nullable is `no` always has a",
        "value.",
        "",
        "## Tables",
        "",
        "| table | what a row is | key |",
        "|---|---|---|",
    ]
    for table in tables:
        key = ", ".join(f"`{name}`" for name in table.key)
        out.append(f"| [`{table.name}`](#{table.name}) | {_cell(table.description)} | {key} |")
    out.append("")
    for table in TABLES.values():
        out += _table_section(table, f"Written by every run, in `landed.{table.name}`.")
    out += _table_section(STATIONS, "Loaded from profiles/stations.csv with the catalog, in `landed.stations`.")
    out += [
        "## Views",
        "",
        "In the `main` schema. Each table above has a view of the same name over `landed`; these differ from it:",
        "",
        "| view | what |",
        "|---|---|",
    ]
    out += [f"| `{name}` | {_cell(text)} |" for name, text in TABLE_VIEWS.items()]
    if views:
        out += [
            "",
            "The analysis views, whose SQL is in `warehouse/views/` (one `NAME.sql` each):",
            "",
            "| view | what |",
            "|---|---|",
        ]
        out += [f"| `{name}` | {_cell(text)} |" for name, text in sorted(views.items())]
    return "\n".join(out) + "\n"


def bundled_views_folder() -> Path:
    """The analysis views' SQL files shipped inside the package (newsflow/warehouse/views), found by path."""
    return Path(__file__).resolve().parent.parent / "warehouse" / "views"


def main(argv: list[str] | None = None) -> None:
    """Print the data dictionary; an optional argument names another folder of view SQL files."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else bundled_views_folder()
    sys.stdout.write(data_dictionary(view_descriptions(folder)))


if __name__ == "__main__":
    main()

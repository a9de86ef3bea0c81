"""docs/data-dictionary.md is what newsflow.core.dictionary generates from the schema and the views' SQL, and it
documents every table and column: the landed ones of newsflow.core.schema and the station table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl

import newsflow.warehouse
from newsflow.core.dictionary import STATIONS, bundled_views_folder, data_dictionary, view_descriptions
from newsflow.core.schema import TABLES
from newsflow.profiles import STATIONS as STATIONS_CSV

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY = ROOT / "docs" / "data-dictionary.md"
VIEWS = Path(newsflow.warehouse.__file__).resolve().parent / "views"
REGENERATE = "regenerate it: .venv/bin/python -m newsflow.core.dictionary > docs/data-dictionary.md"


def section(text: str, table: str) -> str:
    """The Markdown of one table's section: from its heading to the next heading."""
    start = text.index(f"\n### {table}\n")
    return text[start : text.find("\n#", start + 1)]


def test_the_data_dictionary_is_the_generated_one():
    assert DICTIONARY.exists(), f"docs/data-dictionary.md is missing; {REGENERATE}"
    written = DICTIONARY.read_text(encoding="utf-8")
    assert written == data_dictionary(view_descriptions(VIEWS)), f"docs/data-dictionary.md is out of date; {REGENERATE}"


def test_the_module_prints_it_with_the_views_shipped_in_the_package():
    assert bundled_views_folder().resolve() == VIEWS
    done = subprocess.run(
        [sys.executable, "-m", "newsflow.core.dictionary"], cwd="/", capture_output=True, text=True, check=True
    )
    assert done.stdout == data_dictionary(view_descriptions(VIEWS))


def test_every_table_and_column_is_documented():
    text = DICTIONARY.read_text(encoding="utf-8")
    for table in [*TABLES.values(), STATIONS]:
        body = section(text, table.name)
        assert table.description in body, table.name
        for column in table.columns:
            assert f"| `{column.name}` |" in body, f"{table.name}.{column.name} is not in docs/data-dictionary.md"


def test_every_view_is_listed_with_its_description():
    views = view_descriptions(VIEWS)
    assert len(views) == len(list(VIEWS.glob("*.sql"))) > 0
    text = DICTIONARY.read_text(encoding="utf-8")
    for name, description in views.items():
        assert description, f"warehouse/views/{name}.sql starts with no -- comment describing it"
        assert f"| `{name}` | {description.replace('|', chr(92) + '|')} |" in text


def test_the_station_table_is_documented_as_the_csv_holds_it():
    stations = pl.read_csv(STATIONS_CSV, infer_schema=False)
    assert stations.columns == STATIONS.column_names
    typed = stations.with_columns(pl.col("latitude", "longitude").cast(pl.Float64))
    for column in STATIONS.columns:
        assert typed.schema[column.name] == column.dtype, column.name
        if not column.nullable:
            assert typed[column.name].null_count() == 0, f"stations.csv has an empty {column.name}"
    assert stations.select(pl.col("station").is_unique().all()).item()

"""The `schema` command's helpers: the tables and views people query (`_relations`), a table's columns as
newsflow describes them (`_table_columns`), a view's as DuckDB gives them in the warehouse or, without one, in an
empty model of it (`_view_columns`, `_empty_lake`), and both printed as a table, JSON or Markdown."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import duckdb
from rich.table import Table
from rich.text import Text

from newsflow.cli.inputs import _where
from newsflow.cli.output import console
from newsflow.core.constants import SEOUL


class SchemaFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


# What the catalog does not say of article_versions' own columns (newsflow.core.dictionary.TABLE_VIEWS says it)
VERSION_COLUMNS = {
    "version": "The version's number: 1 for the oldest, by update time.",
    "versions": "How many versions the article has.",
    "is_current": "Whether this is the latest version, the one `articles` shows.",
}


def _store_if_any(warehouse: str | None) -> Any:
    """The warehouse, if one is there to look at; None otherwise (`schema` describes newsflow's own tables
    without one)."""
    from newsflow.warehouse.storage import Warehouse, WarehouseError

    try:
        store = Warehouse.at(*_where(warehouse))
        store.check()
        return store if store.has_catalog else None
    except (WarehouseError, OSError):
        return None


def _relations(store: Any) -> dict[str, tuple[str, str]]:
    """name -> (kind, description) of every table and view people query: newsflow's tables, then its views, then
    any other view the warehouse has."""
    from newsflow.core.dictionary import TABLE_VIEWS, bundled_views_folder, view_descriptions
    from newsflow.core.schema import STATIONS, TABLES
    from newsflow.warehouse.catalog import query

    found = {table.name: ("table", table.description) for table in (*TABLES.values(), STATIONS)}
    found["article_versions"] = ("view", TABLE_VIEWS["article_versions"])
    for view, description in sorted(view_descriptions(bundled_views_folder()).items()):
        found.setdefault(view, ("view", description))
    if store is not None:
        with contextlib.suppress(duckdb.Error, OSError):
            lake = query(
                store, "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal"
            )
            for view, comment in sorted(lake.iter_rows()):
                found.setdefault(view, ("view", comment or ""))
    return found


Column = tuple[str, str, bool, str]  # name, type, nullable, meaning


def _table_columns(name: str) -> list[Column]:
    from newsflow.core.dictionary import readable_type
    from newsflow.core.schema import STATIONS, TABLES

    table = TABLES.get(name) or STATIONS
    return [(c.name, readable_type(c.dtype), c.nullable, c.description) for c in table.columns]


def _view_columns(store: Any, name: str) -> list[Column]:
    """A view's columns as DuckDB describes them in the warehouse (in an empty model of it when there is none, or
    when the warehouse lacks the view), with the catalog's column comments."""
    from newsflow.core.dictionary import readable_type
    from newsflow.core.schema import ARTICLES
    from newsflow.warehouse.catalog import queries

    statements = [
        (f'DESCRIBE "{name}"', None),
        (f'SELECT * FROM "{name}" LIMIT 0', None),
        (
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = $name",
            {"name": name},
        ),
    ]
    try:
        if store is None:
            raise LookupError
        described, empty, comments = queries(store, statements)
    except (LookupError, duckdb.Error, OSError):
        with _empty_lake() as con:
            described, empty, comments = (
                (con.sql(sql, params=params) if params else con.sql(sql)).pl() for sql, params in statements
            )
    meaning = {c.name: c.description for c in ARTICLES.columns} | VERSION_COLUMNS if name == "article_versions" else {}
    meaning |= {column: comment for column, comment in comments.iter_rows() if comment}
    return [
        (column, readable_type(empty.schema[column]), null != "NO", meaning.get(column, ""))
        for column, null in described.select("column_name", "null").iter_rows()
    ]


@contextlib.contextmanager
def _empty_lake() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the lake's tables, empty, and its views (newsflow.warehouse.catalog)."""
    from newsflow.core.schema import STATIONS, TABLES
    from newsflow.warehouse.catalog import view_statements
    from newsflow.warehouse.storage import LANDED

    with duckdb.connect() as con:
        con.execute(f"SET TimeZone = '{SEOUL}'")
        con.execute(f"CREATE SCHEMA {LANDED}")
        for table in (*TABLES.values(), STATIONS):
            con.register("empty_table", table.empty().to_arrow())
            con.execute(f'CREATE TABLE {LANDED}."{table.name}" AS SELECT * FROM empty_table')
            con.unregister("empty_table")
        for statement in view_statements():
            con.execute(statement)
        yield con


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _print_relations(known: dict[str, tuple[str, str]], output: SchemaFormat) -> None:
    if output is SchemaFormat.json:
        listed = [{"name": n, "kind": kind, "description": d} for n, (kind, d) in known.items()]
        sys.stdout.write(json.dumps(listed, ensure_ascii=False) + "\n")
    elif output is SchemaFormat.markdown:
        lines = ["| name | kind | description |", "|---|---|---|"]
        lines += [f"| `{n}` | {kind} | {_markdown_cell(d)} |" for n, (kind, d) in known.items()]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        table = Table(title="tables and views (newsflow schema TABLE describes one)")
        for column in ("name", "kind", "description"):
            table.add_column(column, overflow="fold")
        for n, (kind, d) in known.items():
            table.add_row(n, kind, Text(d))
        console.print(table, highlight=False)


def _print_columns(name: str, kind: str, description: str, columns: list[Column], output: SchemaFormat) -> None:
    if output is SchemaFormat.json:
        record = {
            "name": name,
            "kind": kind,
            "description": description,
            "columns": [{"name": c, "type": t, "nullable": null, "meaning": m} for c, t, null, m in columns],
        }
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif output is SchemaFormat.markdown:
        lines = [f"### {name}", "", _markdown_cell(description), ""]
        lines += ["| column | type | nullable | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c}` | {t} | {'yes' if null else 'no'} | {_markdown_cell(m)} |" for c, t, null, m in columns]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        table = Table(title=f"{name} ({kind}): {description}", title_justify="left")
        for column in ("column", "type", "nullable", "meaning"):
            table.add_column(column, overflow="fold")
        for c, t, null, m in columns:
            table.add_row(c, t, "yes" if null else "no", Text(m))
        console.print(table, highlight=False)

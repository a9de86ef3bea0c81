"""The DuckDB catalog: `warehouse.duckdb` with one view per table over its Parquet files, and read-only SQL.

On object storage the views read `s3://...` through the warehouse's fsspec filesystem registered on the DuckDB
connection (no httpfs: only the extensions built into the wheel are used), so whoever opens the catalog must
register that filesystem first; `query()` does.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from newsflow.faults import halt_point
from newsflow.profiles import STATIONS
from newsflow.schema import ARTICLES, ENTITIES, RUNS, TABLES, Table
from warehouse.store import CATALOG, Warehouse

SESSION_TIMEZONE = "Asia/Seoul"
BUILT_FROM = "catalog_built_from"  # a one-row table: the fingerprint of the statements that built the catalog
VIEWS_DIR = Path(__file__).parent / "views"
DERIVED_VIEWS = (
    "stations",
    "weather_readings",
    "weather_daily",
    "person_roles",
    "article_entities",
    "entity_pairs",
)  # built in this order, after the table views


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _empty_select(con: duckdb.DuckDBPyConnection, table: Table) -> str:
    """A typed, rowless SELECT with the table's columns, for a table no run has written yet."""
    arrow = table.empty().to_arrow()
    con.register("_empty", arrow)
    types = con.execute("DESCRIBE _empty").fetchall()
    con.unregister("_empty")
    columns = ", ".join(f'CAST(NULL AS {kind}) AS "{name}"' for name, kind, *_ in types)
    return f"SELECT {columns} WHERE false"


# Versions of an article, oldest first by update time (registration time when never updated); the latest is current.
ARTICLE_VERSIONS = """
SELECT
    *,
    row_number() OVER (
        PARTITION BY article_id ORDER BY coalesce(updated_at, registered_at) NULLS FIRST, run_id, page_id
    ) AS version,
    count(*) OVER (PARTITION BY article_id) AS versions,
    version = versions AS is_current
FROM ({select})
"""


# Runs whose rows are current: committed, and not older than the latest full refresh.
# Runs whose files are current: committed, not older than the latest full refresh, not merged by a compaction.
LIVE_RUNS = f"""SELECT run_id FROM {RUNS.name}
    WHERE started_at >= (SELECT coalesce(max(started_at), '-infinity'::TIMESTAMPTZ) FROM {RUNS.name} WHERE full_refresh)
    AND run_id NOT IN (SELECT unnest(replaces) FROM {RUNS.name} WHERE replaces IS NOT NULL)"""


def view_sql(con: duckdb.DuckDBPyConnection, store: Warehouse, table: Table) -> str:
    """The SELECT behind a table's view: its Parquet files, live runs only (committed, not replaced by a full
    refresh), columns in schema order (a column added later reads as null in older files)."""
    if not store.files(table.name):
        return _empty_select(con, table)
    glob = _quote(store.url(table.name, "**", "*.parquet"))  # every partition
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    source = f"read_parquet({glob}, union_by_name = true, hive_partitioning = false, filename = true)"
    if table.name == RUNS.name:
        return f"SELECT {columns} FROM {source}"
    # a file is visible when the run in its name is live (a compaction's file keeps each row's own run_id)
    return (
        f"SELECT {columns} FROM {source} "
        f"WHERE regexp_extract(filename, 'part-([^/.]+)[^/]*\\.parquet$', 1) IN ({LIVE_RUNS})"
    )


def _connect(store: Warehouse, database: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to a catalog file that can read the warehouse's files: on object storage, with the
    warehouse's fsspec filesystem registered (DuckDB reads `s3://...` through it, no extension needed)."""
    con = duckdb.connect(str(database), read_only=read_only)
    if not store.is_local:
        con.register_filesystem(store.fs)
    return con


def refresh_catalog(store: Warehouse) -> str:
    """Rebuild warehouse.duckdb beside the tables, unless the one there was built from the same statements (the
    views find their files by glob when queried, so a run that only adds files needs no new catalog); returns its
    location. Built under a temporary name and then renamed into place (local) or uploaded in one PUT (object
    storage), so a reader never sees a half-built catalog and a reader holding the old file never blocks a run."""
    statements = catalog_statements(store)
    fingerprint = hashlib.sha256("\n;\n".join([duckdb.__version__, *statements]).encode()).hexdigest()
    if _built_from(store) == fingerprint:
        halt_point("catalog")
        return str(store.catalog_path) if store.is_local else store.url(CATALOG)
    if store.is_local:
        store.root.mkdir(parents=True, exist_ok=True)
        temporary = store.catalog_path.with_name(f".{CATALOG}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        _build(store, temporary, statements, fingerprint)
        halt_point("catalog")
        os.replace(temporary, store.catalog_path)
        return str(store.catalog_path)
    with tempfile.TemporaryDirectory(prefix="newsflow-catalog-") as folder:
        temporary = Path(folder) / CATALOG
        _build(store, temporary, statements, fingerprint)
        halt_point("catalog")
        return store.upload(temporary, CATALOG)


def catalog_statements(store: Warehouse) -> list[str]:
    """The statements that create every view of the catalog, in order."""
    statements = []
    with duckdb.connect() as con:  # only to type the empty SELECT of a table with no files yet
        # runs first: every other view reads only the rows of committed runs; articles before entities
        for table in sorted(TABLES.values(), key=lambda t: (t.name != RUNS.name, t.name == ENTITIES.name)):
            select = view_sql(con, store, table)
            if table.name == ARTICLES.name:  # every version in article_versions, the current one in articles
                statements.append(f"CREATE VIEW article_versions AS {ARTICLE_VERSIONS.format(select=select)}")
                select = "SELECT * EXCLUDE (version, versions, is_current) FROM article_versions WHERE is_current"
            elif table.name == ENTITIES.name:  # the entities of current article versions
                select = f"SELECT * FROM ({select}) WHERE page_id IS NULL OR page_id IN (SELECT page_id FROM articles)"
            statements.append(f'CREATE VIEW "{table.name}" AS {select}')
            statements.append(f'COMMENT ON VIEW "{table.name}" IS {_quote(table.description)}')
    for name in DERIVED_VIEWS:
        sql = (VIEWS_DIR / f"{name}.sql").read_text(encoding="utf-8").replace("{stations_csv}", _quote(STATIONS))
        statements.append(f'CREATE VIEW "{name}" AS {sql}')
    return statements


def _build(store: Warehouse, database: Path, statements: list[str], fingerprint: str) -> None:
    """Create every view of the catalog in a new database file, and the table naming what it was built from."""
    with _connect(store, database) as con:
        for statement in statements:
            con.execute(statement)
        con.execute(f"CREATE TABLE {BUILT_FROM} AS SELECT ? AS fingerprint, now() AS built_at", [fingerprint])


def _built_from(store: Warehouse) -> str | None:
    """The fingerprint of the statements the warehouse's catalog was built from (None: no catalog, or not ours)."""
    try:
        with _catalog_file(store) as path, duckdb.connect(str(path), read_only=True) as con:
            return con.execute(f"SELECT fingerprint FROM {BUILT_FROM}").fetchone()[0]
    except (FileNotFoundError, duckdb.Error):
        return None


@contextmanager
def _catalog_file(store: Warehouse) -> Iterator[Path]:
    """The catalog as a local file: the warehouse's own, or a downloaded copy of the one on object storage."""
    if store.is_local:
        if not store.catalog_path.exists():
            raise FileNotFoundError(f"no warehouse catalog at {store.catalog_path}: run `newsflow run` first")
        yield store.catalog_path
        return
    if not store.exists(CATALOG):
        raise FileNotFoundError(f"no warehouse catalog at {store.url(CATALOG)}: run `newsflow run` first")
    with tempfile.TemporaryDirectory(prefix="newsflow-catalog-") as folder:
        yield store.download(CATALOG, Path(folder) / CATALOG)


class ReadOnlyError(ValueError):
    """A statement `query` will not run because it could change or leave the warehouse."""


READ_STATEMENTS = {"SELECT", "EXPLAIN"}  # SELECT includes FROM ..., WITH ..., DESCRIBE, SHOW and SUMMARIZE


def _refuse_writes(sql: str) -> None:
    """Raise ReadOnlyError unless every statement only reads: no DROP, COPY ... TO, ATTACH, INSTALL, SET, ..."""
    for statement in duckdb.extract_statements(sql):
        kind = statement.type.name
        if kind not in READ_STATEMENTS:
            words = " ".join(statement.query.split()[:3])
            raise ReadOnlyError(
                f"newsflow sql only reads the warehouse: a {kind} statement ({words} ...) is refused; "
                "use SELECT (or FROM, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"
            )


def query(store: Warehouse, sql: str, params: dict[str, object] | None = None) -> pl.DataFrame:
    """Run read-only SQL (with `$name` parameters from `params`) on the catalog; times show in Korea time.

    The connection is read-only, statements other than reads are refused before they run (ReadOnlyError), and
    DuckDB may not install or load extensions on its own (only those built into the wheel are used)."""
    return queries(store, [(sql, params)])[0]


def queries(store: Warehouse, statements: Sequence[tuple[str, dict[str, object] | None]]) -> list[pl.DataFrame]:
    """Several `query`s, (sql, params) each, on one connection to the catalog (one download of it from object
    storage); every statement is checked before any runs."""
    with _catalog_file(store) as catalog:
        for sql, _ in statements:
            _refuse_writes(sql)
        with _connect(store, catalog, read_only=True) as con:
            # settings, not connect() config: a process may already hold this file open with the default config
            con.execute("SET autoinstall_known_extensions = false; SET autoload_known_extensions = false")
            con.execute(f"SET TimeZone = '{SESSION_TIMEZONE}'")
            return [_result(con.sql(sql, params=params) if params else con.sql(sql)) for sql, params in statements]


def _result(relation: duckdb.DuckDBPyRelation | None) -> pl.DataFrame:
    return relation.pl() if relation is not None else pl.DataFrame()

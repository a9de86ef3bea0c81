"""What the warehouse's lake holds, and read-only SQL over it, now or as it was after any run.

The lake has two schemas: `landed`, the tables runs write (one per newsflow.core.schema table, plus the station
table), and `main`, the views people query: one per table (`articles` is the current version of each article,
`article_versions` every version, `entities` those of current versions) and the analysis views of
`warehouse/views/*.sql`. Tables, views and their descriptions are created in the lake itself, so any DuckDB
client that attaches it sees the same names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from newsflow.core.constants import SEOUL
from newsflow.core.schema import ARTICLES, ENTITIES, STATIONS, TABLES, Table
from newsflow.profiles import STATIONS as STATIONS_CSV
from newsflow.warehouse.lake import LAKE, quote
from newsflow.warehouse.storage import LANDED, Warehouse, has_table

SESSION_TIMEZONE = SEOUL
BUILT_FROM = "catalog_built_from"  # a landed table: the fingerprint of the statements that made tables and views
COMPRESSION = "zstd"  # of the lake's Parquet files: about half the bytes of DuckDB's default, snappy
WRITER = "writer"  # a landed table of one row every run replaces, so two runs at once conflict (locking.claim_writer)
VIEWS_DIR = Path(__file__).parent / "views"
DERIVED_VIEWS = (
    "stations",
    "weather_readings",
    "weather_daily",
    "person_roles",
    "article_entities",
    "entity_pairs",
)  # built in this order, after the table views
# DuckLake partitions of the tables people query by time (month, UTC): files per month, pruned by filters on it
PARTITIONS = {
    ARTICLES.name: "year(registered_at), month(registered_at)",
    "weather_snapshots": "year(capture_date), month(capture_date)",
    "pages": "year(ingested_at), month(ingested_at)",
}

# Versions of an article, oldest first by update time (registration time when never updated); the latest is current.
ARTICLE_VERSIONS = f"""
SELECT
    *,
    row_number() OVER (
        PARTITION BY article_id ORDER BY coalesce(updated_at, registered_at) NULLS FIRST, run_id, page_id
    ) AS version,
    count(*) OVER (PARTITION BY article_id) AS versions,
    version = versions AS is_current
FROM {LANDED}.{ARTICLES.name}
"""


def _column_types(table: Table) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a table's columns, as DuckDB reads the table's Arrow schema."""
    with duckdb.connect() as con:
        empty = table.empty().to_arrow()  # noqa: F841 (read by name below)
        return [(name, kind) for name, kind, *_ in con.execute("DESCRIBE SELECT * FROM empty").fetchall()]


def view_statements() -> list[str]:
    """The statements that create every view and its description, in order."""
    statements = [f"CREATE OR REPLACE VIEW article_versions AS {ARTICLE_VERSIONS}"]
    for table in TABLES.values():
        select = f"SELECT * FROM {LANDED}.{table.name}"
        if table.name == ARTICLES.name:  # every version in article_versions, the current one in articles
            select = "SELECT * EXCLUDE (version, versions, is_current) FROM article_versions WHERE is_current"
        elif table.name == ENTITIES.name:  # the entities of current article versions
            select = f"{select} WHERE page_id IS NULL OR page_id IN (SELECT page_id FROM articles)"
        statements.append(f'CREATE OR REPLACE VIEW "{table.name}" AS {select}')
        statements.append(f'COMMENT ON VIEW "{table.name}" IS {quote(table.description)}')
    statements.append(
        "COMMENT ON VIEW article_versions IS "
        + quote(f"{ARTICLES.description} Every version landed, numbered by update time; is_current marks the latest.")
    )
    for name in DERIVED_VIEWS:
        sql = (VIEWS_DIR / f"{name}.sql").read_text(encoding="utf-8")
        statements.append(f'CREATE OR REPLACE VIEW "{name}" AS {sql}')
        described = re.match(r"--\s*(.+)", sql)
        if described:
            statements.append(f'COMMENT ON VIEW "{name}" IS {quote(described.group(1))}')
    return statements


def _table_statements(con: duckdb.DuckDBPyConnection, table: Table) -> list[str]:
    """Statements that create a landed table with its descriptions, or add the columns it lacks."""
    have = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
            [LAKE, LANDED, table.name],
        ).fetchall()
    }
    types = _column_types(table)
    target = f"{LANDED}.{table.name}"
    if not have:
        columns = ", ".join(f'"{name}" {kind}' for name, kind in types)
        statements = [f"CREATE TABLE {target} ({columns})", f"COMMENT ON TABLE {target} IS {quote(table.description)}"]
        if table.name in PARTITIONS:
            statements.append(f"ALTER TABLE {target} SET PARTITIONED BY ({PARTITIONS[table.name]})")
        added = [c for c in table.columns]
    else:  # a column added to the schema since the table was created: older rows read it as null
        statements = [f'ALTER TABLE {target} ADD COLUMN "{n}" {k}' for n, k in types if n not in have]
        added = [c for c in table.columns if c.name not in have]
    statements += [f'COMMENT ON COLUMN {target}."{c.name}" IS {quote(c.description)}' for c in added]
    return statements


def _load_stations(con: duckdb.DuckDBPyConnection) -> None:
    """The station table (newsflow.core.schema.STATIONS) from the CSV shipped in profiles/, with its descriptions."""
    target = f"{LANDED}.{STATIONS.name}"
    columns = ", ".join(f"{quote(name)}: {quote(kind)}" for name, kind in _column_types(STATIONS))
    con.execute(
        f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_csv({quote(str(STATIONS_CSV))}, header = true, "
        f"columns = {{{columns}}})"
    )
    con.execute(f"COMMENT ON TABLE {target} IS {quote(STATIONS.description)}")
    for column in STATIONS.columns:
        con.execute(f'COMMENT ON COLUMN {target}."{column.name}" IS {quote(column.description)}')


def ensure_catalog(con: duckdb.DuckDBPyConnection) -> bool:
    """Bring the lake's tables, station table and views up to what this newsflow declares, in the caller's
    transaction; does nothing (and adds no snapshot) when they already are. True when something changed."""
    views = view_statements()
    stations = STATIONS_CSV.read_bytes()
    fingerprint = hashlib.sha256(
        "\n;\n".join([duckdb.__version__, *views, hashlib.sha256(stations).hexdigest()]).encode()
    ).hexdigest()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {LANDED}")
    statements = [s for table in TABLES.values() for s in _table_statements(con, table)]
    if _option(con, "parquet_compression") != COMPRESSION:  # DuckLake writes snappy unless told
        statements.append(f"CALL {LAKE}.set_option('parquet_compression', '{COMPRESSION}')")
    if not has_table(con, WRITER):
        statements += [
            f"CREATE TABLE {LANDED}.{WRITER} (holder VARCHAR, since TIMESTAMPTZ)",
            f"COMMENT ON TABLE {LANDED}.{WRITER} IS 'The run writing, or that wrote last: every run replaces this "
            "row, so DuckLake refuses the commit of a second run that overlapped it (on another machine).'",
        ]
    if not statements and _built_from(con) == fingerprint:
        return False
    for statement in statements:
        con.execute(statement)
    _load_stations(con)
    for statement in views:
        con.execute(statement)
    con.execute(
        f"CREATE OR REPLACE TABLE {LANDED}.{BUILT_FROM} AS SELECT ? AS fingerprint, now() AS built_at", [fingerprint]
    )
    return True


def _option(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    found = con.execute(f"SELECT value FROM {LAKE}.options() WHERE option_name = ?", [name]).fetchone()
    return found[0] if found else None


def _built_from(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        found = con.execute(f"SELECT fingerprint FROM {LANDED}.{BUILT_FROM}").fetchone()
    except duckdb.CatalogException:
        return None
    return found[0] if found else None


# --- history -------------------------------------------------------------------------------------------------


def snapshots(store: Warehouse) -> pl.DataFrame:
    """The lake's snapshots, oldest first: snapshot_id, snapshot_time, the run that made it (null for the
    catalog's own changes), its kind (ingest, compaction) and what changed."""
    with store.connect(read_only=True) as con:
        frame = con.sql(
            f"SELECT snapshot_id, snapshot_time, commit_message, commit_extra_info, changes::VARCHAR AS changes "
            f"FROM {LAKE}.snapshots() ORDER BY snapshot_id"
        ).pl()
    info = pl.col("commit_extra_info")
    return frame.select(
        "snapshot_id",
        pl.col("snapshot_time").dt.convert_time_zone(SEOUL),
        run_id=info.str.json_path_match("$.run_id"),
        kind=info.str.json_path_match("$.kind"),
        changes=pl.col("changes"),
    )


class HistoryError(ValueError):
    """`--at` names no snapshot: no such run, snapshot id, or a time before the first snapshot."""


def resolve_at(store: Warehouse, at: str) -> int:
    """The snapshot id `at` names: a run id (the snapshot its run committed), a snapshot id, or a time (ISO
    8601; Korea time when it has no offset: the last snapshot taken by then)."""
    known = snapshots(store)
    by_run = known.filter(pl.col("run_id") == at)
    if by_run.height:
        return int(by_run["snapshot_id"].max())
    if at.isdigit():
        if int(at) in known["snapshot_id"].to_list():
            return int(at)
        raise HistoryError(f"--at {at}: no snapshot {at} (the last is {known['snapshot_id'].max()})")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise HistoryError(f"--at {at}: neither a run id, a snapshot id, nor an ISO time (2026-12-07T09:30)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(SEOUL))
    before = known.filter(pl.col("snapshot_time") <= when)
    if before.is_empty():
        raise HistoryError(f"--at {at}: the warehouse's first snapshot is later ({known['snapshot_time'].min()})")
    return int(before["snapshot_id"].max())


# --- read-only SQL ------------------------------------------------------------------------------------------


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


def query(store: Warehouse, sql: str, params: dict[str, object] | None = None, at: str | None = None) -> pl.DataFrame:
    """Run read-only SQL (with `$name` parameters from `params`) on the warehouse's views; times show in Korea
    time. `at`: the warehouse as it was then (a run id, a snapshot id or a time; see resolve_at).

    The connection is sandboxed (warehouse.lake): it can read the lake and nothing else, whatever the SQL. Besides,
    statements other than reads are refused before they run, with a message that says why (ReadOnlyError)."""
    return queries(store, [(sql, params)], at)[0]


def queries(
    store: Warehouse, statements: Sequence[tuple[str, dict[str, object] | None]], at: str | None = None
) -> list[pl.DataFrame]:
    """Several `query`s, (sql, params) each, on one connection; every statement is checked before any runs."""
    for sql, _ in statements:
        _refuse_writes(sql)
    snapshot = resolve_at(store, at) if at is not None else None
    with store.connect(snapshot=snapshot, sandbox=True, timezone=SESSION_TIMEZONE) as con:
        return [_result(con.sql(sql, params=params) if params else con.sql(sql)) for sql, params in statements]


def _result(relation: duckdb.DuckDBPyRelation | None) -> pl.DataFrame:
    return relation.pl() if relation is not None else pl.DataFrame()

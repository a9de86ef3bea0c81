"""Checking a warehouse's files against the checksums recorded when they were written, naming a damaged one in
one line, and repairing a warehouse so that a damaged file loses nothing silently.

`verify_warehouse` reads every data and delete file that any snapshot of the lake still uses: it must exist,
have the size DuckLake recorded, and the SHA-256 the writing transaction recorded in `landed.checksums` (see
newsflow.warehouse.checksums). Files of a warehouse written before checksums existed are "unrecorded"; they can be
hashed and recorded on request. Each verification is appended to `<warehouse>/reports/verifications.json`.

`repair_warehouse` drops each damaged file from its table in one new snapshot (DuckLake 1.5 cannot drop a data
file without reading it, so the table is rebuilt from its good files), moves the file aside to
`<warehouse>/damaged/<its path>`, and removes the pages whose rows were lost from the ledger, with all their rows,
so that the next run over the same sources reads them again and lands them once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from newsflow.core.schema import ARTICLES, ENTITIES, PAGES, QUARANTINE, STAMPS, WEATHER_SNAPSHOTS
from newsflow.warehouse.catalog import PARTITIONS
from newsflow.warehouse.checksums import (
    CHECKSUMS,
    LakeFile,
    checksummed_step,
    data_relative,
    file_digest,
    insert_checksums,
    lake_files,
    storage_key,
)
from newsflow.warehouse.lake import DATA, LAKE, quote
from newsflow.warehouse.locking import writer_lock
from newsflow.warehouse.maintenance import flush_statements
from newsflow.warehouse.storage import LANDED, REPORTS, Warehouse, has_table
from newsflow.warehouse.transaction import RunTransaction

MISSING, SIZE_DIFFERS, CHECKSUM_DIFFERS, NOT_PARQUET, UNRECORDED = (
    "missing",
    "size differs",
    "checksum differs",
    "not a Parquet file",
    "unrecorded",
)
DAMAGED = "damaged"  # the folder of the warehouse that damaged files are moved to
VERIFICATIONS = "verifications.json"  # under reports/: the last verifications, oldest first
KEEP_VERIFICATIONS = 100
LISTED_PROBLEMS = 50  # problems kept per verification in that file
MAGIC = b"PAR1"
REPAIR_HINT = (
    "run `newsflow verify --repair` to drop it from its table (the file is kept under damaged/) and have the "
    "next run read its pages again"
)


@dataclass(frozen=True)
class FileProblem:
    """One file that did not verify: its path relative to the warehouse, its table, what is wrong."""

    path: str
    table: str
    problem: str  # missing, size differs, checksum differs, not a Parquet file, unrecorded
    detail: str
    kind: str = "data"  # data or delete file
    current: bool = True  # the latest snapshot uses it (else only older snapshots do)

    @property
    def damaged(self) -> bool:
        return self.problem != UNRECORDED


@dataclass
class VerifyResult:
    """What one verification found: files and bytes read, and each file that did not verify."""

    warehouse: str
    checked_at: datetime
    files_checked: int = 0
    bytes_checked: int = 0
    problems: list[FileProblem] = field(default_factory=list)
    recorded: int = 0  # unrecorded files hashed and recorded by this verification (record_missing)
    set_aside: list[str] = field(default_factory=list)  # files a repair moved to damaged/ (older snapshots use them)

    @property
    def damaged(self) -> list[FileProblem]:
        return [p for p in self.problems if p.damaged]

    @property
    def unrecorded(self) -> list[FileProblem]:
        return [p for p in self.problems if not p.damaged]

    @property
    def ok(self) -> bool:
        """Every file exists, has its size and its recorded checksum."""
        return not self.problems

    def record(self) -> dict[str, Any]:
        """The verification as the JSON record last_verification returns."""
        return {
            "checked_at": self.checked_at.isoformat(),
            "warehouse": self.warehouse,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "problems": len(self.problems),
            "damaged": len(self.damaged),
            "unrecorded": len(self.unrecorded),
            "recorded": self.recorded,
            "set_aside": len(self.set_aside),
            "ok": self.ok,
            "files": [asdict(p) for p in self.problems[:LISTED_PROBLEMS]],
        }


def problem_line(problem: FileProblem) -> str:
    """One line naming a damaged file, what is wrong with it and what to run."""
    return f"damaged warehouse file {problem.path} (table {problem.table}): {problem.problem}; {REPAIR_HINT}"


def warehouse_path(path: str) -> str:
    """A lake file's path (relative to the data folder) as users see it: relative to the warehouse."""
    return path if path.startswith("/") or "://" in path else f"{DATA}/{path}"


def aside_path(shown: str) -> str:
    """Where under damaged/ a repair moves a file (its path relative to the warehouse, or its absolute path)."""
    return shown.split("://", 1)[-1].lstrip("/")


def verify_warehouse(
    store: Warehouse, record_missing: bool = False, lock_timeout: float = 3600.0, quick: bool = False
) -> VerifyResult:
    """Check every file any snapshot of the lake uses (exists, size, SHA-256 against the recorded one) and record
    the verification in reports/verifications.json. `record_missing`: hash the files that have no checksum yet
    and record them (in a transaction of their own, under the writer lock, waiting up to `lock_timeout` s).
    `quick`: existence and sizes only, nothing read or recorded (what a compaction checks before it rewrites
    files). Reading needs no lock: runs may write meanwhile."""
    result = VerifyResult(store.location, datetime.now(UTC))
    with store.connect(read_only=True) as con:
        files = lake_files(store, con)
        recorded = _recorded(con)
    to_record: list[tuple[str, int, str]] = []
    for lake_file in files:
        known = recorded.get(lake_file.path)
        problem, digest = _check(store, lake_file, known, record_missing and not quick, result, quick)
        if problem is not None:
            result.problems.append(problem)
        if digest is not None:
            to_record.append((lake_file.path, *digest))
    if any(p.problem == MISSING for p in result.problems):  # a compaction may have deleted it meanwhile
        with store.connect(read_only=True) as con:
            used = {warehouse_path(f.path) for f in lake_files(store, con)}
        result.problems = [p for p in result.problems if p.problem != MISSING or p.path in used]
    if to_record:
        with writer_lock(store, timeout=lock_timeout), RunTransaction(store) as tx:
            assert tx.con is not None
            result.recorded = insert_checksums(tx.con, to_record)
            tx.commit_as("verify", {"recorded": result.recorded}, f"checksums of {result.recorded} files recorded")
        done = {warehouse_path(path) for path, *_ in to_record}
        result.problems = [p for p in result.problems if not (p.problem == UNRECORDED and p.path in done)]
    if not quick:
        _append_verification(store, result)
    return result


def _recorded(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """path -> (bytes, sha256) of the checksums table (the latest row of a path recorded twice)."""
    if not has_table(con, CHECKSUMS):
        return {}
    rows = con.execute(
        f"SELECT path, arg_max(bytes, recorded_at), arg_max(sha256, recorded_at) FROM {LANDED}.{CHECKSUMS} "
        "GROUP BY path"
    ).fetchall()
    return {path: (int(size), sha) for path, size, sha in rows}


def _check(
    store: Warehouse,
    lake_file: LakeFile,
    recorded: tuple[int, str] | None,
    record_missing: bool,
    result: VerifyResult,
    quick: bool = False,
) -> tuple[FileProblem | None, tuple[int, str] | None]:
    """One file's problem (None when it verifies) and, for an unrecorded healthy file when recording, its digest."""
    shown = warehouse_path(lake_file.path)

    def problem(kind: str, detail: str) -> FileProblem:
        return FileProblem(shown, lake_file.table, kind, detail, lake_file.kind, lake_file.current)

    key = storage_key(store, lake_file.path)
    try:
        size = os.path.getsize(key) if store.is_local else int(store.fs.size(key))
    except FileNotFoundError:
        if store.exists(DAMAGED, aside_path(shown)):
            result.set_aside.append(shown)
            return None, None
        return problem(MISSING, "no such file"), None
    result.files_checked += 1
    result.bytes_checked += size
    if size != lake_file.size:
        return problem(SIZE_DIFFERS, f"{size} bytes, the catalog says {lake_file.size}"), None
    if quick:
        return None, None
    if recorded is not None:
        if recorded[0] != size:
            return problem(SIZE_DIFFERS, f"{size} bytes, {recorded[0]} recorded"), None
        if file_digest(store, lake_file.path)[1] != recorded[1]:
            return problem(CHECKSUM_DIFFERS, f"sha256 differs from the one recorded ({recorded[1][:12]}...)"), None
        return None, None
    if not _has_magic(store, key, size):
        return problem(NOT_PARQUET, "no Parquet magic bytes at its start or end"), None
    if record_missing:
        return problem(UNRECORDED, "no checksum recorded"), file_digest(store, lake_file.path)
    return problem(UNRECORDED, "no checksum recorded"), None


def _has_magic(store: Warehouse, key: str, size: int) -> bool:
    if size < 2 * len(MAGIC):
        return False
    with open(key, "rb") if store.is_local else store.fs.open(key, "rb") as handle:
        head = handle.read(len(MAGIC))
        handle.seek(size - len(MAGIC))
        return head == MAGIC and handle.read(len(MAGIC)) == MAGIC


def _append_verification(store: Warehouse, result: VerifyResult) -> None:
    """Add the verification to reports/verifications.json (the last KEEP_VERIFICATIONS are kept)."""
    history = _verifications(store)
    history.append(result.record())
    store.write_text(f"{REPORTS}/{VERIFICATIONS}", json.dumps(history[-KEEP_VERIFICATIONS:], indent=1) + "\n")


def _verifications(store: Warehouse) -> list[dict[str, Any]]:
    try:
        text = store.fs.cat_file(f"{store.path}/{REPORTS}/{VERIFICATIONS}").decode("utf-8")
    except FileNotFoundError:
        return []
    try:
        history = json.loads(text)
    except json.JSONDecodeError:
        return []
    return history if isinstance(history, list) else []


def last_verification(store: Warehouse) -> dict[str, Any] | None:
    """The latest verification of the warehouse (VerifyResult.record: checked_at, files_checked, problems,
    damaged, unrecorded, ok, files ...), or None when it was never verified."""
    history = _verifications(store)
    return history[-1] if history else None


# --- one line for a damaged file -----------------------------------------------------------------------------

_QUOTED = re.compile(r"""['"]([^'"]+?\.parquet)['"]""")
_LAKE_PATH = re.compile(r"^(?:.*/)?(data/[^/]+/([^/]+)/.+)$")
_CAUSES = (  # DuckDB's words -> a short cause
    ("Invalid footer length", "truncated or overwritten (invalid Parquet footer length)"),
    ("No magic bytes found", "truncated or overwritten (no Parquet magic bytes at its end)"),
    ("Could not read enough bytes", "truncated (shorter than its Parquet footer says)"),
    ("No such file or directory", "missing"),
    ("Invalid string encoding", "corrupted (invalid string encoding)"),
    ("Decompression failure", "corrupted (its compressed pages do not decompress)"),
)
_UNNAMED = (  # DuckDB's words for a damaged Parquet file that name no file
    "Variable-length int over",
    "don't know what type",
    "Out of buffer",
    "TProtocolException",
    "invalid TType",
    "Decompression failure",
)


def damaged_file_message(exc: BaseException, store: Warehouse | None = None) -> str | None:
    """One line naming the damaged lake file a DuckDB error raised while reading the lake is about (its path
    relative to the warehouse, its table, a short cause, what to run), or None when the error is not about a
    damaged file. `store` (optional) lets the table come from the catalog rather than the path. Errors from a
    damaged file that DuckDB does not name get a line that says to run `newsflow verify`."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:  # the error itself, then what it was raised from
        seen.add(id(error))
        line = _named_file_line(str(error), store)
        if line is not None:
            return line
        error = error.__cause__ or error.__context__
    text = str(exc)
    if isinstance(exc, duckdb.Error) and any(words in text for words in _UNNAMED):
        cause = " ".join(text.split())[:120]
        return (
            f"a damaged warehouse file ({cause}); DuckDB does not say which: run `newsflow verify` to find it, "
            "then `newsflow verify --repair`"
        )
    return None


def _named_file_line(text: str, store: Warehouse | None) -> str | None:
    for quoted in _QUOTED.findall(text):
        scheme, sep, rest = quoted.partition("://")
        path = rest if sep and scheme not in ("s3", "s3a") else quoted  # a local file read through a protocol
        relative = _lake_relative(path, store)
        if relative is None:
            continue
        shown, table = relative
        if store is not None and store.exists(DAMAGED, aside_path(shown)):
            return (
                f"warehouse file {shown} (table {table}) was damaged and a repair moved it to "
                f"{DAMAGED}/{aside_path(shown)}: the snapshots before that repair cannot read table {table}"
            )
        cause = next((short for words, short in _CAUSES if words in text), None)
        if cause is None:
            detail = text.split(quoted, 1)[-1].lstrip("'\": ").strip()
            cause = f"unreadable ({' '.join(detail.split())[:100]})" if detail else "unreadable"
        return f"damaged warehouse file {shown} (table {table}): {cause}; {REPAIR_HINT}"
    return None


def _lake_relative(path: str, store: Warehouse | None) -> tuple[str, str] | None:
    """(path relative to the warehouse, table) of a lake file named by its full path or URL, else None."""
    if store is not None and path.startswith(store.url(DATA) + "/"):
        relative = data_relative(store, path)
        table = _table_of(store, relative)
        if table is not None:
            return warehouse_path(relative), table
    matched = _LAKE_PATH.match(path)
    if matched is None:
        return None
    return matched.group(1), matched.group(2)


def _table_of(store: Warehouse, relative: str) -> str | None:
    try:
        with store.connect(read_only=True) as con:
            return next((f.table for f in lake_files(store, con) if f.path == relative), None)
    except (duckdb.Error, FileNotFoundError):
        return None


# --- repair --------------------------------------------------------------------------------------------------


@dataclass
class RepairedFile:
    """A damaged file the repair dropped from its table and moved aside."""

    path: str  # relative to the warehouse, where it was
    table: str
    problem: str
    current: bool  # the latest snapshot used it (else only older snapshots did: nothing to drop)
    rows_lost: int | None  # rows the table had in it (at most this many when its delete file was damaged)
    pages_to_reread: list[str] = field(default_factory=list)  # page_ids the next run reads again
    moved_to: str | None = None  # where it is now (None: it was missing)


@dataclass
class RepairResult:
    """What a repair did: each damaged file, the snapshot that dropped them, the pages the next run re-reads."""

    warehouse: str
    repaired_at: datetime
    files: list[RepairedFile] = field(default_factory=list)
    snapshot: int | None = None  # the repair's snapshot (None when no table changed)
    tables_rebuilt: list[str] = field(default_factory=list)
    pages_to_reread: list[str] = field(default_factory=list)
    sources_to_reread: list[str] = field(default_factory=list)  # the ledger's sources of those pages, where known
    rows_deleted: dict[str, int] = field(default_factory=dict)  # rows of those pages deleted per table

    @property
    def rows_lost(self) -> int:
        return sum(f.rows_lost or 0 for f in self.files)


CONTENT = (ARTICLES.name, ENTITIES.name, WEATHER_SNAPSHOTS.name, QUARANTINE.name, STAMPS.name)  # rows of a page
REREAD = {  # table -> statuses of the ledger pages whose rows a damaged file of it may have held
    ARTICLES.name: ("article",),
    ENTITIES.name: ("article",),
    WEATHER_SNAPSHOTS.name: ("article", "not_article", "rejected"),
    QUARANTINE.name: None,  # any status
}
_ORIGINAL = r"same (?:bytes|article) as page ([0-9a-f]+)"  # the reason of a duplicate page names its original


def repair_warehouse(store: Warehouse, found: VerifyResult | None = None, lock_timeout: float = 3600.0) -> RepairResult:
    """Drop every damaged file (`found`, else a verification now) from its table in one new snapshot, move it
    to `<warehouse>/damaged/<path>`, and take the pages whose rows were lost out of the ledger, with their rows
    in every table, so the next run over the same sources lands them again, once. Takes the writer lock."""
    found = found if found is not None else verify_warehouse(store)
    result = RepairResult(store.location, datetime.now(UTC))
    damaged = {p.path: p for p in found.damaged}
    if not damaged:
        return result
    with writer_lock(store, timeout=lock_timeout):
        with store.connect() as con:
            files = [f for f in lake_files(store, con) if warehouse_path(f.path) in damaged]
            tables = sorted({f.table for f in files if f.current})
            if tables:  # rows held inline go to files first: a rebuild reads the good files alone
                flush = flush_statements(tables)
                checksummed_step(store, con, flush, "repair: inlined rows flushed", kind="repair")
            dropped = _dropped_data_files(store, con, files)
            stats = {file_id: _file_stats(con, file_id) for file_id in dropped}
            plan = {table: _good_files(store, con, table, dropped) for table in tables}
        result.files = [
            RepairedFile(warehouse_path(f.path), f.table, damaged[warehouse_path(f.path)].problem, f.current, None)
            for f in files
        ]  # a damaged file no snapshot uses any more (a compaction deleted it since) needs nothing
        if tables:
            result.tables_rebuilt = tables
            rebuild = _Rebuild(plan)
            with RunTransaction(store, first=rebuild) as tx:
                assert tx.con is not None
                _plan_rereads(tx.con, result, files, dropped, stats)
                _delete_pages(tx.con, result)
                info = {"files": [f.path for f in result.files], "pages": len(result.pages_to_reread)}
                result.snapshot = tx.commit_as("repair", info, f"repair: {len(result.files)} damaged files dropped")
        for repaired in result.files:
            repaired.moved_to = _move_aside(store, repaired.path)
    return result


def _dropped_data_files(store: Warehouse, con: duckdb.DuckDBPyConnection, damaged: list[LakeFile]) -> dict[int, int]:
    """data_file_id -> rows lost, of the current data files to drop: the damaged ones, and those whose delete file
    is damaged (which of their rows were deleted is unknown, so none is kept)."""
    current = {f.file_id: f for f in lake_files(store, con) if f.kind == "data" and f.current}
    deletes = {f.data_file_id: f.rows for f in lake_files(store, con) if f.kind == "delete" and f.current}
    dropped = {}
    for lake_file in damaged:
        if not lake_file.current:
            continue
        data = current.get(lake_file.data_file_id)
        if data is not None:
            known = lake_file.kind == "data"
            dropped[data.file_id] = data.rows - (deletes.get(data.file_id, 0) if known else 0)
    return dropped


def _file_stats(con: duckdb.DuckDBPyConnection, data_file_id: int) -> dict[str, tuple[str | None, str | None]]:
    """column -> (min, max) of a data file, as DuckLake recorded them (run_id and page_id are what matter)."""
    meta = f"__ducklake_metadata_{LAKE}"
    rows = con.execute(
        f"SELECT c.column_name, s.min_value, s.max_value FROM {meta}.ducklake_file_column_stats s "
        f"JOIN (SELECT DISTINCT table_id, column_id, column_name FROM {meta}.ducklake_column) c "
        "USING (table_id, column_id) WHERE s.data_file_id = ? AND c.column_name IN ('run_id', 'page_id')",
        [data_file_id],
    ).fetchall()
    return {name: (low, high) for name, low, high in rows}


@dataclass
class _TablePlan:
    """A table to rebuild: its columns (name, type, comment), description, and the good files with their delete
    files."""

    columns: list[tuple[str, str, str | None]]
    comment: str | None
    good: list[tuple[str, str | None]]


def _good_files(store: Warehouse, con: duckdb.DuckDBPyConnection, table: str, dropped: dict[int, int]) -> _TablePlan:
    columns = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [LAKE, LANDED, table],
    ).fetchall()
    comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        [LAKE, LANDED, table],
    ).fetchone()
    dropped_paths = {f.path for f in lake_files(store, con) if f.kind == "data" and f.file_id in dropped}
    listed = con.execute(
        f"SELECT data_file, delete_file FROM ducklake_list_files('{LAKE}', ?, schema => ?)", [table, LANDED]
    ).fetchall()
    good = [(data, delete) for data, delete in listed if data_relative(store, data) not in dropped_paths]
    return _TablePlan([(n, t, c) for n, t, c in columns], comment[0] if comment else None, good)


class _Rebuild:
    """The first statements of the repair's transaction: each table with a damaged file dropped and created again
    (columns, descriptions, partitioning) with the rows of its good files, their deleted rows left out."""

    def __init__(self, plan: dict[str, _TablePlan]) -> None:
        self.plan = plan

    def __call__(self, con: duckdb.DuckDBPyConnection) -> None:
        for table, plan in self.plan.items():
            target = f"{LANDED}.{table}"
            con.execute(f"DROP TABLE {target}")
            con.execute(f"CREATE TABLE {target} ({', '.join(f'{_ident(n)} {t}' for n, t, _ in plan.columns)})")
            if plan.comment:
                con.execute(f"COMMENT ON TABLE {target} IS {quote(plan.comment)}")
            for name, _, comment in plan.columns:
                if comment:
                    con.execute(f"COMMENT ON COLUMN {target}.{_ident(name)} IS {quote(comment)}")
            if table in PARTITIONS:
                con.execute(f"ALTER TABLE {target} SET PARTITIONED BY ({PARTITIONS[table]})")
            selects = [_select_good(con, plan, data, delete) for data, delete in plan.good]
            if selects:
                names = ", ".join(_ident(n) for n, _, _ in plan.columns)
                con.execute(f"INSERT INTO {target} ({names}) " + " UNION ALL ".join(selects))


def _select_good(con: duckdb.DuckDBPyConnection, plan: _TablePlan, data: str, delete: str | None) -> str:
    """The rows of one good file in the table's columns (null for a column added after it was written), less
    the rows its delete file deletes."""
    present = {name for (name, *_) in con.execute(f"DESCRIBE SELECT * FROM read_parquet({quote(data)})").fetchall()}
    columns = ", ".join(_ident(n) if n in present else f"CAST(NULL AS {t}) AS {_ident(n)}" for n, t, _ in plan.columns)
    if delete is None:
        return f"SELECT {columns} FROM read_parquet({quote(data)})"
    return (
        f"SELECT {columns} FROM read_parquet({quote(data)}, file_row_number = true) "
        f"WHERE file_row_number NOT IN (SELECT pos FROM read_parquet({quote(delete)}))"
    )


def _plan_rereads(
    con: duckdb.DuckDBPyConnection,
    result: RepairResult,
    damaged: list[LakeFile],
    dropped: dict[int, int],
    stats: dict[int, dict[str, tuple[str | None, str | None]]],
) -> None:
    """Fill in, per damaged file, the rows lost and the pages to read again; in the repair's transaction, after
    the rebuild (the tables read again)."""
    ledger = con.execute(f"SELECT page_id, run_id, status, source FROM {LANDED}.{PAGES.name}").fetchall()
    in_ledger = {page for page, *_ in ledger}
    lost_articles = in_ledger - _page_ids(con, ARTICLES.name)
    lost_articles &= {page for page, _, status, _ in ledger if status == "article"}
    referenced: set[str] = set()
    for table in CONTENT:
        referenced |= _page_ids(con, table)
    lost_ledger = referenced - in_ledger
    by_path = {warehouse_path(f.path): f for f in damaged}
    for repaired in result.files:
        lake_file = by_path.get(repaired.path)
        if lake_file is None or lake_file.data_file_id not in dropped:
            continue
        repaired.rows_lost = dropped[lake_file.data_file_id]
        ranges = stats.get(lake_file.data_file_id, {})
        in_range = _in_ranges(ranges)
        if repaired.table == PAGES.name:
            pages = {p for p in lost_ledger if in_range(p, None)}
        elif repaired.table == ARTICLES.name:
            pages = {p for p, run, _, _ in ledger if p in lost_articles and in_range(p, run)}
        elif repaired.table in REREAD:
            statuses = REREAD[repaired.table]
            pages = {p for p, run, status, _ in ledger if (statuses is None or status in statuses) and in_range(p, run)}
        else:
            pages = set()
        repaired.pages_to_reread = sorted(pages)
    # exact losses no file's statistics claimed still go: to the first file of their table
    for table, lost in ((ARTICLES.name, lost_articles), (PAGES.name, lost_ledger)):
        of_table = [r for r in result.files if r.table == table and r.rows_lost is not None]
        if of_table:
            claimed = {p for r in of_table for p in r.pages_to_reread}
            of_table[0].pages_to_reread = sorted(set(of_table[0].pages_to_reread) | (lost - claimed))
    wanted = {p for r in result.files for p in r.pages_to_reread}
    wanted |= _duplicates_of(con, wanted, in_ledger)
    result.pages_to_reread = sorted(wanted)
    result.sources_to_reread = sorted({source for page, _, _, source in ledger if page in wanted and source})


def _in_ranges(ranges: dict[str, tuple[str | None, str | None]]) -> Callable[[str, str | None], bool]:
    """A predicate (page_id, run_id or None) -> whether the file's page_id and run_id statistics allow it."""

    def within(value: str | None, name: str) -> bool:
        low, high = ranges.get(name, (None, None))
        if value is None:
            return True
        return (low is None or value >= low) and (high is None or value <= high)

    return lambda page, run: within(page, "page_id") and within(run, "run_id")


def _page_ids(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The page_ids a landed table's rows belong to (a quarantined row's, from the row it holds)."""
    if not has_table(con, table):
        return set()
    column = "json_extract_string(\"row\", '$.page_id')" if table == QUARANTINE.name else "page_id"
    rows = con.execute(f"SELECT DISTINCT {column} FROM {LANDED}.{table}").fetchall()
    return {page for (page,) in rows if page is not None}


def _duplicates_of(con: duckdb.DuckDBPyConnection, pages: set[str], in_ledger: set[str]) -> set[str]:
    """Ledger pages marked duplicates of a page read again (or of one the ledger lost): read again too, or the
    original would come back as a duplicate of its own copy."""
    duplicates = con.execute(
        f"SELECT page_id, regexp_extract(reason, '{_ORIGINAL}', 1) FROM {LANDED}.{PAGES.name} "
        "WHERE status = 'duplicate'"
    ).fetchall()
    added: set[str] = set()
    while True:
        more = {
            page
            for page, original in duplicates
            if page not in pages | added and original and (original in pages | added or original not in in_ledger)
        }
        if not more:
            return added
        added |= more


def _delete_pages(con: duckdb.DuckDBPyConnection, result: RepairResult) -> None:
    """Delete every row of the pages to read again: their content rows, stamps and ledger rows."""
    pages = result.pages_to_reread
    if not pages:
        return
    for table in (*CONTENT, PAGES.name):
        if not has_table(con, table):
            continue
        column = "json_extract_string(\"row\", '$.page_id')" if table == QUARANTINE.name else "page_id"
        deleted = con.execute(f"DELETE FROM {LANDED}.{table} WHERE list_contains(?, {column})", [pages]).fetchone()
        result.rows_deleted[table] = int(deleted[0]) if deleted else 0


def _move_aside(store: Warehouse, path: str) -> str | None:
    """Move a damaged file (path relative to the warehouse) to damaged/<path>; None when it is not there."""
    source = path if path.startswith("/") or "://" in path else store.url(path)
    target = store.url(DAMAGED, aside_path(path))
    if store.is_local:
        if not os.path.exists(source):
            return None
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(source, target)
    else:
        key = source.split("://", 1)[-1]
        if not store.fs.exists(key):
            return None
        store.fs.mv(key, target.split("://", 1)[-1])
    return target


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

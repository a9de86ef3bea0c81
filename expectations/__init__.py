"""Great Expectations suites, one per table, kept as JSON in suites/; validation splits rows into those that land
and those that go to quarantine.

Each expectation has a severity: `critical` failures send the failing rows to quarantine, `warning` failures
are only reported. GX has no polars engine, so a batch is validated as an Arrow-backed pandas frame.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from newsflow.schema import QUARANTINE, Table

SUITE_DIR = Path(__file__).parent / "suites"
ROW = "__row__"
SEVERITIES = ("critical", "warning")


@dataclass(frozen=True)
class ExpectationResult:
    table: str
    expectation: str  # e.g. expect_column_values_to_not_be_null(title)
    severity: str
    success: bool
    failed_rows: int


@dataclass(frozen=True)
class Validation:
    table: str
    valid: pl.DataFrame
    quarantine: pl.DataFrame  # in the QUARANTINE schema, without run_id
    results: tuple[ExpectationResult, ...]

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)


def load_suite(table: str) -> dict[str, Any]:
    """The suite of a table as written in suites/<table>.json."""
    path = SUITE_DIR / f"{table}.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    for item in suite["expectations"]:
        if item.get("severity", "critical") not in SEVERITIES:
            raise ValueError(f"{path}: severity must be one of {SEVERITIES}: {item}")
    return suite


def expectation_name(item: dict[str, Any]) -> str:
    column = item.get("kwargs", {}).get("column")
    return f"{item['type']}({column})" if column else item["type"]


def _columns_used(suite: dict[str, Any]) -> list[str]:
    return sorted({c for item in suite["expectations"] if (c := item.get("kwargs", {}).get("column"))})


def quarantine_rows(table: Table, rows: pl.DataFrame, failed: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows (QUARANTINE schema less run_id) for `rows` (with ROW), failed: ROW, expectation."""
    reasons = failed.group_by(ROW).agg(failed_expectations=pl.col("expectation").unique(maintain_order=True))
    bad = rows.join(reasons, on=ROW)
    return bad.select(
        table_name=pl.lit(table.name),
        row_key=pl.concat_str([pl.col(k).cast(pl.String) for k in table.key], separator="|", ignore_nulls=True),
        row=pl.struct([c for c in table.column_names if c in bad.columns]).struct.json_encode(),
        failed_expectations="failed_expectations",
    ).pipe(lambda f: QUARANTINE.conform(f).drop("run_id"))


ORPHANED = "article_not_quarantined(article_id)"


def quarantine_orphans(child: Validation, table: Table, quarantined_articles: pl.DataFrame) -> Validation:
    """Move the rows of `child` (a table with article_id) whose article went to quarantine into quarantine too,
    so every landed row's article_id is in `articles`."""
    article_ids = quarantined_articles["row"].str.json_path_match("$.article_id")
    rows = child.valid.with_row_index(ROW)
    failed = rows.filter(pl.col("article_id").is_in(article_ids.implode())).select(ROW, expectation=pl.lit(ORPHANED))
    if failed.is_empty():
        return child
    return replace(
        child,
        valid=rows.filter(~pl.col(ROW).is_in(failed[ROW].implode())).drop(ROW),
        quarantine=pl.concat([child.quarantine, quarantine_rows(table, rows, failed)]),
    )


class Validator:
    """Validates frames against the suites; one GX context per process, built on first use."""

    def __init__(self) -> None:
        self._suites: dict[str, tuple[Any, dict[str, Any], dict[str, dict[str, Any]]]] = {}

    @cached_property
    def _gx(self) -> tuple[Any, Any]:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        return gx, context

    @cached_property
    def _source(self) -> Any:
        return self._gx[1].data_sources.add_pandas("newsflow")

    def _suite(self, table: str) -> tuple[Any, dict[str, Any], dict[str, dict[str, Any]]]:
        """The GX suite of a table (built once) and its expectations' spec entries by GX expectation id."""
        if table not in self._suites:
            gx, context = self._gx
            from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

            spec = load_suite(table)
            suite = gx.ExpectationSuite(name=table)
            for item in spec["expectations"]:
                suite.add_expectation_configuration(
                    ExpectationConfiguration(
                        type=item["type"],
                        kwargs=item["kwargs"],
                        meta=item.get("meta", {}),
                        severity=item.get("severity", "critical"),
                    )
                )
            suite = context.suites.add(suite)
            by_id = {e.id: item for e, item in zip(suite.expectations, spec["expectations"], strict=True)}
            self._suites[table] = (suite, spec, by_id)
        return self._suites[table]

    def _batch(self, table: str, frame: Any) -> Any:
        asset = next((a for a in self._source.assets if a.name == table), None)
        if asset is None:
            asset = self._source.add_dataframe_asset(table)
            asset.add_batch_definition_whole_dataframe("all")
        return asset.get_batch_definition("all").get_batch(batch_parameters={"dataframe": frame})

    def validate(self, table: Table, frame: pl.DataFrame) -> Validation:
        """Split `frame` (rows of `table`, any extra columns ignored) into valid rows and quarantine rows."""
        suite, spec, by_id = self._suite(table.name)
        rows = frame.with_row_index(ROW)
        if frame.is_empty():
            return Validation(table.name, frame, QUARANTINE.empty().drop("run_id"), ())
        used = [c for c in _columns_used(spec) if c in frame.columns]
        view = rows.select(ROW, *used).to_pandas(use_pyarrow_extension_array=True)
        outcome = self._batch(table.name, view).validate(
            suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]}
        )
        results, failures = [], []
        for result in outcome.results:
            item = by_id[result.expectation_config.id]
            name, severity = expectation_name(item), item.get("severity", "critical")
            indices = [i[ROW] for i in (result.result or {}).get("unexpected_index_list") or []]
            results.append(ExpectationResult(table.name, name, severity, bool(result.success), len(indices)))
            if severity == "critical":
                failures.extend((int(i), name) for i in indices)
        failed = pl.DataFrame(failures, schema={ROW: pl.UInt32, "expectation": pl.String}, orient="row")
        bad = failed[ROW].unique()
        return Validation(
            table=table.name,
            valid=rows.filter(~pl.col(ROW).is_in(bad.implode())).drop(ROW),
            quarantine=quarantine_rows(table, rows, failed),
            results=tuple(results),
        )

"""Great Expectations suites, one per table, kept as JSON in suites/; validation splits rows into those that land
and those that go to quarantine.

Each expectation has a severity: `critical` failures send the failing rows to quarantine, `warning` failures
are only reported. GX has no polars engine, so a batch is validated as an Arrow-backed pandas frame.

Two additions to GX's own suite format, both resolved here before GX sees the suite:

* `"value_set_of": "TABLE.COLUMN"` makes an `expect_column_values_to_be_in_set` check the column against
  another table's column at validation time: the relationships (every `entities.page_id` in `articles`)
  and the station table. The flow validates tables parent first and passes the parent's valid rows.
* a suite may name derived columns (`derived_columns` below: the latest plausible registration time, reporter names
  joined, readings per widget); they are computed in polars and validated like any other column.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from newsflow.core.constants import SEOUL
from newsflow.core.schema import QUARANTINE, Table, version_keys

SUITE_DIR = Path(__file__).parent / "suites"
ROW = "__row__"
SEVERITIES = ("critical", "warning")
INDEX = "newsflow_index"  # meta key: the expectation's place in its suite file


def derived_columns(table: str) -> dict[str, pl.Expr]:
    """Columns some expectations check that no table has, computed from the table's own columns when it is
    validated (`now` is read then)."""
    if table == "articles":
        end_of_capture_day = (
            pl.col("capture_date").cast(pl.Datetime("us")) + pl.duration(days=1)
        ).dt.replace_time_zone(SEOUL)
        return {
            # registered at most one day after the capture; a page with no capture date was captured by now
            "registered_at_limit": pl.coalesce(
                end_of_capture_day, pl.lit(datetime.now(UTC)).dt.convert_time_zone(SEOUL)
            )
            + pl.duration(days=1),
            "reporter_names": pl.col("reporters").list.eval(pl.element().struct.field("name")).list.join("|"),
            "version_key": version_keys(),
        }
    if table == "weather_snapshots":
        return {"widget_readings": pl.len().over("page_id").cast(pl.Int64)}
    return {}


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


def _columns(item: dict[str, Any]) -> list[str]:
    kwargs = item.get("kwargs", {})
    return [c for c in (kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")) if c] + list(
        kwargs.get("column_list", [])
    )


def expectation_name(item: dict[str, Any]) -> str:
    """How quarantine and reports name an expectation: its type and columns, e.g. expect_..._not_be_null(title)."""
    columns = _columns(item)
    return f"{item['type']}({','.join(columns)})" if columns else item["type"]


def _columns_used(suite: dict[str, Any]) -> list[str]:
    return sorted({c for item in suite["expectations"] for c in _columns(item)})


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


class Validator:
    """Validates frames against the suites; one GX context per run, built on first use (GX is imported then).

    `references` are tables a `value_set_of` may name besides those passed to `validate` (the station table)."""

    def __init__(self, references: Mapping[str, pl.DataFrame] | None = None) -> None:
        self.references = dict(references or {})
        self._results: dict[str, Any] = {}  # GX's result per table validated, for Data Docs (see validate)

    @property
    def prepared(self) -> bool:
        """Whether GX has been imported and its context built."""
        return "_source" in self.__dict__

    def prepare(self) -> None:
        """Import GX and build its context now (once per run; a large import), rather than in the first validate."""
        _ = self._source

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

    def _suite(self, table: str, related: Mapping[str, pl.DataFrame]) -> tuple[Any, dict[str, Any], dict[str, pl.Expr]]:
        """The GX suite of a table, its spec, and the lookup columns its `value_set_of` entries check.

        A `value_set_of` entry is checked on a boolean column computed in polars (`page_id in pages.page_id`)
        that must be true: GX copies an expectation's kwargs over and over while it plans a validation, and a
        value set of 100,000 ids made that cost more than everything else. Each expectation's meta carries its
        place in the spec (`INDEX`), since GX reports results in an order of its own."""
        gx, _ = self._gx
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        spec = load_suite(table)
        suite = gx.ExpectationSuite(name=table)
        lookups: dict[str, pl.Expr] = {}
        for index, item in enumerate(spec["expectations"]):
            kwargs, meta = dict(item["kwargs"]), {**item.get("meta", {}), INDEX: index}
            if "value_set_of" in item:
                lookup = f"{kwargs['column']} in {item['value_set_of']}"
                values = self._values_of(item["value_set_of"], related, table)
                lookups[lookup] = pl.col(kwargs["column"]).is_in(values.implode())
                kwargs, meta["value_set_of"] = {**kwargs, "column": lookup, "value_set": [True]}, item["value_set_of"]
            suite.add_expectation_configuration(
                ExpectationConfiguration(
                    type=item["type"], kwargs=kwargs, meta=meta, severity=item.get("severity", "critical")
                )
            )
        return suite, spec, lookups

    def _values_of(self, reference: str, related: Mapping[str, pl.DataFrame], table: str) -> pl.Series:
        name, _, column = reference.partition(".")
        frames = {**self.references, **related}
        if name not in frames:
            raise ValueError(f"the {table} suite checks values against {reference}: pass the {name} table to validate")
        return frames[name].get_column(column).drop_nulls().unique()

    def _batch(self, table: str, frame: Any) -> Any:
        """A GX batch of `frame`: data asset and batch definition are named after the table, as Data Docs show."""
        asset = next((a for a in self._source.assets if a.name == table), None)
        if asset is None:
            asset = self._source.add_dataframe_asset(table)
            asset.add_batch_definition_whole_dataframe(table)
        return asset.get_batch_definition(table).get_batch(batch_parameters={"dataframe": frame})

    def validate(
        self, table: Table, frame: pl.DataFrame, related: Mapping[str, pl.DataFrame] | None = None
    ) -> Validation:
        """Split `frame` (rows of `table`, any extra columns ignored) into valid rows and quarantine rows.
        `related` gives the tables the suite's `value_set_of` entries name (for articles: pages)."""
        suite, spec, lookups = self._suite(table.name, related or {})
        rows = frame.with_row_index(ROW)
        derived = {name: expr for name, expr in derived_columns(table.name).items() if name in _columns_used(spec)}
        used = [c for c in _columns_used(spec) if c in frame.columns]
        view = rows.select(ROW, *used, **derived, **lookups).to_pandas()
        outcome = self._batch(table.name, view).validate(
            suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]}
        )
        shown = self._results.get(table.name)
        if shown is None or (shown[1].success and not outcome.success):
            self._results[table.name] = (suite, outcome)  # Data Docs show a table's first failing batch, or its first
        results, failures = [], []
        for result in outcome.results:
            item = spec["expectations"][result.expectation_config.meta[INDEX]]
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

    def build_data_docs(self, folder: Path, run_name: str) -> Path:
        """GX Data Docs of the suites and of this run's validation results, written into `folder` so that they open
        without a network (see data_docs); returns its index page. The results carry `run_name` (the run id) as
        their run and their table as data asset."""
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        from newsflow.expectations.data_docs import make_offline

        _, context = self._gx
        run = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        for table, (suite, outcome) in self._results.items():
            if table not in {s.name for s in context.suites.all()}:
                context.suites.add(suite)
            # Batch.validate leaves the run unnamed and the asset out of the batch spec the pages read it from
            outcome.meta["run_id"] = run
            outcome.meta["batch_spec"] = {**(outcome.meta.get("batch_spec") or {}), "data_asset_name": table}
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=table), run_id=run, batch_identifier=table
            )
            context.validation_results_store.set(key, outcome)
        site = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "show_how_to_buttons": False,  # GX's walkthrough and how-to links lead to its website
        }
        if "newsflow" not in (context.get_config().data_docs_sites or {}):
            context.add_data_docs_site("newsflow", site)
        context.build_data_docs(site_names=["newsflow"])
        make_offline(folder)
        return folder / "index.html"

"""The warehouse tables: each declared once here and reused by transforms, validation, landing, views, tests."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from newsflow.core.constants import SEOUL

Timestamp = pl.Datetime("us", SEOUL)
UtcTimestamp = pl.Datetime("us", "UTC")
Reporter = pl.Struct({"name": pl.String, "email": pl.String})
Caption = pl.Struct({"text": pl.String, "credit": pl.String})

PAGE_STATUSES = ("article", "not_article", "duplicate", "rejected", "error")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    """One warehouse table: its columns in order and the columns that identify a row."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.schema)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with exactly this table's columns, in order and types; absent columns are null."""
        return frame.select(
            (pl.col(c.name) if c.name in frame.columns else pl.lit(None)).cast(c.dtype).alias(c.name)
            for c in self.columns
        )


RUN_ID = Column("run_id", pl.String, "The run that wrote this row.", nullable=False)

PAGES = Table(
    "pages",
    key=("page_id",),
    description="The ledger: one row per raw page ever seen, with what became of it.",
    columns=(
        RUN_ID,
        Column("page_id", pl.String, "Stable id of (source, content): 16 hex digits.", nullable=False),
        Column("content_hash", pl.String, "SHA-256 of the raw bytes.", nullable=False),
        Column("source", pl.String, "Where the page came from (file path or URL).", nullable=False),
        Column("size_bytes", pl.Int64, "Size of the raw bytes.", nullable=False),
        Column("encoding", pl.String, "Encoding the bytes were decoded with; null when undecodable."),
        Column("layout", pl.String, "Site layout profile that matched; null when not parsed."),
        Column("status", pl.String, "article, not_article, duplicate, rejected or error.", nullable=False),
        Column("reason", pl.String, "Why the page has this status, in words.", nullable=False),
        Column("ingested_at", UtcTimestamp, "When the run read the page (UTC).", nullable=False),
        Column("url", pl.String, "The page's URL: a WARC record's target URI, a fetched page's final URL."),
        Column("captured_at", UtcTimestamp, "When the page was captured (UTC): WARC-Date, or the fetch time."),
        Column("file_size", pl.Int64, "A page file's size on disk when it was read (gzipped for .gz files)."),
        Column(
            "file_mtime_ns",
            pl.Int64,
            "A page file's modification time when it was read, in ns since the epoch: with file_size, the stamp a "
            "later run's quick check compares. Null for archive records, URLs, unreadable files and files modified "
            "less than 2 s before they were read.",
        ),
    ),
)

ARTICLES = Table(
    "articles",
    key=("article_id",),
    description="One row per article.",
    columns=(
        RUN_ID,
        Column("article_id", pl.String, "Stable id of (site, url) or (site, title, registered_at).", False),
        Column("page_id", pl.String, "The page the article was parsed from.", nullable=False),
        Column(
            "site",
            pl.String,
            "Stable site key: the registered domain of the article's URL (kbs.co.kr), else the layout family, "
            "else the outlet's name; 'unknown' only when the page names none of these.",
            nullable=False,
        ),
        Column("site_name", pl.String, "The outlet's display name as the page gives it (og:site_name, publisher)."),
        Column("url", pl.String, "Canonical URL when the page states one, else the page's URL when known."),
        Column("section", pl.String, "Section as printed (산업, 경제, ...)."),
        Column("subsection", pl.String, "Subsection from the breadcrumb (재계, ...)."),
        Column("title", pl.String, "Headline as printed, once.", nullable=False),
        Column("subtitles", pl.List(pl.String), "Subtitle (deck) lines, kept out of the body."),
        Column("registered_at", Timestamp, "Registration (first publication) time, Korea time."),
        Column("approved_at", Timestamp, "Approval (승인) time where the site prints one, Korea time."),
        Column("updated_at", Timestamp, "Last update time, Korea time."),
        Column("reporters", pl.List(Reporter), "Reporters: name without 기자, email when printed."),
        Column("captions", pl.List(Caption), "Photo captions, each once, with the credit split off."),
        Column("body", pl.List(pl.String), "Body paragraphs in order, without page furniture."),
        Column("capture_date", pl.Date, "Capture date, Korea time: the page's captured_at, else its header."),
        Column("paragraph_count", pl.Int32, "Number of body paragraphs.", nullable=False),
        Column("char_count", pl.Int32, "Characters in the body paragraphs.", nullable=False),
    ),
)

ENTITIES = Table(
    "entities",
    key=("page_id", "entity_type", "canonical"),
    description="One row per (article version, entity).",
    columns=(
        RUN_ID,
        Column("article_id", pl.String, "Article the entity is mentioned in.", nullable=False),
        Column("page_id", pl.String, "The page (article version) the entity was found in; null in rows from before."),
        Column("entity_type", pl.String, "person, organisation or location.", nullable=False),
        Column("text", pl.String, "Surface text of the first mention.", nullable=False),
        Column("canonical", pl.String, "Canonical name within the article.", nullable=False),
        Column("mention_count", pl.Int32, "Mentions in the body.", nullable=False),
        Column("first_offset", pl.Int32, "Character offset of the first mention in the body text."),
        Column("person_title", pl.String, "For a person: the title the article gives (회장, CEO, ...)."),
        Column("person_org", pl.String, "For a person: the organisation the article gives."),
    ),
)

ENTITY_TYPES = ("person", "organisation", "location")  # the values entities.entity_type holds
# What people type for each: the plural, the American spelling, NER tags (KLUE's PS/OG/LC, CoNLL's PER/ORG/LOC)
_ENTITY_TYPE_SPELLINGS = {
    "person": ("person", "persons", "people", "ps", "per"),
    "organisation": ("organisation", "organisations", "organization", "organizations", "org", "orgs", "og"),
    "location": ("location", "locations", "place", "places", "loc", "lc"),
}
_ENTITY_TYPE_OF = {spelling: kind for kind, spellings in _ENTITY_TYPE_SPELLINGS.items() for spelling in spellings}


def entity_type(text: str) -> str:
    """The stored entity type (one of ENTITY_TYPES) a user's spelling names, whatever its case: `people`, `PS`
    and `Person` are `person`; `organization`, `org` and `OG` are `organisation`; `place` and `LC` are
    `location`. ValueError naming the valid values for anything else."""
    found = _ENTITY_TYPE_OF.get(text.strip().lower())
    if found is None:
        raise ValueError(
            f"unknown entity type {text!r}: use person (or people, PS), organisation (organization, org, OG) or "
            "location (place, LC)"
        )
    return found


WEATHER_SNAPSHOTS = Table(
    "weather_snapshots",
    key=("page_id", "position"),
    description="One row per city reading in a page's weather widget, as shown when the page was captured.",
    columns=(
        RUN_ID,
        Column("page_id", pl.String, "Page the widget was on.", nullable=False),
        Column("site", pl.String, "Site or layout family of the page."),
        Column("capture_date", pl.Date, "Date the widget showed (the capture date)."),
        Column("position", pl.Int32, "Order of the reading in the widget, from 0.", nullable=False),
        Column("city", pl.String, "City or station as printed.", nullable=False),
        Column("station", pl.String, "Normalised station name.", nullable=False),
        Column("condition", pl.String, "Sky condition when shown (맑음, 흐림, ...)."),
        Column("temperature_c", pl.Float64, "Temperature in degrees Celsius; null when the widget shows none."),
    ),
)

QUARANTINE = Table(
    "quarantine",
    key=("run_id", "table_name", "row_key"),
    description="Every row that failed a critical expectation, as it was, with what it failed.",
    columns=(
        RUN_ID,
        Column("table_name", pl.String, "Table the row was meant for.", nullable=False),
        Column("row_key", pl.String, "The row's key columns, joined with '|'.", nullable=False),
        Column("row", pl.String, "The row as JSON.", nullable=False),
        Column("failed_expectations", pl.List(pl.String), "Expectations the row failed.", nullable=False),
    ),
)

STAMPS = Table(
    "stamps",
    key=("source", "file_size", "file_mtime_ns"),
    description=(
        "A page file stamped again: a run read it (its size or modification time had changed) and found bytes "
        "the ledger already has, from the same source (a touch, a copy, the same page downloaded again). Later "
        "runs' quick check takes these stamps as it takes the ledger's."
    ),
    columns=(
        RUN_ID,
        Column("source", pl.String, "The page file.", nullable=False),
        Column("page_id", pl.String, "The ledger's page these bytes are.", nullable=False),
        Column("file_size", pl.Int64, "The file's size on disk when the run read it.", nullable=False),
        Column("file_mtime_ns", pl.Int64, "Its modification time then, in ns since the epoch.", nullable=False),
    ),
)

RUNS = Table(
    "runs",
    key=("run_id",),
    description="One row per flow run.",
    columns=(
        RUN_ID,
        Column("started_at", UtcTimestamp, "When the run started (UTC).", nullable=False),
        Column("finished_at", UtcTimestamp, "When the run finished (UTC).", nullable=False),
        Column("sources", pl.List(pl.String), "Sources the run was given."),
        Column("pages_seen", pl.Int64, "Raw pages found in the sources.", nullable=False),
        Column("pages_skipped", pl.Int64, "Pages already in the ledger from earlier runs.", nullable=False),
        *(Column(f"pages_{s}", pl.Int64, f"New pages with status {s}.", False) for s in PAGE_STATUSES),
        Column("articles_rows", pl.Int64, "Rows landed in articles.", nullable=False),
        Column("entities_rows", pl.Int64, "Rows landed in entities.", nullable=False),
        Column("weather_rows", pl.Int64, "Rows landed in weather_snapshots.", nullable=False),
        Column("quarantine_rows", pl.Int64, "Rows sent to quarantine.", nullable=False),
        Column("validation_success", pl.Boolean, "Whether every expectation passed.", nullable=False),
        Column("full_refresh", pl.Boolean, "Whether the run replaced everything before it (--full-refresh)."),
        Column("kind", pl.String, "ingest, or compaction (a run that merged the files of the runs it replaces)."),
        Column("replaces", pl.List(pl.String), "For a compaction: the runs whose files it merged."),
        Column("seconds", pl.Float64, "Wall time of the run.", nullable=False),
        Column("stage_seconds", pl.String, "Wall time per stage, as JSON.", nullable=False),
    ),
)

# Not one of the tables runs write: the reference table each catalog build loads from profiles/stations.csv.
STATIONS = Table(
    "stations",
    key=("station",),
    description=(
        "Weather stations (KMA ASOS and a few others): the station table shipped with newsflow "
        "(profiles/stations.csv), loaded into the lake as it is; weather readings name their station by it."
    ),
    columns=(
        Column("station", pl.String, "The KMA's station name (강진군, 울릉도, ...).", nullable=False),
        Column("region", pl.String, "Its 시/도 (서울특별시, 경기도, ... 제주특별자치도).", nullable=False),
        Column("latitude", pl.Float64, "Latitude in decimal degrees (WGS84), to about 0.01°.", nullable=False),
        Column("longitude", pl.Float64, "Longitude in decimal degrees (WGS84), to about 0.01°.", nullable=False),
        Column("aliases", pl.String, "Other names weather widgets print for the station, '|'-separated; or null."),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (PAGES, ARTICLES, ENTITIES, WEATHER_SNAPSHOTS, QUARANTINE, STAMPS, RUNS)}


def source_name(path: str) -> str:
    """A path as the ledger records it: valid UTF-8 whatever the file system holds. A name with bytes that are not
    UTF-8 (Python holds them as surrogate escapes) keeps them, losslessly, as `\\xNN` escapes."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


def version_keys() -> pl.Expr:
    """An article version's key: its article_id and its update time (the registration time when it was never
    updated). The same key again is a duplicate; the same article with another update time is a new version."""
    stamp = pl.coalesce(pl.col("updated_at"), pl.col("registered_at")).dt.strftime("%Y-%m-%dT%H:%M%z")
    return pl.concat_str([pl.col("article_id"), stamp], separator="@", ignore_nulls=True)

"""Capture dates and weather-widget readings from page lines."""

from __future__ import annotations

import polars as pl

from newsflow.transforms.layouts import first_match
from newsflow.transforms.timestamps import date_from_groups

# Lines that head a weather widget with the date the page was captured.
CAPTURE_DATE_PATTERNS = (
    r"^(?P<y>\d{4})년\s*(?P<m>\d{1,2})월\s*(?P<d>\d{1,2})일(?:\s*[월화수목금토일]요일)?$",
    r"^(?P<y>\d{4})\.\s*(?P<m>\d{1,2})\.\s*(?P<d>\d{1,2})\.?\s*(?:\([월화수목금토일]\)|-\s*[월화수목금토일]요일)$",
)
CONDITIONS = ("구름많음", "구름조금", "소나기", "맑음", "흐림", "비", "눈")
# One reading: a bullet, an optional sky condition glued to the station, the station, an optional value, ℃.
WEATHER_ITEM = (
    r"^(?:[•·∙ㆍ]\s*)+(?P<condition>" + "|".join(CONDITIONS) + r")?\s*(?P<city>[가-힣]{1,8})"
    r"\s*(?P<temp>[-−]?\d{1,2}(?:\.\d+)?)?\s*(?:℃|°C)$"
)


# English widgets (English-language Korean sites): the city alone on a line, the current temperature on the next;
# min/max, wind and humidity lines follow and are not readings.
ENGLISH_CITY = r"^(?P<city>[A-Z][a-z]+(?:[- ][A-Z]?[a-z]+)?)$"
ENGLISH_TEMPERATURE = r"^(?:Now\s*)?(?P<temp>[-−]?\d{1,2}(?:\.\d+)?)\s*(?:℃|°C|° C)$"


def capture_dates(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per page with a capture-date line: page_id, capture_date (the first such line's date)."""
    groups = first_match(pl.col("line"), CAPTURE_DATE_PATTERNS, ("y", "m", "d"))
    return (
        lines.with_columns(_date=groups)  # a column: date_from_groups reads each field more than once
        .with_columns(capture_date=date_from_groups(pl.col("_date")))
        .filter(pl.col("capture_date").is_not_null())
        .group_by("page_id")
        .agg(pl.col("capture_date").sort_by("line_no").first())
    )


def weather_readings(
    lines: pl.DataFrame, before_line: pl.DataFrame | None = None, stations: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per widget reading.

    Columns: page_id, position (order in the widget from 0), city (as printed), station (normalised name),
    condition (null when not shown), temperature_c (null when the widget shows no value).
    `before_line` (page_id, line_no) limits readings to lines above that line of the page: the article
    header, so a `℃` inside an article body is never taken for the widget. `stations` (name, station) maps
    every name a station is printed under to the station's name; names not in it are kept as printed.
    """
    korean = lines.with_columns(w=pl.col("line").str.extract_groups(WEATHER_ITEM)).unnest("w")
    english = lines.with_columns(
        city=pl.col("line").str.extract(ENGLISH_CITY, 1),
        temp=pl.col("line").shift(-1).over("page_id").str.extract(ENGLISH_TEMPERATURE, 1),
        condition=pl.lit(None, pl.String),
    )
    # an English city counts only when the station table knows it, so a stray word over a number is no reading
    known = stations["name"] if stations is not None else pl.Series([], dtype=pl.String)
    english = english.filter(pl.col("temp").is_not_null() & pl.col("city").is_in(known.implode()))
    items = pl.concat([korean.select(english.columns), english]).filter(pl.col("city").is_not_null())
    if before_line is not None:
        items = items.join(before_line.rename({"line_no": "_stop"}), on="page_id", how="left").filter(
            pl.col("_stop").is_null() | (pl.col("line_no") < pl.col("_stop"))
        )
    if stations is not None:
        items = items.join(stations.select(city="name", station="station"), on="city", how="left")
    else:
        items = items.with_columns(station=pl.lit(None, pl.String))
    return items.sort("page_id", "line_no").select(
        "page_id",
        position=pl.int_range(pl.len(), dtype=pl.Int32).over("page_id"),
        city="city",
        station=pl.coalesce("station", "city"),
        condition="condition",
        temperature_c=pl.col("temp").str.replace("−", "-").cast(pl.Float64),
    )

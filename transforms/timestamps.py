"""Groups matched out of a date or time string -> typed polars dates and Korea-time timestamps."""

from __future__ import annotations

import polars as pl

from newsflow.core.constants import SEOUL


def _int(groups: pl.Expr, name: str) -> pl.Expr:
    return groups.struct.field(name).cast(pl.Int32, strict=False)


def _valid_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    return y.is_between(1990, 2100) & m.is_between(1, 12) & d.is_between(1, 31)


def date_from_groups(groups: pl.Expr) -> pl.Expr:
    """A Date from a struct with string fields y, m, d; null when absent or not a real date."""
    y, m, d = (_int(groups, f) for f in ("y", "m", "d"))
    y = pl.when(y < 100).then(y + 2000).otherwise(y)  # `입력 23.04.07 19:13`: a two-digit year is this century's
    # Build through a string so impossible days (2월 30일) become null instead of raising.
    text = pl.format("{}-{}-{}", y, m.cast(pl.String).str.zfill(2), d.cast(pl.String).str.zfill(2))
    return pl.when(_valid_date(y, m, d)).then(text.str.to_date("%Y-%m-%d", strict=False))


def timestamp_from_groups(groups: pl.Expr) -> pl.Expr:
    """An Asia/Seoul timestamp from a struct with y, m, d, H, M (and ampm: 오전/오후, AM/PM); null if invalid."""
    hour = _int(groups, "H").fill_null(0)  # a date printed without a time: midnight Korea time
    minute = _int(groups, "M").fill_null(0)
    ampm = groups.struct.field("ampm").str.to_uppercase()
    hour = (
        pl.when(ampm.is_in(["오후", "PM"]) & (hour < 12))
        .then(hour + 12)
        .when(ampm.is_in(["오전", "AM"]) & (hour == 12))
        .then(0)
        .otherwise(hour)
    )
    day = date_from_groups(groups)
    ok = day.is_not_null() & hour.is_between(0, 23) & minute.is_between(0, 59)
    stamp = day.cast(pl.Datetime("us")) + pl.duration(hours=hour, minutes=minute)
    return pl.when(ok).then(stamp).dt.replace_time_zone(SEOUL)


ISO_PATTERN = (
    r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::\d{2}(?:\.\d+)?)?)?\s*"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def iso_groups(text: pl.Expr) -> pl.Expr:
    """The parts of an ISO 8601 string (JSON-LD, meta tags), for iso_timestamp: a struct of y, m, d, H, M, tz (and
    an empty ampm, as timestamp_from_groups reads one)."""
    groups = text.str.strip_chars().str.extract_groups(ISO_PATTERN)
    return groups.struct.with_fields(ampm=pl.lit(None, pl.String))


def iso_timestamp(groups: pl.Expr) -> pl.Expr:
    """An Asia/Seoul timestamp from the iso_groups of an ISO 8601 string; without an offset it is Korea time.

    Pass the groups as a column (`with_columns(g=iso_groups(...))` first): the expression reads them many times,
    and repeating the pattern in each place makes a large expression, slow to plan and to run."""
    local = timestamp_from_groups(groups)
    tz = groups.struct.field("tz")
    sign = pl.when(tz.str.starts_with("-")).then(-1).otherwise(1)
    digits = tz.str.replace_all(r"[^0-9]", "")
    offset_minutes = sign * (digits.str.slice(0, 2).cast(pl.Int32) * 60 + digits.str.slice(2, 2).cast(pl.Int32))
    offset = pl.when(tz == "Z").then(0).otherwise(offset_minutes)
    # the clock reading was taken in zone `tz`; Korea time is 9 hours ahead of UTC
    shifted = local + pl.duration(minutes=(9 * 60 - offset).fill_null(0))
    return pl.when(tz.is_null()).then(local).otherwise(shifted)

"""Groups matched out of a date or time string -> typed polars dates and Korea-time timestamps."""

from __future__ import annotations

import polars as pl

from newsflow.schema import SEOUL


def _int(groups: pl.Expr, name: str) -> pl.Expr:
    return groups.struct.field(name).cast(pl.Int32, strict=False)


def _valid_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    return y.is_between(1990, 2100) & m.is_between(1, 12) & d.is_between(1, 31)


def date_from_groups(groups: pl.Expr) -> pl.Expr:
    """A Date from a struct with string fields y, m, d; null when absent or not a real date."""
    y, m, d = (_int(groups, f) for f in ("y", "m", "d"))
    # Build through a string so impossible days (2월 30일) become null instead of raising.
    text = pl.format("{}-{}-{}", y, m.cast(pl.String).str.zfill(2), d.cast(pl.String).str.zfill(2))
    return pl.when(_valid_date(y, m, d)).then(text.str.to_date("%Y-%m-%d", strict=False))


def timestamp_from_groups(groups: pl.Expr) -> pl.Expr:
    """An Asia/Seoul timestamp from a struct with y, m, d, H, M (and ampm: 오전/오후, AM/PM); null if invalid."""
    hour = _int(groups, "H")
    minute = _int(groups, "M")
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

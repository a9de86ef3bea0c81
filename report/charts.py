"""The run report's charts: Altair (Vega-Lite) specs rendered to static SVG by vl-convert, offline, for inlining.

Times go to Vega-Lite as Korea wall-clock times marked UTC and are drawn on UTC scales, so the axes read in Korea
time whatever zone the renderer runs in.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import altair as alt
import polars as pl
import vl_convert

from newsflow.report.history import KST, LANDED_COUNTS, new_pages, validated_rows

WIDTH = 640
KOREA = {"longitude": (124.5, 131.2), "latitude": (33.0, 38.8)}  # the map's frame, degrees
TEMPERATURES = (-20, 40)  # the colour scale's range, ℃
_ids = itertools.count(1)


def to_svg(chart: alt.TopLevelMixin, name: str) -> str:
    """The chart as an SVG element for inlining; ids inside it (clip paths, gradients) are prefixed with `name`
    so several charts on one page never share one."""
    svg = vl_convert.vegalite_to_svg(chart.to_json())
    prefix = f"{name}-{next(_ids)}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m[1]}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m[1]})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m[1]}"', svg)
    return svg[svg.index("<svg") :]


def _wall_clock(when: datetime) -> str:
    """A time as its Korea wall clock, marked UTC (see the module's docstring)."""
    return when.astimezone(KST).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _time_axis() -> alt.X:
    axis = alt.Axis(format="%m-%d %H:%M", labelOverlap=True, tickMinStep=60_000)  # 24-hour clock, a minute apart
    return alt.X("when:T", title="run started (KST)", scale=alt.Scale(type="utc"), axis=axis)


def rows_per_run(runs: pl.DataFrame) -> alt.Chart | None:
    """Rows landed in articles, entities and weather_snapshots by each run, over the runs' start times."""
    if runs.is_empty():
        return None
    data = [
        {"when": _wall_clock(r["started_at"]), "table": table, "rows": int(r[column] or 0), "run": r["run_id"]}
        for r in runs.sort("started_at").iter_rows(named=True)
        for table, column in LANDED_COUNTS.items()
    ]
    return (
        alt.Chart(alt.Data(values=data), title=alt.Title("Rows landed per run", subtitle="runs of the last 30 days"))
        .mark_line(point=True)
        .encode(
            x=_time_axis(),
            y=alt.Y("rows:Q", title="rows landed"),
            color=alt.Color("table:N", title="table", sort=list(LANDED_COUNTS)),
        )
        .properties(width=WIDTH, height=220)
    )


def rates_per_run(runs: pl.DataFrame) -> alt.Chart | None:
    """The rejection rate (rejected / new pages) and the quarantine rate (rows quarantined / rows validated) of
    each run that validated new pages."""
    data = []
    for r in runs.sort("started_at").iter_rows(named=True):
        pages, rows = new_pages(r), validated_rows(r)
        if pages <= 0:
            continue
        when = _wall_clock(r["started_at"])
        data.append({"when": when, "rate": "rejected pages", "share": int(r["pages_rejected"] or 0) / pages})
        data.append({"when": when, "rate": "quarantined rows", "share": int(r["quarantine_rows"] or 0) / (rows or 1)})
    if not data:
        return None
    subtitle = "rejected: pages rejected / new pages; quarantined: rows quarantined / rows validated"
    return (
        alt.Chart(alt.Data(values=data), title=alt.Title("Rejection and quarantine rate per run", subtitle=subtitle))
        .mark_line(point=True)
        .encode(
            x=_time_axis(),
            y=alt.Y("share:Q", title="share", axis=alt.Axis(format="%"), scale=alt.Scale(domainMin=0)),
            color=alt.Color("rate:N", title="rate", legend=alt.Legend(labelLimit=240)),
        )
        .properties(width=WIDTH, height=180)
    )


def capture_span(readings: Sequence[dict[str, Any]]) -> str:
    """The capture dates of the readings shown: `2025-12-20`, or `2025-12-05 – 2025-12-20`."""
    dates = sorted({r["capture_date"] for r in readings})
    if not dates:
        return "no readings"
    first, last = (d.isoformat() if isinstance(d, date) else str(d) for d in (dates[0], dates[-1]))
    return first if first == last else f"{first} – {last}"


def _reading(r: dict[str, Any], dated: bool) -> dict[str, Any]:
    day = r["capture_date"]
    label = f"{r['station']} ({day:%m-%d})" if dated and isinstance(day, date) else r["station"]
    return {
        "station": r["station"],
        "label": label,
        "temperature": r["temperature_c"],
        "latitude": r["latitude"],
        "longitude": r["longitude"],
        "captured": day.isoformat() if isinstance(day, date) else str(day),
        "text": f"{r['station']} {r['temperature_c']:.1f}",
    }


def _colour() -> alt.Color:
    return alt.Color(
        "temperature:Q",
        title="℃",
        scale=alt.Scale(scheme="redyellowblue", reverse=True, domain=list(TEMPERATURES), clamp=True),
    )


def weather_bars(readings: Sequence[dict[str, Any]]) -> alt.Chart | None:
    """Each station's latest reading of the recent window as a bar, north at the top; the capture date is in the
    title, and after each station's name when the window spans more than one date."""
    if not readings:
        return None
    dated = len({r["capture_date"] for r in readings}) > 1
    data = [_reading(r, dated) for r in readings]
    order = [d["label"] for d in data]  # the readings come north first
    return (
        alt.Chart(
            alt.Data(values=data),
            title=alt.Title(f"Latest temperature by station, captured {capture_span(readings)}"),
        )
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, sort=order),
            x=alt.X("temperature:Q", title="temperature (℃)"),
            color=_colour(),
        )
        .properties(width=360, height=alt.Step(16))
    )


def weather_map(readings: Sequence[dict[str, Any]]) -> alt.LayerChart | None:
    """The stations with coordinates placed by longitude and latitude, coloured and labelled by temperature."""
    placed = [_reading(r, False) for r in readings if r["latitude"] is not None and r["longitude"] is not None]
    if not placed:
        return None
    base = alt.Chart(
        alt.Data(values=placed), title=alt.Title(f"Map of the same readings, captured {capture_span(readings)}")
    ).encode(
        x=alt.X("longitude:Q", title="longitude (°E)", scale=alt.Scale(domain=list(KOREA["longitude"]))),
        y=alt.Y("latitude:Q", title="latitude (°N)", scale=alt.Scale(domain=list(KOREA["latitude"]))),
    )
    dots = base.mark_circle(size=110, stroke="white", strokeWidth=1, opacity=1).encode(color=_colour())
    labels = base.mark_text(align="left", dx=8, fontSize=10).encode(text="text:N")
    return (dots + labels).properties(width=380, height=440)

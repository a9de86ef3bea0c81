"""Site layouts as data: a Layout is built from a profile (TOML) and names the patterns of one site family."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

LIST_FIELDS = (
    "detect",
    "registered",
    "updated",
    "header_markers",
    "subtitle",
    "byline",
    "caption",
    "furniture",
    "end",
)


@dataclass(frozen=True)
class Layout:
    """One site family's page layout.

    Every pattern is a regular expression (Rust `regex` syntax, as polars uses) matched against one stripped
    line of the page, except `detect`, which is matched against the whole page text in multi-line mode.
    """

    name: str
    site: str
    description: str = ""
    priority: int = 100
    title: str = "before_time"  # where the headline sits relative to the registration-time line
    title_lines_above: int = 1  # with before_time: how many lines above (2 when a subtitle sits in between)
    html_body: str = "extractor"  # an HTML page's body: "layout" (these rules on its visible text) or "extractor"
    detect: tuple[str, ...] = ()  # all must match for a page to have this layout; none = fallback
    registered: tuple[str, ...] = ()  # groups y m d H M, optional ampm and section
    approved: tuple[str, ...] = ()  # 승인 (approval) time, same groups; anchors the header when alone
    updated: tuple[str, ...] = ()  # same groups as registered
    header_markers: tuple[str, ...] = ()  # lines that close the header (share buttons, ...)
    subtitle: tuple[str, ...] = ()  # group text; only lines right after the header count
    byline: tuple[str, ...] = ()  # groups names, optional email and rest (body text after the byline)
    caption: tuple[str, ...] = ()  # groups text and credit
    furniture: tuple[str, ...] = ()  # lines dropped wherever they are
    end: tuple[str, ...] = ()  # the body stops at the first of these after the header

    def __post_init__(self) -> None:
        if self.title not in ("before_time", "after_time"):
            raise ValueError(f"layout {self.name}: title must be before_time or after_time, not {self.title!r}")
        if self.html_body not in ("layout", "extractor"):
            raise ValueError(f"layout {self.name}: html_body must be layout or extractor, not {self.html_body!r}")
        for name in LIST_FIELDS:
            for pattern in getattr(self, name):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"layout {self.name}: bad {name} pattern {pattern!r}: {exc}") from exc

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any], common: Mapping[str, Any] | None = None) -> Layout:
        """A Layout from a parsed profile; list fields of `common` are appended to the profile's own."""
        common = common or {}
        known = set(cls.__dataclass_fields__)
        unknown = set(profile) - known
        if unknown:
            raise ValueError(f"layout {profile.get('name')}: unknown keys {sorted(unknown)}")
        values = {k: v for k, v in profile.items() if k not in LIST_FIELDS}
        values.setdefault("site", profile.get("name"))
        for name in LIST_FIELDS:
            inherited = () if name == "detect" else tuple(common.get(name, ()))
            values[name] = tuple(profile.get(name, ())) + inherited
        return cls(**values)


def sort_layouts(layouts: Iterable[Layout]) -> list[Layout]:
    """Layouts in the order they are tried: by priority, the fallback (no detect patterns) last."""
    return sorted(layouts, key=lambda lay: (not lay.detect, lay.priority, lay.name))


def layout_of_pages(text: pl.Expr, layouts: Sequence[Layout]) -> pl.Expr:
    """The name of the first layout whose detect patterns all match the page text; null when none fits."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for layout in reversed(sort_layouts(layouts)):
        fits = pl.all_horizontal([text.str.contains(f"(?m){p}") for p in layout.detect] or [pl.lit(True)])
        expr = pl.when(fits).then(pl.lit(layout.name)).otherwise(expr)
    return expr


MATCHED = "matched__"  # an empty group put before a pattern: "" where the pattern matched, null where not


def first_match(line: pl.Expr, patterns: Sequence[str], fields: Sequence[str]) -> pl.Expr:
    """Struct of the named groups of the first pattern that matches the line (all fields null if none). Each
    pattern runs once per line: an empty group before it tells a match from none (`MATCHED`)."""
    dtype = pl.Struct(dict.fromkeys(fields, pl.String))
    result: pl.Expr = pl.lit(None, dtype=dtype)
    for pattern in reversed(patterns):
        have = set(re.compile(pattern).groupindex)
        groups = line.str.extract_groups(f"(?P<{MATCHED}>)(?:{pattern})")
        matched = pl.struct(
            [(groups.struct.field(f) if f in have else pl.lit(None, pl.String)).alias(f) for f in fields]
        )
        result = pl.when(groups.struct.field(MATCHED).is_not_null()).then(matched).otherwise(result)
    return result


def any_match(line: pl.Expr, patterns: Sequence[str]) -> pl.Expr:
    """True where the line matches any of the patterns."""
    if not patterns:
        return pl.lit(False)
    return line.str.contains("|".join(f"(?:{p})" for p in patterns))

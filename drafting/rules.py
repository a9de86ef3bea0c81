"""The parser's rules from the layout profiles (newsflow.profiles): layouts, stations, page kinds, the lexicon."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import polars as pl

from newsflow.profiles import ProfileError, common_profile, lexicon_words, load_stations, profile_files, read_profile
from newsflow.transforms.entities import Lexicon
from newsflow.transforms.layouts import Layout, sort_layouts
from newsflow.transforms.pages import ParseRules

__all__ = ["ProfileError", "load_layouts", "load_lexicon", "load_rules"]


def load_layouts(extra_dirs: Iterable[Path] = ()) -> tuple[Layout, ...]:
    """All layouts: the bundled profiles plus `*.toml` in extra_dirs (a same-named profile replaces one)."""
    return _load(tuple(Path(d) for d in extra_dirs))


@lru_cache(maxsize=8)
def _load(extra_dirs: tuple[Path, ...]) -> tuple[Layout, ...]:
    common = common_profile()
    layouts: dict[str, Layout] = {}
    for path in profile_files(extra_dirs):
        try:
            layout = Layout.from_profile(read_profile(path), common)
        except (TypeError, ValueError) as exc:
            raise ProfileError(f"{path}: {exc}") from exc
        layouts[layout.name] = layout
    return tuple(sort_layouts(layouts.values()))


def load_rules(extra_dirs: Iterable[Path] = ()) -> ParseRules:
    """Layouts, the station table and the kinds of non-article page, as parse_pages needs them."""
    kinds = tuple((kind, pattern) for kind, pattern in common_profile().get("not_article", {}).items())
    return ParseRules(layouts=load_layouts(extra_dirs), stations=_stations(), page_kinds=kinds, lexicon=load_lexicon())


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The entity extractor's word lists: titles, organisations and locations."""
    return Lexicon.of(*lexicon_words())


@lru_cache(maxsize=1)
def _stations() -> pl.DataFrame:
    return load_stations()

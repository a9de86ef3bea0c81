"""The parser's rules from the layout profiles (newsflow.profiles): layouts, stations, page kinds; and the entity
extractor's model: the trained tagger and the lexicon."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import polars as pl

from newsflow.profiles import (
    ENTITY_MODEL,
    ProfileError,
    common_profile,
    lexicon_words,
    load_stations,
    profile_files,
    read_profile,
)  # fmt: skip
from newsflow.transforms.entities import EntityModel
from newsflow.transforms.layouts import Layout, sort_layouts
from newsflow.transforms.lexicon import Lexicon
from newsflow.transforms.ner import CrfWeights
from newsflow.transforms.pages import ParseRules

__all__ = [
    "ModelError",
    "ProfileError",
    "load_entity_model",
    "load_layouts",
    "load_lexicon",
    "load_rules",
    "read_entity_model",
]


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
    return ParseRules(layouts=load_layouts(extra_dirs), stations=_stations(), page_kinds=kinds)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The entity extractor's word lists: titles, organisations and locations."""
    return Lexicon.of(*lexicon_words())


class ModelError(RuntimeError):
    """The entity model file is missing or unreadable."""


@lru_cache(maxsize=1)
def load_entity_model() -> EntityModel:
    """The shipped entity tagger (profiles/model; `make model` trains it) with the lexicon, loaded once."""
    return read_entity_model(ENTITY_MODEL)


def read_entity_model(path: Path) -> EntityModel:
    """A trained entity tagger (a python-crfsuite model file) with the lexicon."""
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    try:
        tagger.open(str(path))
    except (OSError, ValueError) as exc:
        raise ModelError(f"entity model {path}: {exc}; `make model` trains it") from exc
    dump = tagger.info()
    weights = CrfWeights.of(tagger.labels(), dump.state_features, dump.transitions)
    return EntityModel(load_lexicon(), weights)


@lru_cache(maxsize=1)
def _stations() -> pl.DataFrame:
    return load_stations()

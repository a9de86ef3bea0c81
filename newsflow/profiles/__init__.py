"""Site layout profiles: the TOML files beside this module (and any extra folder) -> Layout objects."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import polars as pl

from transforms.entities import Lexicon
from transforms.layouts import Layout, sort_layouts
from transforms.pages import ParseRules

PROFILE_DIR = Path(__file__).parent
COMMON = "common.toml"
STATIONS = PROFILE_DIR.parent / "data" / "stations.csv"
LEXICON = PROFILE_DIR.parent / "data" / "lexicon"


class ProfileError(ValueError):
    """A layout profile that cannot be used, with the file it came from."""


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path}: {exc}") from exc


def load_layouts(extra_dirs: Iterable[Path] = ()) -> tuple[Layout, ...]:
    """All layouts: the bundled profiles plus `*.toml` in extra_dirs (a same-named profile replaces one)."""
    return _load(tuple(Path(d) for d in extra_dirs))


@lru_cache(maxsize=8)
def _load(extra_dirs: tuple[Path, ...]) -> tuple[Layout, ...]:
    common = _read(PROFILE_DIR / COMMON)
    layouts: dict[str, Layout] = {}
    for folder in (PROFILE_DIR, *extra_dirs):
        if not folder.is_dir():
            raise ProfileError(f"{folder}: not a folder of layout profiles")
        for path in sorted(folder.glob("*.toml")):
            if path.name == COMMON:
                continue
            try:
                layout = Layout.from_profile(_read(path), common)
            except (TypeError, ValueError) as exc:
                raise ProfileError(f"{path}: {exc}") from exc
            layouts[layout.name] = layout
    return tuple(sort_layouts(layouts.values()))


def load_stations(path: Path = STATIONS) -> pl.DataFrame:
    """name -> station: every name a weather station is printed under (its own name and its aliases)."""
    table = pl.read_csv(path, schema_overrides={"aliases": pl.String})
    names = table.select(
        "station", name=pl.concat_list(pl.col("station"), pl.col("aliases").fill_null("").str.split("|"))
    ).explode("name")
    names = names.filter(pl.col("name").str.strip_chars() != "").with_columns(pl.col("name").str.strip_chars())
    clashes = names.group_by("name").agg(pl.col("station").n_unique()).filter(pl.col("station") > 1)
    if clashes.height:
        raise ProfileError(f"{path}: names given to several stations: {clashes['name'].to_list()}")
    return names.unique("name", keep="first").select("name", "station")


def load_rules(extra_dirs: Iterable[Path] = ()) -> ParseRules:
    """Layouts, the station table and the kinds of non-article page, as parse_pages needs them."""
    common = _read(PROFILE_DIR / COMMON)
    kinds = tuple((kind, pattern) for kind, pattern in common.get("not_article", {}).items())
    return ParseRules(layouts=load_layouts(extra_dirs), stations=_stations(), page_kinds=kinds, lexicon=load_lexicon())


def _words(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


@lru_cache(maxsize=1)
def load_lexicon(folder: Path = LEXICON) -> Lexicon:
    """The entity extractor's word lists: titles, organisations and locations (one entry per line)."""
    return Lexicon.of(*(_words(folder / f"{name}.txt") for name in ("titles", "organisations", "locations")))


@lru_cache(maxsize=1)
def _stations() -> pl.DataFrame:
    return load_stations()

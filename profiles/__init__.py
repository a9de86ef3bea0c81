"""Site layouts and reference data, as data: the layout profiles (`*.toml` here and in any extra folder), the
weather station table (`stations.csv`) and the entity word lists (`lexicon/`). This package only reads them;
newsflow.drafting.rules turns them into the parser's rules. A new site layout is a new profile, not new code."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import polars as pl

PROFILE_DIR = Path(__file__).parent
COMMON = "common.toml"
STATIONS = PROFILE_DIR / "stations.csv"
LEXICON = PROFILE_DIR / "lexicon"
LEXICON_LISTS = ("titles", "organisations", "locations")
ENTITY_MODEL = PROFILE_DIR / "model" / "entities.crfsuite"  # the trained entity tagger (python-crfsuite)


class ProfileError(ValueError):
    """A layout profile that cannot be used, with the file it came from."""


def read_profile(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path}: {exc}") from exc


def common_profile() -> dict:
    """What every layout shares (`common.toml`): header patterns, the kinds of non-article page."""
    return read_profile(PROFILE_DIR / COMMON)


def profile_files(extra_dirs: Iterable[Path] = ()) -> list[Path]:
    """The bundled profiles, then `*.toml` of each extra folder in order (a later same-named profile wins)."""
    files = []
    for folder in (PROFILE_DIR, *extra_dirs):
        if not folder.is_dir():
            raise ProfileError(f"{folder}: not a folder of layout profiles")
        files.extend(path for path in sorted(folder.glob("*.toml")) if path.name != COMMON)
    return files


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


def _words(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


@lru_cache(maxsize=1)
def lexicon_words(folder: Path = LEXICON) -> tuple[list[str], ...]:
    """The entity extractor's word lists, in LEXICON_LISTS order: titles, organisations, locations."""
    return tuple(_words(folder / f"{name}.txt") for name in LEXICON_LISTS)

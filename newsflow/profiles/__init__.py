"""Site layout profiles: the TOML files beside this module (and any extra folder) -> Layout objects."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from transforms.layouts import Layout, sort_layouts

PROFILE_DIR = Path(__file__).parent
COMMON = "common.toml"


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

"""What a command is given, checked before anything runs: the settings (`_settings`, `_where`), the warehouse
(`_store`), the sources and layout profiles (`_check_sources`), sources and pages read from standard input
(`_sources_from_stdin`, `_raw_pages`); each exits 2 with one line naming what is wrong. `_fail_on_damage` exits 1
with one line when a failure is about a damaged warehouse file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from newsflow.cli.output import EXIT_FAILED, EXIT_USAGE, _fail
from newsflow.core.settings import Settings, SettingsError, load_settings


def _store(location: str, catalog: str | None = None) -> Any:
    """The Warehouse at a folder or URL, its storage checked: exit 2 with one line when the protocol is unknown,
    the catalog setting is wrong, the bucket does not exist or the credentials are refused."""
    from newsflow.warehouse.storage import Warehouse, WarehouseError

    try:
        store = Warehouse.at(location, catalog)
        store.check()
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    return store


def _where(warehouse: str | None) -> tuple[str, str | None]:
    """The warehouse location and catalog setting, from the option and the environment."""
    settings = _settings(warehouse)
    return settings.warehouse, settings.catalog


def _settings(warehouse: str | None = None, profiles: Path | None = None, **options: Any) -> Settings:
    """The settings (defaults, NEWSFLOW_* variables, then the command's options), every one checked: exit 2
    with one line naming a bad one and what it may be."""
    try:
        return load_settings(warehouse=warehouse, profiles_dir=profiles, **options)
    except SettingsError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None


def _check_sources(sources: list[str], settings: Settings, for_run: bool = False) -> Any:
    """Exit 2 with one line when the warehouse is a file, a source is missing or a layout profile is wrong.
    `for_run`: returns the listing of the sources (newsflow.sources.pages.Listing) for the run's flow, which then
    need not list them again."""
    from newsflow.drafting.rules import ProfileError, load_layouts
    from newsflow.sources.pages import Listing, SourceError, discover

    if Path(settings.warehouse).exists() and not Path(settings.warehouse).is_dir():
        raise _fail(f"--warehouse {settings.warehouse} is a file, not a folder", EXIT_USAGE)
    try:
        listing = Listing(sources) if for_run else discover(sources)
        load_layouts([settings.profiles_dir] if settings.profiles_dir else [])
    except (SourceError, ProfileError) as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    return listing if for_run else None


def _sources_from_stdin(sources: list[str]) -> list[str]:
    """SOURCES with `-` replaced by the sources standard input lists, one a line (blank lines skipped)."""
    if "-" not in sources:
        return sources
    listed = [line.rstrip("\r\n") for line in sys.stdin.read().splitlines() if line.strip()]
    if not listed:
        raise _fail("`-` reads the sources from standard input, one a line, and it listed none", EXIT_USAGE)
    expanded: list[str] = []
    for source in sources:
        expanded += listed if source == "-" else [source]
        listed = [] if source == "-" else listed  # standard input is read once
    return expanded


def _raw_pages(pages: list[str]) -> Any:
    """The raw pages (newsflow.sources.pages.RAW_SCHEMA) of page files, in order; `-` is a page read from
    standard input, its source `-`."""
    import polars as pl

    from newsflow.sources.capture import Capture, over_cap
    from newsflow.sources.pages import RAW_SCHEMA, max_page_bytes, page_row, read_pages

    frames = []
    for page in pages:
        if page != "-":
            frames.append(read_pages([str(Path(page).resolve())]))
            continue
        cap = max_page_bytes()
        data = sys.stdin.buffer.read(cap + 1)
        refused = over_cap("page is", cap) if len(data) > cap else None
        frames.append(pl.DataFrame([page_row(Capture("-", data[:cap], refused=refused))], schema=RAW_SCHEMA))
    return pl.concat(frames)


def _fail_on_damage(exc: BaseException, store: Any, prefix: str = "") -> None:
    """Exit 1 with one line naming the damaged warehouse file `exc` is about, if it is about one."""
    from newsflow.warehouse.verify import damaged_file_message

    message = damaged_file_message(exc, store)
    if message:
        raise _fail(prefix + message, EXIT_FAILED) from None

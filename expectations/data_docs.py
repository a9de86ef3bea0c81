"""GX Data Docs that work without a network.

GX's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome, a date picker and Vega from CDNs, and
its logo from a web server: opened on a machine without internet, the index page is two buttons and no table.
`make_offline` copies every one of those files into the docs' `static/vendor/` folder and rewrites the references
in the pages GX wrote to relative paths (dropping the CDN tags' integrity and crossorigin attributes, which a file://
page cannot satisfy), so the docs open from disk or from any plain file server and never reach the network.

Where the files come from (see static/vendor/README.md for versions and licences):

* Python packages newsflow depends on: XStatic-jQuery, XStatic-Bootstrap (4.x: CSS and the JS bundle with
  Popper), XStatic-Font-Awesome, XStatic-Bootstrap-Datepicker, django-js-lib-vega-embed (Vega, Vega-Lite,
  vega-embed; plain JS files, Django is neither needed nor imported). They are found through their installed
  file lists (`importlib.metadata`), nothing is imported.
* newsflow's own static/vendor/ folder: bootstrap-table with its filter-control extension and the
  bootstrap-dark stylesheet, which no Python package ships.
* GX's own package: the logo (GX copies its static/images/ next to the docs itself).

A reference no rule below knows (a later GX naming another library) is left as it is and logged: the test of the
docs fails on it, and the page still works online.
"""

from __future__ import annotations

import logging
import posixpath
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

logger = logging.getLogger(__name__)

VENDOR = "static/vendor"  # inside the docs folder
BUNDLED = Path(__file__).parent / "static" / "vendor"  # newsflow's own copies, same layout
LOGO = "static/images/logo-long.png"  # copied by GX itself from its package

FONT_AWESOME_FONTS = [
    f"{name}.{ext}"
    for name in ("fa-brands-400", "fa-regular-400", "fa-solid-900", "fa-v4compatibility")
    for ext in ("woff2", "ttf")
]

# files under the docs' static/vendor/ -> (distribution, the end of the file's path in that distribution)
PACKAGED: dict[str, tuple[str, str]] = {
    "jquery/jquery.min.js": ("xstatic-jquery", "xstatic/pkg/jquery/data/jquery.min.js"),
    "bootstrap/bootstrap.min.css": ("xstatic-bootstrap", "xstatic/pkg/bootstrap/data/css/bootstrap.min.css"),
    "bootstrap/bootstrap.bundle.min.js": (
        "xstatic-bootstrap",
        "xstatic/pkg/bootstrap/data/js/bootstrap.bundle.min.js",
    ),
    "bootstrap-datepicker/bootstrap-datepicker.js": (
        "xstatic-bootstrap-datepicker",
        "xstatic/pkg/bootstrap_datepicker/data/bootstrap-datepicker.js",
    ),
    "bootstrap-datepicker/bootstrap-datepicker.css": (
        "xstatic-bootstrap-datepicker",
        "xstatic/pkg/bootstrap_datepicker/data/datepicker.css",
    ),
    "font-awesome/css/all.min.css": ("xstatic-font-awesome", "xstatic/pkg/font_awesome/data/css/all.min.css"),
    "font-awesome/LICENSE.txt": ("xstatic-font-awesome", "xstatic/pkg/font_awesome/data/LICENSE.txt"),
    **{
        f"font-awesome/webfonts/{font}": ("xstatic-font-awesome", f"xstatic/pkg/font_awesome/data/webfonts/{font}")
        for font in FONT_AWESOME_FONTS
    },
    "vega/vega.min.js": ("django-js-lib-vega-embed", "js_lib_vega_embed/static/js_lib_vega_embed/vega5.js"),
    "vega/vega-lite.min.js": ("django-js-lib-vega-embed", "js_lib_vega_embed/static/js_lib_vega_embed/vega-lite5.js"),
    "vega/vega-embed.min.js": (
        "django-js-lib-vega-embed",
        "js_lib_vega_embed/static/js_lib_vega_embed/vega-embed6.js",
    ),
    "vega/LICENSE": ("django-js-lib-vega-embed", "licenses/LICENSE"),  # Vega's BSD-3-Clause, in the dist-info
}


@dataclass(frozen=True)
class Rule:
    """A CDN reference GX's templates write (matched on the URL's path, with the major version GX names) and the
    file of the docs folder that replaces it; None drops it (Popper: it is inside Bootstrap's bundle)."""

    pattern: re.Pattern[str]
    local: str | None


def _rule(pattern: str, local: str | None) -> Rule:
    return Rule(re.compile(pattern), local)


BOOTSTRAP_TABLE = r"/bootstrap-table@1\.[\d.]+/dist"
RULES = (
    _rule(r"/jquery-3\.[\d.]+(\.min)?\.js$", f"{VENDOR}/jquery/jquery.min.js"),
    _rule(r"/popper\.js/1\.[\d.]+/umd/popper(\.min)?\.js$", None),
    _rule(r"/bootstrap/4\.[\d.]+/js/bootstrap(\.min)?\.js$", f"{VENDOR}/bootstrap/bootstrap.bundle.min.js"),
    _rule(r"/bootstrap/4\.[\d.]+/css/bootstrap(\.min)?\.css$", f"{VENDOR}/bootstrap/bootstrap.min.css"),
    _rule(
        rf"{BOOTSTRAP_TABLE}/extensions/filter-control/bootstrap-table-filter-control(\.min)?\.js$",
        f"{VENDOR}/bootstrap-table/bootstrap-table-filter-control.min.js",
    ),
    _rule(
        rf"{BOOTSTRAP_TABLE}/extensions/filter-control/bootstrap-table-filter-control(\.min)?\.css$",
        f"{VENDOR}/bootstrap-table/bootstrap-table-filter-control.min.css",
    ),
    _rule(rf"{BOOTSTRAP_TABLE}/bootstrap-table(\.min)?\.js$", f"{VENDOR}/bootstrap-table/bootstrap-table.min.js"),
    _rule(rf"{BOOTSTRAP_TABLE}/bootstrap-table(\.min)?\.css$", f"{VENDOR}/bootstrap-table/bootstrap-table.min.css"),
    _rule(
        r"/bootstrap-datepicker/1\.[\d.]+/js/bootstrap-datepicker(\.min)?\.js$",
        f"{VENDOR}/bootstrap-datepicker/bootstrap-datepicker.js",
    ),
    _rule(
        r"/bootstrap-datepicker/1\.[\d.]+/css/bootstrap-datepicker(\.min)?\.css$",
        f"{VENDOR}/bootstrap-datepicker/bootstrap-datepicker.css",
    ),
    _rule(
        r"/@forevolve/bootstrap-dark@1\.[\d.]+/dist/css/bootstrap-prefers-dark(\.min)?\.css$",
        f"{VENDOR}/bootstrap-dark/bootstrap-prefers-dark.min.css",
    ),
    _rule(r"/font-awesome/6\.[\d.]+/css/all(\.min)?\.css$", f"{VENDOR}/font-awesome/css/all.min.css"),
    _rule(r"/npm/vega@5(\.[\d.]+)*(/.*)?$", f"{VENDOR}/vega/vega.min.js"),
    _rule(r"/npm/vega-lite@5(\.[\d.]+)*(/.*)?$", f"{VENDOR}/vega/vega-lite.min.js"),
    _rule(r"/npm/vega-embed@6(\.[\d.]+)*(/.*)?$", f"{VENDOR}/vega/vega-embed.min.js"),
    _rule(r"great-expectations-web-assets\.[^/]+/logo-long\.png$", LOGO),
    # the logo of the dark colour scheme, a CSS background, is not in GX's package: no logo offline in dark mode
    _rule(r"great-expectations-web-assets\.[^/]+/full_logo_dark\.png$", None),
)

URL = r"https?://[^\"'\s)]+"
SCRIPT = re.compile(rf'<script\b[^>]*?\bsrc="(?P<url>{URL})"[^>]*>\s*</script>')
STYLESHEET = re.compile(rf'<link\b(?=[^>]*\brel="stylesheet")[^>]*?\bhref="(?P<url>{URL})"[^>]*>')
IMAGE = re.compile(rf'(?P<head><img\b[^>]*?\bsrc=")(?P<url>{URL})"')
CSS_URL = re.compile(rf"url\((?P<quote>['\"]?)(?P<url>{URL})(?P=quote)\)")
# a reference into the docs' static/ folder, at whatever depth the template guessed
STATIC = re.compile(r'(?P<head>\b(?:src|href)=")(?:\.\./)*(?P<path>static/[^"]+)"')


@cache
def _installed(distribution: str, tail: str) -> Path | None:
    """The installed file of `distribution` whose path ends with `tail`, found in its file list (no import)."""
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.as_posix().endswith(tail):
            located = Path(str(file.locate()))
            return located if located.is_file() else None
    return None


def sources() -> dict[str, Path | None]:
    """Every file the offline docs need, by its path under static/vendor/: where it is on this machine (None: its
    package is not installed)."""
    found: dict[str, Path | None] = {local: _installed(*where) for local, where in PACKAGED.items()}
    for file in sorted(BUNDLED.rglob("*")):
        if file.is_file() and file.name != "README.md":
            found[file.relative_to(BUNDLED).as_posix()] = file
    return found


def copy_assets(folder: Path) -> None:
    """Copy the files the pages need into `folder`/static/vendor/ (those of packages not installed are left out,
    and the pages keep their CDN references to them)."""
    found = sources()
    for distribution in sorted({PACKAGED[local][0] for local, source in found.items() if source is None}):
        logger.warning("Data Docs: %s is not installed; the pages load its files from the network", distribution)
    for local, source in found.items():
        if source is None:
            continue
        target = folder / VENDOR / local
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _local(url: str, folder: Path) -> tuple[bool, str | None]:
    """(whether a rule knows `url` and its file is in `folder`, that file's path in the docs or None to drop)."""
    path = re.sub(r"[?#].*$", "", url)
    rule = next((r for r in RULES if r.pattern.search(path)), None)
    if rule is None or (rule.local is not None and not (folder / rule.local).is_file()):
        return False, None
    return True, rule.local


def localise(page: Path, folder: Path) -> list[str]:
    """Rewrite the CDN references of one page GX wrote into `folder` to the files in it; returns the external
    URLs left in the page (no rule knows them, or their file is missing)."""
    text = page.read_text(encoding="utf-8")
    up = posixpath.relpath(".", page.parent.relative_to(folder).as_posix())  # from the page to the docs root
    left: list[str] = []

    def swap(match: re.Match[str], render: Callable[[str | None], str]) -> str:
        known, path = _local(match["url"], folder)
        if not known:
            left.append(match["url"])
            return match[0]
        return render(None if path is None else posixpath.normpath(posixpath.join(up, path)))

    text = SCRIPT.sub(lambda m: swap(m, lambda p: "" if p is None else f'<script src="{p}"></script>'), text)
    text = STYLESHEET.sub(lambda m: swap(m, lambda p: "" if p is None else f'<link rel="stylesheet" href="{p}">'), text)
    text = IMAGE.sub(lambda m: swap(m, lambda p: f'{m["head"]}{p or ""}"'), text)
    text = CSS_URL.sub(lambda m: swap(m, lambda p: "none" if p is None else f"url('{p}')"), text)
    # GX's favicon template climbs one folder too few from a result page (its navbar template gets it right)
    text = STATIC.sub(lambda m: f'{m["head"]}{posixpath.normpath(posixpath.join(up, m["path"]))}"', text)
    page.write_text(text, encoding="utf-8")
    return left


def make_offline(folder: Path) -> list[str]:
    """Copy the assets into the Data Docs `folder` and rewrite its HTML pages to use them; returns the external
    script, stylesheet and image URLs left, which a browser without network cannot load. (GX's site builder keeps
    only the pages of the results it was given, so the folder holds the index, a page per suite and this run's.)"""
    copy_assets(folder)
    left: list[str] = []
    for page in sorted(folder.rglob("*.html")):
        left.extend(localise(page, folder))
    for url in sorted(set(left)):
        logger.warning("Data Docs: no local copy of %s; the pages still load it from the network", url)
    return left

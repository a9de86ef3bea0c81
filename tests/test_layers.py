"""The tree's import contract (pyproject.toml, [tool.importlinter]) holds: no import runs back up a layer, the
stages do not import each other, transforms stay pure and only flows use Prefect."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("flows", "transforms", "expectations", "warehouse", "sources", "drafting", "report", "profiles")


def test_the_import_contract_is_kept():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is a dev dependency: make install"
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "3 kept, 0 broken" in done.stdout


def test_every_folder_imports_under_newsflow_and_nothing_generic_is_importable():
    for stage in STAGES:
        link = ROOT / "newsflow" / stage
        assert link.is_symlink() and link.resolve() == ROOT / stage, f"newsflow/{stage} must link to ../{stage}"
    import newsflow
    import newsflow.flows.ingest

    assert Path(newsflow.flows.ingest.__file__).resolve() == ROOT / "flows" / "ingest.py"
    assert Path(newsflow.__file__).resolve().parent == ROOT / "newsflow"
    probe = f"import importlib.util as u; print([n for n in {STAGES!r} if u.find_spec(n)])"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd="/", capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "[]", f"top-level names importable: {done.stdout}"

"""A test hook for crash safety: stop a run dead at a named point, so a test can SIGKILL it there.

With NEWSFLOW_HALT_AT=<point> in the environment, a run that reaches `halt_point(<point>)` writes its pid to the
file NEWSFLOW_HALT_MARKER names (when set) and sleeps until it is killed. Unset, `halt_point` does nothing.
Points: `parsed` (the first batch is parsed), `landed-tables` (every row of the run is inserted, its
transaction is not committed), `committed` (the run's transaction is committed, its reports are not written).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = ("parsed", "landed-tables", "committed")


def halt_point(name: str) -> None:
    if os.environ.get("NEWSFLOW_HALT_AT") != name:
        return
    marker = os.environ.get("NEWSFLOW_HALT_MARKER")
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    while True:  # until the test kills the process
        time.sleep(60)

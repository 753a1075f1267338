"""s35h5's commitments-phase split (staging, stacking, limbs, lookups and
witness I/O wrapped too):
the shared script tests/bench/s28h3_commit_split.py, run with this file's arguments (not a test)."""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("s28h3_commit_split.py")), run_name="__main__")

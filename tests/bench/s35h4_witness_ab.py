"""s35h4's witness-phase A/B (graph.forward CPU, ``S35H4_SERIAL=0``):
the shared script tests/bench/s34h4_witness_ab.py, run with this file's arguments (not a test)."""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("s34h4_witness_ab.py")), run_name="__main__")

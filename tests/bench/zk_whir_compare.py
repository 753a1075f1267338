"""Zero knowledge on vs off with the hiding WHIR switched on (``whir.HIDING``), both runs
with whir: `tests/bench/zk_compare.py`'s measurement (same arguments) while the flag is
off by default.

    flock /tmp/heavy.lock timeout 2400 .venv/bin/python tests/bench/zk_whir_compare.py \\
        --commitment whir --rounds 2 --verify-reps 5
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))

from tests.bench import zk_compare  # noqa: E402
from zklora.plugins.commitments import whir  # noqa: E402

if __name__ == "__main__":
    whir.HIDING = True
    if "--commitment" not in sys.argv:
        sys.argv += ["--commitment", "whir"]
    zk_compare.main()

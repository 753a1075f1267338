"""s35h6: `KL.multi_fold` at the 25m fold passes' call shapes (soa output), an old tree's
kernel module against this tree's, one process, alternating (not a test):

    flock /tmp/heavy.lock env PYTHONPATH=$PWD python tests/bench/s35h6_mfold_ab.py /tmp/old
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

import numpy as np

from zklora.kernels import lookup_gkr as NEW
from zklora.kernels.goldilocks import P_INT

SHAPES = [((2, 1 << 19, 2), 2), ((20, 1 << 19, 2), 1), ((6, 1 << 19, 2), 3),
          ((10, 1 << 19, 2), 3), ((14, 1 << 18, 2), 2), ((20, 1 << 17, 2), 2)]


def main(old_tree: str) -> None:
    path = os.path.join(old_tree, "zklora/kernels/lookup_gkr.py")
    spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_old", path)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    rng = np.random.default_rng(1)
    for shp, j in SHAPES:
        W = rng.integers(0, P_INT, size=shp, dtype=np.uint64)
        rhos = [tuple(int(x) for x in rng.integers(0, P_INT, 2, dtype=np.uint64))
                for _ in range(j)]
        m = shp[1] >> j
        o1 = np.empty((shp[0], 4, m // 2), np.uint64)
        o2 = np.empty_like(o1)
        old.multi_fold(W, rhos, o1, 0, True)
        NEW.multi_fold(W, rhos, o2, 0, True)
        assert (o1 == o2).all()
        t: dict[int, list[float]] = {0: [], 1: []}
        for _ in range(5):
            for k, mod in ((0, old), (1, NEW)):
                t0 = time.process_time()
                mod.multi_fold(W, rhos, o1, 0, True)
                t[k].append(time.process_time() - t0)
        a, b = np.median(t[0]), np.median(t[1])
        print(f"{shp} j{j}: old {a * 1e3:.2f} new {b * 1e3:.2f} ms CPU (medians of 5) "
              f"x{b / a:.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])

"""s37h4: a fold pass's chunk of one lookup tree's leaf layer (unit leaves, one an
entry) at the 25m call shapes — the old path (`KL.fill_segments` into the chunk
buffer's q rows, then `KL.multi_fold` of those rows into the component-major stack)
against the fused `KL.fill_fold`, one process, alternating, outputs asserted equal (not a
test):

    env PYTHONPATH=$PWD python tests/bench/s37h4_fill_fold_leaves_ab.py
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s36h4_fill_fold_ab import _plan  # noqa: E402

#: (wx = chunk entries, j = folds); 25m: (2^19, 2) ×32 (s35h6's trace)
SHAPES = [(1 << 19, 2), (1 << 19, 3), (1 << 18, 1), (1 << 19, 1)]


def _old(wx, plan, rhos, buf, o1, o2):
    KL.fill_segments(0, wx, buf[0].reshape(wx, 1, 2), plan)
    KL.fill_segments(wx, 2 * wx, buf[1].reshape(wx, 1, 2), plan)
    KL.multi_fold(buf[0:2], rhos, o1[0:2], 0, True)


def _new(wx, plan, rhos, buf, o1, o2):
    assert KL.fill_fold(0, wx, plan, rhos, o2, 0, 0)
    assert KL.fill_fold(wx, wx, plan, rhos, o2, 1, 0)


def main() -> None:
    rng = np.random.default_rng(1)
    for wx, j in SHAPES:
        plan, cols = _plan(rng, 2 * wx)
        rhos = [rng.integers(0, P_INT, 2, dtype=np.uint64) for _ in range(j)]
        k = 2
        buf = np.empty((k, wx, 2), np.uint64)
        o1 = np.empty((k, 4, (wx >> j) // 2), np.uint64)
        o2 = np.empty_like(o1)

        args = (wx, plan, rhos, buf, o1, o2)
        _old(*args)
        _new(*args)
        assert (o1 == o2).all()
        t: dict[int, list[float]] = {0: [], 1: []}
        w: dict[int, list[float]] = {0: [], 1: []}
        for _ in range(9):
            for key, fn in ((0, _old), (1, _new)):
                t0, w0 = time.process_time(), time.perf_counter()
                fn(*args)
                t[key].append(time.process_time() - t0)
                w[key].append(time.perf_counter() - w0)
        a, b = np.median(t[0]), np.median(t[1])
        print(f"wx 2^{wx.bit_length() - 1} j {j} (two halves): old {a * 1e3:.2f} new "
              f"{b * 1e3:.2f} ms CPU x{b / a:.2f}; wall {np.median(w[0]) * 1e3:.2f} -> "
              f"{np.median(w[1]) * 1e3:.2f} ms (medians of 9)", flush=True)


if __name__ == "__main__":
    main()

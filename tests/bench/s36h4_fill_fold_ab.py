"""s36h4: a fold pass's chunk of one lookup tree at the 25m call shapes — the old path
(`KL.fill_reduce` into the chunk buffer's p, q rows, then `KL.multi_fold` of those rows
into the component-major stack) against the fused `KL.fill_reduce_fold`, one process,
alternating, outputs asserted equal (not a test):

    flock /tmp/heavy.lock env PYTHONPATH=$PWD python tests/bench/s36h4_fill_fold_ab.py
"""

from __future__ import annotations

import time

import numpy as np

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

#: (wx = chunk entries, m = leaves an entry, j = folds)
SHAPES = [(1 << 18, 8, 2), (1 << 18, 4, 3), (1 << 19, 2, 3), (1 << 17, 16, 2),
          (1 << 19, 4, 1)]


def _plan(rng, n):
    cols = [rng.integers(0, 1 << 20, n, dtype=np.uint64) for _ in range(2)]
    AP = np.zeros((1, 1, KL.FILL_WIDTH, 2), np.uint64)
    AP[0, 0, 0] = (1, 0)
    AP[0, 0, 1] = rng.integers(0, P_INT, 2, dtype=np.uint64)
    BT = rng.integers(0, P_INT, (1, 1, 2), dtype=np.uint64)
    one = np.ones(1, np.int64)
    plan = (np.zeros(1, np.int64), np.array([n], np.int64), one * KL.SEG_COLS,
            np.zeros(1, np.int64), one * 2, np.zeros(1, np.int64), KL.col_table(cols), AP,
            BT, np.zeros((1, 1, 2), np.uint64))
    return plan, cols


def _old(wx, m, plan, rhos, buf, o1, o2):
    KL.fill_reduce(0, wx, wx, m, plan, buf[0], buf[1])
    KL.multi_fold(buf[0:2], rhos, o1[0:2], 0, True)


def _new(wx, m, plan, rhos, buf, o1, o2):
    assert KL.fill_reduce_fold(0, wx, wx, m, plan, rhos, o2, 0, 1, 0)


def main() -> None:
    rng = np.random.default_rng(1)
    for wx, m, j in SHAPES:
        plan, cols = _plan(rng, wx * m)
        rhos = [rng.integers(0, P_INT, 2, dtype=np.uint64) for _ in range(j)]
        k = 4
        buf = np.empty((k, wx, 2), np.uint64)
        o1 = np.empty((k, 4, (wx >> j) // 2), np.uint64)
        o2 = np.empty_like(o1)

        args = (wx, m, plan, rhos, buf, o1, o2)
        _old(*args)
        _new(*args)
        assert (o1[0:2] == o2[0:2]).all()
        t: dict[int, list[float]] = {0: [], 1: []}
        w: dict[int, list[float]] = {0: [], 1: []}
        for _ in range(7):
            for key, fn in ((0, _old), (1, _new)):
                t0, w0 = time.process_time(), time.perf_counter()
                fn(*args)
                t[key].append(time.process_time() - t0)
                w[key].append(time.perf_counter() - w0)
        a, b = np.median(t[0]), np.median(t[1])
        print(f"wx 2^{wx.bit_length() - 1} m {m} j {j}: old {a * 1e3:.2f} new "
              f"{b * 1e3:.2f} ms CPU x{b / a:.2f}; wall {np.median(w[0]) * 1e3:.2f} -> "
              f"{np.median(w[1]) * 1e3:.2f} ms (medians of 7)", flush=True)


if __name__ == "__main__":
    main()

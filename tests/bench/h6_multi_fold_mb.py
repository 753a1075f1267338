"""Micro-benchmark (not a test): a streamed chunk's folds by ρ_0 … ρ_(j−1), `fold_into`
j times into fresh arrays (the old `_streamed_rounds.chunk`) against `KL.multi_fold`
into a reused buffer; stack (K, 2^LOG, 2), interleaved, medians of wall seconds.

    .venv/bin/python tests/bench/h6_multi_fold_mb.py [K] [LOG] [REPS]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from zklora.kernels import lookup_gkr as KL


def main(k: int, log: int, reps: int) -> None:
    rng = np.random.default_rng(1)
    W = rng.integers(0, KL.P_INT, size=(k, 1 << log, 2), dtype=np.uint64)
    buf = np.empty(k * (1 << (log - 1)) * 2, dtype=np.uint64)
    for j in (1, 2, 3, 4, 6):
        rhos = rng.integers(0, KL.P_INT, size=(j, 2), dtype=np.uint64)
        t = {"old": [], "new": []}
        for _ in range(reps):
            t0 = time.perf_counter()
            X = W
            for r in rhos:
                out = np.empty((k, X.shape[1] // 2, 2), dtype=np.uint64)
                KL.fold_into(X, r, out)
                X = out
            t["old"].append(time.perf_counter() - t0)
            mo = W.shape[1] >> j
            t0 = time.perf_counter()
            Y = KL.multi_fold(W, rhos, buf[:k * mo * 2].reshape(k, mo, 2))
            t["new"].append(time.perf_counter() - t0)
            assert np.array_equal(X, Y)
        o, n = statistics.median(t["old"]), statistics.median(t["new"])
        print(f"j={j}: old {o * 1e3:.1f} ms, new {n * 1e3:.1f} ms, new/old {n / o:.3f}")


if __name__ == "__main__":
    a = [int(x) for x in sys.argv[1:]]
    main(*(a + [8, 19, 7][len(a):]))

"""`h2_fold.fold_base_seq` (j folds in one pass) against `sumcheck.fold_into` j times
(`whir._fold_seq`), CPU ns per input entry, interleaved, medians (not a test).

    python tests/bench/h2_fold_ab.py [LOGN] [REPS]"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from zklora.kernels import h2_fold as H
from zklora.kernels import sumcheck as KS
from zklora.kernels.goldilocks import P_INT


def seq(t, rs):
    for r in rs:
        out = np.empty((t.shape[0] // 2, 2), dtype=np.uint64)
        KS.fold_into(t, r, out)
        t = out
    return t


def main(logn: int = 19, reps: int = 15) -> None:
    rng = np.random.default_rng(1)
    t = rng.integers(0, P_INT, size=1 << logn, dtype=np.uint64)
    for j in (1, 2, 3, 4, 5):
        rs = rng.integers(0, P_INT, size=(j, 2), dtype=np.uint64)
        assert np.array_equal(seq(t, rs), H.fold_base_seq(t, rs))
        res = {"seq": [], "fused": []}
        for _ in range(reps):
            for name, fn in (("seq", seq), ("fused", H.fold_base_seq)):
                c0 = time.process_time()
                fn(t, rs)
                res[name].append((time.process_time() - c0) / t.shape[0] * 1e9)
        a, b = statistics.median(res["seq"]), statistics.median(res["fused"])
        print(f"2^{logn} j={j}: seq {a:.2f} ns  fused {b:.2f} ns  fused/seq {b / a:.3f}")


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:]))

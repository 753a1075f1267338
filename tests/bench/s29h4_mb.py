"""This area's in-prove kernel shapes at 25m, timed in one process (not a test; s29h4).

    flock /tmp/heavy.lock python tests/bench/s29h4_mb.py [ROUNDS]

`whir_eq.pow_eq_accumulate` (2^22 rows, q = 85), `eq_combination` (2^23 rows, q = 2
extension points, accumulate), 128 `eq_rows` blocks of 2^15 rows (q = 3), `_seg_fin`
(7520 claims of 2^8 entries, passes j = 0..4).  Prints the
median process CPU of each per round (run it in two trees to compare them; with
``--flag`` also the `whir_eq.IFMA` = False side in this tree)."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from zklora.kernels import whir_eq as QE
from zklora.kernels.goldilocks import P_INT


def main(rounds: int, flag: bool) -> None:
    rng = np.random.default_rng(1)

    def rnd(*shape):
        return rng.integers(0, P_INT, size=shape, dtype=np.uint64)

    out22 = rnd(1 << 22, 2)
    zs, cf = rnd(85), rnd(85, 2)
    out23 = rnd(1 << 23, 2)
    pts, cf2 = rnd(2, 23, 2), rnd(2, 2)
    A, B, a = QE.eq_split(rnd(3, 23, 2), rnd(3, 2))
    ob = np.empty((1 << 15, 2), dtype=np.uint64)
    K, G, T = 7520, 1000, 8   # `SegRuns.dots` at 25m: 1.7M run entries a pass
    grp = rng.integers(0, G, K).astype(np.int64)
    gT = np.full(G, T, np.int64)
    loff = np.arange(G + 1, dtype=np.int64) << (T - 1)
    aoff = np.arange(K + 1, dtype=np.int64) << T
    L0, L1, A0, A1 = rnd(G << (T - 1)), rnd(G << (T - 1)), rnd(K << T), rnd(K << T)
    ks = np.arange(K, dtype=np.int64)
    X = np.zeros((K, 4), np.uint64)
    cases = {
        "pow_eq 22/85": lambda: QE.pow_eq_accumulate(out22, zs, cf),
        "eq_comb 23/2": lambda: QE.eq_combination(out23, pts, cf2),
        "eq_rows 128x2^15/3": lambda: [QE.eq_rows(A, B, a, i << 15, (i + 1) << 15, ob)
                                       for i in range(128)],
        "seg_fin 7520x256 j=0..4": lambda: [QE._seg_fin(ks, grp, gT, loff, L0, L1, aoff, A0,
                                                        A1, j, X) for j in range(5)],
    }
    sides = [True, False] if flag else [QE.IFMA]
    res: dict = {}
    for _ in range(rounds + 1):
        for name, fn in cases.items():
            for s in sides:
                QE.IFMA = s
                c0 = time.process_time()
                fn()
                res.setdefault((name, s), []).append(time.process_time() - c0)
    for (name, s), v in res.items():
        print(f"{name:22s} IFMA={s!s:5s} {1e3 * statistics.median(v[1:]):8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, "--flag" in sys.argv)

"""The IFMA52 kernels against the acc_mul ones they replace, one process, the module
flag toggled, interleaved (not a test; s28h1).

    flock /tmp/heavy.lock python tests/bench/s28h1_ifma_mb.py [ROUNDS]

Shapes of a 25m / 84m opening: `whir_open.split_rows` on a 2^19-entry block (a = 10,
q = 4; T = 1 and the merged head's T = 16), `whir_eq.pow_eq_accumulate` (2^18 and 2^20
rows, q = 85 points), `whir_eq.fold_eq` of 2^22 base inputs (j = 10 and 4).  Prints the
median process CPU (both threads) of each kernel call per side and the ratio; asserts
equal outputs."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO
from zklora.kernels.goldilocks import P_INT


def main(rounds: int) -> None:
    rng = np.random.default_rng(1)

    def rnd(*shape):
        return rng.integers(0, P_INT, size=shape, dtype=np.uint64)

    cases = {}
    for T in (1, 16):
        tabs = [rnd(1 << 19) for _ in range(T)]
        C = rnd(4, T, 1 << 9, 2)
        cases[f"split_rows T={T}"] = lambda tabs=tabs, C=C: WO.split_rows(tabs, C, 10)
    for m in (18, 20):
        zs, cf, out = rnd(85), rnd(85, 2), rnd(1 << m, 2)
        cases[f"pow_eq m={m}"] = lambda zs=zs, cf=cf, out=out: (
            QE.pow_eq_accumulate(o := out.copy(), zs, cf), o)[1]
    s = rnd(1 << 22)
    for j in (10, 4):
        rs = rnd(j, 2)
        cases[f"fold_eq j={j}"] = lambda rs=rs: QE.fold_eq(s, rs)
    for name, fn in cases.items():
        t = {True: [], False: []}
        res = {}
        for r in range(rounds + 1):
            for flag in ((True, False) if r % 2 == 0 else (False, True)):
                QE.IFMA = flag
                c0 = time.process_time()
                res[flag] = fn()
                if r:
                    t[flag].append(time.process_time() - c0)
        assert np.array_equal(res[True], res[False]), name
        o, n = statistics.median(t[False]), statistics.median(t[True])
        print(f"{name:18s} acc_mul {o * 1e3:8.2f} ms  ifma {n * 1e3:8.2f} ms  x{n / o:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

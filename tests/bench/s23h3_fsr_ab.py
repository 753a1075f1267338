"""s23h3: whir_open.fold_split_round (fused fold + split round) vs fold_eq then
split_round, interleaved, process CPU medians; outputs asserted equal.

    flock /tmp/heavy.lock .venv/bin/python tests/bench/s23h3_fsr_ab.py [ROUNDS]
"""
import sys
import time

import numpy as np

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO

P = (1 << 64) - (1 << 32) + 1


def rnd(rng, *shape):
    return rng.integers(0, P, size=shape, dtype=np.uint64)


def main():
    R = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rng = np.random.default_rng(1)
    shapes = [(19, 1, 9, 3), (19, 2, 9, 3), (19, 3, 9, 3), (19, 4, 9, 3), (20, 2, 10, 1),
              (18, 1, 9, 8)]
    for n, j, a, q in shapes:
        s = rnd(rng, 1 << n)
        rs = rnd(rng, j, 2)
        A = rnd(rng, q, 1 << a, 2)
        Hn = (1 << (n - j - a)) * 4
        B = rnd(rng, q, Hn, 2)
        lo = 1 << a
        old = WO.split_round(QE.fold_eq(s, rs), A, B, a, lo)
        new = WO.fold_split_round(s, rs, A, B, a, lo)
        assert np.array_equal(old, new)
        to, tn = [], []
        for _ in range(R):
            t = time.process_time()
            for _ in range(4):
                WO.split_round(QE.fold_eq(s, rs), A, B, a, lo)
            to.append(time.process_time() - t)
            t = time.process_time()
            for _ in range(4):
                WO.fold_split_round(s, rs, A, B, a, lo)
            tn.append(time.process_time() - t)
        mo, mn = float(np.median(to)), float(np.median(tn))
        print(f"n={n} j={j} a={a} q={q}: old {mo * 250:.2f} ms new {mn * 250:.2f} ms "
              f"x{mn / mo:.3f}", flush=True)


if __name__ == "__main__":
    main()

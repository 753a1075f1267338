"""s23h3: split_round / fold_split_round kernels at 16, 8, 4, 2 chunks (2^19 base entries, a = 10,
q = 3), process CPU medians, sums asserted equal.

    flock /tmp/heavy.lock .venv/bin/python tests/bench/s23h3_nch_ab.py
"""
import time

import numpy as np

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO

P = (1 << 64) - (1 << 32) + 1
rng = np.random.default_rng(1)
a, q = 10, 3
s = rng.integers(0, P, size=1 << 19, dtype=np.uint64)
A = rng.integers(0, P, size=(q, 1 << a, 2), dtype=np.uint64)
B = rng.integers(0, P, size=(q, 1 << 9, 2), dtype=np.uint64)
for j in (0, 1, 2, 3):
    M = (1 << 19) >> j
    H = M >> a
    E0, E1 = QE._eq_weights(rng.integers(0, P, size=(max(j, 1), 2), dtype=np.uint64))
    res = {}
    for _rep in range(3):
        for nch in (16, 8, 4, 2):
            nch = min(nch, H)
            part = np.zeros((nch, 4), np.uint64)
            t = time.process_time()
            for _ in range(8):
                part[:] = 0
                if j == 0:
                    WO._split_round_base(s, A, B, 0, a, nch, part)
                else:
                    WO._fold_split_round(s, E0, E1, j, A, B, 0, a, H, nch, part)
            res.setdefault(nch, []).append((time.process_time() - t) / 8 * 1000)
            v = WO._sum4(part)
            res.setdefault(('v', nch), v)
    assert len({res[k] for k in res if isinstance(k, tuple)}) == 1
    print(j, {k: round(float(np.median(v)), 3) for k, v in res.items() if not isinstance(k, tuple)})

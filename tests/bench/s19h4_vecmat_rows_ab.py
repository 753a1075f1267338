"""Micro A/B of `GoldilocksExt2.vecmat`: the column blocks (`K.e_vecmat_base`, before)
vs the streamed rows (`K.e_vecmat_rows`, after: `VECMAT_ROWS`), interleaved, on the
einsum folds' vecmat shapes of a capture (`s19h4_capture.py SIZE OUT.pkl`: the calls
whose perm keeps the axes in order, read as (first non-unit axis) × (the rest)) plus the
per-plane vecmats of the copy-free folds; random tables (not a test).

    python tests/bench/s19h4_vecmat_rows_ab.py CAPTURE.pkl [REPS]"""

from __future__ import annotations

import collections
import pickle
import statistics
import sys
import time

import numpy as np


def main(argv) -> None:
    from zklora.plugins.fields import goldilocks as G
    F = G.GOLDILOCKS
    E = F.ext
    with open(argv[0], "rb") as f:
        calls = pickle.load(f)["vecmat"]
    reps = int(argv[1]) if len(argv) > 1 else 7
    count = collections.Counter()
    for shape, perm, _first, _, _ in calls:
        dims = [d for d in shape if d != 1]
        if list(perm) == sorted(perm) and len(dims) >= 2:
            count[(dims[0], int(np.prod(dims[1:])))] += 1
    rng = np.random.default_rng(3)
    keep = G.VECMAT_ROWS
    E.vecmat(E.random(rng, 1024), F.random(rng, 1 << 20).reshape(1024, -1))
    tot = [0.0, 0.0]
    for (R, C), n in sorted(count.items(), key=lambda kv: -kv[0][0] * kv[0][1]):
        M = F.random(rng, R * C).reshape(R, C)
        e = E.random(rng, R)
        ts = {0: [], 1: []}
        for r in range(reps):
            for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                G.VECMAT_ROWS = 1 << 62 if which == 0 else keep
                c = time.perf_counter()
                out = E.vecmat(e, M)
                ts[which].append(time.perf_counter() - c)
                if r == 0:
                    if which == 0:
                        ref = out
                    else:
                        G.VECMAT_ROWS = 1 << 62
                        assert np.array_equal(out, E.vecmat(e, M))
        G.VECMAT_ROWS = keep
        mo, mn = statistics.median(ts[0]), statistics.median(ts[1])
        tot[0] += n * mo
        tot[1] += n * mn
        print(f"({R:5d}, {C:5d}) x{n:3d}: old {mo * 1e3:8.3f} ms new {mn * 1e3:8.3f} ms "
              f"ratio {mn / mo:.3f}", flush=True)
        del ref
    print(f"count-weighted: old {tot[0]:.3f} s new {tot[1]:.3f} s ratio {tot[1] / tot[0]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])

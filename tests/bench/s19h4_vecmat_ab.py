"""Micro A/B of the einsum base folds (`einsum._vecmat_blocked`): the transposed copy +
`vecmat` (before: ``nfold`` None) vs the copy-free paths (``nfold`` given: `matvec`, a
`vecmat` per plane), on the (shape, perm) calls a capture recorded
(`s19h4_capture.py SIZE OUT.pkl`), random tables, interleaved (not a test).

    python tests/bench/s19h4_vecmat_ab.py CAPTURE.pkl [REPS]

Calls whose perm keeps the axes in order (no copy either way) are left out.  Prints per
shape the medians (wall), the count-weighted totals and the ratio; results asserted
equal."""

from __future__ import annotations

import collections
import pickle
import statistics
import sys
import time

import numpy as np


def _nfold(perm):
    for k in range(1, len(perm)):
        if list(perm[:k]) == sorted(perm[:k]) and list(perm[k:]) == sorted(perm[k:]):
            return k
    return None


def main(argv) -> None:
    from zklora.plugins.fields.goldilocks import GOLDILOCKS as F
    from zklora.zkcore import einsum as ES
    E = F.ext
    with open(argv[0], "rb") as f:
        calls = pickle.load(f)["vecmat"]
    reps = int(argv[1]) if len(argv) > 1 else 7
    count = collections.Counter((c[0], c[1], c[2]) for c in calls
                                if list(c[1]) != sorted(c[1]))
    rng = np.random.default_rng(7)
    E.vecmat(E.random(rng, 64), F.random(rng, 64 * 64).reshape(64, 64))   # load
    tot = [0.0, 0.0]
    for (shape, perm, first), n in sorted(count.items(), key=lambda kv: -np.prod(kv[0][0])):
        k = _nfold(perm)
        t = F.random(rng, int(np.prod(shape))).reshape(shape)
        rows = int(np.prod([shape[i] for i in perm[:k]]))
        eq = E.random(rng, rows)
        ts = {0: [], 1: []}
        for r in range(reps):
            for which in ((0, 1) if r % 2 == 0 else (1, 0)):
                c = time.perf_counter()
                out = ES._vecmat_blocked(E, eq, t, list(perm), first,
                                         None if which == 0 else k)
                ts[which].append(time.perf_counter() - c)
                if r == 0:
                    if which == 0:
                        ref = out
                    else:
                        assert np.array_equal(out, ES._vecmat_blocked(E, eq, t, list(perm),
                                                                      first, None))
        mo, mn = statistics.median(ts[0]), statistics.median(ts[1])
        tot[0] += n * mo
        tot[1] += n * mn
        print(f"{str(shape):22s} {str(perm):18s} x{n:3d}: old {mo * 1e3:8.3f} ms new "
              f"{mn * 1e3:8.3f} ms ratio {mn / mo:.3f}", flush=True)
        del ref
    print(f"count-weighted: old {tot[0]:.3f} s new {tot[1]:.3f} s ratio {tot[1] / tot[0]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])

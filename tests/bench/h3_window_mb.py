"""Micro-benchmark of the streamed rounds' window kernel `KL.gkr_window_sums` (not a
test): OLD (a copy of `zklora/kernels/lookup_gkr.py`, loaded as a sibling module) vs this
tree, interleaved, K rounds, on random tables of T unit trees (slots [-1, -1, q0, q1],
as the lookup trees) of 2^N entries, windows of m rounds; prints CPU ns per table entry
(medians) and checks equal accumulators.

    git show REV:zklora/kernels/lookup_gkr.py > /tmp/old_lookup_gkr.py
    .venv/bin/python tests/bench/h3_window_mb.py /tmp/old_lookup_gkr.py [K] [N] [T] [m,...]
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())

from zklora.kernels import lookup_gkr as KL  # noqa: E402


def _old(path: str):
    spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_old", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def main(path: str, K: int, N: int, T: int, ms: list[int]) -> None:
    OLD = _old(path)
    P = (1 << 64) - (1 << 32) + 1
    rng = np.random.default_rng(3)
    M = 1 << N
    W = rng.integers(0, P, (2 * T, M, 2), dtype=np.uint64)
    slots = np.array([[-1, -1, 2 * t, 2 * t + 1] for t in range(T)], np.int64)
    res = {(nm, m): [] for nm in ("old", "new") for m in ms}
    for k in range(K + 1):
        for m in ms:
            Es = [rng.integers(0, P, (M >> (i + 1), 2), dtype=np.uint64) for i in range(m)]
            want = [False] * m
            accs = {}
            order = [("old", OLD), ("new", KL)]
            if k % 2:
                order.reverse()
            for nm, Mod in order:
                acc = np.zeros((T, 3, 2, KL.window_offsets(m)[m], 2), np.uint64)
                t0 = time.process_time()
                Mod.gkr_window_sums(W, slots, Es, want, acc)
                dt = time.process_time() - t0
                if k:
                    res[(nm, m)].append(dt / (M * T) * 1e9)
                accs[nm] = acc
            assert np.array_equal(accs["old"], accs["new"]), m
    for m in ms:
        o, nw = statistics.median(res[("old", m)]), statistics.median(res[("new", m)])
        print(f"m {m}: old {o:6.2f} ns/entry  new {nw:6.2f}  new/old {nw / o:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5,
         int(sys.argv[3]) if len(sys.argv) > 3 else 18,
         int(sys.argv[4]) if len(sys.argv) > 4 else 2,
         [int(x) for x in (sys.argv[5] if len(sys.argv) > 5 else "2,3,4").split(",")])

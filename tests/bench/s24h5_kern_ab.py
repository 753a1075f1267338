"""s24h5: interleaved A/B of `zklora.kernels.sumcheck`'s pairwise first-round kernels and
small step calls, an old tree's module file against this tree's (same process, process
CPU by `time.process_time`, medians of ROUNDS × 8 calls, outputs asserted equal; not a
test).

    python tests/bench/s24h5_kern_ab.py OLD_TREE ROUNDS

Cases (25m prove shapes): ``pair_sums`` base × ext 2^17 / 2^16 entries, ext × ext 2^16,
base × base 2^16; ``fold_into`` of a base table 2^17 / 2^16; ``p2_step`` serial sizes
(2 tables, 1 term, 2^8 / 2^10 / 2^11 pairs out)."""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time

import numpy as np

import zklora.kernels.sumcheck as KS_new
from zklora.zkcore.sumcheck import _inv_den_array

P = 0xFFFFFFFF00000001


def _load(tree: str, mod: str):
    spec = importlib.util.spec_from_file_location(
        f"zklora.kernels._old_{mod}", f"{tree}/zklora/kernels/{mod}.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def cases(rng):
    def tab(kind, n):
        t = rng.integers(0, P, (n,) if kind == "b" else (n, 2), dtype=np.uint64)
        t.flags.writeable = False
        return t

    for kinds, logn in (("be", 17), ("be", 16), ("ee", 16), ("bb", 16)):
        A, B = tab(kinds[0], 1 << logn), tab(kinds[1], 1 << logn)
        yield f"pair_sums {kinds} 2^{logn}", lambda mod, A=A, B=B: [mod.pair_sums(A, B)]
    for logn in (17, 16):
        t = tab("b", 1 << logn)
        r = rng.integers(0, P, 2, dtype=np.uint64)

        def f(mod, t=t, r=r):
            out = np.empty((t.shape[0] // 2, 2), np.uint64)
            mod.fold_into(t, r, out)
            return [out]
        yield f"fold_into b 2^{logn}", f
    for logm in (8, 10, 11):
        m = 1 << logm
        st = rng.integers(0, P, (2, 4 * m, 2), dtype=np.uint64)
        fa = np.array([0], np.int64)
        fb = np.array([1], np.int64)
        coeffs = rng.integers(0, P, (1, 2), dtype=np.uint64)
        g0 = rng.integers(0, P, (3, 2), dtype=np.uint64)
        inv = _inv_den_array(2)
        r = rng.integers(0, P, 2, dtype=np.uint64)

        def f(mod, st=st, fa=fa, fb=fb, coeffs=coeffs, g0=g0, inv=inv, r=r, m=m):
            out = np.empty((2, 2 * m, 2), np.uint64)
            g = g0.copy()
            msg = np.empty((2, 2), np.uint64)
            run = np.empty(2, np.uint64)
            mod.p2_step(st, r, out, fa, fb, coeffs, inv, g, msg, run)
            return [out, g, msg, run]
        yield f"p2_step m 2^{logm}", f


def main() -> None:
    old, rounds = sys.argv[1], int(sys.argv[2])
    oldm = _load(old, "sumcheck")
    rng = np.random.default_rng(1)
    for label, fn in cases(rng):
        for a, b in zip(fn(oldm), fn(KS_new)):
            assert np.array_equal(a, b), label
        ts = {"old": [], "new": []}
        for r in range(rounds):
            for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                mod = oldm if name == "old" else KS_new
                c0 = time.process_time()
                for _ in range(8):
                    fn(mod)
                ts[name].append(time.process_time() - c0)
        mo = statistics.median(ts["old"]) / 8
        mn = statistics.median(ts["new"]) / 8
        print(f"{label:22s} old {mo * 1e3:8.3f} ms  new {mn * 1e3:8.3f} ms  new/old {mn / mo:.3f}",
              flush=True)


if __name__ == "__main__":
    main()

"""s22h3: interleaved A/B of the eq-factored sumcheck rounds' kernels, an old tree's
module file against this tree's (same process, CPU time by `time.process_time`,
medians, outputs asserted equal).

    python tests/bench/s22h3_kern_ab.py OLD_TREE ROUNDS [WHAT ...]

WHAT: step (`sumcheck.eq_step`), sums (`sumcheck.eq_sums`), p2 (`sumcheck.p2_step`,
2 tables, 1 term, 2^13..2^15 pairs out), gsums / gstep (`sumcheck.gen_sums` /
``gen_step``, 4 tables, 3 terms, degree 3, 2^13 / 2^16 pairs) at the 25m prove's
shapes: eq·A·B (2 tables, 1 term, degree 3, 2^15 / 2^16 pairs), the 16-table 18-term
degree-4 relation (2^15 pairs), the 15-table relation with constant terms (2^11)."""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time

import numpy as np

import zklora.kernels.sumcheck as KS_new
from zklora.zkcore.sumcheck import _inv_den_array

P = 0xFFFFFFFF00000001

SHAPES = {
    "ab": ([2], [0, 1], 2, 3),
    "r16": ([2, 2, 1, 1, 1, 1, 1, 1, 3, 1, 2, 1, 1, 1, 2, 2, 2, 2],
            [0, 1, 0, 2, 3, 4, 5, 6, 7, 8, 0, 9, 10, 0, 7, 11, 12, 13, 14, 15, 15, 0, 15,
             15, 1, 15, 2], 16, 4),
    "r15": ([1, 1, 0, 1, 1, 1, 0, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 0, 2, 1, 1, 1, 1, 0, 0, 1,
             1, 0, 1, 1, 1, 1, 1],
            [0, 1, 2, 3, 4, 2, 2, 3, 5, 5, 6, 7, 5, 6, 8, 0, 5, 9, 5, 9, 10, 8, 5, 11, 12,
             13, 14, 13, 9, 11], 15, 3),
}


def _load(tree: str, mod: str):
    spec = importlib.util.spec_from_file_location(
        f"zklora.kernels._old_{mod}", f"{tree}/zklora/kernels/{mod}.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def _rnd(rng, *shape):
    return rng.integers(0, P, size=shape, dtype=np.uint64)


def p2_cases(rng):
    for logm in (15, 14, 13):
        m = 1 << logm
        st = _rnd(rng, 2, 4 * m, 2)
        st.flags.writeable = False
        fa = np.array([0], np.int64)
        fb = np.array([1], np.int64)
        coeffs = _rnd(rng, 1, 2)
        g0 = _rnd(rng, 3, 2)
        inv = _inv_den_array(2)
        r = _rnd(rng, 2)

        def f(mod, st=st, fa=fa, fb=fb, coeffs=coeffs, g0=g0, inv=inv, r=r, m=m):
            out = np.empty((2, 2 * m, 2), np.uint64)
            g = g0.copy()
            msg = np.empty((2, 2), np.uint64)
            run = np.empty(2, np.uint64)
            mod.p2_step(st, r, out, fa, fb, coeffs, inv, g, msg, run)
            return [out, g, msg, run]
        yield f"ab m2^{logm}", f


def gen_cases(rng, what):
    starts = np.array([0, 3, 5, 6], np.int64)
    factors = np.array([0, 1, 2, 1, 3, 2], np.int64)
    for logm, base in ((16, ()), (16, (1, 3)), (13, ())):
        m = 1 << logm
        coeffs = _rnd(rng, 3, 2)
        isb = np.zeros(4, np.bool_)
        isb[list(base)] = True
        st = _rnd(rng, 4, 4 * m if what == "gstep" else 2 * m, 2)
        for b in base:
            st[b, :, 1] = 0
        st.flags.writeable = False
        g0 = _rnd(rng, 4, 2)
        inv = _inv_den_array(3)
        r = _rnd(rng, 2)
        run0 = _rnd(rng, 2)
        if what == "gsums":
            def f(mod, st=st, isb=isb, coeffs=coeffs, run0=run0):
                return [mod.gen_sums(st, isb, starts, factors, coeffs, 3, run0)]
        else:
            def f(mod, st=st, isb=isb, coeffs=coeffs, g0=g0, inv=inv, r=r, m=m):
                out = np.empty((4, 2 * m, 2), np.uint64)
                g = g0.copy()
                msg = np.empty((3, 2), np.uint64)
                run = np.empty(2, np.uint64)
                mod.gen_step(st, r, out, np.zeros(4, np.bool_), starts, factors, coeffs, 3,
                             inv, g, msg, run)
                return [out, g, msg, run]
        yield f"g3 m2^{logm}" + (" base" if base else ""), f


def cases(rng, what):
    if what == "p2":
        yield from p2_cases(rng)
        return
    if what in ("gsums", "gstep"):
        yield from gen_cases(rng, what)
        return
    for name, logm, base in (("ab", 16, ()), ("ab", 15, ()), ("ab", 16, (1,)),
                             ("r16", 15, ()), ("r15", 11, ())):
        lens, fa, k, deg = SHAPES[name]
        starts = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        factors = np.array(fa, np.int64)
        coeffs = _rnd(rng, len(lens), 2)
        m = 1 << logm
        isb = np.zeros(k, np.bool_)
        for b in base:
            isb[b] = True
        st = _rnd(rng, k, 4 * m if what == "step" else 2 * m, 2)
        for b in base:
            st[b, :, 1] = 0
        st.flags.writeable = False
        w = _rnd(rng, m, 2)
        sc = _rnd(rng, 2)
        ej = _rnd(rng, 2, 2)
        ep = _rnd(rng, 2, 2)
        run0 = _rnd(rng, 2)
        label = f"{name} m2^{logm}" + (" base" if base else "")
        if what == "sums":
            def f(mod, st=st, w=w, isb=isb, starts=starts, factors=factors, coeffs=coeffs,
                  deg=deg, sc=sc, ej=ej, run0=run0):
                g = np.zeros((deg + 1, 2), np.uint64)
                s = sc.copy()
                fl = mod.eq_sums(st, w, isb, starts, factors, coeffs, deg, run0, s, ej, g)
                return [g, s, np.array([fl])]
        else:
            g0 = _rnd(rng, deg + 1, 2)
            inv = _inv_den_array(deg)
            r = _rnd(rng, 2)

            def f(mod, st=st, w=w, isb=isb, starts=starts, factors=factors, coeffs=coeffs,
                  deg=deg, sc=sc, ej=ej, ep=ep, g0=g0, inv=inv, r=r, k=k, m=m):
                out = np.empty((k, 2 * m, 2), np.uint64)
                g = g0.copy()
                s = sc.copy()
                msg = np.empty((deg, 2), np.uint64)
                run = np.empty(2, np.uint64)
                fl = mod.eq_step(st, r, out, w, np.zeros(k, np.bool_), starts, factors,
                                 coeffs, deg, inv, g, msg, run, s, ep, ej, isb)
                return [out, g, msg, run, s, np.array([fl])]
        yield label, f


def main() -> None:
    old, rounds = sys.argv[1], int(sys.argv[2])
    whats = sys.argv[3:] or ["step", "sums"]
    oldm = _load(old, "sumcheck")
    rng = np.random.default_rng(1)
    for what in whats:
        for label, fn in cases(rng, what):
            for a, b in zip(fn(oldm), fn(KS_new)):
                assert np.array_equal(a, b), (what, label)
            ts = {"old": [], "new": []}
            for r in range(rounds):
                for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                    mod = oldm if name == "old" else KS_new
                    c0 = time.process_time()
                    for _ in range(4):
                        fn(mod)
                    ts[name].append(time.process_time() - c0)
            mo = statistics.median(ts["old"])
            mn = statistics.median(ts["new"])
            print(f"{what:5s} {label:18s} old {mo * 250:8.2f} ms  new {mn * 250:8.2f} ms  "
                  f"new/old {mn / mo:.3f}", flush=True)


if __name__ == "__main__":
    main()

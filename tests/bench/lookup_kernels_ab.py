"""Interleaved A/B of the lookup kernels (`zklora/kernels/lookup_gkr.py`) and of the
logup-gkr argument alone (2^N lookups into the 2^16 range table, goldilocks; not a test).

    git show REV:zklora/kernels/lookup_gkr.py > /tmp/old_lookup_gkr.py
    .venv/bin/python tests/bench/lookup_kernels_ab.py /tmp/old_lookup_gkr.py K N

OLD = the given copy of the kernel module (loaded as a sibling module, numba-cached next
to it; its first run compiles it), NEW = the working tree's.  Prints, per kernel, the
median over K interleaved passes of the CPU time per pair / output / leaf, then the
argument's prove CPU time with OLD's and NEW's kernels bound into
`zklora.kernels.lookup_gkr` (the logup-gkr prover calls them through that module),
checking that both give the same proof bytes.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "bench"))

from test_bench_lookups import _prove, _setup  # noqa: E402

from zklora.kernels import lookup_gkr as KL  # noqa: E402
from zklora.zkcore.plugins import registry  # noqa: E402

#: the wrappers the logup-gkr prover calls (swapped for the A/B of the whole argument)
NAMES = ["leaf_denoms", "frac_up", "gkr_sums", "gkr_fold_sums", "fold_into"]


def _old(path: str):
    spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_old", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod   # numba's cache finds the module by name
    spec.loader.exec_module(mod)
    return mod


def _cases(Ef):
    rng = np.random.default_rng(1)

    def rnd(*s):
        return rng.integers(0, 2**63, size=s, dtype=np.uint64)

    m = 1 << 20
    E = rnd(m, 2)
    Eh = np.ascontiguousarray(E[:m // 2])
    r = rnd(2)
    Wu, Wt = rnd(2, 2 * m, 2), rnd(4, 2 * m, 2)
    su = np.array([[-1, -1, 0, 1]], np.int64)
    st = np.array([[0, 1, 2, 3]], np.int64)
    q, p = rnd(2 * m, 2), rnd(2 * m, 2)
    col = rng.integers(0, 1 << 16, size=2 * m, dtype=np.uint64)
    apow = np.array([[1, 0]], np.uint64)
    return {
        "layer sums, unit tree (ns/pair)": (lambda M: M.gkr_sums(Wu, Wu, su, E, False), m),
        "layer sums, full tree (ns/pair)": (lambda M: M.gkr_sums(Wt, Wt, st, E, False), m),
        "fold+sums, unit tree (ns/folded entry)":
            (lambda M: M.gkr_fold_sums(Wu, r, su, Eh, False), m),
        "fold+sums, full tree (ns/folded entry)":
            (lambda M: M.gkr_fold_sums(Wt, r, st, Eh, False), m),
        "frac_up (ns/output)": (lambda M: M.frac_up(Ef, p, q), m),
        "frac_up unit (ns/output)": (lambda M: M.frac_up(Ef, None, q), m),
        "leaf_denoms w=1 (ns/leaf)": (lambda M: M.leaf_denoms(Ef, [col], apow, q[0]), 2 * m),
    }


def main(path: str, K: int, NB: int) -> None:
    OLD = _old(path)
    Ef = registry().field("goldilocks").ext
    cases = _cases(Ef)
    for name, (f, _) in cases.items():
        assert all(np.array_equal(a, b) for a, b in zip(f(OLD), f(KL))), name
    res: dict = {}
    for _ in range(K):
        for which, M in (("old", OLD), ("new", KL)):
            for name, (f, cnt) in cases.items():
                t0 = time.process_time()
                f(M)
                res.setdefault((name, which), []).append((time.process_time() - t0) / cnt * 1e9)
    for name in cases:
        o = statistics.median(res[(name, "old")])
        n = statistics.median(res[(name, "new")])
        print(f"{name:40s} old {o:7.1f}  new {n:7.1f}  x{o / n:.2f}")
    funcs = {"new": {k: getattr(KL, k) for k in NAMES}, "old": {k: getattr(OLD, k) for k in NAMES}}
    F, scheme, table, x, specs, reqs = _setup("goldilocks", NB, 16)
    arg = registry().lookup("logup-gkr")()
    proofs, ts = {}, {"old": [], "new": []}
    try:
        for rnd in range(K + 1):
            for which in ("old", "new"):
                for k, v in funcs[which].items():
                    setattr(KL, k, v)
                t0 = time.process_time()
                proofs[which] = _prove(arg, F, scheme, table, x, specs, reqs)
                if rnd:   # the first pass warms both
                    ts[which].append(time.process_time() - t0)
    finally:
        for k, v in funcs["new"].items():
            setattr(KL, k, v)
    assert proofs["old"] == proofs["new"]
    o, n = statistics.median(ts["old"]), statistics.median(ts["new"])
    print(f"logup-gkr prove, 2^{NB} lookups into range16 (CPU s): old {o:.3f} new {n:.3f} "
          f"x{o / n:.2f}; same proof bytes ({len(proofs['new'])} B)")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))

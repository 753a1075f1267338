"""In-situ A/B of the lookups' fused leaf kernel (`KL.fill_reduce`, not a test): proves
the 25m step's lookup composition (``COMP``, `h2_lookup25_ab.py`'s pickle; blocks 2^SHIFT
times smaller, ``SB`` / ``KL`` the stream budget and keep-layers, default the 25m
bench's 64 MiB / 18 at SHIFT 0) and on every `fill_reduce` call runs OLD's kernel (a
copy of `zklora/kernels/lookup_gkr.py`, loaded as a sibling module) and this tree's,
order alternating, checks the outputs are equal and sums their times (likewise every
`gkr_window_sums` call, the streamed rounds' window kernel); also prints the
calls' (m, R, wx) histogram.  The proof uses this tree's output.

    git show REV:zklora/kernels/lookup_gkr.py > /tmp/old_lookup_gkr.py
    .venv/bin/python tests/bench/h3_fill_reduce_ab.py /tmp/old_lookup_gkr.py [SHIFT]
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import os
import pickle
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())

from zklora.kernels import lookup_gkr as KL  # noqa: E402
from zklora.plugins.lookups import logup_gkr as L  # noqa: E402
from zklora.plugins.lookups.logup_gkr import LogUpGKR  # noqa: E402
from zklora.zkcore.testing import lookup_suite as S  # noqa: E402


def _old(path: str):
    spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_old", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def main(path: str, shift: int) -> None:
    OLD = _old(path)
    L.STREAM_BYTES = int(os.environ.get("SB", (64 << 20) >> shift))
    L.KEEP_LAYERS = int(os.environ.get("KL", 18 - shift))
    comp = pickle.load(open(os.environ.get("COMP", "/tmp/h2/comp25.pkl"), "rb"))
    rng = np.random.default_rng(7)
    lk = []
    for _label, table, blks in comp:
        reqs = [S.random_rows(table, max(1, (1 << nv) >> shift), rng)
                for nv, pad in blks if not pad]
        lk.append((table, reqs))
    new_fr = KL.fill_reduce
    T = {"old": 0.0, "new": 0.0}
    hist: collections.Counter = collections.Counter()
    tm: collections.Counter = collections.Counter()
    n = [0]

    def fr(xlo, wx, stepx, m, plan, pout, qout):
        R = plan[7].shape[1]
        hist[(m, R, wx)] += 1
        po, qo = np.empty_like(pout), np.empty_like(qout)
        order = [("old", OLD.fill_reduce, po, qo), ("new", new_fr, pout, qout)]
        if n[0] % 2:
            order.reverse()
        n[0] += 1
        for name, f, a, b in order:
            t0 = time.perf_counter()
            f(xlo, wx, stepx, m, plan, a, b)
            dt = time.perf_counter() - t0
            T[name] += dt
            tm[(name, m)] += dt
        assert np.array_equal(po, pout) and np.array_equal(qo, qout)

    new_ws = KL.gkr_window_sums
    TW = {"old": 0.0, "new": 0.0}

    def ws(W, slots, Es, want1, acc):
        a2 = acc.copy()
        order = [("old", OLD.gkr_window_sums, a2), ("new", new_ws, acc)]
        if n[0] % 2:
            order.reverse()
        n[0] += 1
        for name, f, a in order:
            t0 = time.perf_counter()
            f(W, slots, Es, want1, a)
            TW[name] += time.perf_counter() - t0
        assert np.array_equal(a2, acc)

    KL.fill_reduce = fr
    KL.gkr_window_sums = ws
    for it in range(int(os.environ.get("RUNS", 2))):
        T["old"] = T["new"] = TW["old"] = TW["new"] = 0.0
        hist.clear()
        tm.clear()
        t0 = time.process_time()
        _g, _be, proof, _sec = S.prove_tables(LogUpGKR(), "goldilocks", lk)
        print(f"run {it}: prove CPU {time.process_time() - t0:.2f} s, fill_reduce wall "
              f"old {T['old']:.3f} s new {T['new']:.3f} s new/old "
              f"{T['new'] / max(T['old'], 1e-9):.3f}, sha {hashlib.sha256(proof).hexdigest()[:16]}",
              flush=True)
        print(f"  gkr_window_sums wall old {TW['old']:.3f} s new {TW['new']:.3f} s "
              f"new/old {TW['new'] / max(TW['old'], 1e-9):.3f}", flush=True)
    leaves = sum(c * m * R * wx for (m, R, wx), c in hist.items())
    print(f"calls {sum(hist.values())}, leaves {leaves / 1e6:.1f} M, "
          f"old {T['old'] / leaves * 1e9:.2f} ns/leaf, new {T['new'] / leaves * 1e9:.2f} ns/leaf")
    for m in sorted({k[0] for k in hist}):
        lv = sum(c * mm * R * wx for (mm, R, wx), c in hist.items() if mm == m)
        print(f"  m {m}: {lv / 1e6:.1f} M leaves, old {tm[('old', m)]:.3f} s "
              f"new {tm[('new', m)]:.3f} s")
    print(sorted(hist.items())[:40])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)

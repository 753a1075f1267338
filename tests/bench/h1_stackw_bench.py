"""The stacked-claim reduction's W chunks (`stack._WChunks.chunk`) with
`kernels.sumcheck.eq_acc` (claim by claim) against `kernels.whir_eq.eq_acc_blocks` (a
chunk's claims by tiles), on a captured `stack._prove_streaming` call (not a test).

    python tests/bench/h1_capture.py 25m /tmp/cap      # (heavy) writes /tmp/cap/stack<i>.pkl
    python tests/bench/h1_stackw_bench.py /tmp/cap/stack1.pkl [REPS] [PASSES] [TILE_VARS]

Every pass j < PASSES (random challenges) computes every chunk's W with both kernels,
interleaved, REPS times; asserts equal chunks, prints per-pass CPU medians and ratios."""

from __future__ import annotations

import pickle
import statistics
import sys
import time

import numpy as np


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    cap = argv[0]
    reps = int(argv[1]) if len(argv) > 1 else 3
    passes = int(argv[2]) if len(argv) > 2 else 5
    from zklora.kernels import sumcheck as KS
    from zklora.kernels import whir_eq as QE
    from zklora.zkcore import stack
    from zklora.zkcore.plugins import registry

    if len(argv) > 3:
        QE.TILE_VARS = int(argv[3])
    E = registry().field("goldilocks").ext
    with open(cap, "rb") as f:
        d = pickle.load(f)
    del d["tables"]
    K = d["K"]
    c = min(stack.CHUNK_VARS, K)
    rng = np.random.default_rng(7)
    P = (1 << 64) - (1 << 32) + 1
    new = QE.eq_acc_blocks

    def old(points, nv, offs, coefs, out, tile_vars=0, overwrite=False):
        """What `_WChunks.chunk` ran before: a zeroed chunk, `sumcheck.eq_acc`."""
        if overwrite:
            out[...] = 0
        KS.eq_acc(points, nv, offs, coefs, out)

    tot = {"old": [], "new": []}
    for i, (claims, (coefs, _)) in enumerate(zip(d["claims"], d["weights"])):
        offs = np.array([cl.index << cl.num_vars for cl in claims], dtype=np.int64)
        ends = offs + np.array([1 << cl.num_vars for cl in claims], np.int64)
        wc = stack._WChunks(E, c, coefs, claims, offs, ends)
        for j in range(passes):
            rs = rng.integers(0, P, size=(j, 2), dtype=np.uint64) if j else None
            wc.coefficients(rs)
            times = {"old": [], "new": []}
            for rep in range(reps):
                res = {}
                for name in (("old", "new") if rep % 2 == 0 else ("new", "old")):
                    QE.eq_acc_blocks = old if name == "old" else new
                    t0 = time.process_time()
                    res[name] = [wc.chunk(lo) for lo in range(0, 1 << K, 1 << c)]
                    times[name].append(time.process_time() - t0)
                QE.eq_acc_blocks = new
                assert all(np.array_equal(a, b) for a, b in zip(res["old"], res["new"]))
            mo, mn = statistics.median(times["old"]), statistics.median(times["new"])
            tot["old"].append(mo)
            tot["new"].append(mn)
            print(f"stack {i} (K={K}, {len(claims)} claims) pass {j}: old {mo:.3f} s, "
                  f"new {mn:.3f} s CPU, new/old {mn / mo:.3f}", flush=True)
    so, sn = sum(tot["old"]), sum(tot["new"])
    print(f"all passes: old {so:.3f} s, new {sn:.3f} s CPU, new/old {sn / so:.3f}")


if __name__ == "__main__":
    main()

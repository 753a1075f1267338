"""Per streamed pass j of a captured stack reduction: the pass's pair sums the W-chunk
way (`_WChunks` + `fold_pair_sums`) against claim by claim (`_SegPass`, `seg_dots`),
interleaved, CPU seconds (not a test; the same sums asserted).

    python tests/bench/h1_seg_pass_bench.py /tmp/cap/stack1.pkl PASSES REPS [BUDGET]

(BUDGET: bytes the claims' runs may take, `whir_eq.SegRuns`; 0: every pass reads S)"""

from __future__ import annotations

import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def main(cap: str, passes: int, reps: int) -> None:
    from zklora.kernels import whir_eq as QE
    from zklora.zkcore import stack
    from zklora.zkcore.plugins import registry

    E = registry().field("goldilocks").ext
    sys.path.insert(0, str(Path(__file__).parent))
    from h1_seg_ab import _claims, _tables

    S = _tables(cap)[0]
    with open(_claims(cap), "rb") as f:
        d = pickle.load(f)
    K, cl, (coefs, _) = d["K"], d["claims"][0], d["weights"][0]
    c = min(stack.CHUNK_VARS, K)
    N = 1 << K
    offs = np.array([x.index << x.num_vars for x in cl], dtype=np.int64)
    ends = offs + np.array([1 << x.num_vars for x in cl], np.int64)
    wc = stack._WChunks(E, c, coefs, cl, offs, ends)
    sp = stack._SegPass(E, c, wc, cl, int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    print('runs kept over the passes:', sp.keep)
    rng = np.random.default_rng(1)
    rs_all = [np.ascontiguousarray(rng.integers(0, 2**63, 2, dtype=np.uint64))
              for _ in range(passes)]

    def old(rs):
        wc.coefficients(np.stack(rs) if rs else None)
        tot = np.zeros((2, 2), np.uint64)
        for lo in range(0, N, 1 << c):
            s = stack._read(S, lo, lo + (1 << c), True)
            w = wc.chunk(lo)
            tot = E.add(tot, QE.fold_pair_sums(
                s, np.stack(rs) if rs else np.zeros((0, 2), np.uint64), w))
        return tot

    def new(rs):
        if sp.keep and not rs:   # the first pass makes the runs (afresh each timing)
            sp.runs = QE.SegRuns(sp.grp, np.minimum(sp.gn, sp.tile))
            sp.fresh = True
        sp.begin(rs)
        tot = np.zeros((2, 2), np.uint64)
        for lo in range(0, N, 1 << c):
            if sp.wants(lo):
                part = sp.chunk(lo, stack._read(S, lo, lo + (1 << c), True), rs)
                if part is not None:
                    tot = E.add(tot, part)
        return E.add(tot, sp.sums())

    for j in range(passes):
        rs = rs_all[:j]
        a, b = old(rs), new(rs)
        assert np.array_equal(a, b), j
        to, tn = [], []
        for _ in range(reps):
            t = time.process_time()
            old(rs)
            to.append(time.process_time() - t)
            t = time.process_time()
            new(rs)
            tn.append(time.process_time() - t)
        mo, mn = statistics.median(to), statistics.median(tn)
        print(f"pass {j}: W-chunks {mo:.3f} s, seg {mn:.3f} s (x{mn / mo:.3f})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))

"""The sumcheck engine's kernels (`zklora.kernels.sumcheck`) and the generic
`goldilocks.e_sc_round`/`e_sc_fold`: an old tree's against this tree's, in one
interleaved run (same inputs, outputs compared), CPU and wall ns per pair.

    flock /tmp/heavy.lock python tests/bench/sumcheck_kernels_ab.py /tmp/old [LOG_N] [ROUNDS]
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from commit_kernels_ab import _same, load_old  # noqa: E402


def cases(log_n: int, pkg: str):
    S = importlib.import_module(f"{pkg}.sumcheck")
    G = importlib.import_module(f"{pkg}.goldilocks")
    rng = np.random.default_rng(3)
    P = np.uint64(0xFFFFFFFF00000001)
    n = 1 << log_n
    k = 6
    st = rng.integers(0, 2**63, size=(k, n, 2), dtype=np.uint64) % P
    fa = np.array([0, 2, 4], dtype=np.int64)
    fb = np.array([1, 3, 5], dtype=np.int64)
    r = np.array([12345, 6789], dtype=np.uint64)
    A = rng.integers(0, 2**63, size=n, dtype=np.uint64) % P
    B = st[1].copy()
    starts = np.array([0, 3, 5, 6], dtype=np.int64)
    factors = np.array([0, 1, 2, 3, 4, 5], dtype=np.int64)
    coeffs = rng.integers(0, 2**63, size=(3, 2), dtype=np.uint64) % P
    isb = np.zeros(k, dtype=np.bool_)
    running = np.array([5, 6], dtype=np.uint64)
    ones = np.zeros((3, 2), dtype=np.uint64)
    ones[:, 0] = 1
    out = {}
    out[f"p2_sums 3 terms, 6 tables of 2^{log_n}"] = (k * n // 2, lambda: S.p2_sums(st, fa, fb))
    out[f"p2_fold_sums 3 terms, 6 tables of 2^{log_n}"] = (
        k * n // 2, lambda: S.p2_fold_sums(st, r, fa, fb))
    out[f"pair_sums ee 2^{log_n}"] = (n // 2, lambda: S.pair_sums(st[0], B))
    out[f"pair_sums be 2^{log_n}"] = (n // 2, lambda: S.pair_sums(A, B))

    def gfs():
        o = np.empty((k, n // 2, 2), dtype=np.uint64)
        g = S.gen_fold_sums(st, r, o, starts, factors, coeffs, 3, running, isb)
        return o, g

    out[f"gen_fold_sums deg 3, 6 tables of 2^{log_n}"] = (k * n // 2, gfs)
    out[f"gen_sums deg 3, 6 tables of 2^{log_n}"] = (
        k * n // 2, lambda: S.gen_sums(st, isb, starts, factors, coeffs, 3, running))

    def fsi():
        o = np.empty((k, n // 2, 2), dtype=np.uint64)
        S.fold_stack_into(st, r, o)
        return o

    out[f"fold_stack_into 6 tables of 2^{log_n}"] = (k * n // 2, fsi)
    st2 = np.ascontiguousarray(st)
    p_starts = np.array([0, 2, 4, 6], dtype=np.int64)
    out[f"e_sc_round deg 2, 3 pair terms, 2^{log_n}"] = (
        k * n // 2, lambda: G.e_sc_round(st2, p_starts, factors, ones, 2,
                                         G.nchunks_for(n // 2 * k * 3 // 4)))

    def scf():
        o = np.empty((k, n // 2, 2), dtype=np.uint64)
        G.e_sc_fold(st2, r[0], r[1], o)
        return o

    out[f"e_sc_fold 6 tables of 2^{log_n}"] = (k * n // 2, scf)
    return out


def main(old: str, log_n: int, rounds: int) -> None:
    load_old(old)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    new = cases(log_n, "zklora.kernels")
    olds = cases(log_n, "oldk")
    print(f"{'kernel':50s} {'old CPU':>9s} {'new CPU':>9s} {'new/old':>7s} "
          f"{'old wall':>8s} {'new wall':>8s} {'new/old':>7s}")
    for name in new:
        (cnt, fn_new), fn_old = new[name], olds[name][1]
        a, b = fn_old(), fn_new()
        assert _same(a, b), name
        res: dict[str, list[float]] = {"old": [], "new": [], "old wall": [], "new wall": []}
        for r in range(rounds):
            for who in ("old", "new") if r % 2 == 0 else ("new", "old"):
                fn = fn_old if who == "old" else fn_new
                t, c = time.perf_counter(), time.process_time()
                fn()
                res[who].append((time.process_time() - c) / cnt * 1e9)
                res[who + " wall"].append((time.perf_counter() - t) / cnt * 1e9)
        mo, mn = statistics.median(res["old"]), statistics.median(res["new"])
        wo, wn = statistics.median(res["old wall"]), statistics.median(res["new wall"])
        print(f"{name:50s} {mo:9.1f} {mn:9.1f} {mn / mo:7.3f} {wo:8.1f} {wn:8.1f} "
              f"{wn / wo:7.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20,
         int(sys.argv[3]) if len(sys.argv) > 3 else 5)

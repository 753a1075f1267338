"""`Whir._fold_streamed` on captured inputs (`s19h1_capture.py`) in ONE process, the
base blocks read as the table's own pages (`whir._base_view`, this tree) against the
blocks copied into RAM (`_read_base`, as before), interleaved (not a test).

    python tests/bench/s19h5_view_ab.py CAPDIR [ROUNDS] [FOLDS]

FOLDS may hold ``r``: `Whir._reduce_streamed` on fold0's tables (the batch that
reduction runs on at 25m) with random constraints (2 points a table).
Prints per fold the medians of the process CPU and wall of each variant and whether
their proof bytes and outputs agree."""

from __future__ import annotations

import hashlib
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def run(cap: Path, i: int):
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import scratch
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    F = registry().field("goldilocks")
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    with open(cap / f"fold{i}.pkl", "rb") as f:
        d = pickle.load(f)
    tabs = [np.load(cap / f"fold{i}_t{j}.npy", mmap_mode="r") for j in range(d["ntab"])]
    with scratch.session():
        if d["mu"] is not None:
            st = W._Stream(tuple(tabs), d["points"], d["coefs"], mu=d["mu"])
        else:
            st = W._Stream(tabs[0], d["points"], d["coefs"])
        ch = ProverChannel(Transcript(b"s19h1_fold_ab"))
        w0, c0 = time.perf_counter(), time.process_time()
        alphas, fo, wo = s._fold_streamed(ch, d["rd"], st)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    h = hashlib.sha256(bytes(ch.proof_bytes()))
    for x in (alphas, fo, wo):
        h.update(np.ascontiguousarray(x).tobytes())
    return cpu, wall, h.hexdigest()[:20]


def run_reduce(cap: Path, _i):
    from types import SimpleNamespace

    from zklora.kernels.goldilocks import P_INT
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import scratch
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    F = registry().field("goldilocks")
    s = W.Whir(F, {"regime": "conjectured", "direct_vars": 0})
    with open(cap / "fold0.pkl", "rb") as f:
        d = pickle.load(f)
    tabs = [np.load(cap / f"fold0_t{j}.npy", mmap_mode="r") for j in range(d["ntab"])]
    n = tabs[0].shape[0].bit_length() - 1
    rng = np.random.default_rng(5)
    group = [(SimpleNamespace(table=t), None) for t in tabs]
    cons = [(rng.integers(0, P_INT, (2, n, 2), dtype=np.uint64),) for _ in tabs]
    beta = rng.integers(0, P_INT, 2, dtype=np.uint64)
    lam = rng.integers(0, P_INT, (len(tabs), 2), dtype=np.uint64)
    with scratch.session():
        ch = ProverChannel(Transcript(b"s19h5_reduce"))
        w0, c0 = time.perf_counter(), time.process_time()
        rstar = s._reduce_streamed(ch, n, group, cons, beta, lam)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    h = hashlib.sha256(bytes(ch.proof_bytes()))
    h.update(rstar.tobytes())
    return cpu, wall, h.hexdigest()[:20]


def main(cap: str, rounds: int, folds: list[int]) -> None:
    from zklora.plugins.commitments import whir as W
    view = W._base_view

    def copy(t, lo, hi):
        return W._read_base(t, lo, hi), None

    for i in folds:
        res = {"copy": [], "view": []}
        for _ in range(rounds):
            for name, fn in (("copy", copy), ("view", view)):
                W._base_view = fn
                res[name].append((run_reduce if i == "r" else run)(Path(cap), i))
        W._base_view = view
        shas = {r[2] for v in res.values() for r in v}
        mc = [statistics.median(r[k] for r in res["copy"]) for k in (0, 1)]
        mv = [statistics.median(r[k] for r in res["view"]) for k in (0, 1)]
        print(f"fold{i}: same={len(shas) == 1} {sorted(shas)}  cpu {mc[0]:.3f} -> {mv[0]:.3f} "
              f"(x{mv[0] / mc[0]:.3f})  wall {mc[1]:.3f} -> {mv[1]:.3f} (x{mv[1] / mc[1]:.3f})",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5,
         [x if x == "r" else int(x) for x in sys.argv[3].split(",")]
         if len(sys.argv) > 3 else [0, 1, "r"])

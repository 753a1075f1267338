"""Interleaved A/B of the lookup kernels on the tiny training step (fast profile; not a
test).

    git show REV:zklora/kernels/lookup_gkr.py > /tmp/old_lookup_gkr.py
    flock /tmp/heavy.lock .venv/bin/python tests/bench/lookup_tiny_ab.py /tmp/old_lookup_gkr.py K

OLD = the given copy of `zklora/kernels/lookup_gkr.py`, NEW = the working tree's; the
logup-gkr prover calls its kernels through that module, so rebinding the module's entry
points switches the prover between them in one process.  One warm-up prove of each,
then K interleaved old/new proves; prints each run's prove CPU, the argument's
(`LogUpGKR.prove_many`) CPU, the medians, the lookups' share and, per GKR layer, the
median CPU per round-0 pair summed over the layer's tables (later rounds included).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time

sys.path.insert(0, os.getcwd())

from tests.bench.test_bench_train import _setup  # noqa: E402
from zklora.kernels import lookup_gkr as KL  # noqa: E402
from zklora.plugins.lookups import logup_gkr as LG  # noqa: E402
from zklora.zkcore import graph as graphlib  # noqa: E402
from zklora.zkcore.config import PROFILES, resolve  # noqa: E402
from zklora.zkcore.plugins import registry  # noqa: E402

NAMES = ["leaf_denoms", "frac_up", "gkr_sums", "gkr_fold_sums", "fold_into",
         "e_gkr_message", "e_gkr_next"]


def main(path: str, K: int) -> None:
    spec = importlib.util.spec_from_file_location("zklora.kernels.lookup_gkr_old", path)
    OLD = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = OLD   # numba's cache finds the module by name
    spec.loader.exec_module(OLD)
    funcs = {"new": {n: getattr(KL, n) for n in NAMES}, "old": {n: getattr(OLD, n) for n in NAMES}}
    be = resolve(PROFILES["fast"], registry())
    _, _, _, _, g, inputs, statement = _setup()
    cur: dict = {}
    orig_pl, orig_pm = LG._prove_layer, LG.LogUpGKR.prove_many

    def pl(ctx, label, n, r, trees, active, unit_leaf, coefs, mu, claim, tamper=None,
           mask=None, stream=False):
        t0 = time.process_time()
        out = orig_pl(ctx, label, n, r, trees, active, unit_leaf, coefs, mu, claim, tamper,
                      mask, stream)
        tabs = sum(2 if unit_leaf[i] else 4 for i in active)
        cur.setdefault("layers", {})[n] = (time.process_time() - t0, tabs, stream)
        return out

    def pm(self, ctx, cs):
        t0 = time.process_time()
        orig_pm(self, ctx, cs)
        cur["lookups"] = time.process_time() - t0

    LG._prove_layer, LG.LogUpGKR.prove_many = pl, pm

    def run(which):
        for n, f in funcs[which].items():
            setattr(KL, n, f)
        cur.clear()
        t0 = time.process_time()
        graphlib.prove(g, inputs, be, statement)
        cur["prove"] = time.process_time() - t0
        return dict(cur)

    try:
        run("old")
        run("new")
        res: dict = {"old": [], "new": []}
        for _ in range(K):
            for w in ("old", "new"):
                res[w].append(run(w))
                print(w, f"prove {res[w][-1]['prove']:.2f} s, lookups "
                      f"{res[w][-1]['lookups']:.2f} s", flush=True)
    finally:
        for n, f in funcs["new"].items():
            setattr(KL, n, f)
        LG._prove_layer, LG.LogUpGKR.prove_many = orig_pl, orig_pm
    for w in ("old", "new"):
        R = res[w]
        pr = statistics.median(r["prove"] for r in R)
        lk = statistics.median(r["lookups"] for r in R)
        share = 100 * statistics.median(r["lookups"] / r["prove"] for r in R)
        print(w, f"median prove CPU {pr:.2f} s, lookups {lk:.2f} s ({share:.0f} % of prove)")
        for n in sorted(R[0]["layers"]):
            c = statistics.median(r["layers"][n][0] for r in R)
            tabs, stream = R[0]["layers"][n][1:]
            pairs = max(1, (1 << n) * tabs // 2)
            print(f"  {w} layer {n:2d} streamed={stream!s:5} tables={tabs:2d} "
                  f"{c * 1e3:8.1f} ms {c / pairs * 1e9:8.1f} ns per pair")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)
